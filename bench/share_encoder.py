"""``python -m bench.share_encoder``: the customer's encoder alone, configuration by configuration.

An offline trial for the browser path's latency (bench/browser_share.py measures the
whole path): one headful Chromium captures the bench's 1920x1080 Xvfb with the reference
workload running (``getDisplayMedia``, ``--auto-select-desktop-capture-source`` as in the
bench), reads the track through ``MediaStreamTrackProcessor`` and, for a few seconds
per configuration, in turn and ``--passes`` times over, feeds a ``VideoEncoder`` at most
30 frames a second as the share page's sender does (a frame while two are queued is
skipped). Per configuration: ``encode()`` to its chunk in the page's main thread (p50,
p90), frames encoded and skipped, kbit/s. Then the first configuration's chunks are
decoded in a headless Chromium as the agent's page does (``video-canvas.js``: a
``VideoDecoder`` painting a 1920x1080 2D canvas, one chunk every 33 ms): ``decode()`` to
its frame, and the ``drawImage`` of it. ``--probe`` adds the stage probe
(bench/share_stages.py) for the clock-painted-to-``encode()`` time, at its CPU cost.

Not part of ``make bench``: it decides what is worth an A/B in the real bench.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
from typing import Any

from playwright.async_api import Page, async_playwright
from tests.live_server import CHROMIUM, CHROMIUM_ARGS

from bench import workload
from bench.__main__ import percentile, stop, xvfb
from bench.customer_browser import launch_customer
from bench.share_stages import CUSTOMER_PROBE, STAGES_FINISH, STAGES_START, stages_of

TRIAL_URL = "http://localhost/encoder-trial"  # localhost: a secure context for the capture
DECODE_URL = "http://localhost/decoder-trial"

_CAPTURE_PAGE = """<!doctype html><html><body><script type="module">
const stream = await navigator.mediaDevices.getDisplayMedia({
  video: {
    displaySurface: "monitor", frameRate: 30, width: { ideal: 3840 }, height: { ideal: 2160 },
  },
  audio: false,
});
const track = stream.getVideoTracks()[0];
track.contentHint = "detail";
const formats = {};
let current = null;
const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
(async () => {
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) return;
    formats[frame.format] = (formats[frame.format] || 0) + 1;
    const t = current;
    if (!t || frame.timestamp - t.last < 1e6 / 30 - 3000) { frame.close(); continue; }
    t.last = frame.timestamp;
    if (t.encoder.encodeQueueSize > 2) { t.skipped += 1; frame.close(); continue; }
    t.started.set(frame.timestamp, performance.now());
    t.encoder.encode(frame, { keyFrame: t.encoded++ === 0 });
    frame.close();
  }
})();
function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return btoa(text);
}
window.encodeFor = async (config, seconds, keep) => {
  if (!(await VideoEncoder.isConfigSupported(config)).supported) return { error: "unsupported" };
  const t = { last: -Infinity, encoded: 0, skipped: 0, started: new Map(), times: [] };
  Object.assign(t, { bytes: 0, chunks: [] });
  t.encoder = new VideoEncoder({
    output: (chunk) => {
      const at = t.started.get(chunk.timestamp);
      if (at !== undefined) t.times.push(performance.now() - at);
      t.bytes += chunk.byteLength;
      if (keep) {
        const bytes = new Uint8Array(chunk.byteLength);
        chunk.copyTo(bytes);
        t.chunks.push([chunk.type, chunk.timestamp, base64(bytes)]);
      }
    },
    error: (error) => { t.error = String(error); },
  });
  t.encoder.configure(config);
  current = t;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  current = null;
  await t.encoder.flush().catch(() => {});
  t.encoder.close();
  const { times, bytes, encoded, skipped, error, chunks } = t;
  return { times, bytes, encoded, skipped, error, chunks, formats, settings: track.getSettings() };
};
window.trialReady = true;
</script></body></html>"""

_DECODE_PAGE = """<!doctype html><html><body><canvas width="1920" height="1080"></canvas><script>
window.decodeAll = async (codec, chunks) => {
  const context = document.querySelector("canvas").getContext("2d");
  const started = new Map();
  const decoding = [];
  const drawing = [];
  const decoder = new VideoDecoder({
    output: (frame) => {
      const at = performance.now();
      decoding.push(at - started.get(frame.timestamp));
      context.drawImage(frame, 0, 0, 1920, 1080);
      drawing.push(performance.now() - at);
      frame.close();
    },
    error: () => {},
  });
  decoder.configure({ codec, codedWidth: 1920, codedHeight: 1080, optimizeForLatency: true });
  const first = chunks.findIndex(([type]) => type === "key");
  for (const [type, timestamp, data] of chunks.slice(Math.max(first, 0))) {
    started.set(timestamp, performance.now());
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    decoder.decode(new EncodedVideoChunk({ type, timestamp, data: bytes }));
    await new Promise((resolve) => setTimeout(resolve, 33));
  }
  await decoder.flush();
  decoder.close();
  return { decoding, drawing };
};
</script></body></html>"""

H264 = {
    "codec": "avc1.640028",
    "width": 1920,
    "height": 1080,
    "bitrate": 3_000_000,
    "framerate": 30,
    "latencyMode": "realtime",
    "avc": {"format": "annexb"},
    "contentHint": "text",
}  # what share/codecs.js and share/sender.js configure at 1080p


def _vp8(**more: Any) -> dict[str, Any]:
    return {**{k: v for k, v in H264.items() if k != "avc"}, "codec": "vp8", **more}


CONFIGS: dict[str, dict[str, Any]] = {
    "H.264 as the sender (text hint)": H264,
    'bitrateMode "constant"': {**H264, "bitrateMode": "constant"},
    'scalabilityMode "L1T1"': {**H264, "scalabilityMode": "L1T1"},
    "no framerate hint": {k: v for k, v in H264.items() if k != "framerate"},
    'avc format "avc"': {**H264, "avc": {"format": "avc"}},
    "Baseline profile (avc1.42002A)": {**H264, "codec": "avc1.42002A"},
    'latencyMode "quality"': {**H264, "latencyMode": "quality"},
    "scaled to 1280x720": {**H264, "codec": "avc1.64001F", "width": 1280, "height": 720},
    "scaled to 960x540": {**H264, "codec": "avc1.64001F", "width": 960, "height": 540},
    "scaled to 320x180": {**H264, "codec": "avc1.64001F", "width": 320, "height": 180},
    "VP8": _vp8(),
    'VP8, bitrateMode "constant"': _vp8(bitrateMode="constant"),
}


def summary(times: list[float]) -> tuple[float, float]:
    """p50 and p90 of a list of milliseconds."""
    ordered = sorted(times)
    return percentile(ordered, 50), percentile(ordered, 90)


async def encode_round(
    page: Page, name: str, seconds: float, keep: bool, probe: bool
) -> dict[str, Any]:
    if probe:
        await page.evaluate(STAGES_START)
    got = await page.evaluate("([c, s, k]) => encodeFor(c, s, k)", [CONFIGS[name], seconds, keep])
    stages = stages_of(await page.evaluate(STAGES_FINISH)) if probe else None
    got["to_encoder"] = stages.to_encoder_p50 if stages and stages.frames else float("nan")
    return dict(got)


async def trial(args: argparse.Namespace) -> None:
    names = [n for n in CONFIGS if not args.only or any(o in n for o in args.only)]
    rows: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    kept: list[Any] = []
    with xvfb() as display:
        procs = workload.start(display)
        try:
            await asyncio.sleep(1.0)  # the xterm maps
            async with async_playwright() as playwright:
                browser = await launch_customer(playwright, display)
                context = await browser.new_context(viewport={"width": 600, "height": 400})
                if args.probe:
                    await context.add_init_script(CUSTOMER_PROBE)
                await context.route(
                    TRIAL_URL, lambda r: r.fulfill(body=_CAPTURE_PAGE, content_type="text/html")
                )
                page = await context.new_page()
                await page.goto(TRIAL_URL)
                await page.wait_for_function("() => window.trialReady === true", timeout=20_000)
                for pass_ in range(args.passes):
                    for name in names:
                        keep = pass_ == 0 and name == names[0] and CONFIGS[name]["width"] == 1920
                        got = await encode_round(page, name, args.seconds, keep, args.probe)
                        kept = got.pop("chunks") or kept
                        rows[name].append(got)
                        p50, p90 = summary(got.get("times") or [])
                        print(
                            f"pass {pass_ + 1} {name}: encode p50 {p50:.1f} p90 {p90:.1f} ms, "
                            f"to encode() {got['to_encoder']:.1f} ms, {got.get('encoded')} "
                            f"frames, {got.get('skipped')} skipped, "
                            f"{got.get('bytes', 0) * 8 / args.seconds / 1000:.0f} kbit/s"
                            + (f", {got['error']}" if got.get("error") else ""),
                            flush=True,
                        )
                print(f"captured: {got.get('formats')}, {got.get('settings')}", flush=True)
                await browser.close()
                decoded = (
                    await decode(playwright, kept, CONFIGS[names[0]]["codec"]) if kept else None
                )
        finally:
            for proc in procs:
                stop(proc)
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f}\n")
    print("| configuration | encode p50 per pass (ms) | p90 (ms) | kbit/s |\n|---|---|---|---|")
    for name, passes in rows.items():
        p50s = ", ".join(f"{summary(g.get('times') or [])[0]:.1f}" for g in passes)
        p90 = statistics.median(summary(g.get("times") or [])[1] for g in passes)
        kbit = statistics.median(g.get("bytes", 0) * 8 / args.seconds / 1000 for g in passes)
        print(f"| {name} | {p50s} | {p90:.1f} | {kbit:.0f} |")
    if decoded:
        dec, draw = summary(decoded["decoding"]), summary(decoded["drawing"])
        print(
            f"\nagent side, {len(decoded['decoding'])} chunks of the first configuration: "
            f"decode p50 {dec[0]:.1f} p90 {dec[1]:.1f} ms, drawImage p50 {draw[0]:.1f} "
            f"p90 {draw[1]:.1f} ms"
        )


async def decode(playwright: Any, chunks: list[Any], codec: str) -> dict[str, list[float]]:
    """Decode and paint the kept chunks in a headless Chromium, as the agent's page."""
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        page = await browser.new_page()
        await page.route(
            DECODE_URL, lambda r: r.fulfill(body=_DECODE_PAGE, content_type="text/html")
        )
        await page.goto(DECODE_URL)
        got: dict[str, list[float]] = await page.evaluate(
            "([c, k]) => decodeAll(c, k)", [codec, chunks]
        )
        return got
    finally:
        await browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.share_encoder", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0, help="per configuration and pass")
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--only", action="append", help="configurations whose name holds this")
    parser.add_argument("--probe", action="store_true", help="also the stage probe (costs CPU)")
    asyncio.run(trial(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
