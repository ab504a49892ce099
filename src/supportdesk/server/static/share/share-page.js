/**
 * The customer's screen-sharing page: checks what the browser can do, opens the link at
 * once, asks consent, shares the screen, and ends with a receipt. Switches the page's
 * parts (consent, active, declined, receipt, error, fallback); every word comes from the
 * page (words.js).
 */

import { askForScreen, browserCanShare, FrameSource } from "./capture.js";
import { ChatView } from "./chat.js";
import { pickCodec, startBitrate } from "./codecs.js";
import { consentAnswer, consentMatches } from "./consent.js";
import { Link, linkUrl } from "./link.js";
import { PointerMarker } from "./pointer.js";
import { receiptFacts, receiptFiles } from "./receipt.js";
import { ScreenSender } from "./sender.js";
import { readWords } from "./words.js";

const END_WORDS = {
  customer: "ended_by_customer",
  agent: "ended_by_agent",
  timeout: "ended_timeout",
  error: "ended_error",
};
const THUMBNAIL_HEIGHT_REM = 24;

/** Whether this browser's VideoEncoder takes any of our codecs at all. */
async function encoderWorks() {
  const chosen = await pickCodec(1280, 720, startBitrate(1280, 720), null, (config) =>
    VideoEncoder.isConfigSupported(config),
  );
  return chosen !== null;
}

class SharePage {
  constructor(root) {
    this.root = root;
    this.word = readWords(root);
    const data = root.dataset;
    this.shown = { version: data.consentVersion, sha256: data.consentSha256 };
    this.phase = "consent"; // consent → choosing → active → over
    this.relayCodecs = null;
    this.sender = null;
    this.source = null;
    this.stream = null;
    this.startedAt = null;
    this.localPause = false;
    this.remotePause = false;
    this.marker = new PointerMarker(this.$("[data-pointer]"));
    this.chat = new ChatView(this.$("[data-chat]"), this.$("[data-chat-form]"), this.word, (text) =>
      this.link.send({ type: "chat", text }),
    );
    this.$("[data-origin]").textContent = location.origin;
    this.#buttons();
    this.link = new Link(linkUrl(location, data.linkPath), data.token, data.language, {
      onControl: (message) => this.#control(message),
      onClose: (opened) => this.#linkClosed(opened),
    });
    addEventListener("pagehide", () => this.#leaving());
    addEventListener("beforeunload", (event) => {
      if (this.phase === "active") event.preventDefault(); // leaving ends the session
    });
  }

  $(selector) {
    return this.root.querySelector(selector);
  }

  show(part) {
    for (const section of this.root.querySelectorAll("[data-part]")) {
      section.hidden = section.dataset.part !== part;
    }
  }

  #action(name) {
    return this.$(`[data-action="${name}"]`);
  }

  #buttons() {
    this.#action("yes").addEventListener("click", () => this.#yes());
    this.#action("no").addEventListener("click", () => this.#no());
    this.#action("pause").addEventListener("click", () => this.#pause(true));
    this.#action("resume").addEventListener("click", () => this.#pause(false));
    this.#action("end").addEventListener("click", () => this.#endHere());
  }

  // -- the link ---------------------------------------------------------------------

  async #control(message) {
    switch (message.type) {
      case "consent_request":
        return this.#consentRequested(message);
      case "codecs":
        this.relayCodecs = Array.isArray(message.codecs) ? message.codecs : null;
        return this.sender?.setRelayCodecs(this.relayCodecs);
      case "keyframe":
        return this.sender?.keyframe();
      case "pointer":
        return this.marker.show(message);
      case "state":
        return this.#state(message);
      case "chat":
        return this.chat.add(message);
      case "end":
        return this.#over(String(message.reason ?? "error"));
      default:
        return undefined;
    }
  }

  async #consentRequested(message) {
    if (this.phase !== "consent") return;
    const status = this.$("[data-consent-status]");
    this.#action("no").disabled = false;
    if (await consentMatches(message, this.shown)) {
      this.#action("yes").disabled = false;
      status.textContent = this.word("ready");
    } else {
      this.#action("yes").hidden = true;
      status.textContent = this.word("mismatch");
      status.classList.add("error");
    }
  }

  #state(message) {
    const watchers = Array.isArray(message.watchers) ? message.watchers : [];
    this.$("[data-watchers]").textContent = watchers.length
      ? watchers.map((w) => `${w.name} (${this.word("role_" + w.role)})`).join(", ")
      : this.word("nobody");
    this.remotePause = message.paused === true;
    this.held = message.held === true;
    this.#applyPause();
  }

  #linkClosed(opened) {
    if (this.phase === "active") {
      this.#over("error");
    } else if (this.phase !== "over") {
      this.#stopCapture();
      this.phase = "over";
      this.#error(opened ? "ended_error" : "link_failed");
    }
  }

  // -- consent ------------------------------------------------------------------------

  #yes() {
    if (this.phase !== "consent") return;
    this.phase = "choosing";
    this.#action("yes").disabled = true;
    this.#action("no").disabled = true;
    // Inside the click: the browser opens its picker only on the customer's gesture.
    askForScreen().then(
      (stream) => this.#chosen(stream),
      () => this.#declined("picker_cancelled"),
    );
  }

  #no() {
    if (this.phase !== "consent") return;
    this.#declined("declined");
  }

  #declined(reason) {
    this.link.send(consentAnswer(this.shown, "no", reason));
    this.phase = "over";
    this.$("[data-declined-text]").textContent = this.word(reason);
    this.show("declined");
  }

  #chosen(stream) {
    if (this.phase !== "choosing" || !this.link.isOpen) {
      for (const track of stream.getTracks()) track.stop();
      if (this.phase === "choosing") this.#error("link_failed");
      return;
    }
    this.link.send(consentAnswer(this.shown, "yes"));
    this.phase = "active";
    this.stream = stream;
    this.startedAt = new Date();
    const track = stream.getVideoTracks()[0];
    track.contentHint = "detail";
    track.addEventListener("ended", () => this.#endHere());
    const preview = this.$("[data-preview]");
    preview.srcObject = stream;
    preview.addEventListener("resize", () => this.#fitThumbnail(preview));
    preview.play().catch(() => {});
    this.sender = new ScreenSender(this.link, { onProblem: (what) => this.#problem(what) });
    this.sender.setRelayCodecs(this.relayCodecs);
    this.source = new FrameSource(track, preview, (frame) => this.sender.frame(frame));
    this.source.start();
    this.#applyPause();
    this.show("active");
  }

  #fitThumbnail(video) {
    if (!video.videoWidth || !video.videoHeight) return;
    const box = this.$("[data-thumbnail]");
    box.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
    box.style.maxWidth = `${(THUMBNAIL_HEIGHT_REM * video.videoWidth) / video.videoHeight}rem`;
  }

  #problem(what) {
    // Nothing this browser can encode suits the agent's browser: stop, say why.
    this.link.send({ type: "end" });
    this.#stopCapture();
    this.phase = "over";
    this.#error(what);
  }

  // -- while active -------------------------------------------------------------------

  #pause(paused) {
    if (this.phase !== "active") return;
    this.localPause = paused;
    this.link.send({ type: paused ? "pause" : "resume" });
    this.#applyPause();
  }

  #applyPause() {
    const paused = this.localPause || this.remotePause;
    if (this.sender) {
      if (paused) this.sender.pause();
      else if (this.sender.paused) this.sender.resume();
    }
    this.#action("pause").hidden = this.localPause;
    this.#action("resume").hidden = !this.localPause;
    let status = "sharing";
    if (this.held) status = "held";
    else if (paused) status = "paused";
    this.$("[data-active-status]").textContent = this.word(status);
  }

  #endHere() {
    if (this.phase !== "active") return;
    this.link.send({ type: "end" });
    this.#over("customer");
  }

  #leaving() {
    if (this.phase === "active" || this.phase === "consent" || this.phase === "choosing") {
      this.link.send({ type: "end" });
    }
    this.#stopCapture();
  }

  // -- the end ------------------------------------------------------------------------

  #stopCapture() {
    this.source?.stop();
    this.sender?.stop();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.marker.hide();
  }

  #over(reason) {
    const wasActive = this.phase === "active";
    if (this.phase === "over") return;
    this.phase = "over";
    this.#stopCapture();
    // The relay closes the link after its "end"; a link it leaves open is closed here.
    setTimeout(() => this.link.close(), 2000);
    const endWord = END_WORDS[reason] ?? "ended_error";
    if (!wasActive || !this.startedAt) {
      this.#error(endWord);
      return;
    }
    this.#receipt(endWord, new Date());
  }

  #receipt(endWord, endedAt) {
    const data = this.root.dataset;
    const receipt = {
      consultationNumber: data.consultationNumber,
      bank: data.bank,
      bankDomain: location.host,
      agentName: data.agent,
      startedAt: this.startedAt,
      endedAt,
      language: data.language,
    };
    this.$("[data-end-text]").textContent = this.word(endWord);
    const facts = this.$("[data-receipt-facts]");
    facts.replaceChildren();
    for (const [label, value] of receiptFacts(receipt, this.word)) {
      const term = document.createElement("dt");
      term.textContent = label;
      const detail = document.createElement("dd");
      detail.textContent = value;
      facts.append(term, detail);
    }
    const files = receiptFiles(receipt, this.word);
    for (const kind of ["txt", "json"]) {
      const link = this.$(`[data-download="${kind}"]`);
      link.href = URL.createObjectURL(files[kind].blob);
      link.download = files[kind].name;
    }
    this.show("receipt");
  }

  #error(wordKey) {
    this.$("[data-error-text]").textContent = this.word(wordKey);
    this.show("error");
  }
}

async function start() {
  const root = document.querySelector("[data-share]");
  if (!root) return;
  if (!browserCanShare() || !(await encoderWorks())) {
    // No link is opened: the join token stays good for the support program.
    for (const section of root.querySelectorAll("[data-part]")) {
      section.hidden = section.dataset.part !== "fallback";
    }
    return;
  }
  const page = new SharePage(root);
  page.show("consent");
}

start();
