// The agent's live view: state and chat on the control socket; the customer's screen
// through noVNC (the support program) or a video canvas (a browser sharing its screen).
import "/static/novnc-zlib-reset.js"; // before any viewer: see that file
import RFB from "/novnc/core/rfb.js";
import KeyTable from "/novnc/core/input/keysym.js";
import { setupFiles } from "/static/console-files.js";
import { connectVideo, decodableCodecs } from "/static/console-video.js";

const root = document.querySelector("[data-live]");
const text = (name) => root.dataset[name];
const wsUrl = (path) => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
const field = (name) => root.querySelector(`[data-field="${name}"]`);
// Whether this agent may control: the page's start, then each state message's team
// (a hand-over or the customer's refusal changes it while the page is open).
let viewOnlyViewer = root.dataset.viewOnly === "true";
const notice = root.querySelector("[data-notice]");
let rfb = null;
let video = null; // the browser's screen, when the customer shares from a browser
let state = null;
let activeSince = null;

let control = null;
const files = setupFiles(root, (message) => control.send(JSON.stringify(message)));
connectControl(root.dataset.controlUrl);

// The control socket: state, chat, tickets. If it drops while the session goes on (a
// network blip, a server restart), it comes back on its own with a fresh ticket.
let controlRetry = 0;
function connectControl(path) {
  control = new WebSocket(wsUrl(path));
  control.addEventListener("open", async () => {
    controlRetry = 0;
    root.dataset.controlSocket = "open";
    // The customer's browser encodes with a codec this browser decodes.
    control.send(JSON.stringify({ type: "decoders", codecs: await decodableCodecs() }));
  });
  control.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    files.onMessage(message);
    root.dispatchEvent(new CustomEvent("live:message", { detail: message })); // console-team.js
    if (message.type === "state") onState(message);
    else if (message.type === "chat") addChat(message);
    else if (message.type === "viewer_ticket") connectScreen(message.ticket);
  });
  control.addEventListener("close", (event) => {
    root.dispatchEvent(new CustomEvent("live:closed", { detail: { code: event.code } }));
    if (event.code === 4403) { // handed over, or no longer helping: nothing to watch here
      if (rfb) rfb.disconnect();
      if (video) video.disconnect();
      state = { ...(state || {}), state: "ended" };
      return;
    }
    if (isOver(state) || event.code === 4401) {
      if (!isOver(state)) showNotice(text("textEnded"));
      return;
    }
    const wait = Math.min(5000, 500 * 2 ** controlRetry++) * (0.5 + Math.random() / 2);
    setTimeout(reconnectControl, wait);
  });
}

async function reconnectControl() {
  try {
    const answer = await fetch(root.dataset.controlTicketUrl, {
      method: "POST", headers: { "X-CSRF-Token": root.dataset.csrf }, credentials: "same-origin",
    });
    if (answer.status === 409) { showNotice(text("textEnded")); return; }
    if (!answer.ok) throw new Error(`ticket: ${answer.status}`);
    connectControl((await answer.json()).url);
  } catch {
    setTimeout(reconnectControl, Math.min(5000, 500 * 2 ** controlRetry++));
  }
}

function isOver(message) {
  return message && ["ended", "declined", "expired"].includes(message.state);
}

const labels = document.querySelector("template[data-labels]").content;

// In the order the consent dialog lists them: view, control, files, diagnostics.
const capabilityOrder = [...labels.querySelectorAll("[data-capability]")].map(
  (e) => e.dataset.capability,
);

// The page's word for a code from the state message (the code itself if unknown).
function label(kind, code) {
  const found = [...labels.querySelectorAll(`[data-${kind}]`)].find((e) => e.dataset[kind] === code);
  return found ? found.textContent : code;
}

root.addEventListener("live:send", (event) => control.send(JSON.stringify(event.detail)));

function onState(message) {
  state = message;
  if (message.controllers) viewOnlyViewer = !message.controllers.includes(root.dataset.actor);
  files.onState(message);
  field("customer_name").textContent = message.customer_name || "–";
  field("state").textContent = label("state", message.state);
  field("capabilities").textContent =
    capabilityOrder
      .filter((c) => message.capabilities.includes(c))
      .map((c) => label("capability", c))
      .join(", ") || "–";
  field("watchers").textContent =
    message.watchers.map((w) => `${w.name} (${label("role", w.role)})`).join(", ") || "–";
  activeSince = message.active_since ? Date.parse(message.active_since) : null;
  root.dataset.state = message.state;
  root.dataset.link = message.link || "";
  updateScreens(message.screens || []);
  // Windows keeps Ctrl+Alt+Del to itself: say so instead of offering a button that does nothing.
  const onWindows = message.platform === "windows";
  root.querySelector('[data-action="ctrl-alt-del"]').disabled = onWindows;
  root.querySelector("[data-cad-note]").hidden = !onWindows;
  if (isOver(message)) {
    if (rfb) rfb.disconnect();
    if (video) video.disconnect();
    const why = message.declined_reason ? label("declined", message.declined_reason)
      : message.end_reason ? label("ended", message.end_reason) : label("state", message.state);
    showNotice(`${text("textEnded")} (${why})`);
    return;
  }
  const live = message.state === "active" || message.state === "paused";
  if (live && !rfb && !video && !askedTicket) {
    askedTicket = true;
    control.send(JSON.stringify({ type: "viewer_ticket" }));
  }
  if (!live) showNotice(message.state === "awaiting_consent" ? text("textConsent") : text("textWaiting"));
  else if (message.customer_link === "lost") showLinkLost(Date.parse(message.lost_since));
  else if (message.customer_link === "renewing") showNotice(text("textLinkRenewing"));
  else if (message.held) showNotice(text("textHeld"));  // no recording: held, and why
  else if (message.paused) showNotice(text("textPaused"));  // the picture stands still
  else if (message.masking && message.masking.length) {
    // The customer's PC masks part (or with the Sichtschutz all) of the picture.
    showNotice(text(message.masking.includes("privacy") ? "textPrivacy" : "textMasked"));
  } else hideNotice();
  applyViewOnly();
}

let askedTicket = false;
function connectScreen(ticket) {
  askedTicket = false;
  if (state && state.link === "browser") connectBrowserVideo(ticket);
  else connectViewer(ticket);
}

// A dropped viewer comes back soon: at once after the relay closed it because the
// customer reconnected, then with growing waits while the session cannot be watched.
let viewerRetry = 0;
function reconnectSoon() {
  // One ticket for one viewer: a state message meanwhile must not ask for another.
  if (state && !isOver(state) && (state.state === "active" || state.state === "paused")) {
    askedTicket = true;
    const wait = Math.min(2000, 150 * 2 ** viewerRetry++);
    setTimeout(() => {
      if (!rfb && !video) control.send(JSON.stringify({ type: "viewer_ticket" }));
      else askedTicket = false;
    }, wait);
  }
}

function connectBrowserVideo(ticket) {
  const target = root.querySelector("[data-screen]");
  const url = wsUrl(`${root.dataset.videoUrl}?ticket=${encodeURIComponent(ticket)}`);
  const point = (where) => {
    if (state && state.state === "active" && !state.paused) control.send(JSON.stringify({ type: "pointer", ...where }));
  };
  video = connectVideo(target, url, {
    onConnect: () => { root.dataset.viewer = "connected"; viewerRetry = 0; },
    onDisconnect: () => { root.dataset.viewer = "disconnected"; video = null; reconnectSoon(); },
    onPoint: viewOnlyViewer ? null : point,
  });
}

function applyViewOnly() {
  const mayControl = state && !viewOnlyViewer && state.state === "active" && !state.held
    && state.capabilities.includes("control");
  root.querySelector("[data-mode]").hidden = !!mayControl;
  root.dataset.control = mayControl ? "yes" : "no";
  if (rfb) rfb.viewOnly = !mayControl;
  applyClipboard(!!mayControl);
}

function connectViewer(ticket) {
  const target = root.querySelector("[data-screen]");
  const url = wsUrl(`${root.dataset.viewerUrl}?ticket=${encodeURIComponent(ticket)}`);
  rfb = new RFB(target, url, { wsProtocols: ["binary"], shared: true });
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  rfb.qualityLevel = 8;
  rfb.compressionLevel = 2;
  applyViewOnly();
  rfb.addEventListener("connect", () => { root.dataset.viewer = "connected"; viewerRetry = 0; });
  rfb.addEventListener("clipboard", (event) => showCustomerClipboard(event.detail.text));
  rfb.addEventListener("disconnect", () => {
    root.dataset.viewer = "disconnected";
    rfb = null;
    reconnectSoon();
  });
}

function updateScreens(screens) {
  const select = root.querySelector("[data-screens]");
  if (select.options.length === screens.length || screens.length === 0) return;
  select.replaceChildren(...screens.map((s, index) => {
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = index === 0 ? "★" : `${index}: ${s.width}×${s.height}`;
    return option;
  }));
}

function addChat(message) {
  const item = document.createElement("li");
  item.className = message.from;
  const who = message.from === "agent" ? (message.name || text("textAgent")) : text("textCustomer");
  item.textContent = `${who}: ${message.text}`;
  root.querySelector("[data-chat]").append(item);
}

// Clipboard: noVNC carries it (Extended Clipboard, UTF-8); only while control is granted.
const clipboard = root.querySelector("[data-clipboard]");
const clipboardText = clipboard.querySelector("[data-clipboard-text]");
const clipboardSend = clipboard.querySelector("[data-clipboard-send]");
const clipboardStatus = clipboard.querySelector("[data-clipboard-status]");

function applyClipboard(mayControl) {
  clipboard.dataset.enabled = mayControl ? "yes" : "no";
  clipboardText.disabled = !mayControl;
  clipboardSend.disabled = !mayControl;
  if (!mayControl) clipboardStatus.textContent = clipboard.dataset.textNeedsControl;
}

function showCustomerClipboard(value) {
  if (clipboard.dataset.enabled !== "yes") return;
  clipboardText.value = value;
  clipboardStatus.textContent = clipboard.dataset.textReceived;
}

clipboardSend.addEventListener("click", () => {
  if (!rfb || rfb.viewOnly) return;
  const value = clipboardText.value;
  // The applet refuses more; the extension adds a NUL and turns LF into CRLF.
  const size = new TextEncoder().encode(value.replace(/\r?\n/g, "\r\n")).length + 1;
  if (size > Number(clipboard.dataset.max)) {
    clipboardStatus.textContent = clipboard.dataset.textTooLong;
    return;
  }
  rfb.clipboardPasteFrom(value);
  clipboardStatus.textContent = clipboard.dataset.textSent;
});

// While the customer's link is lost: the notice counts the seconds since.
let lostSince = null;
function showLinkLost(since) {
  lostSince = since;
  const seconds = Math.max(0, Math.round((Date.now() - since) / 1000));
  showNotice(`${text("textLinkLost")} (${seconds} s)`);
}
setInterval(() => {
  if (state && state.customer_link === "lost" && !isOver(state)) showLinkLost(lostSince);
}, 1000);

function showNotice(message) { notice.textContent = message; notice.hidden = false; }
function hideNotice() { notice.hidden = true; }

root.querySelector("[data-chat-form]").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = event.target.elements.text;
  if (input.value.trim()) control.send(JSON.stringify({ type: "chat", text: input.value }));
  input.value = "";
});
root.querySelector("[data-screens]").addEventListener("change", (event) => {
  control.send(JSON.stringify({ type: "screen", screen: Number(event.target.value) }));
});
// "End session" asks first, in a modal dialog (keyboard: focus starts on "Cancel",
// Esc cancels); only "Yes, end the session" sends the end.
const endDialog = root.querySelector("[data-end-dialog]");
endDialog.addEventListener("close", () => {
  if (endDialog.returnValue === "end") control.send(JSON.stringify({ type: "end" }));
});
root.addEventListener("click", (event) => {
  const action = event.target.dataset?.action;
  if (action === "end") {
    endDialog.returnValue = "";
    endDialog.showModal();
  }
  if (!rfb || rfb.viewOnly) return;
  if (action === "ctrl-alt-del") rfb.sendCtrlAltDel();
  if (action === "tab") rfb.sendKey(KeyTable.XK_Tab, "Tab");
  if (action === "escape") rfb.sendKey(KeyTable.XK_Escape, "Escape");
});
setInterval(() => {
  if (!activeSince || isOver(state)) return;
  const seconds = Math.max(0, Math.round((Date.now() - activeSince) / 1000));
  field("elapsed").textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}, 1000);
