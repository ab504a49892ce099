// The auditor's player: one socket to the server; its binary messages are a recorded
// RFB stream handed to noVNC, its text messages (JSON) say where playback is.
// A seek is a new feed on the same socket and a fresh noVNC on a fresh channel.
// A browser's shared screen (data-video="true") is recorded video instead: the binary
// messages are its chunks and go, with the feed's config and paint_from, to a
// PlayerVideo (VideoDecoder on a canvas).
import "/static/novnc-zlib-reset.js";
import RFB from "/novnc/core/rfb.js";
import { PlayerVideo } from "/static/player-video.js";

const root = document.querySelector("[data-player]");
const screen = root.querySelector("[data-screen]");
const toggle = root.querySelector('[data-action="toggle"]');
const speedSelect = root.querySelector("[data-speed]");
const timeline = root.querySelector("[data-timeline]");
const positionOut = root.querySelector("[data-position]");
const notice = root.querySelector("[data-notice]");
const durationUs = Number(root.dataset.durationUs);
const videoCanvas = root.dataset.video === "true" ? root.querySelector("[data-video-screen]") : null;
const wsUrl = (path) => `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;

// A WebSocket-like channel noVNC can attach to: it receives what we hand it, and what
// noVNC sends goes nowhere (a recording takes no input). The feed sends its side of
// the RFB handshake at once, without waiting for noVNC's answers; noVNC reads one
// handshake step per incoming message, so every time it answers (send) and when it
// is connected, an empty message prompts it to read on.
class FeedChannel {
  constructor() {
    this.binaryType = "arraybuffer";
    this.protocol = "";
    this.readyState = "open";
    this.onopen = null;
    this.onerror = null;
    this.onclose = null;
    this._handler = null;
    this._held = [];
    this._attached = false;
  }

  get onmessage() { return this._handler; }

  set onmessage(handler) {
    this._handler = handler;
    if (!handler || this._attached) return;
    // Hand over what came early once noVNC has finished attaching.
    setTimeout(() => {
      this._attached = true;
      for (const data of this._held.splice(0)) this._emit(data);
    });
  }

  send() {
    this.prompt();
  }

  prompt() {
    setTimeout(() => this._emit(new ArrayBuffer(0)));
  }

  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    setTimeout(() => { if (this.onclose) this.onclose({ code: 1000, reason: "", wasClean: true }); });
  }

  deliver(data) {
    if (this._attached) this._emit(data);
    else this._held.push(data);
  }

  _emit(data) {
    if (this._handler && this.readyState === "open") this._handler({ data });
  }
}

let channel = null;
let rfb = null;
let video = null;
if (videoCanvas) {
  if (PlayerVideo.supported()) {
    video = new PlayerVideo(videoCanvas, {
      onError: () => showNotice(root.dataset.textVideoError),
      onFrame: (timestamp) => {
        // What tests (and a curious auditor) read: the frame shown, frames painted per feed.
        root.dataset.paintedTimestamp = String(timestamp);
        root.dataset.paintedFrames = String(Number(root.dataset.paintedFrames || 0) + 1);
      },
    });
  } else {
    root.dataset.state = "unsupported";
  }
}
let playback = { at_us: 0, speed: 1, paused: false, since: performance.now() };
let dragging = false;

const socket = new WebSocket(wsUrl(root.dataset.socketUrl));
socket.binaryType = "arraybuffer";
socket.addEventListener("message", (event) => {
  if (typeof event.data !== "string") {
    if (video) video.chunk(event.data);
    else if (channel) channel.deliver(event.data);
    return;
  }
  const message = JSON.parse(event.data);
  if (message.type === "config" || message.type === "paint_from") {
    if (message.type === "config") hideNotice();
    if (video) video.control(message);
    return;
  }
  if (message.type === "damaged") {
    root.dataset.state = "damaged";
    showNotice(root.dataset.textDamaged);
    return;
  }
  if (message.type === "start") {
    if (video) {
      video.start();
      root.dataset.paintedFrames = "0";
    }
    else if (!videoCanvas) startViewer();
  }
  onPlayback(message);
  if (video && (message.type === "caught_up" || message.type === "end") && video.caughtUp()) {
    showNotice(root.dataset.textVideoWaiting);
  }
  if (videoCanvas && !video) showNotice(root.dataset.textVideoUnsupported);
});
socket.addEventListener("close", () => {
  if (root.dataset.state === "damaged") return;
  root.dataset.state = "closed";
  showNotice(root.dataset.textClosed);
});

function startViewer() {
  // Attach the new viewer before dropping the old, so the picture never goes blank.
  const old = rfb;
  channel = new FeedChannel();
  const holder = document.createElement("div");
  holder.className = "feed";
  screen.append(holder);
  const fresh = channel;
  rfb = new RFB(holder, fresh, { shared: true });
  rfb.addEventListener("connect", () => fresh.prompt());
  rfb.viewOnly = true;
  rfb.focusOnClick = false;
  rfb.scaleViewport = true;
  rfb.resizeSession = false;
  if (old) {
    old.disconnect();
    const stale = screen.firstElementChild;
    if (stale && stale !== holder) stale.remove();
  }
}

function onPlayback(message) {
  playback = { ...message, since: performance.now() };
  root.dataset.state = message.type === "end" ? "ended" : message.paused ? "paused" : "playing";
  if (message.type === "caught_up" || message.type === "end") {
    root.dataset.caughtUp = String(message.at_us);
  } else {
    delete root.dataset.caughtUp;
  }
  toggle.textContent = message.paused ? root.dataset.textPlay : root.dataset.textPause;
  toggle.setAttribute("aria-pressed", String(message.paused));
  speedSelect.value = String(message.speed);
  if (message.type === "end") showNotice(root.dataset.textEnded);
  else hideNotice();
}

function position() {
  if (playback.paused) return playback.at_us;
  const elapsed = (performance.now() - playback.since) * 1000 * playback.speed;
  return Math.min(durationUs, playback.at_us + elapsed);
}

function clockText(us) {
  const total = Math.floor(us / 1e6);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function tick() {
  const at = position();
  positionOut.textContent = clockText(at);
  root.dataset.position = String(Math.round(at));
  if (!dragging) timeline.value = String(at);
  for (const item of root.querySelectorAll("li[data-at-us]")) {
    const past = Number(item.dataset.atUs) <= at;
    item.classList.toggle("past", past);
    item.classList.toggle("future", !past);
  }
  requestAnimationFrame(tick);
}

const unsent = [];
socket.addEventListener("open", () => { for (const text of unsent.splice(0)) socket.send(text); });

function send(command) {
  // A control used before the socket is open takes effect once it is.
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(command));
  else if (socket.readyState === WebSocket.CONNECTING) unsent.push(JSON.stringify(command));
}

function seek(atUs) {
  delete root.dataset.caughtUp;
  send({ type: "seek", at_us: Math.max(0, Math.min(durationUs, Math.round(atUs))) });
}

function showNotice(text) {
  if (!notice) return;
  notice.textContent = text;
  notice.hidden = false;
}

function hideNotice() {
  if (notice) notice.hidden = true;
}

toggle.addEventListener("click", () => send({ type: playback.paused ? "play" : "pause" }));
speedSelect.addEventListener("change", () => send({ type: "speed", speed: Number(speedSelect.value) }));
timeline.addEventListener("input", () => { dragging = true; });
timeline.addEventListener("change", () => { dragging = false; seek(Number(timeline.value)); });
root.addEventListener("click", (event) => {
  const target = event.target.closest("[data-seek]");
  if (target) seek(Number(target.dataset.seek));
});
for (const mark of root.querySelectorAll(".mark[data-at-us]")) {
  mark.style.left = `${(Number(mark.dataset.atUs) / Math.max(1, durationUs)) * 100}%`;
}
requestAnimationFrame(tick);
