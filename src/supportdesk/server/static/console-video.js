// The agent's view of a browser-shared screen: the video socket into a VideoCanvas, and
// the agent's pointer (press or hold on the picture) as fractions of the picture.
import { VideoCanvas } from "/static/video-canvas.js";

// Best first; the customer's browser picks the first it can encode.
const CANDIDATES = ["avc1.640033", "avc1.640028", "vp09.00.10.08", "vp8"];
const POINTER_EVERY_MS = 34; // the relay passes at most 30 a second

/** The codec strings this browser can decode, best first. */
export async function decodableCodecs() {
  if (typeof VideoDecoder === "undefined") return [];
  const answers = await Promise.all(CANDIDATES.map(async (codec) => {
    try {
      return (await VideoDecoder.isConfigSupported({ codec })).supported ? codec : null;
    } catch {
      return null;
    }
  }));
  return answers.filter(Boolean);
}

/** Opens the video socket at `url` and paints it into a new canvas inside `target`.
 * Returns {disconnect()}; `onDisconnect` runs when the socket closes. */
export function connectVideo(target, url, { onConnect = () => {}, onDisconnect = () => {}, onPoint = null }) {
  const canvas = document.createElement("canvas");
  canvas.className = "video-screen";
  canvas.dataset.videoScreen = "";
  target.replaceChildren(canvas);
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  const askKey = () => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "keyframe" }));
  };
  const video = new VideoCanvas(canvas, {
    onNeedKey: askKey,
    onFrame: () => { canvas.dataset.frames = String(Number(canvas.dataset.frames || 0) + 1); },
  });
  socket.addEventListener("open", onConnect);
  socket.addEventListener("message", (event) => {
    if (typeof event.data === "string") {
      const message = JSON.parse(event.data);
      if (message.type === "config") video.configure(message);
    } else {
      video.chunk(event.data);
    }
  });
  socket.addEventListener("close", () => { video.close(); onDisconnect(); });
  if (onPoint) pointWith(canvas, onPoint);
  return { disconnect: () => socket.close() };
}

function pointWith(canvas, onPoint) {
  let down = false;
  let last = 0;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return { x: clamp((event.clientX - box.left) / box.width), y: clamp((event.clientY - box.top) / box.height) };
  };
  canvas.addEventListener("pointerdown", (event) => {
    down = true;
    canvas.setPointerCapture(event.pointerId);
    onPoint({ ...at(event), down: true });
  });
  canvas.addEventListener("pointermove", (event) => {
    const now = performance.now();
    if (!down || now - last < POINTER_EVERY_MS) return;
    last = now;
    onPoint({ ...at(event), down: true });
  });
  canvas.addEventListener("pointerup", (event) => {
    down = false;
    onPoint({ ...at(event), down: false });
  });
}
