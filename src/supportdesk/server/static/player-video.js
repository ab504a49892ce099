// The player's screen for a recorded browser share: the player socket's video messages
// (config, paint_from, "flags ‖ timestamp ‖ data" chunks) into a VideoCanvas, the same
// decoder the agent's live page uses. A seek sends the chunks from the key chunk before
// t to t in one burst; VideoCanvas skips deltas when its decoder falls behind (right
// for a live stream), so this feeds them at the decoder's pace and lets VideoCanvas
// paint only from the chunk at t (paint_from).
import { VideoCanvas } from "/static/video-canvas.js";

const QUEUE_LIMIT = 4; // chunks handed to the decoder ahead of its output
const RETRY_MS = 4;

export class PlayerVideo {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onError?: () => void, onFrame?: (timestamp: number) => void}} hooks
   */
  constructor(canvas, { onError = () => {}, onFrame = () => {} } = {}) {
    this.canvas = canvas;
    this.onError = onError;
    this.pending = [];
    this.configured = false;
    this.timer = null;
    this.video = new VideoCanvas(canvas, { onNeedKey: () => this.onError(), onFrame });
  }

  static supported() {
    return typeof VideoDecoder !== "undefined" && typeof EncodedVideoChunk !== "undefined";
  }

  /** A new feed (a seek): drop what the old one had not yet decoded. */
  start() {
    this.pending = [];
    this.configured = false;
    this.video.skipUntil(-Infinity);
  }

  /** A text message of the feed: config or paint_from. */
  control(message) {
    if (message.type === "config") {
      this.configured = true;
      this.pending.push({ config: { codec: message.codec, width: message.width, height: message.height } });
    } else if (message.type === "paint_from") {
      this.pending.push({ paintFrom: message.timestamp });
    }
    this.#pump();
  }

  chunk(payload) {
    this.pending.push({ payload });
    this.#pump();
  }

  /** Everything up to the position is sent. Nothing configured: the share starts later. */
  caughtUp() {
    if (this.configured) return false;
    const context = this.canvas.getContext("2d");
    context.fillStyle = "#222";
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    return true;
  }

  #pump() {
    if (this.timer !== null) return;
    while (this.pending.length) {
      const next = this.pending[0];
      if (next.payload) {
        const decoder = this.video.decoder;
        if (decoder && decoder.state === "configured" && decoder.decodeQueueSize >= QUEUE_LIMIT) {
          this.timer = setTimeout(() => { this.timer = null; this.#pump(); }, RETRY_MS);
          return;
        }
        this.video.chunk(next.payload);
      } else if (next.config) {
        this.video.configure(next.config);
      } else {
        this.video.skipUntil(next.paintFrom);
      }
      this.pending.shift();
    }
  }
}
