/**
 * The encoder's bitrate under back-pressure: lower it (x0.7, not under the floor) when
 * frames are dropped, raise it (x1.2, up to the start value) after a quiet spell without
 * drops, and reconfigure at most every two seconds. Pure: the caller passes the time.
 */

import { FLOOR_BITRATE } from "./codecs.js";

export const LOWER = 0.7;
export const RAISE = 1.2;
export const MIN_RECONFIGURE_MS = 2000;
export const QUIET_MS = 5000;

export class BitratePolicy {
  /** @param {number} start  the start and highest bitrate (bit/s) */
  constructor(start, floor = FLOOR_BITRATE) {
    this.start = start;
    this.floor = Math.min(floor, start);
    this.target = start;
    this.configured = start;
    this.configuredAt = -Infinity;
    this.lastDrop = -Infinity;
    this.lastRaise = -Infinity;
  }

  /** A frame or chunk was dropped at `now` (ms). */
  dropped(now) {
    this.lastDrop = now;
    this.target = Math.max(this.floor, Math.round(this.target * LOWER));
  }

  /** The bitrate to reconfigure to at `now`, or null to keep the current one. */
  due(now) {
    if (
      this.target < this.start &&
      now - this.lastDrop >= QUIET_MS &&
      now - this.lastRaise >= QUIET_MS
    ) {
      this.target = Math.min(this.start, Math.round(this.target * RAISE));
      this.lastRaise = now;
    }
    if (this.target === this.configured || now - this.configuredAt < MIN_RECONFIGURE_MS) {
      return null;
    }
    return this.target;
  }

  /** The encoder now runs at `bitrate` since `now`. */
  applied(bitrate, now) {
    this.configured = bitrate;
    this.configuredAt = now;
  }
}
