// symgrad serve: the helpers every script of the page uses (loaded first). No build step: each file is a
// plain script sharing these globals; KaTeX (vendored) draws the math.
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

// `entries`: the derivation, whose worked lines the server marked with \htmlData{entry=KEY@INDEX}
// (document.py): KaTeX trusts that one command there (it sets a data-entry attribute), nothing else.
const TRUST_ENTRY = (context) => context.command === "\\htmlData";

function renderMath(root, entries = false) {
  if (!window.katex) return;
  for (const node of root.querySelectorAll(".math")) {
    if (node.dataset.done) continue;
    const tex = node.textContent;
    try {
      katex.render(tex, node, { displayMode: node.classList.contains("display"), throwOnError: false,
                                strict: "ignore", output: "html", trust: entries ? TRUST_ENTRY : false });
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
