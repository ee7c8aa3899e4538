// nbtrack inline panels: one small view shared by every panel.
//
// The kernel renders each panel's HTML (so the live view and the static
// fallback of exported notebooks are the same markup); this module shows it,
// forwards clicks on elements carrying `data-action` to the kernel, and keeps a
// filter box outside the re-rendered markup (so typing is never lost). Live
// refresh needs nothing here: a kernel-side timer updates `html` while runs
// are RUNNING (a browser timer's requests would queue behind a busy kernel).

function payloadOf(target, body) {
  const payload = { ...target.dataset };
  // `data-inputs="alias,stage"` names form fields whose values travel along.
  for (const name of (target.dataset.inputs || "").split(",").filter(Boolean)) {
    const field = body.querySelector(`[data-field="${name}"]`);
    if (field) payload[name] = field.value;
  }
  delete payload.inputs;
  return payload;
}

function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "jp-nbtrack-Panel jp-nbtrack-Live";
  el.appendChild(root);

  let input = null;
  if (model.get("filterable")) {
    const bar = document.createElement("div");
    bar.className = "jp-nbtrack-Bar";
    input = document.createElement("input");
    input.type = "search";
    input.className = "jp-nbtrack-Filter";
    input.setAttribute("aria-label", "Filter runs");
    input.placeholder = "filter, e.g. metrics.rmse < 0.8 and params.model = 'rf'  (Enter)";
    input.value = model.get("filter_string");
    const apply = () => {
      model.set("filter_string", input.value);
      model.save_changes();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") apply();
    });
    const button = document.createElement("button");
    button.textContent = "Filter";
    button.addEventListener("click", apply);
    bar.append(input, button);
    root.appendChild(bar);
    model.on("change:filter_string", () => {
      if (document.activeElement !== input) input.value = model.get("filter_string");
    });
  }

  const body = document.createElement("div");
  root.appendChild(body);
  const draw = () => {
    // Keep open <details> (the column chooser, previews) open across redraws.
    const open = [...body.querySelectorAll("details")].map((d) => d.open);
    body.innerHTML = model.get("html");
    body.querySelectorAll("details").forEach((d, i) => {
      if (open[i]) d.open = true;
    });
  };
  model.on("change:html", draw);
  draw();

  body.addEventListener("click", (event) => {
    const target = event.target.closest("[data-action]");
    if (!target || !body.contains(target) || target.tagName === "SELECT") return;
    if (target.disabled) return;
    model.send(payloadOf(target, body));
  });
  body.addEventListener("change", (event) => {
    // Selects and checkboxes act on change (a click on a select only opens it).
    const target = event.target.closest("select[data-action]");
    if (target) model.send({ ...payloadOf(target, body), value: target.value });
  });
}

export default { render };
