/**
 * How many frames a second the sender encodes, by what the encoder makes of them. Each
 * encoded frame of a scrolling terminal costs about 1 KB of motion for the whole moving
 * area plus about 135 bytes per new line (docs/benchmarks.md, "Browser sharing"), so
 * fewer frames carry the same text in far fewer bytes. Three kinds of delta chunks:
 *
 * - tiny (the pointer, a typed character, a clock: under TINY_BYTES per megapixel of
 *   the encoded picture on average): the full rate, which costs little and keeps the
 *   agent's view of the pointer and of typing smooth;
 * - middling (a large area moving a little: scrolling text; averaging under LOW_BYTES
 *   per megapixel over the last WINDOW_MS at the full rate, none of them big, held
 *   HOLD_MS): the low rate;
 * - big (a video, a dragged window): at the low rate, where a chunk holds the changes of
 *   several frames, one chunk over BIG_BYTES per megapixel, or two in a row over
 *   HIGH_BYTES: the full rate. Not one over HIGH_BYTES: the text's own chunks at the low
 *   rate come near it (about 1500 bytes per megapixel, now and then 2700 when a step
 *   catches a jump of the terminal), and one such chunk brought 30 frames/s back in the
 *   middle of a scroll; the bench's small animation makes 3500–4400 in its first chunk
 *   at the low rate and about 9500 in the next (docs/benchmarks.md, "Browser sharing",
 *   "Scrolling text: robust against its own chunks"). Motion goes on, so the next chunk
 *   is big too.
 *
 * At the low rate, chunks averaging under TINY_BYTES bring the full rate back too (only
 * the pointer moves now). The first change after a quiet spell is never held back: the
 * sender's gate only spaces frames that follow each other. Key chunks say nothing about
 * what moves and are not counted.
 *
 * Nor are the delta chunks of the KEY_SETTLE_MS after a key chunk: a key chunk coded at
 * the running bitrate is blurred, and the encoder's next deltas refine it, big with
 * nothing moving. Counted, they brought the full rate back for a second or two after a
 * seek point's key chunk while text scrolled (docs/benchmarks.md, "Browser sharing",
 * "The second after a key chunk"). That span is cut out of the policy's time as well,
 * so the window and the hold go on after it from where they stopped: what the chunks
 * before the key chunk showed (motion, or a scroll) still counts, and no decision rests
 * on the first chunk or two after the cut. Motion that starts within the span (or comes
 * with a key chunk the encoder made on a scene change) is seen once it is over; key
 * chunks less than KEY_SETTLE_MS apart keep the rate where it is. Pure: the caller
 * passes sizes and the time.
 */

export const FULL_RATE = 30;
export const LOW_RATE = 2;
export const WINDOW_MS = 1000;
export const TINY_BYTES = 250; // per megapixel: a 1080p frame is 2.07 megapixels
export const LOW_BYTES = 1000;
export const HIGH_BYTES = 2000;
export const BIG_BYTES = 3200; // at the low rate, one chunk over this is motion at once
export const HOLD_MS = 1000; // at the full rate at least this long before going down
export const KEY_SETTLE_MS = 1000; // the deltas refining a key chunk: not counted

export class FrameRatePolicy {
  /** @param {number} pixels  width x height of the encoded picture */
  constructor(pixels, full = FULL_RATE, low = LOW_RATE) {
    this.megapixels = Math.max(pixels, 1) / 1e6;
    this.full = full;
    this.low = low;
    this.rate = full;
    this.recent = []; // [time ms, bytes] of the delta chunks in the window
    this.wasHigh = false; // the last delta chunk counted was over HIGH_BYTES
    this.since = null; // when the current rate began: the first chunk, then each change
    this.settleFrom = null; // when the deltas began not to count: the first of the key chunks
    this.settleUntil = -Infinity; // when they count again: KEY_SETTLE_MS after the last one
    this.cut = 0; // ms of settling cut out of the policy's time so far
  }

  /** Microseconds between encoded frames at the current rate. */
  get intervalUs() {
    return 1e6 / this.rate;
  }

  /** An encoded chunk came out at `now` (ms). */
  chunk(bytes, key, now) {
    if (key) {
      this.since ??= now - this.cut;
      this.settleFrom ??= now;
      this.settleUntil = now + KEY_SETTLE_MS;
      return;
    }
    if (now < this.settleUntil) return;
    if (this.settleFrom !== null) {
      this.cut += this.settleUntil - this.settleFrom;
      this.settleFrom = null;
    }
    this.#count(bytes / this.megapixels, now - this.cut);
  }

  /** A delta chunk that counts, at `now` in the policy's time (the settling cut out). */
  #count(perMegapixel, now) {
    this.since ??= now;
    this.recent.push([now, perMegapixel]);
    while (this.recent.length && this.recent[0][0] <= now - WINDOW_MS) this.recent.shift();
    const high = perMegapixel > HIGH_BYTES;
    const moving = (high && this.wasHigh) || perMegapixel > BIG_BYTES;
    this.wasHigh = high;
    if (this.rate !== this.full && moving) {
      this.#set(this.full, now);
      return;
    }
    if (now - this.since < (this.rate === this.full ? HOLD_MS : WINDOW_MS)) return;
    const mean = this.recent.reduce((sum, [, b]) => sum + b, 0) / this.recent.length;
    const big = this.recent.some(([, b]) => b > HIGH_BYTES); // e.g. a video between still frames
    if (this.rate === this.full && !big && mean >= TINY_BYTES && mean < LOW_BYTES) {
      this.#set(this.low, now);
    } else if (this.rate !== this.full && mean < TINY_BYTES) {
      this.#set(this.full, now);
    }
  }

  #set(rate, now) {
    this.rate = rate;
    this.since = now;
    this.recent = [];
  }
}
