/**
 * The session's link across sockets (docs/relay-protocol.md, "Staying connected"): one
 * Link at a time, heartbeats on it, a link silent for 4 s taken for lost, and — once the
 * relay has sent a resume secret — reconnecting with that secret, with back-off, until
 * the grace runs out. Offers the sender the current socket's send, video and credit.
 */

import { Backoff } from "./backoff.js";
import { heartbeat, LinkWatch, LINK_TIMEOUT_MS } from "./heartbeat.js";
import { CreditWindow, Link, linkProtocols, resumeProtocols } from "./link.js";

const TICK_MS = 250; // as tick-worker.js
const REFUSED = new Set([4401, 4404]); // a wrong or spent secret, or a session that is over
const END_CLOSE_MS = 2000; // a link the relay leaves open after `end` is closed here
const NO_CREDIT = new CreditWindow(0); // while no socket is up: nothing may be sent
const DEFAULT_GRACE_MS = 120_000; // the relay's default, should a resume not say

/** Call `tick` every 250 ms from a worker (whose timers a hidden tab does not throttle),
 * else from this page's own timers; returns what stops it. */
export function workerTicks(tick) {
  try {
    const worker = new Worker(new URL("./tick-worker.js", import.meta.url));
    worker.onmessage = () => tick();
    return () => worker.terminate();
  } catch {
    return timerTicks(globalThis)(tick);
  }
}

/** The same from `timers.setInterval` (a fake clock's in tests). */
export function timerTicks(timers) {
  return (tick) => {
    const id = timers.setInterval(tick, TICK_MS);
    return () => timers.clearInterval(id);
  };
}

export class SessionLink {
  /**
   * @param {{url: string, token: string, number: string, language: string,
   *          handlers: {onControl: (m: object) => void, onLost?: () => void,
   *                     onRelinked?: () => void, onGone: (opened: boolean) => void},
   *          clock?: () => number, timers?: object, backoff?: Backoff,
   *          ticks?: (tick: () => void) => () => void,
   *          openLink?: (url: string, protocols: string[], handlers: object) => Link}} options
   *   onLost: the link dropped and the page reconnects; onRelinked: a resumed link is
   *   open; onGone: the link is gone for good (before consent, refused, or the grace over).
   */
  constructor({ url, token, number, language, handlers, clock, timers, backoff, openLink, ticks }) {
    this.url = url;
    this.number = number;
    this.language = language;
    this.handlers = handlers;
    this.clock = clock ?? (() => performance.now());
    this.timers = timers ?? globalThis;
    this.backoff = backoff ?? new Backoff();
    this.openLink = openLink ?? ((u, protocols, h) => new Link(u, protocols, h));
    this.secret = null; // the latest resume secret: in memory only, never stored
    this.graceMs = 0;
    this.lostAt = null; // when this outage began (null: connected, or not yet)
    this.everOpened = false;
    this.finished = false; // the page needs no link any more
    this.ending = false; // `end` must reach the relay, over a resumed link if need be
    this.link = null;
    this.watch = null;
    this.tryTimer = null;
    this.graceTimer = null;
    const ticking = ticks ?? (timers ? timerTicks(timers) : workerTicks);
    this.stopTicks = ticking(() => this.#tick());
    this.#connect(linkProtocols(token, language));
  }

  /** Whether a link is open now. */
  get isOpen() {
    return this.link?.isOpen === true;
  }

  /** Whether the link is lost and being re-established. */
  get reconnecting() {
    return this.lostAt !== null && !this.finished;
  }

  /** The current socket's credit (a new socket starts afresh; none while down). */
  get credit() {
    return this.link?.credit ?? NO_CREDIT;
  }

  get bufferedAmount() {
    return this.link?.bufferedAmount ?? 0;
  }

  /** Send a control message on the open link; false (nothing sent) while it is down. */
  send(message) {
    return this.link?.send(message) ?? false;
  }

  sendVideo(payload) {
    return this.link?.sendVideo(payload) ?? false;
  }

  /** The customer ends: `end` now if the link is open, else over a resumed link (within
   * the grace). Done when the relay answers with its own `end`. */
  endSession() {
    this.ending = true;
    this.#sendEnd();
  }

  /** The session is over for the page: no reconnecting (unless `end` is still to be
   * delivered); the relay closes the link, or the page does after 2 s. */
  finish() {
    this.finished = true;
    if (this.ending) return;
    this.#stopTrying();
    const link = this.link;
    this.timers.setTimeout(() => {
      link?.close();
      this.#shutDown();
    }, END_CLOSE_MS);
  }

  /** The page goes away: nothing more. */
  stop() {
    this.finished = true;
    this.ending = false;
    this.link?.close();
    this.#shutDown();
  }

  #connect(protocols) {
    const link = this.openLink(this.url, protocols, {
      onOpen: () => this.#opened(link),
      onHeard: () => this.watch?.heard(this.clock()),
      onControl: (message) => this.#control(link, message),
      onClose: (opened, code) => this.#closed(link, opened, code),
    });
    this.link = link;
    this.watch = null;
    if (this.lostAt !== null) {
      // A try that neither opens nor fails (a black hole) is given up after the timeout.
      this.tryTimer = this.timers.setTimeout(() => {
        if (this.link === link && !link.opened) {
          link.abandon();
          this.#lost();
        }
      }, LINK_TIMEOUT_MS);
    }
  }

  #opened(link) {
    if (this.link !== link) return;
    this.timers.clearTimeout(this.tryTimer);
    this.timers.clearTimeout(this.graceTimer);
    this.watch = new LinkWatch(this.clock());
    this.backoff.reset();
    this.#tick();
    const resumed = this.everOpened;
    this.everOpened = true;
    if (!resumed) return;
    this.lostAt = null;
    if (this.ending) this.#sendEnd();
    else this.handlers.onRelinked?.();
  }

  #control(link, message) {
    if (this.link !== link) return;
    if (message.type === "heartbeat") return;
    if (message.type === "resume" && typeof message.secret === "string") {
      this.secret = message.secret;
      const grace = Number(message.grace_seconds);
      this.graceMs = Number.isFinite(grace) && grace > 0 ? grace * 1000 : DEFAULT_GRACE_MS;
    }
    if (message.type === "end") {
      this.ending = false;
      this.finished = true;
    }
    this.handlers.onControl(message);
  }

  #closed(link, opened, code) {
    if (this.link !== link) return;
    if (opened && REFUSED.has(code)) {
      this.secret = null; // the relay will not take it again
    }
    if (this.ending && opened && code === 1000) {
      this.ending = false; // the relay closed the link after taking our `end`
      this.finished = true;
    }
    this.#lost(opened);
  }

  #tick() {
    const link = this.link;
    if (!link?.isOpen || !this.watch) return;
    const now = this.clock();
    if (this.watch.lost(now)) {
      link.abandon();
      this.#lost(true);
      return;
    }
    if (this.watch.heartbeatDue(now)) link.send(heartbeat());
  }

  /** The current link is gone: reconnect if the session can be resumed, else report it. */
  #lost(opened = false) {
    this.link = null;
    this.watch = null;
    this.timers.clearTimeout(this.tryTimer);
    const resumable = this.secret !== null && (!this.finished || this.ending);
    if (!resumable) {
      this.#shutDown();
      if (!this.finished) this.handlers.onGone(opened || this.everOpened);
      this.finished = true;
      return;
    }
    if (this.lostAt === null) {
      this.lostAt = this.clock();
      this.backoff.reset();
      // The relay keeps the session this long: then the page gives up, to the moment.
      this.graceTimer = this.timers.setTimeout(() => this.#giveUp(), this.graceMs);
      if (!this.ending) this.handlers.onLost?.();
    }
    const wait = this.backoff.next();
    this.tryTimer = this.timers.setTimeout(() => {
      this.#connect(resumeProtocols(this.number, this.secret, this.language));
    }, wait);
  }

  #giveUp() {
    const report = !this.finished;
    this.ending = false;
    this.finished = true;
    this.link?.abandon(); // a try still under way
    this.link = null;
    this.#shutDown();
    if (report) this.handlers.onGone(true);
  }

  #sendEnd() {
    if (this.link?.send({ type: "end" })) {
      const link = this.link;
      // Should the relay neither answer nor close, the link is closed here after a while.
      this.timers.setTimeout(() => {
        if (this.link === link && this.ending) {
          this.ending = false;
          link.close();
          this.#shutDown();
        }
      }, END_CLOSE_MS * 5);
    }
  }

  #stopTrying() {
    this.timers.clearTimeout(this.tryTimer);
    this.tryTimer = null;
  }

  #shutDown() {
    this.#stopTrying();
    this.timers.clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.stopTicks?.();
    this.stopTicks = null;
  }
}
