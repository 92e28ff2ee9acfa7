// symgrad serve: the grids and fields that edit the spec, by rewriting one value in the TOML text
// (the rest of the file, comments included, stays as written).
"use strict";

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
