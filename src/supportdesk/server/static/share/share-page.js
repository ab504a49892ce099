/**
 * The customer's screen-sharing page: checks what the browser can do, opens the link at
 * once, asks consent, shares the screen, and ends with a receipt. A lost link is
 * re-established (session-link.js) while the capture runs on; after a long gap consent is
 * asked again. Switches the page's parts (consent, active, declined, receipt, error,
 * fallback); every word comes from the page (words.js).
 */

import { AgentNotice } from "./agent-notice.js";
import { askForScreen, browserCanShare, FrameSource } from "./capture.js";
import { ChatView } from "./chat.js";
import { pickCodec, startBitrate } from "./codecs.js";
import { consentAnswer, consentMatches } from "./consent.js";
import { linkUrl } from "./link.js";
import { PointerMarker } from "./pointer.js";
import { receiptFacts, receiptFiles } from "./receipt.js";
import { ScreenSender } from "./sender.js";
import { SessionLink } from "./session-link.js";
import { ExitSurvey } from "./survey.js";
import { readWords } from "./words.js";
import { PrivacyScreen } from "./privacy.js";

const END_WORDS = {
  customer: "ended_by_customer",
  agent: "ended_by_agent",
  timeout: "ended_timeout",
  error: "ended_error",
  connection_lost: "ended_connection_lost",
  recording_limit: "ended_recording_limit",
};
const THUMBNAIL_HEIGHT_REM = 24;
// After a resumed link's `resume`, how long the page waits for a renewed consent request
// (the relay sends it right behind) before it goes on sharing.
const SETTLE_MS = 500;
// Phases in which the customer has consented and the receipt is due at the end.
const SHARING = new Set(["active", "renewing", "rechoosing"]);

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
    // consent → choosing → active (⇄ renewing → rechoosing, after a long gap) → over
    this.phase = "consent";
    this.relayCodecs = null;
    this.sender = null;
    this.source = null;
    this.stream = null;
    this.startedAt = null;
    this.localPause = false;
    this.pauseSent = false; // the customer's pause as the relay last heard it
    this.remotePause = false;
    this.offline = false; // the link is lost and being re-established
    this.settle = null;
    this.marker = new PointerMarker(this.$("[data-pointer]"));
    this.survey = new ExitSurvey(this.$("[data-survey]"), this.$("[data-survey-done]"), this.word);
    this.notice = new AgentNotice(
      this.$("[data-agent-notice]"),
      this.root.querySelectorAll("[data-agent-now]"),
      this.word,
    );
    this.chat = new ChatView(this.$("[data-chat]"), this.$("[data-chat-form]"), this.word, (text) =>
      this.link.send({ type: "chat", text }),
    );
    this.$("[data-origin]").textContent = location.origin;
    this.#buttons();
    this.link = new SessionLink({
      url: linkUrl(location, data.linkPath),
      token: data.token,
      number: data.consultationNumber,
      language: data.language,
      handlers: {
        onControl: (message) => this.#control(message),
        onLost: () => this.#linkLost(),
        onRelinked: () => this.#relinked(),
        onGone: (opened) => this.#linkClosed(opened),
      },
    });
    addEventListener("pagehide", () => this.#leaving());
    addEventListener("beforeunload", (event) => {
      if (SHARING.has(this.phase)) event.preventDefault(); // leaving ends the session
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
    this.privacy = new PrivacyScreen(this.word("protected_input"));
    this.#action("privacy").addEventListener("click", () => this.#togglePrivacy());
    document.addEventListener("keydown", (event) => {
      if (event.ctrlKey && event.altKey && event.key.toLowerCase() === "s") {
        event.preventDefault();
        this.#togglePrivacy();
      }
    });
  }

  // -- the link ---------------------------------------------------------------------

  async #control(message) {
    switch (message.type) {
      case "consent_request":
        return this.#consentRequested(message);
      case "codecs":
        this.relayCodecs = Array.isArray(message.codecs) ? message.codecs : null;
        return this.sender?.setRelayCodecs(this.relayCodecs);
      case "resume":
        return this.#resumed();
      case "keyframe":
        if (this.settle !== null) this.#goOn();
        return this.sender?.keyframe();
      case "pointer":
        return this.marker.show(message);
      case "state":
        return this.#state(message);
      case "chat":
        return this.chat.add(message);
      case "agent_notice":
        return this.notice.show(message);
      case "end":
        return this.#over(String(message.reason ?? "error"), message.survey);
      default:
        return undefined;
    }
  }

  async #consentRequested(message) {
    if (message.renewal === true) {
      if (!SHARING.has(this.phase)) return;
      this.#renewal();
    } else if (this.phase !== "consent") {
      return;
    }
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

  /** Back after a long gap: the consent part again, with why; nothing is sent until "Ja". */
  #renewal() {
    this.#cancelSettle();
    this.phase = "renewing";
    this.sender?.suspend();
    this.marker.hide();
    this.$("[data-renewal]").hidden = false;
    this.#action("yes").disabled = true;
    this.show("consent");
  }

  #state(message) {
    this.notice.follow(message);
    const watchers = Array.isArray(message.watchers) ? message.watchers : [];
    this.$("[data-watchers]").textContent = watchers.length
      ? watchers.map((w) => `${w.name} (${this.word("role_" + w.role)})`).join(", ")
      : this.word("nobody");
    this.remotePause = message.paused === true;
    this.held = message.held === true;
    this.#applyPause();
  }

  /** The link is gone for good (refused, the grace over, or lost before consent). */
  #linkClosed(opened) {
    if (SHARING.has(this.phase)) {
      this.#over("connection_lost");
    } else if (this.phase !== "over") {
      this.#stopCapture();
      this.phase = "over";
      this.#error(opened ? "ended_error" : "link_failed");
    }
  }

  /** The link dropped after consent: the capture runs on, nothing is sent. */
  #linkLost() {
    if (!SHARING.has(this.phase)) return;
    this.offline = true;
    this.#cancelSettle();
    this.sender?.suspend();
    this.marker.hide();
    this.#action("yes").disabled = true;
    this.#action("no").disabled = true;
    this.$("[data-consent-status]").textContent = this.word("reconnecting");
    this.#applyPause();
  }

  /** A resumed link is open; the relay's `resume` comes first, then either a renewed
   * consent request or (after a short gap) the session goes on. */
  #relinked() {
    this.offline = false;
    this.#applyPause();
  }

  #resumed() {
    if (this.phase !== "active" || !this.sender?.offline) return;
    this.#cancelSettle();
    this.settle = setTimeout(() => this.#goOn(), SETTLE_MS);
  }

  #cancelSettle() {
    clearTimeout(this.settle);
    this.settle = null;
  }

  /** Sharing goes on over the new link: video_config and a key chunk first. */
  #goOn() {
    this.#cancelSettle();
    if (this.phase !== "active" || !this.link.isOpen) return;
    if (this.localPause !== this.pauseSent) this.#sendPause();
    this.sender?.relinked();
    this.#applyPause();
  }

  // -- consent ------------------------------------------------------------------------

  #yes() {
    if (this.phase === "renewing") return this.#yesAgain();
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
    if (this.phase === "renewing") {
      // "Nein" after a long gap ends the session; the relay ends it as the customer's.
      this.link.send(consentAnswer(this.shown, "no", "declined"));
      this.#over("customer");
      return;
    }
    if (this.phase !== "consent") return;
    this.#declined("declined");
  }

  /** "Ja" again after a long gap: the same stream goes on; if it has ended meanwhile,
   * the browser's picker asks again (inside this click). */
  #yesAgain() {
    this.#action("yes").disabled = true;
    this.#action("no").disabled = true;
    const track = this.stream?.getVideoTracks()[0];
    if (track?.readyState === "live") {
      this.#renewed();
      return;
    }
    this.phase = "rechoosing";
    askForScreen().then(
      (stream) => {
        if (this.phase !== "rechoosing") {
          for (const t of stream.getTracks()) t.stop();
          return;
        }
        this.#stopCapture();
        this.#capture(stream);
        this.#renewed();
      },
      () => {
        if (this.phase !== "rechoosing") return;
        this.link.send(consentAnswer(this.shown, "no", "picker_cancelled"));
        this.#over("customer");
      },
    );
  }

  #renewed() {
    if (!this.link.send(consentAnswer(this.shown, "yes"))) {
      // The link went again meanwhile: the relay asks once more when it is back.
      this.phase = "renewing";
      return;
    }
    this.phase = "active";
    this.$("[data-renewal]").hidden = true;
    this.show("active");
    this.#goOn();
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
    this.startedAt = new Date();
    this.#capture(stream);
    this.#applyPause();
    this.show("active");
  }

  /** Capture `stream` into the thumbnail and the sender. */
  #capture(stream) {
    this.stream = stream;
    const track = stream.getVideoTracks()[0];
    track.contentHint = "detail";
    track.addEventListener("ended", () => {
      if (this.stream === stream) this.#endHere();
    });
    const preview = this.$("[data-preview]");
    preview.srcObject = stream;
    preview.onresize = () => this.#fitThumbnail(preview);
    preview.play().catch(() => {});
    const sender = new ScreenSender(this.link, { onProblem: (what) => this.#problem(what) });
    sender.setRelayCodecs(this.relayCodecs);
    if (this.phase !== "active") sender.suspend();
    sender.privacy = this.privacy;
    this.sender = sender;
    this.source = new FrameSource(track, preview, (frame) => sender.frame(frame));
    this.source.start();
  }

  #fitThumbnail(video) {
    if (!video.videoWidth || !video.videoHeight) return;
    const box = this.$("[data-thumbnail]");
    box.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
    box.style.maxWidth = `${(THUMBNAIL_HEIGHT_REM * video.videoWidth) / video.videoHeight}rem`;
  }

  #problem(what) {
    // Nothing this browser can encode suits the agent's browser: stop, say why.
    this.link.endSession();
    this.#stopCapture();
    this.phase = "over";
    this.#error(what);
  }

  // -- while active -------------------------------------------------------------------

  #pause(paused) {
    if (this.phase !== "active") return;
    this.localPause = paused;
    if (!this.offline && !this.sender?.offline) this.#sendPause(); // else once back
    this.#applyPause();
  }

  /** "Sichtschutz": the picture is replaced before encoding; the relay and agent are told. */
  #togglePrivacy() {
    if (this.phase !== "active") return;
    this.privacy.on = !this.privacy.on;
    if (this.sender) this.sender.keyframe(); // the change shows at once
    this.link.send({ type: "masking", kinds: this.privacy.on ? ["privacy"] : [] });
    this.#action("privacy").setAttribute("aria-pressed", String(this.privacy.on));
  }

  #sendPause() {
    if (this.link.send({ type: this.localPause ? "pause" : "resume" })) {
      this.pauseSent = this.localPause;
    }
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
    if (this.offline || this.sender?.offline) status = "reconnecting";
    else if (this.held) status = "held";
    else if (paused) status = "paused";
    this.$("[data-active-status]").textContent = this.word(status);
  }

  /** "Sitzung beenden" or the browser's own "stop sharing": the capture stops at once;
   * `end` goes now, or over a resumed link while the link is down. */
  #endHere() {
    if (!SHARING.has(this.phase)) return;
    this.link.endSession();
    this.#over("customer");
  }

  #leaving() {
    if (SHARING.has(this.phase) || this.phase === "consent" || this.phase === "choosing") {
      this.link.send({ type: "end" });
    }
    this.link.stop();
    this.#stopCapture();
  }

  // -- the end ------------------------------------------------------------------------

  #stopCapture() {
    this.source?.stop();
    this.sender?.stop();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.marker.hide();
  }

  #over(reason, surveyToken = null) {
    const wasSharing = SHARING.has(this.phase);
    if (this.phase === "over") {
      // Ended here: the relay's own `end` follows with the survey's token.
      if (this.receiptShown) this.survey.offer(surveyToken);
      return;
    }
    this.phase = "over";
    this.#cancelSettle();
    this.#stopCapture();
    // The relay closes the link after its "end"; a link it leaves open is closed here.
    this.link.finish();
    const endWord = END_WORDS[reason] ?? "ended_error";
    if (!wasSharing || !this.startedAt) {
      this.#error(endWord);
      return;
    }
    this.#receipt(endWord, new Date());
    this.survey.offer(surveyToken); // only a session that ran has a token
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
    this.receiptShown = true;
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
