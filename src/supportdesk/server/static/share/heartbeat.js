/**
 * Heartbeats on the customer's link (docs/relay-protocol.md, "Staying connected"): a
 * `{"type": "heartbeat"}` every second, and the link taken for lost after 4 s in which
 * nothing at all came from the relay. Pure: fed instants (ms), it says what is due.
 */

export const HEARTBEAT_INTERVAL_MS = 1000;
export const LINK_TIMEOUT_MS = 4000;

/** The message the page sends every second. */
export function heartbeat() {
  return { type: "heartbeat" };
}

/** One open link's heartbeat schedule and silence. */
export class LinkWatch {
  /**
   * @param {number} now  when the link opened (ms, any monotonic clock)
   * @param {{interval?: number, timeout?: number}} limits
   */
  constructor(now, { interval = HEARTBEAT_INTERVAL_MS, timeout = LINK_TIMEOUT_MS } = {}) {
    this.interval = interval;
    this.timeout = timeout;
    this.lastHeard = now;
    this.nextBeat = now; // the first heartbeat goes out at once
  }

  /** Something (anything) came from the relay. */
  heard(now) {
    this.lastHeard = Math.max(this.lastHeard, now);
  }

  /** Whether a heartbeat is due at `now`; if so it counts as sent. Keeps a steady
   * one-per-interval rhythm however late the caller looks, without catching up: two
   * heartbeats are never closer than half an interval. */
  heartbeatDue(now) {
    if (now < this.nextBeat) return false;
    this.nextBeat = Math.max(this.nextBeat + this.interval, now + this.interval / 2);
    return true;
  }

  /** How long the relay has been silent. */
  silentFor(now) {
    return Math.max(0, now - this.lastHeard);
  }

  /** Whether the relay has been silent for the whole timeout: the link is lost. */
  lost(now) {
    return this.silentFor(now) >= this.timeout;
  }
}
