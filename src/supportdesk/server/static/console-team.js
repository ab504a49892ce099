// Who works on the live session: the owner and helpers from the state messages, and the
// dialog that hands the session over or invites a colleague online (the console's
// team messages; the server checks everything again). console-live.js owns the
// socket; this module listens to it through the events it dispatches on the page.
const root = document.querySelector("[data-live]");
const dialog = root.querySelector("[data-team-dialog]");
const form = dialog.querySelector("[data-team-form]");
const select = dialog.querySelector("[data-team-colleagues]");
const nobody = dialog.querySelector("[data-team-nobody]");
const status = root.querySelector("[data-team-status]");
const opener = root.querySelector('[data-action="team"]');
const me = root.dataset.actor;
let state = null;

function field(name) { return root.querySelector(`[data-field="${name}"]`); }
function words(name) { return dialog.dataset[name] || ""; }

root.addEventListener("live:message", (event) => {
  const message = event.detail;
  if (message.type === "state" && message.owner) onState(message);
  else if (message.type === "team_done") status.textContent = words("textDone");
  else if (message.type === "team_refused") {
    const key = "textRefused" + message.reason.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    status.textContent = words(key) || message.reason;
  }
});
root.addEventListener("live:closed", (event) => {
  if (event.detail.code === 4403) status.textContent = words("textLeft");
});

function onState(message) {
  state = message;
  const controls = (actor) => message.controllers.includes(actor) ? ` (${words("textControl")})` : "";
  field("owner").textContent = message.owner.name + controls(message.owner.actor);
  field("helpers").textContent = message.helpers.map((h) => h.name + controls(h.actor)).join(", ") || "–";
  const over = ["ended", "declined", "expired"].includes(message.state);
  const live = message.state === "active" || message.state === "paused";
  // Only the owner (or a supervisor, who the server lets through too) changes the team.
  const mayLead = message.owner.actor === me || root.dataset.supervisor === "true";
  opener.hidden = over || !mayLead;
  opener.disabled = !live;
}

opener.addEventListener("click", async () => {
  status.textContent = "";
  select.replaceChildren();
  const answer = await fetch(dialog.dataset.colleaguesUrl, { credentials: "same-origin" });
  const colleagues = answer.ok ? (await answer.json()).colleagues : [];
  for (const colleague of colleagues) {
    const option = document.createElement("option");
    option.value = String(colleague.id);
    option.textContent = colleague.name;
    select.append(option);
  }
  nobody.hidden = colleagues.length > 0;
  dialog.querySelector("[data-team-go]").disabled = colleagues.length === 0;
  dialog.returnValue = "";
  dialog.showModal();
});

dialog.addEventListener("close", () => {
  if (dialog.returnValue !== "go" || !select.value || !state) return;
  const agent = Number(select.value);
  const what = form.elements.what.value;
  const message = what === "hand_over"
    ? { type: "hand_over", agent, owner: state.owner.actor, keep_watching: form.elements.keep_watching.checked }
    : { type: "invite_helper", agent, control: what === "control" };
  root.dispatchEvent(new CustomEvent("live:send", { detail: message }));
});
