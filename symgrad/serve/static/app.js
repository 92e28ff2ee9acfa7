// symgrad serve: the page's main script: derive on every edit, errors beside the editor, the PyTorch
// check, export, tabs and start. Every number comes from the server's API (docs/serve.md).
"use strict";

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
    renderMath($("derivation"), true);
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
  $("lang").addEventListener("change", () => { derive(); if (state.practice) loadPractice(); });
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
