/**
 * The browser's link to the relay (docs/browser-share.md): one WebSocket to /ws/browser,
 * every message binary `channel (uint16 BE) ‖ payload`; channel 0 carries one UTF-8 JSON
 * object, channel 1 the video chunks within a credit window the relay replenishes.
 */

export const CONTROL_CHANNEL = 0;
export const VIDEO_CHANNEL = 1;
export const CREDIT_WINDOW = 1024 * 1024;
export const SUBPROTOCOL = "supportdesk.link.v1";
export const VIDEO_HEADER = 9; // flags (1) ‖ timestamp (uint64 BE, µs)

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder("utf-8", { fatal: true });

/** `channel ‖ payload` as one message. */
export function encodeFrame(channel, payload) {
  if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
    throw new RangeError(`channel ${channel} out of range`);
  }
  const message = new Uint8Array(2 + payload.byteLength);
  new DataView(message.buffer).setUint16(0, channel);
  message.set(payload, 2);
  return message;
}

/** A received message as `{channel, payload}`; throws on a message too short to frame. */
export function decodeFrame(buffer) {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  if (bytes.byteLength < 2) throw new RangeError("a link message needs at least 2 bytes");
  const channel = new DataView(bytes.buffer, bytes.byteOffset, 2).getUint16(0);
  return { channel, payload: bytes.subarray(2) };
}

/** A control message (channel 0, JSON). */
export function encodeControl(message) {
  return encodeFrame(CONTROL_CHANNEL, utf8.encode(JSON.stringify(message)));
}

/** The JSON object of a channel-0 payload; throws unless it is an object with a type. */
export function decodeControl(payload) {
  const message = JSON.parse(fromUtf8.decode(payload));
  if (message === null || typeof message !== "object" || typeof message.type !== "string") {
    throw new TypeError("a control message is a JSON object with a type");
  }
  return message;
}

/** A channel-1 payload with room for a chunk of `chunkLength` bytes at VIDEO_HEADER:
 * flags (bit 0: key chunk) ‖ timestamp (µs, uint64 BE) ‖ chunk. */
export function videoPayload(key, timestampMicros, chunkLength) {
  const payload = new Uint8Array(VIDEO_HEADER + chunkLength);
  const view = new DataView(payload.buffer);
  view.setUint8(0, key ? 1 : 0);
  view.setBigUint64(1, BigInt(Math.max(0, Math.round(timestampMicros))));
  return payload;
}

/** Bytes of one channel in flight: spent when sent, returned by the relay's `credit`. */
export class CreditWindow {
  constructor(size = CREDIT_WINDOW) {
    this.size = size;
    this.inFlight = 0;
  }

  get available() {
    return this.size - this.inFlight;
  }

  allows(bytes) {
    return bytes <= this.available;
  }

  spend(bytes) {
    this.inFlight += bytes;
  }

  returned(bytes) {
    this.inFlight = Math.max(0, this.inFlight - bytes);
  }
}

/** The link's address for a page at `location`: wss for https, ws for http. */
export function linkUrl(location, path) {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/** The subprotocols the page offers first: the link's, the token, the page's language. */
export function linkProtocols(token, language) {
  return [SUBPROTOCOL, "token." + token, "lang." + language];
}

/** The subprotocols of a reconnect: the link's, the resume secret, the page's language. */
export function resumeProtocols(consultationNumber, secret, language) {
  return [SUBPROTOCOL, `resume.${consultationNumber}.${secret}`, "lang." + language];
}

/** One WebSocket of the link: control messages out and in, video within its own credit
 * window (a new socket starts with a fresh one). */
export class Link {
  /**
   * @param {string} url  wss://…/ws/browser
   * @param {string[]} protocols  linkProtocols(…) or resumeProtocols(…): the token or
   *   secret goes as a subprotocol, never in the URL
   * @param {{onOpen?: () => void, onHeard?: () => void, onControl: (m: object) => void,
   *          onClose: (opened: boolean, code: number) => void}} handlers
   */
  constructor(url, protocols, handlers) {
    this.handlers = handlers;
    this.credit = new CreditWindow();
    this.opened = false;
    this.closed = false;
    this.socket = new WebSocket(url, protocols);
    this.socket.binaryType = "arraybuffer";
    this.socket.addEventListener("open", () => this.#opened());
    this.socket.addEventListener("message", (event) => this.#received(event.data));
    this.socket.addEventListener("close", (event) => this.#ended(event.code));
  }

  get isOpen() {
    return this.opened && !this.closed && this.socket.readyState === WebSocket.OPEN;
  }

  get bufferedAmount() {
    return this.socket.bufferedAmount;
  }

  /** Send a control message; false if the link is not open. */
  send(message) {
    if (!this.isOpen) return false;
    this.socket.send(encodeControl(message));
    return true;
  }

  /** Send one channel-1 payload if the credit allows it; false (nothing sent) if not. */
  sendVideo(payload) {
    if (!this.isOpen || !this.credit.allows(payload.byteLength)) return false;
    this.credit.spend(payload.byteLength);
    this.socket.send(encodeFrame(VIDEO_CHANNEL, payload));
    return true;
  }

  close() {
    if (this.closed) return;
    this.socket.close(1000, "closed by the customer's page");
  }

  /** Give this socket up at once: close it and report nothing more from it (a
   * black-holed socket may take a minute to finish its closing handshake). */
  abandon() {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(4408, "the relay went silent");
  }

  #opened() {
    if (this.closed) return;
    if (this.socket.protocol !== SUBPROTOCOL) {
      this.socket.close(1002, "unexpected subprotocol");
      return;
    }
    this.opened = true;
    this.handlers.onOpen?.();
  }

  #received(data) {
    if (this.closed) return;
    this.handlers.onHeard?.(); // anything at all shows the relay is there
    if (typeof data === "string") return; // the link carries binary messages only
    let message;
    try {
      const frame = decodeFrame(data);
      if (frame.channel !== CONTROL_CHANNEL) return; // nothing else flows towards the page
      message = decodeControl(frame.payload);
    } catch {
      return;
    }
    if (message.type === "credit" && message.channel === VIDEO_CHANNEL) {
      const bytes = Number(message.bytes);
      if (Number.isFinite(bytes) && bytes > 0) this.credit.returned(bytes);
    }
    this.handlers.onControl(message);
  }

  #ended(code) {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(this.opened, code);
  }
}
