// Paints a browser's encoded screen (docs/browser-share.md) on a canvas with WebCodecs'
// VideoDecoder. Fed the relay's messages as they come: configure() with a video_config,
// chunk() with each "flags ‖ timestamp ‖ data" payload. Used by the agent's live page
// and the auditor's player alike.

const HEADER = 9;
const KEY = 0x01;
const BEHIND = 8; // decoded frames queued before deltas are skipped to the next key

/** Splits a payload (ArrayBuffer or Uint8Array) into its key flag, timestamp and data. */
export function parseChunk(payload) {
  const bytes = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    key: (view.getUint8(0) & KEY) !== 0,
    timestamp: Number(view.getBigUint64(1)),
    data: bytes.subarray(HEADER),
  };
}

export class VideoCanvas {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{onNeedKey?: () => void, onFrame?: (timestamp: number) => void}} hooks
   *   onNeedKey: the decoder failed or fell behind and waits for a key chunk.
   */
  constructor(canvas, { onNeedKey = () => {}, onFrame = () => {} } = {}) {
    this.canvas = canvas;
    this.context = canvas.getContext("2d");
    this.onNeedKey = onNeedKey;
    this.onFrame = onFrame;
    this.decoder = null;
    this.config = null;
    this.waitingForKey = true;
    this.paintFrom = -Infinity;
  }

  /** A new encoder configuration: a new decoder, waiting for a key chunk. */
  configure(config) {
    this.config = config;
    this.#reset();
    if (this.canvas.width !== config.width || this.canvas.height !== config.height) {
      this.canvas.width = config.width;
      this.canvas.height = config.height;
    }
  }

  /** Paint only frames at or after this timestamp (µs): a seek decodes from the key
   * chunk before it without showing the frames in between. */
  skipUntil(timestamp) {
    this.paintFrom = timestamp;
  }

  chunk(payload) {
    const { key, timestamp, data } = parseChunk(payload);
    if (!this.decoder || this.decoder.state !== "configured") return;
    if (this.waitingForKey && !key) return;
    if (!key && this.decoder.decodeQueueSize > BEHIND) {
      this.#needKey(); // this machine cannot keep up: skip ahead rather than lag
      return;
    }
    this.waitingForKey = false;
    try {
      this.decoder.decode(new EncodedVideoChunk({ type: key ? "key" : "delta", timestamp, data }));
    } catch (error) {
      this.#failed(error);
    }
  }

  close() {
    if (this.decoder && this.decoder.state !== "closed") this.decoder.close();
    this.decoder = null;
  }

  #reset() {
    this.close();
    this.waitingForKey = true;
    if (!this.config) return;
    this.decoder = new VideoDecoder({
      output: (frame) => this.#paint(frame),
      error: (error) => this.#failed(error),
    });
    // H.264 comes as Annex B with its parameter sets in every key chunk: no description.
    this.decoder.configure({
      codec: this.config.codec,
      codedWidth: this.config.width,
      codedHeight: this.config.height,
      optimizeForLatency: true,
    });
  }

  #paint(frame) {
    try {
      if (frame.timestamp >= this.paintFrom) {
        this.context.drawImage(frame, 0, 0, this.canvas.width, this.canvas.height);
        this.onFrame(frame.timestamp);
      }
    } finally {
      frame.close();
    }
  }

  #failed(error) {
    console.warn("video decoder:", error);
    this.#reset();
    this.onNeedKey();
  }

  #needKey() {
    this.waitingForKey = true;
    this.onNeedKey();
  }
}
