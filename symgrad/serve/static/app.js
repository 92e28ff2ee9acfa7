// symgrad serve: the page. Plain JavaScript, no build step; KaTeX (vendored) draws the math.
// Every number comes from the server's API (docs/serve.md); this file only lays it out.
"use strict";

const $ = (id) => document.getElementById(id);
const LONG = 22;  // characters of an entry shown in a grid cell
const state = { seq: 0, shown: 0, data: null, practice: null, step: 0, timer: null };

// ---------------------------------------------------------------- helpers

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function math(tex, display = false) {
  const span = el("span", { class: display ? "math display" : "math" });
  span.textContent = tex;
  return span;
}

function renderMath(root) {
  if (!window.katex) return;
  for (const node of root.querySelectorAll(".math")) {
    if (node.dataset.done) continue;
    const tex = node.textContent;
    try {
      katex.render(tex, node, { displayMode: node.classList.contains("display"), throwOnError: false,
                                strict: "ignore", output: "html" });
    } catch (e) {
      node.textContent = tex;
    }
    node.dataset.done = "1";
  }
}

function show(value) {
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const text = value.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
    return text === "-0" ? "0" : text;
  }
  return value === null || value === undefined ? "" : String(value);
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const type = response.headers.get("content-type") || "";
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    if (type.includes("json")) message = (await response.json()).error || message;
    throw new Error(message);
  }
  return type.includes("json") ? response.json() : response;
}

// ---------------------------------------------------------------- tensors as grids

// A tensor's planes: the last two axes are rows and columns; leading axes become one plane each.
function planes(shape) {
  if (shape.length === 0) return { rows: 1, cols: 1, count: 1, lead: [] };
  if (shape.length === 1) return { rows: 1, cols: shape[0], count: 1, lead: [] };
  const rows = shape[shape.length - 2], cols = shape[shape.length - 1];
  const lead = shape.slice(0, -2);
  return { rows, cols, count: lead.reduce((a, b) => a * b, 1), lead };
}

// 1-based subscript of a flat index, as the documents write it (x_{12}; n,c shown when there is more than one).
function subscript(shape, flat) {
  const index = [];
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) { index.unshift(rest % shape[k]); rest = Math.floor(rest / shape[k]); }
  const kept = index.filter((_, k) => shape[k] > 1 || k >= shape.length - 2).map((v) => v + 1);
  if (!kept.length) return "";
  return kept.every((v) => v < 10) ? kept.join("") : kept.join(",");
}

function grid(key, tensor, editable = false) {
  const { rows, cols, count } = planes(tensor.shape);
  const box = el("div", { class: "tensor", "data-tensor": key });
  box.append(el("div", { class: "caption" }, [math(tensor.label)]));
  for (let p = 0; p < count; p++) {
    const table = el("table", { class: "grid" });
    for (let r = 0; r < rows; r++) {
      const tr = el("tr");
      for (let c = 0; c < cols; c++) {
        const flat = p * rows * cols + r * cols + c;
        const td = el("td", { class: "cell", "data-t": key, "data-i": String(flat) });
        if (editable) {
          const input = el("input", { value: show(tensor.values[flat]), size: "4", "aria-label": `${key} ${flat}` });
          td.append(input);
        } else {
          const text = show(tensor.values[flat]);  // a long expression: its start, the whole on hover
          td.textContent = text.length > LONG ? text.slice(0, LONG - 1) + "…" : text;
          if (text.length > LONG) td.title = text;
        }
        tr.append(td);
      }
      table.append(tr);
    }
    box.append(table);
  }
  return box;
}

function cell(key, flat) {
  return document.querySelector(`#tensors td[data-t="${CSS.escape(key)}"][data-i="${flat}"]`);
}

function drawTensors(explore) {
  const root = $("tensors");
  root.replaceChildren();
  if (!explore) {
    root.append(el("p", { class: "hint", text: "This network is too large to lay out entry by entry; the derivation below has it all." }));
    return;
  }
  const t = explore.tensors;
  const forward = el("div", { class: "stage" }, [el("h3", { text: "Forward" })]);
  const backward = el("div", { class: "stage" }, [el("h3", { text: "Backward" })]);
  const fwdRow = el("div", { class: "tensors" }), bwdRow = el("div", { class: "tensors" });
  fwdRow.append(grid("input", t.input));
  const seen = new Set();
  for (const layer of explore.layers) {
    for (const key of Object.values(layer.params)) {
      if (!seen.has(key)) { seen.add(key); fwdRow.append(grid(key, t[key])); }
    }
    fwdRow.append(grid(layer.output, t[layer.output]));
  }
  for (const layer of [...explore.layers].reverse()) {
    if (layer.delta && t[layer.delta]) bwdRow.append(grid(layer.delta, t[layer.delta]));
  }
  for (const key of Object.keys(t)) {
    if (key.startsWith("grad:") && key !== "grad:input") bwdRow.append(grid(key, t[key]));
  }
  bwdRow.append(grid("grad:input", t["grad:input"]));
  for (const key of Object.keys(t)) if (key.startsWith("updated:")) bwdRow.append(grid(key, t[key]));
  forward.append(fwdRow);
  backward.append(bwdRow);
  root.append(forward, backward);
  renderMath(root);
}

// ---------------------------------------------------------------- hover: what makes an entry

function paramAt(layer, global) {
  let offset = 0;
  for (const [name, size] of layer.param_order || []) {
    if (global < offset + size) return [layer.params[name], global - offset];
    offset += size;
  }
  return [null, -1];
}

function label(key, flat) {
  const t = state.data.explore.tensors[key];
  const sub = subscript(t.shape, flat);
  let base = t.label;
  if (key.startsWith("grad:")) return `\\frac{\\partial L}{\\partial ${state.data.explore.tensors[key.slice(5)] ? state.data.explore.tensors[key.slice(5)].label : "X"}_{${sub}}}`;
  return sub ? `${base}_{${sub}}` : base;
}

function value(key, flat) { return show(state.data.explore.tensors[key].values[flat]); }

function links(key, flat) {
  // [{cells: [[tensor, index, class]], terms: [[tex, tex of numbers, cells]]}, title]
  const ex = state.data.explore;
  const marks = [], terms = [];
  let kind = "";
  for (const layer of ex.layers) {  // a parameter's gradient: the terms of every place the layer is used
    for (const [name, pkey] of Object.entries(layer.params)) {
      if (key === `grad:${pkey}` && layer.grads && layer.grads[name]) {
        kind = "sum";
        for (const [d, x] of layer.grads[name][flat]) {
          if (x < 0) {  // a bias: the delta entry alone
            marks.push([layer.delta, d, "hl-delta"]);
            terms.push([label(layer.delta, d), value(layer.delta, d), [[layer.delta, d]]]);
            continue;
          }
          const cells = [[layer.delta, d, "hl-delta"], [layer.input, x, "hl-input"]];
          marks.push(...cells);
          terms.push([`${label(layer.delta, d)}\\, ${label(layer.input, x)}`, `${value(layer.delta, d)} \\cdot ${value(layer.input, x)}`, cells]);
        }
      }
    }
  }
  if (kind) return { marks, terms, kind };
  for (const layer of ex.layers) {
    if (key === layer.input_grad) {
      if (layer.input_links) {
        kind = "sum";
        for (const [d, p] of layer.input_links[flat]) {
          const [pkey, local] = paramAt(layer, p);
          const cells = [[layer.delta, d, "hl-delta"]];
          if (pkey) cells.push([pkey, local, "hl-input"]);
          marks.push(...cells);
          terms.push([pkey ? `${label(layer.delta, d)}\\, ${label(pkey, local)}` : label(layer.delta, d),
                      pkey ? `${value(layer.delta, d)} \\cdot ${value(pkey, local)}` : value(layer.delta, d), cells]);
        }
        return { marks, terms, kind };
      }
      if (layer.routes) {
        kind = "sum";
        layer.routes.forEach((targets, d) => {
          if (targets.includes(flat)) {
            const cells = [[layer.delta, d, "hl-delta"]];
            marks.push(...cells);
            terms.push([label(layer.delta, d), value(layer.delta, d), cells]);
          }
        });
        return { marks, terms, kind };
      }
    }
  }
  for (const layer of ex.layers) {  // then a layer's own output (or its delta): the window it reads
    if ((key === layer.output || key === layer.delta) && layer.forward) {
      const [inputs, params] = layer.forward[flat];
      for (const x of inputs) marks.push([layer.input, x, "hl-window"]);
      for (const p of params) { const [pkey, local] = paramAt(layer, p); if (pkey) marks.push([pkey, local, "hl-input"]); }
      if (layer.routes) for (const x of layer.routes[flat] || []) marks.push([layer.input, x, "hl-route"], [layer.input_grad, x, "hl-route"]);
      return { marks, terms, kind: "window", layer };
    }
  }
  return { marks, terms, kind };
}

function clearHighlights() {
  for (const node of document.querySelectorAll("#tensors td[class*='hl-']")) {
    node.classList.remove("hl-input", "hl-delta", "hl-window", "hl-route", "hl-self", "hl-term");
  }
}

function hover(event) {
  const td = event.target.closest("#tensors td.cell");
  if (!td || !state.data || !state.data.explore) return;
  clearHighlights();
  const key = td.dataset.t, flat = Number(td.dataset.i);
  td.classList.add("hl-self");
  const found = links(key, flat);
  for (const [t, i, cls] of found.marks) { const c = cell(t, i); if (c) c.classList.add(cls); }
  const box = $("formula");
  box.replaceChildren();
  const head = `${label(key, flat)} = `;
  if (found.kind === "sum" && found.terms.length) {
    box.append(math(head));
    found.terms.forEach(([tex, numbers, cells], k) => {
      const term = el("span", { class: "term" }, [math((k ? " + " : "") + tex)]);
      term.addEventListener("mouseenter", () => { for (const [t, i] of cells) { const c = cell(t, i); if (c) c.classList.add("hl-term"); } });
      term.addEventListener("mouseleave", () => { for (const n of document.querySelectorAll("#tensors .hl-term")) n.classList.remove("hl-term"); });
      box.append(term);
    });
    box.append(math(" = " + found.terms.map((t) => t[1]).join(" + ") + " = " + value(key, flat)));
  } else if (found.kind === "window") {
    const layer = found.layer;
    box.append(math(`${head}${value(key, flat)}`), el("span", { class: "hint",
      text: ` computed from the highlighted ${found.marks.filter((m) => m[2] === "hl-window").length} entries of its input` +
            (layer.routes ? "; its gradient goes to the red one (the first maximum, row by row)" : "") }));
  } else {
    box.append(math(`${head}${value(key, flat)}`));
  }
  renderMath(box);
}

// ---------------------------------------------------------------- the spec: TOML edits by text

// The lines of each section: [{header, start, end}] ("[[layers]]" counted in order).
function sections(lines) {
  const found = [{ header: "", start: 0, end: lines.length, layer: -1 }];
  let layer = -1;
  lines.forEach((line, k) => {
    const m = line.match(/^\s*(\[\[?[^\]]+\]\]?)/);
    if (m) {
      found[found.length - 1].end = k;
      if (m[1].replace(/\s/g, "") === "[[layers]]") layer += 1;
      found.push({ header: m[1].replace(/\s/g, ""), start: k, end: lines.length, layer });
    }
  });
  return found;
}

// The end (exclusive) of the value that starts at text[from]: a bracketed array across lines, or to the line's end.
function valueEnd(text, from) {
  let k = from;
  while (text[k] === " " || text[k] === "\t") k++;
  if (text[k] !== "[") { const nl = text.indexOf("\n", k); return nl < 0 ? text.length : nl; }
  let depth = 0, inString = null;
  for (; k < text.length; k++) {
    const ch = text[k];
    if (inString) { if (ch === inString) inString = null; continue; }
    if (ch === '"' || ch === "'") inString = ch;
    else if (ch === "#") { const nl = text.indexOf("\n", k); k = nl < 0 ? text.length : nl; }
    else if (ch === "[") depth++;
    else if (ch === "]") { depth--; if (depth === 0) return k + 1; }
  }
  return text.length;
}

// Where `key = value` sits in a section: [value start, value end] offsets in the text, or null.
function findKey(text, section, key) {
  const lines = text.split("\n");
  let offset = 0;
  for (let k = 0; k < lines.length; k++) {
    if (k >= section.start && k < section.end) {
      const m = lines[k].match(new RegExp(`^(\\s*${key.replace(".", "\\.")}\\s*=\\s*)`));
      if (m) return [offset + m[1].length, valueEnd(text, offset + m[1].length)];
    }
    offset += lines[k].length + 1;
  }
  return null;
}

function sectionOf(text, which) {
  return sections(text.split("\n")).find((s) => (which === "input" ? s.header === "[input]" : s.layer === which && s.header === "[[layers]]"));
}

function replaceValue(which, key, newText) {
  const area = $("spec");
  const section = sectionOf(area.value, which);
  if (!section) return false;
  const span = findKey(area.value, section, key);
  if (!span) return false;
  area.value = area.value.slice(0, span[0]) + newText + area.value.slice(span[1]);
  return true;
}

function tomlNumber(text) {
  const t = text.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return t;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return `"${t}"`;  // a symbol name: identifiers only
  return null;
}

// Nested TOML array text of `rank` axes from flat entries of `shape` (leading axes of size 1 dropped).
function nestedText(flat, shape, rank) {
  let dims = shape.slice();
  while (dims.length > rank && dims[0] === 1) dims = dims.slice(1);
  const build = (axis, start) => {
    if (axis === dims.length) return flat[start];
    const size = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const parts = [];
    for (let k = 0; k < dims[axis]; k++) parts.push(build(axis + 1, start + k * size));
    return "[" + parts.join(", ") + "]";
  };
  return build(0, 0);
}

function rankOf(text) { const m = text.match(/^\s*(\[+)/); return m ? m[1].length : 0; }

// Grids for the numbers the spec writes out: [input] values and each layer's init.weight / init.bias.
function drawNumberGrids(explore) {
  const root = $("number-grids");
  root.replaceChildren();
  if (!explore) return;
  const text = $("spec").value;
  const places = [["input", "values", "input"]];
  explore.layers.forEach((layer) => {
    for (const [name, pkey] of Object.entries(layer.params)) places.push([layer.index, `init.${name}`, pkey]);
  });
  for (const [which, key, tkey] of places) {
    const section = sectionOf(text, which);
    const span = section && findKey(text, section, key);
    if (!span || !explore.tensors[tkey]) continue;
    const rank = rankOf(text.slice(span[0], span[1]));
    const box = grid(tkey, explore.tensors[tkey], true);
    box.dataset.which = String(which);
    box.dataset.key = key;
    box.dataset.rank = String(rank);
    box.id = `edit-${tkey}`;
    root.append(box);
  }
  renderMath(root);
}

function numberEdited(event) {
  const box = event.target.closest(".tensor");
  if (!box) return;
  const inputs = [...box.querySelectorAll("input")];
  const entries = inputs.map((i) => tomlNumber(i.value));
  const bad = entries.findIndex((e) => e === null);
  inputs.forEach((i, k) => i.classList.toggle("invalid", entries[k] === null));
  if (bad >= 0) return showError(`${box.dataset.key}: entry ${bad + 1}: a number or a symbol name (letters, digits, _)`);
  const tkey = box.dataset.tensor, shape = state.data.explore.tensors[tkey].shape;
  const which = box.dataset.which === "input" ? "input" : Number(box.dataset.which);
  if (replaceValue(which, box.dataset.key, nestedText(entries, shape, Number(box.dataset.rank)))) derive();
}

// Simple `option = value` lines of every [[layers]] table, as fields (init.* are the grids above).
function drawLayerFields() {
  const root = $("layer-fields");
  root.replaceChildren();
  const text = $("spec").value;
  const lines = text.split("\n");
  for (const s of sections(lines)) {
    if (s.header !== "[[layers]]") continue;
    const row = el("div", { class: "layer-fields" }, [el("span", { class: "layer-name", text: `layers[${s.layer}]` })]);
    for (let k = s.start + 1; k < s.end; k++) {
      const m = lines[k].match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^#\n]*?)\s*(#.*)?$/);
      if (!m || m[1] === "type" || m[2].startsWith("[[") || m[2].startsWith("{")) {
        if (m && m[1] === "type") row.append(el("strong", { text: m[2].replace(/"/g, "") }));
        continue;
      }
      const input = el("input", { value: m[2], size: String(Math.max(3, m[2].length)), "data-layer": String(s.layer),
                                  "data-key": m[1], "aria-label": `layers[${s.layer}] ${m[1]}` });
      row.append(el("label", {}, [document.createTextNode(` ${m[1]} `), input]));
    }
    root.append(row);
  }
}

function fieldEdited(event) {
  const input = event.target;
  if (!input.dataset.key) return;
  if (replaceValue(Number(input.dataset.layer), input.dataset.key, input.value.trim())) derive();
}

// ---------------------------------------------------------------- derive, errors, check, export

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function derive() {
  const seq = ++state.seq;
  const spec = $("spec").value;
  $("status").textContent = "deriving…";
  try {
    const lang = $("lang").value;
    const data = await api(`/api/derive?include=html,explore&lang=${lang}`, { method: "POST", body: spec,
                                                                             headers: { "content-type": "application/toml" } });
    if (seq < state.shown) return;  // an older answer arriving late
    state.shown = seq;
    state.data = data;
    showError("");
    $("derivation").innerHTML = data.html;  // the server's HTML: escaped text and math spans only (mdhtml.py)
    renderMath($("derivation"));
    drawTensors(data.explore);
    if (document.activeElement === null || !document.activeElement.closest("#number-grids")) drawNumberGrids(data.explore);
    if (document.activeElement === null || !document.activeElement.closest("#layer-fields")) drawLayerFields();
    $("formula").replaceChildren(el("span", { class: "hint", text: "Hover an entry above: its formula appears here." }));
    $("check-result").replaceChildren();
    $("status").textContent = `derived in ${data.seconds.toFixed(2)} s`;
    document.body.dataset.derived = String(seq);
  } catch (error) {
    if (seq < state.shown) return;
    state.shown = seq;
    showError(error.message);  // the last good derivation stays on the page
    $("status").textContent = "error";
    document.body.dataset.failed = String(seq);
  }
}

function scheduleDerive() {
  clearTimeout(state.timer);
  state.timer = setTimeout(derive, 350);
}

async function checkTorch() {
  const note = $("check-note");
  note.textContent = "running torch…";
  try {
    const data = await api("/api/check", { method: "POST", body: $("spec").value });
    const table = el("table", { class: "check" }, [el("tr", {}, [el("th", { text: "quantity" }),
      el("th", { text: "max |symgrad − torch|" }), el("th", { text: "status" })])]);
    for (const row of data.rows) {
      table.append(el("tr", { class: row.ok ? "ok" : "bad" }, [el("td", { text: row.quantity }),
        el("td", { text: row.max_abs_error.toExponential(2) }), el("td", { text: row.ok ? "ok" : `MISMATCH ${row.reason}` })]));
    }
    $("check-result").replaceChildren(table);
    const agree = data.rows.filter((r) => r.ok).length;
    note.textContent = `${agree} of ${data.rows.length} quantities agree with torch autograd (float64)` +
      (data.symbols ? `, at drawn values for ${data.symbols} symbols` : "");
  } catch (error) {
    note.textContent = error.message;
  }
}

async function exportAs(format) {
  $("status").textContent = `exporting ${format}…`;
  try {
    const response = await api(`/api/export/${format}?lang=${$("lang").value}`, { method: "POST", body: $("spec").value });
    const blob = await response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: `derivation.${{ markdown: "md", latex: "tex", pdf: "pdf" }[format]}` });
    document.body.append(link);
    link.click();
    link.remove();
    $("status").textContent = `${format} exported`;
  } catch (error) {
    showError(error.message);
    $("status").textContent = "error";
  }
}

// ---------------------------------------------------------------- practice

function practiceURL(kind, seed) { return `?practice=${encodeURIComponent(kind)}&seed=${seed}`; }

async function loadPractice() {
  const kind = $("practice-kind").value, seed = Number($("practice-seed").value || 0);
  $("practice-error").hidden = true;
  try {
    const data = await api(`/api/practice?kind=${encodeURIComponent(kind)}&seed=${seed}`);
    state.practice = data;
    state.step = 0;
    history.replaceState(null, "", practiceURL(kind, seed));
    $("practice-link").href = practiceURL(kind, seed);
    $("practice-title").textContent = data.title;
    $("practice-prompt").innerHTML = data.prompt;  // server HTML: escaped text and math spans
    renderMath($("practice-prompt"));
    const fields = $("practice-fields");
    fields.replaceChildren();
    for (const field of data.fields) {
      const tensor = { label: field.name.startsWith("grad:") ? `\\partial L / \\partial ${field.name.endsWith("input") ? "X" : "K"}` : "K^{(1)}",
                       shape: field.shape, values: [] };
      const box = grid(field.name, tensor, true);
      box.dataset.field = field.name;
      box.append(el("div", { class: "hint", text: field.label }));
      fields.append(box);
    }
    renderMath(fields);
    $("practice-verdict").textContent = "";
    $("practice-solution").replaceChildren();
    $("practice-steps-left").textContent = `${data.steps.length} steps`;
    document.body.dataset.practice = `${kind}:${seed}`;
  } catch (error) {
    $("practice-error").textContent = error.message;
    $("practice-error").hidden = false;
  }
}

async function checkPractice() {
  const answers = {};
  for (const box of document.querySelectorAll("#practice-fields .tensor")) {
    answers[box.dataset.field] = [...box.querySelectorAll("input")].map((i) => i.value);
  }
  const data = await api("/api/practice/grade", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: state.practice.kind, seed: state.practice.seed, answers }) });
  let right = 0, total = 0;
  for (const box of document.querySelectorAll("#practice-fields .tensor")) {
    const marks = data.fields[box.dataset.field] || [];
    [...box.querySelectorAll("td")].forEach((td, k) => {
      td.classList.remove("right", "wrong", "empty");
      td.classList.add(marks[k] === true ? "right" : marks[k] === false ? "wrong" : "empty");
      total += 1;
      if (marks[k] === true) right += 1;
    });
  }
  $("practice-verdict").textContent = data.all ? `All ${total} entries are right.` :
    `${right} of ${total} entries are right; the red ones are not (empty ones are grey).`;
  $("practice-verdict").className = data.all ? "verdict right" : "verdict wrong";
}

function nextStep() {
  const steps = state.practice ? state.practice.steps : [];
  if (state.step >= steps.length) return;
  const part = el("section", { class: "step" });
  part.innerHTML = steps[state.step];  // server HTML
  $("practice-solution").append(part);
  renderMath(part);
  state.step += 1;
  $("practice-steps-left").textContent = state.step < steps.length ? `${steps.length - state.step} more` : "that is all of it";
}

// ---------------------------------------------------------------- start

function switchTab(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.dataset.tab === name);
  for (const pane of document.querySelectorAll(".pane")) pane.classList.toggle("active", pane.id === name);
}

async function start() {
  const list = await api("/api/examples");
  for (const item of list) $("example").append(el("option", { value: item.name, text: `${item.name} — ${item.title}` }));
  const first = await api("/api/start");
  $("spec").value = first.spec;
  if (list.some((i) => i.name === first.name)) $("example").value = first.name;
  $("spec").addEventListener("input", scheduleDerive);
  $("load-example").addEventListener("click", async () => {
    $("spec").value = await (await api(`/api/examples/${$("example").value}`)).text();
    derive();
  });
  $("number-grids").addEventListener("change", numberEdited);
  $("layer-fields").addEventListener("change", fieldEdited);
  $("tensors").addEventListener("mouseover", hover);
  $("check-torch").addEventListener("click", checkTorch);
  $("lang").addEventListener("change", derive);
  for (const button of document.querySelectorAll(".export")) button.addEventListener("click", () => exportAs(button.dataset.format));
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => switchTab(tab.dataset.tab));
  $("practice-load").addEventListener("click", loadPractice);
  $("practice-new").addEventListener("click", () => { $("practice-seed").value = String(Math.floor(Math.random() * 1e6)); loadPractice(); });
  $("practice-check").addEventListener("click", checkPractice);
  $("practice-step").addEventListener("click", nextStep);
  const kinds = await api("/api/practice/kinds");
  for (const kind of kinds) $("practice-kind").append(el("option", { value: kind, text: kind }));
  const params = new URLSearchParams(location.search);
  if (params.get("practice")) {
    $("practice-kind").value = params.get("practice");
    $("practice-seed").value = params.get("seed") || "0";
    switchTab("practice");
    loadPractice();
  }
  await derive();
  document.body.dataset.ready = "1";
}

window.addEventListener("DOMContentLoaded", () => start().catch((error) => showError(error.message)));
