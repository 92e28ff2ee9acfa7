// symgrad serve: Practice, a graded problem of the `symgrad exercises` kinds and its solution step by step.
"use strict";

// ---------------------------------------------------------------- practice

function practiceURL(kind, seed) { return `?practice=${encodeURIComponent(kind)}&seed=${seed}`; }

async function loadPractice() {
  const kind = $("practice-kind").value, seed = Number($("practice-seed").value || 0);
  $("practice-error").hidden = true;
  try {
    const data = await api(`/api/practice?kind=${encodeURIComponent(kind)}&seed=${seed}&lang=${$("lang").value}`);
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
    body: JSON.stringify({ kind: state.practice.kind, seed: state.practice.seed, answers, lang: $("lang").value }) });
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
