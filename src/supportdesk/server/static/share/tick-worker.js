/**
 * A dedicated worker that posts "tick" every 250 ms to the sharing page: a page in a
 * hidden tab has its own timers throttled (after minutes, to one wake-up a minute),
 * a worker's are not, and the link's heartbeats must go out every second.
 */

setInterval(() => postMessage("tick"), 250);
