/**
 * How many frames a second the sender encodes, by what the encoder makes of them: the
 * full rate while much of the screen moves (a video, a dragged window: big delta
 * chunks), a low rate while only small parts change (text scrolling or typed: small
 * ones). Each encoded frame of a scrolling terminal costs about as much as the new lines
 * it brings, so a third of the frames carry the same text in about a third of the bytes
 * (docs/benchmarks.md, "Browser sharing"). Pure: the caller passes sizes and the time.
 *
 * Down to the low rate when the delta chunks of the last WINDOW_MS averaged under
 * LOW_BYTES per megapixel of the encoded picture; back up at once when one delta chunk
 * is over HIGH_BYTES per megapixel (a frame at the low rate holds the changes of
 * several, so the bar up is higher than the bar down), and stay there HOLD_MS at least
 * (no see-saw on content between the bars). Key chunks say nothing about what moves
 * and are not counted.
 */

export const FULL_RATE = 30;
export const LOW_RATE = 10;
export const WINDOW_MS = 1000;
export const LOW_BYTES = 1000; // per megapixel: a 1080p frame is 2.07 megapixels
export const HIGH_BYTES = 2000;
export const HOLD_MS = 3000; // at the full rate at least this long before going down

export class FrameRatePolicy {
  /** @param {number} pixels  width x height of the encoded picture */
  constructor(pixels, full = FULL_RATE, low = LOW_RATE) {
    this.megapixels = Math.max(pixels, 1) / 1e6;
    this.full = full;
    this.low = low;
    this.rate = full;
    this.recent = []; // [time ms, bytes] of the delta chunks in the window
    this.since = null; // when the current rate began: the first chunk, then each change
  }

  /** Microseconds between encoded frames at the current rate. */
  get intervalUs() {
    return 1e6 / this.rate;
  }

  /** An encoded chunk came out at `now` (ms). */
  chunk(bytes, key, now) {
    this.since ??= now;
    if (key) return;
    const perMegapixel = bytes / this.megapixels;
    this.recent.push([now, perMegapixel]);
    while (this.recent.length && this.recent[0][0] <= now - WINDOW_MS) this.recent.shift();
    if (this.rate !== this.full && perMegapixel > HIGH_BYTES) {
      this.#set(this.full, now);
      return;
    }
    if (this.rate === this.full && now - this.since >= HOLD_MS) {
      const mean = this.recent.reduce((sum, [, b]) => sum + b, 0) / this.recent.length;
      if (mean < LOW_BYTES) this.#set(this.low, now);
    }
  }

  #set(rate, now) {
    this.rate = rate;
    this.since = now;
    this.recent = [];
  }
}
