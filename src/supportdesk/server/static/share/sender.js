/**
 * The screen onto the link: captured frames through a real-time VideoEncoder into
 * channel-1 chunks, within back-pressure. A frame is dropped before encoding (and the
 * bitrate lowered) when the credit window is used up, the socket holds more than 256 KiB,
 * or the encoder queues more than two frames; an encoded chunk that cannot be sent is
 * dropped too, and a key chunk asked for next. Frames come at the
 * rate `frame-rate.js` picks from the chunks' sizes (fewer while only text changes). `video_config` goes
 * out before the first chunk after every configure and on every new link; a key chunk
 * follows every configure (not a change of bitrate alone), lost chunk, new link and relay
 * `keyframe`. Once an H.264 picture has
 * been still for a moment, the encoder goes over to a sharp configuration until something
 * moves again (`refresh.js`): the screen-content mode never sharpens a still picture.
 */

import { BitratePolicy } from "./bitrate.js";
import { FRAME_RATE, cappedSize, pickCodec, relayAccepts, startBitrate } from "./codecs.js";
import { FrameRatePolicy } from "./frame-rate.js";
import { SharpRefresh, sharpBitrate, sharpens } from "./refresh.js";
import { VIDEO_HEADER, videoPayload } from "./link.js";

export const MAX_BUFFERED = 256 * 1024;
/** The encoder's content hint: a screen is text and edges. Chromium's software H.264
 * (OpenH264) then runs its screen-content mode, VP9 its screen tuning; measured with
 * `python -m bench.browser_share` (docs/benchmarks.md) on the reference workload:
 * a fourteenth of the bandwidth and sharper text (frozen text 21 -> 39 dB PSNR). */
export const CONTENT_HINT = "text";
export const MAX_ENCODE_QUEUE = 2;
const FRAME_INTERVAL_US = 1e6 / FRAME_RATE;
const FRAME_SLACK_US = 3000;

export class ScreenSender {
  /**
   * @param {import("./link.js").Link} link
   * @param {{onProblem: (what: string) => void}} handlers  "no_codec" when nothing fits
   */
  constructor(link, handlers, clock = () => performance.now()) {
    this.link = link;
    this.handlers = handlers;
    this.clock = clock;
    this.relayCodecs = null;
    this.excluded = [];
    this.encoder = null;
    this.current = null; // {codec, config}: what the encoder runs
    this.screenConfig = null; // the screen-content configuration (the sharp one aside)
    this.refresh = null; // a SharpRefresh where the codec needs it
    this.sharp = false; // the encoder runs the sharp configuration
    this.modeDue = null; // "sharp" or "soft": to apply before the next frame
    this.configuring = false;
    this.policy = null;
    this.rate = null; // a FrameRatePolicy for the configured size
    this.forceKey = true;
    this.awaitingKey = true;
    this.configPending = false;
    this.paused = false;
    this.privacy = null; // a PrivacyScreen: while on, frames are replaced before encoding
    this.offline = false; // the link is down: capture goes on, nothing is encoded or sent
    this.stopped = false;
    this.lastTimestamp = -Infinity;
    this.sizeKey = "";
    this.stats = { frames: 0, chunks: 0, dropped: 0, bytes: 0 };
  }

  /** A captured frame; always closed here. */
  frame(frame) {
    try {
      this.#take(frame);
    } finally {
      frame.close();
    }
  }

  /** The relay's `codecs`: re-pick and reconfigure when the current codec is not in it. */
  setRelayCodecs(codecs) {
    this.relayCodecs = Array.isArray(codecs) ? codecs : null;
    if (this.current && !relayAccepts(this.relayCodecs, this.current.codec)) {
      this.sizeKey = ""; // the next frame configures afresh
    }
  }

  /** The relay asks for a key chunk next. */
  keyframe() {
    this.forceKey = true;
  }

  pause() {
    this.paused = true;
  }

  resume() {
    this.paused = false;
    this.forceKey = true;
  }

  /** The link is down: encode and send nothing until relinked(). */
  suspend() {
    this.offline = true;
  }

  /** A new link: its credit starts fresh, and it gets `video_config` and a key chunk
   * before anything else. */
  relinked() {
    this.offline = false;
    if (this.current) this.configPending = true;
    this.forceKey = true;
    this.awaitingKey = true;
  }

  stop() {
    this.stopped = true;
    if (this.encoder && this.encoder.state !== "closed") this.encoder.close();
    this.encoder = null;
  }

  #take(frame) {
    if (this.stopped || this.paused || this.offline || this.configuring) return;
    const timestamp = frame.timestamp;
    const interval = this.rate ? this.rate.intervalUs : FRAME_INTERVAL_US;
    if (timestamp - this.lastTimestamp < interval - FRAME_SLACK_US) return;
    this.lastTimestamp = timestamp;
    this.stats.frames += 1;
    const size = cappedSize(frame.displayWidth, frame.displayHeight);
    const key = `${size.width}x${size.height}`;
    if (key !== this.sizeKey || !this.encoder) {
      this.sizeKey = key;
      this.#configure(size.width, size.height, null);
      return;
    }
    const now = this.clock();
    if (this.modeDue) {
      this.#switchMode(now);
    } else if (!this.sharp) {
      const bitrate = this.policy.due(now);
      if (bitrate !== null) this.policy.applied(bitrate, now);
      this.#fitBitrate();
    }
    if (
      this.encoder.encodeQueueSize > MAX_ENCODE_QUEUE ||
      this.link.bufferedAmount > MAX_BUFFERED ||
      this.link.credit.available <= VIDEO_HEADER
    ) {
      this.#drop(now, false);
      return;
    }
    const keyFrame = this.forceKey;
    this.forceKey = false;
    if (keyFrame) this.refresh?.keyAsked();
    if (this.privacy?.on) {
      const blank = this.privacy.blank(frame); // the screen never reaches the encoder
      try {
        this.encoder.encode(blank, { keyFrame });
      } finally {
        blank.close();
      }
    } else {
      this.encoder.encode(frame, { keyFrame });
    }
  }

  async #configure(width, height, bitrate) {
    this.configuring = true;
    try {
      const start = startBitrate(width, height);
      const chosen = await pickCodec(
        width,
        height,
        bitrate ?? start,
        this.relayCodecs,
        (config) => VideoEncoder.isConfigSupported(config),
        this.excluded,
      );
      if (this.encoder && this.encoder.state === "configured") {
        // What the old configuration still holds comes out before the new one starts.
        await this.encoder.flush().catch(() => {});
      }
      if (this.stopped) return;
      if (!chosen) {
        this.handlers.onProblem("no_codec");
        return;
      }
      if (!this.encoder || this.encoder.state === "closed") {
        this.encoder = new VideoEncoder({
          output: (chunk) => this.#output(chunk),
          error: () => this.#failed(),
        });
      }
      const config = { ...chosen.config, contentHint: CONTENT_HINT };
      this.encoder.configure(config);
      this.current = { codec: chosen.codec, config };
      this.screenConfig = config;
      this.sharp = false;
      this.modeDue = null;
      this.refresh = sharpens(chosen.codec) ? new SharpRefresh(width * height) : null;
      this.policy = new BitratePolicy(start);
      this.rate = new FrameRatePolicy(width * height, FRAME_RATE);
      this.policy.applied(chosen.config.bitrate, this.clock());
      this.#configured();
    } finally {
      this.configuring = false;
    }
  }

  /**
   * The screen-content configuration at the back-pressure policy's bitrate. Only the
   * bitrate changes, which Chromium's encoders take without starting afresh: no key chunk
   * and no `video_config`, so the agent's decoder goes on (a key chunk is some 185 KB at
   * 1080p, more than a minute of scrolling text's deltas, and the link is slow already).
   */
  #fitBitrate() {
    const bitrate = this.policy.configured;
    if (bitrate === this.screenConfig.bitrate) return;
    this.screenConfig = { ...this.screenConfig, bitrate };
    this.encoder.configure(this.screenConfig);
    this.current = { codec: this.current.codec, config: this.screenConfig };
  }

  /** Over to the sharp configuration (the still picture refined) or back. */
  #switchMode(now) {
    const to = this.modeDue;
    this.modeDue = null;
    if ((to === "sharp") === this.sharp) return;
    const { width, height } = this.screenConfig;
    if (to === "sharp") {
      // Without the content hint Chromium's OpenH264 runs its camera mode, which refines.
      const { contentHint: _, ...camera } = this.screenConfig;
      this.sharp = true;
      this.#apply({ ...camera, bitrate: sharpBitrate(width, height, this.policy.configured) });
      // The refining deltas should follow the key chunk at once, not at the text's rate.
      this.rate = new FrameRatePolicy(width * height, FRAME_RATE);
    } else {
      this.sharp = false;
      this.screenConfig = { ...this.screenConfig, bitrate: this.policy.target };
      this.#apply(this.screenConfig);
      this.policy.applied(this.policy.target, now);
    }
  }

  #apply(config) {
    this.encoder.configure(config);
    this.current = { codec: this.current.codec, config };
    this.#configured();
  }

  #configured() {
    this.configPending = true;
    this.forceKey = true;
    this.awaitingKey = true;
  }

  /**
   * A frame was not encoded (`lost` false: the agent's decoder misses nothing, the next
   * delta follows the last frame sent) or an encoded chunk was not sent (`lost` true: the
   * chain is broken, a key chunk must come next). Either way the link or this machine is
   * slow: a lower bitrate, and no sharp picture for a while.
   */
  #drop(now, lost) {
    this.stats.dropped += 1;
    if (lost) this.forceKey = true;
    this.policy?.dropped(now);
    this.modeDue = this.refresh?.dropped(now) ?? this.modeDue;
  }

  #output(chunk) {
    if (this.stopped || this.offline) return; // encoded before the link went: dropped
    const isKey = chunk.type === "key";
    if (this.awaitingKey && !isKey) return; // a delta after a drop decodes to nothing
    const payload = videoPayload(isKey, chunk.timestamp, chunk.byteLength);
    chunk.copyTo(payload.subarray(VIDEO_HEADER));
    if (this.configPending) {
      const { codec, width, height } = this.current.config;
      if (!this.link.send({ type: "video_config", codec, width, height })) return;
      this.configPending = false;
    }
    if (this.link.bufferedAmount > MAX_BUFFERED || !this.link.sendVideo(payload)) {
      this.awaitingKey = true;
      this.#drop(this.clock(), true);
      return;
    }
    this.awaitingKey = false;
    const now = this.clock();
    // While sharp only little changes: the full rate stays, whatever the camera mode's sizes.
    // Key chunks go to the policy too: it leaves out the deltas that refine one.
    if (!this.sharp) this.rate?.chunk(chunk.byteLength, isKey, now);
    this.modeDue = this.refresh?.chunk(chunk.byteLength, isKey, now) ?? this.modeDue;
    this.stats.chunks += 1;
    this.stats.bytes += payload.byteLength;
  }

  #failed() {
    // The encoder broke (e.g. its hardware went away): try the next codec once more.
    if (this.stopped || !this.current) return;
    this.excluded.push(this.current.codec);
    this.encoder = null;
    this.sizeKey = "";
  }
}
