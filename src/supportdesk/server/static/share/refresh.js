/**
 * When to send the agent a sharp picture of a still screen (as TurboVNC's lossless
 * refresh): the rate-controlled stream blurs text whenever a key chunk is coded at the
 * running bitrate (a seek point, a drop, a reconfigure) or a scroll ends, and Chromium's
 * OpenH264 in its screen-content mode (`contentHint: "text"`) never refines a picture
 * that stays still: its deltas skip unchanged blocks at any bitrate. Its camera mode
 * does refine: at a high bitrate a key chunk and two or three deltas bring frozen text
 * from about 30 to 40 dB PSNR (measured offline on the bench's xterm, docs/benchmarks.md,
 * "Browser sharing"). So the sender goes over to a sharp configuration (no content
 * hint, SHARP_BITRATE_1080P) once the screen has been still for STILL_MS after anything
 * moved or a key chunk came, and back to the screen-content one when something moves
 * again. H.264 only: VP9's rate control refines a still picture by itself.
 *
 * "Still": delta chunks under TINY_BYTES per megapixel of the encoded picture (the
 * pointer, a typed character, a clock), as `frame-rate.js` counts them. "Moving" in the
 * sharp configuration: a delta chunk over MOVING_BYTES per megapixel, once SETTLE_MS
 * after its last key chunk asked for have passed (the refining deltas after one are big). No
 * sharp picture while the link is slow: not within QUIET_MS of a drop, and a drop while
 * sharp goes back at once. Pure: the caller passes sizes and the time.
 */

import { TINY_BYTES } from "./frame-rate.js";

export const STILL_MS = 300;
export const SETTLE_MS = 1000;
export const MOVING_BYTES = 2000; // per megapixel: a 1080p frame is 2.07 megapixels
export const QUIET_MS = 5000;
export const SHARP_BITRATE_1080P = 12_000_000;

/** Whether the codec needs the sharp configuration for a still picture (H.264). */
export function sharpens(codec) {
  return typeof codec === "string" && codec.startsWith("avc1.");
}

/** The bitrate of the sharp configuration: by pixel count, at least the running one. */
export function sharpBitrate(width, height, running) {
  const scaled = Math.round((SHARP_BITRATE_1080P * width * height) / (1920 * 1080));
  return Math.max(scaled, running);
}

export class SharpRefresh {
  /** @param {number} pixels  width x height of the encoded picture */
  constructor(pixels) {
    this.megapixels = Math.max(pixels, 1) / 1e6;
    this.sharp = false;
    this.blurred = true; // what the agent shows may be blurred: the first key chunk is
    this.lastMoved = -Infinity; // the last chunk that was not tiny, or a key chunk
    this.sharpKeyAt = null; // when the sharp configuration's last key chunk came out
    this.lastDrop = -Infinity;
    this.asked = false; // a key chunk was asked of the encoder since the last one came
  }

  /** The sender asked the encoder for a key chunk. */
  keyAsked() {
    this.asked = true;
  }

  /**
   * An encoded chunk came out at `now` (ms). Returns "sharp" to go over to the sharp
   * configuration, "soft" to go back, or null.
   */
  chunk(bytes, key, now) {
    const perMegapixel = bytes / this.megapixels;
    if (this.sharp) {
      if (key) {
        // A key chunk asked for (the switch, a resume, a seek point) is refined anew; one
        // the encoder made by itself on a scene change is motion.
        if (this.asked) this.sharpKeyAt = now;
        this.asked = false;
        return null;
      }
      const settled = this.sharpKeyAt !== null && now - this.sharpKeyAt >= SETTLE_MS;
      if (settled && perMegapixel > MOVING_BYTES) return this.#soften(now);
      return null;
    }
    if (key || perMegapixel >= TINY_BYTES) {
      this.blurred = true;
      this.lastMoved = now;
      return null;
    }
    if (this.blurred && now - this.lastMoved >= STILL_MS && now - this.lastDrop >= QUIET_MS) {
      this.sharp = true;
      this.blurred = false;
      this.sharpKeyAt = null;
      return "sharp";
    }
    return null;
  }

  /** A frame or chunk was dropped at `now` (ms): "soft" if sharp, else null. */
  dropped(now) {
    this.lastDrop = now;
    return this.sharp ? this.#soften(now) : null;
  }

  #soften(now) {
    this.sharp = false;
    this.blurred = true;
    this.lastMoved = now;
    return "soft";
  }
}
