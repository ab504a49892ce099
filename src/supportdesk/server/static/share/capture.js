/**
 * The screen as frames: ask the browser for a screen (getDisplayMedia, inside the click
 * that gave consent), then hand every new VideoFrame of its track to a callback —
 * through MediaStreamTrackProcessor where the browser has it, else by
 * requestVideoFrameCallback on a playing <video> and `new VideoFrame(video)`.
 */

/** Whether this browser can capture the screen and encode video at all. */
export function browserCanShare(scope = globalThis) {
  return (
    typeof scope.navigator?.mediaDevices?.getDisplayMedia === "function" &&
    typeof scope.VideoEncoder === "function" &&
    typeof scope.VideoFrame === "function"
  );
}

/** The options the page asks the picker with: a whole screen preferred, this tab left out. */
export const DISPLAY_MEDIA_OPTIONS = Object.freeze({
  // Without a size Chromium may capture at the page's viewport size, which blurs text:
  // ask for up to 4K and get the screen's own resolution (the sender caps what it encodes).
  video: { displaySurface: "monitor", frameRate: 30, width: { ideal: 3840 }, height: { ideal: 2160 } },
  audio: false,
  selfBrowserSurface: "exclude",
  surfaceSwitching: "include",
  monitorTypeSurfaces: "include",
});

/** Open the browser's picker; resolves to the stream, rejects with NotAllowedError on cancel. */
export function askForScreen() {
  return navigator.mediaDevices.getDisplayMedia(DISPLAY_MEDIA_OPTIONS);
}

/** Frames of one video track, until stopped. The callback owns (and must close) each frame. */
export class FrameSource {
  /**
   * @param {MediaStreamTrack} track
   * @param {HTMLVideoElement} video  a <video> playing the track (used without a processor)
   * @param {(frame: VideoFrame) => void} onFrame
   */
  constructor(track, video, onFrame) {
    this.track = track;
    this.video = video;
    this.onFrame = onFrame;
    this.stopped = false;
    this.reader = null;
  }

  start() {
    if (typeof globalThis.MediaStreamTrackProcessor === "function") {
      this.#readProcessor();
    } else {
      this.#watchVideo();
    }
  }

  stop() {
    this.stopped = true;
    this.reader?.cancel().catch(() => {});
  }

  async #readProcessor() {
    const processor = new MediaStreamTrackProcessor({ track: this.track });
    this.reader = processor.readable.getReader();
    while (!this.stopped) {
      let result;
      try {
        result = await this.reader.read();
      } catch {
        return;
      }
      if (result.done) return;
      if (this.stopped) {
        result.value.close();
        return;
      }
      this.onFrame(result.value);
    }
  }

  #watchVideo() {
    const video = this.video;
    const next = (now) => {
      if (this.stopped) return;
      if (video.videoWidth > 0 && video.videoHeight > 0) {
        let frame = null;
        try {
          frame = new VideoFrame(video, { timestamp: Math.round(now * 1000) });
        } catch {
          frame = null; // not ready yet; the next picture will do
        }
        if (frame) this.onFrame(frame);
      }
      video.requestVideoFrameCallback(next);
    };
    video.requestVideoFrameCallback(next);
  }
}
