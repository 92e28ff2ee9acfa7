#!/usr/bin/env node
// Renders math spans the way Markdown viewers do, and reports every span that fails.
//
// stdin: JSON [{"tex": "...", "display": true|false}, ...]
// stdout: JSON {"katex": "0.16.22", "mathjax": "3.2.2", "errors": [{"index": i, "engine": "katex"|"mathjax",
//         "message": "..."}, ...]}
// KaTeX (Zhihu, CSDN, VS Code, Jupyter): renderToString with throwOnError and strict mode "error", so
// an undefined command, a bad argument or a Unicode letter outside \text is an error, not red text.
// MathJax 3 (GitHub, Jupyter): the TeX input with the packages GitHub's renderer loads without
// autoloading (base, ams, newcommand, configmacros; no noundefined, so an unknown macro is an error);
// a span fails when its output holds an merror node. --no-mathjax skips MathJax.
// One process checks every span of a test, so node starts once (tests/printing/test_katex.py).
"use strict";

const katex = require("katex");

function readStdin() {
  return require("fs").readFileSync(0, "utf8");
}

function katexErrors(spans) {
  const errors = [];
  spans.forEach((span, index) => {
    try {
      katex.renderToString(span.tex, { throwOnError: true, displayMode: span.display, strict: "error" });
    } catch (err) {
      errors.push({ index, engine: "katex", message: String(err.message || err) });
    }
  });
  return errors;
}

function mathjaxErrors(spans) {
  const { mathjax } = require("mathjax-full/js/mathjax.js");
  const { TeX } = require("mathjax-full/js/input/tex.js");
  const { SVG } = require("mathjax-full/js/output/svg.js");
  const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
  const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
  require("mathjax-full/js/input/tex/base/BaseConfiguration.js");
  require("mathjax-full/js/input/tex/ams/AmsConfiguration.js");
  require("mathjax-full/js/input/tex/newcommand/NewcommandConfiguration.js");
  require("mathjax-full/js/input/tex/configmacros/ConfigMacrosConfiguration.js");

  const adaptor = liteAdaptor();
  RegisterHTMLHandler(adaptor);
  const tex = new TeX({ packages: ["base", "ams", "newcommand", "configmacros"] });
  const svg = new SVG({ fontCache: "none" });
  const html = mathjax.document("", { InputJax: tex, OutputJax: svg });
  const errors = [];
  spans.forEach((span, index) => {
    let out;
    try {
      out = adaptor.outerHTML(html.convert(span.tex, { display: span.display }));
    } catch (err) {
      errors.push({ index, engine: "mathjax", message: String(err.message || err) });
      return;
    }
    if (out.includes('data-mml-node="merror"')) {
      const found = out.match(/data-mjx-error="([^"]*)"/);
      errors.push({ index, engine: "mathjax", message: found ? found[1] : "merror" });
    }
  });
  return errors;
}

function main() {
  const spans = JSON.parse(readStdin());
  const errors = katexErrors(spans);
  let mathjaxVersion = null;
  if (!process.argv.includes("--no-mathjax")) {
    errors.push(...mathjaxErrors(spans));
    mathjaxVersion = require("mathjax-full/package.json").version;
  }
  process.stdout.write(JSON.stringify({ katex: katex.version, mathjax: mathjaxVersion, errors }));
}

main();
