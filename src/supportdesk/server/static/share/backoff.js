/**
 * How long to wait before the next try to reconnect: exponential back-off with jitter,
 * never more than 2 s between tries (docs/relay-protocol.md, "Staying connected").
 * Pure; the randomness is injectable.
 */

export const FIRST_DELAY_MS = 250;
export const MAX_DELAY_MS = 2000;

export class Backoff {
  /**
   * @param {{first?: number, max?: number, factor?: number, random?: () => number}} options
   */
  constructor(options = {}) {
    const { first = FIRST_DELAY_MS, max = MAX_DELAY_MS, factor = 2 } = options;
    const { random = Math.random } = options;
    this.first = first;
    this.max = max;
    this.factor = factor;
    this.random = random;
    this.tries = 0;
  }

  /** The ceiling of the next delay: first · factor^tries, at most `max`. */
  get ceiling() {
    return Math.min(this.max, this.first * this.factor ** this.tries);
  }

  /** The delay before the next try (ms): between half the ceiling and the ceiling, so
   * pages that lost the link together do not come back in step. */
  next() {
    const ceiling = this.ceiling;
    this.tries += 1;
    const share = Math.min(1, Math.max(0, this.random()));
    return Math.round(ceiling / 2 + (share * ceiling) / 2);
  }

  /** A link came up: the next loss starts from the first delay again. */
  reset() {
    this.tries = 0;
  }
}
