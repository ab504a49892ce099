// The live page's files and diagnostics panels: uploads by fetch, transfers and
// reports as the control socket announces them.

const formatSize = (bytes) => bytes < 1024 * 1024
  ? `${Math.max(1, Math.round(bytes / 1024))} KiB`
  : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

export function setupFiles(root, send) {
  const panel = root.querySelector("[data-files-panel]");
  const form = panel.querySelector("[data-file-form]");
  const picker = form.elements.file;
  const status = panel.querySelector("[data-file-status]");
  const list = panel.querySelector("[data-files]");
  const diagnostics = root.querySelector("[data-diagnostics-panel]");
  const diagnosticsButton = diagnostics.querySelector('[data-action="diagnostics"]');
  const diagnosticsStatus = diagnostics.querySelector("[data-diagnostics-status]");
  const report = diagnostics.querySelector("[data-diagnostics-report]");
  const language = document.documentElement.lang === "en" ? "en" : "de";
  const text = (element, name) => element.dataset[`text${name[0].toUpperCase()}${name.slice(1)}`];
  // "session_ended" -> data-text-outcome-session-ended, read as textOutcomeSessionEnded.
  const outcomeText = (code) =>
    panel.dataset[`textOutcome${code.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("")}`]
    || code;
  let filesAllowed = false;

  function onState(message) {
    const live = message.state === "active";
    filesAllowed = live && message.capabilities.includes("file_transfer");
    panel.dataset.enabled = filesAllowed ? "yes" : "no";
    for (const element of form.elements) element.disabled = !filesAllowed;
    if (!filesAllowed) status.textContent = text(panel, "needsGrant");
    else if (status.textContent === text(panel, "needsGrant")) status.textContent = "";
    diagnosticsButton.disabled = !(live && message.capabilities.includes("diagnostics"));
  }

  function item(id) {
    let entry = list.querySelector(`[data-file-id="${CSS.escape(id)}"]`);
    if (!entry) {
      entry = document.createElement("li");
      entry.dataset.fileId = id;
      entry.innerHTML = '<span data-name></span> <span data-detail></span> '
        + '<progress max="1" value="0"></progress> <span data-actions></span>';
      list.prepend(entry);
    }
    return entry;
  }

  function onFile(message) {
    const entry = item(message.id);
    entry.dataset.state = message.state;
    entry.dataset.direction = message.direction;
    const way = message.direction === "to_customer" ? text(panel, "toCustomer") : text(panel, "toAgent");
    entry.querySelector("[data-name]").textContent = message.name;
    let state = text(panel, message.state) || message.state;
    if (message.outcome) state += ` (${outcomeText(message.outcome)})`;
    entry.querySelector("[data-detail]").textContent = `(${formatSize(message.size)}, ${way}): ${state}`;
    entry.querySelector("progress").value = message.size ? message.bytes_done / message.size : 1;
    const actions = entry.querySelector("[data-actions]");
    actions.replaceChildren();
    if (["offered", "accepted", "transferring"].includes(message.state)) {
      const cancel = document.createElement("button");
      cancel.type = "button";
      cancel.className = "button";
      cancel.textContent = text(panel, "cancel");
      cancel.addEventListener("click", () => send({ type: "file_cancel", id: message.id }));
      actions.append(cancel);
    }
    if (message.state === "done") entry.querySelector("progress").value = 1;
    if (message.download) {
      const link = document.createElement("a");
      link.href = message.download;
      link.download = message.name;
      link.textContent = text(panel, "download");
      actions.append(link);
    }
  }

  function onProgress(message) {
    const entry = list.querySelector(`[data-file-id="${CSS.escape(message.id)}"]`);
    if (!entry) return;
    const progress = entry.querySelector("progress");
    const size = Number(entry.dataset.size || 0);
    progress.value = size ? message.bytes_done / size : progress.value;
  }

  function onDiagnostics(message) {
    diagnostics.dataset.state = message.state;
    if (message.state === "sent") {
      diagnosticsStatus.textContent = "";
      report.textContent = message.text[language];
      report.hidden = false;
    } else {
      diagnosticsStatus.textContent = text(diagnostics, {
        requested: "requested", withheld: "withheld", not_allowed: "notAllowed", busy: "busy",
      }[message.state] || "requested");
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = picker.files[0];
    if (!file || !filesAllowed) return;
    status.textContent = "…";
    try {
      const answer = await fetch(panel.dataset.uploadUrl, {
        method: "POST",
        body: file,
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/octet-stream",
          "X-CSRF-Token": panel.dataset.csrf,
          "X-File-Name": encodeURIComponent(file.name),
        },
      });
      const body = await answer.json();
      if (answer.ok) {
        status.textContent = "";
        const entry = item(body.id);
        entry.dataset.size = String(body.size);
        form.reset();
      } else {
        status.textContent = body.error || answer.statusText;
      }
    } catch (error) {
      status.textContent = String(error);
    }
  });
  diagnosticsButton.addEventListener("click", () => send({ type: "diagnostics_request" }));

  return {
    onState,
    onMessage(message) {
      if (message.type === "file") {
        onFile(message);
        list.querySelector(`[data-file-id="${CSS.escape(message.id)}"]`).dataset.size = String(message.size);
      } else if (message.type === "file_progress") onProgress(message);
      else if (message.type === "diagnostics") onDiagnostics(message);
    },
  };
}
