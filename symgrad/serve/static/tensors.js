// symgrad serve: tensors as grids, and the hover that lights up the entries an entry is made of
// (the links come from the API's `explore`, read there from each op's index forms).
"use strict";

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
  for (const node of document.querySelectorAll("#derivation .hl-line")) node.classList.remove("hl-line");
}

// The entry's worked line in the derivation (both sides of its `&=`, marked by the server, document.py):
// highlighted, and scrolled into the derivation's own view when it is outside it (the page itself stays put).
function highlightLine(key, flat) {
  const box = $("derivation");
  const parts = box.querySelectorAll(`[data-entry="${CSS.escape(`${key}@${flat}`)}"]`);
  for (const part of parts) part.classList.add("hl-line");
  if (!parts.length) return;
  const line = parts[0].getBoundingClientRect(), view = box.getBoundingClientRect();
  if (line.top < view.top || line.bottom > view.bottom) {
    box.scrollTop += line.top - view.top - (view.height - line.height) / 2;
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
  highlightLine(key, flat);
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
