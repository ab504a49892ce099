"""Where the browser way's latency goes: a probe in the customer's page around its encoder.

bench/browser_share.py measures glass to glass in the agent's page. This init script for
the customer's context wraps ``VideoEncoder`` so that every frame the share page hands to
``encode()`` has the workload's clock read out of it (the luma of two rows of the clock
for the 4:2:0 frames Chromium's X11 capture delivers, one RGB row or a 640x16 crop drawn
onto an OffscreenCanvas for other formats) together with the page's ``Date.now()`` when
the frame came and when it went into the encoder, and every chunk the encoder puts out
is timed by its frame's timestamp. From them:

- **to the encoder**: ``Date.now()`` at ``encode()`` minus the clock value in that frame:
  the workload's repaint step (0-10 ms), Chromium's screen capture (timer-driven, at the
  frame rate the page asked for) and the frame's way into the page;
- **encoding**: the chunk out minus the frame into the native ``encode()`` (the probe's
  own read of the clock is not in it: for 4:2:0 frames it runs after, for others before).

What is left of the agent's glass-to-glass latency is the relay, the agent's decoder, the
paint and the probe's animation frame there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from playwright.async_api import Page

from bench import workload
from bench.__main__ import percentile

_PROBE = """
(() => {
  const { bits, block, centre, clock } = __GEOMETRY__;
  const Native = window.VideoEncoder;
  if (typeof Native !== "function") return;
  const stages = (window.__stages = { running: false, frames: [], out: {} });
  const XS = Array.from({ length: bits }, (_, i) => block * i + centre);
  const RGB = new Set(["RGBA", "RGBX", "BGRA", "BGRX"]);
  const YUV = new Set(["I420", "I420A", "NV12"]);
  let context = null;
  class Probed extends Native {
    constructor(init) {
      super({
        ...init,
        output: (chunk, meta) => {
          if (stages.running) stages.out[chunk.timestamp] = Date.now();
          init.output(chunk, meta);
        },
      });
    }
    encode(frame, options) {
      if (stages.running) {
        const at = Date.now();
        const record = (pixels, encodeAt) =>
          stages.frames.push([frame.timestamp, at, encodeAt, ...pixels]);
        if (YUV.has(frame.format)) {
          // The clock is black and white: its luma is enough. Two rows (4:2:0 rects are
          // even), read from a clone after encode() so that the read adds no time to it.
          const rect = { x: 0, y: centre, width: clock, height: 2 };
          const copy = frame.clone();
          const bytes = new Uint8Array(copy.allocationSize({ rect }));
          const read = copy.copyTo(bytes, { rect });
          const result = super.encode(frame, options);
          const encodeAt = Date.now();
          read.then((layout) => {
            const { offset } = layout[0];
            const pixels = [];
            for (const x of XS) pixels.push(...Array(3).fill(bytes[offset + x]));
            record(pixels, encodeAt);
          }).finally(() => copy.close());
          return result;
        }
        const pixels = [];
        if (RGB.has(frame.format)) {
          // A copy of one row of the clock: drawing the frame would convert all of it.
          const row = new Uint8Array(clock * 4);
          frame.copyTo(row, { rect: { x: 0, y: centre, width: clock, height: 1 } });
          const [r, b] = frame.format.startsWith("BGR") ? [2, 0] : [0, 2];
          for (const x of XS) pixels.push(row[x * 4 + r], row[x * 4 + 1], row[x * 4 + b]);
        } else {
          const options = { willReadFrequently: true };
          context ??= new OffscreenCanvas(clock, block).getContext("2d", options);
          context.drawImage(frame, 0, 0, clock, block, 0, 0, clock, block);
          const row = context.getImageData(0, centre, clock, 1).data;
          for (const x of XS) pixels.push(row[x * 4], row[x * 4 + 1], row[x * 4 + 2]);
        }
        // The probe's own read is left out of the encoding time.
        record(pixels, Date.now());
      }
      return super.encode(frame, options);
    }
  }
  window.VideoEncoder = Probed;
})();
"""

CUSTOMER_PROBE = _PROBE.replace("__GEOMETRY__", json.dumps(workload.clock_geometry()))
STAGES_START = (
    "() => { if (window.__stages) Object.assign(__stages, {frames: [], out: {}, running: true}); }"
)
STAGES_FINISH = (
    "() => { if (!window.__stages) return null; __stages.running = false; return __stages; }"
)


@dataclass
class Stages:
    to_encoder_p50: float  # ms from the clock's paint to encode()
    encoding_p50: float  # ms from the native encode() to the chunk
    frames: int  # frames encoded in the window


def stages_of(got: dict[str, object] | None) -> Stages | None:
    """The medians of what the customer probe saw, or None without a probe."""
    if not got:
        return None
    frames = got["frames"]
    out = got["out"]
    assert isinstance(frames, list) and isinstance(out, dict)
    fb = np.zeros((workload.BLOCK, workload.CLOCK_BITS * workload.BLOCK, 3), dtype=np.uint8)
    centre = workload.BLOCK // 2
    to_encoder: list[float] = []
    encoding: list[float] = []
    for timestamp, at, encode_at, *pixels in frames:
        fb[centre, centre :: workload.BLOCK] = np.asarray(pixels, dtype=np.uint8).reshape(-1, 3)
        painted = workload.read_clock(fb)
        if painted is not None:
            to_encoder.append(float(((at & 0xFFFFFFFF) - painted) & 0xFFFFFFFF))
        done = out.get(str(timestamp))
        if isinstance(done, int | float):
            encoding.append(float(done - encode_at))
    to_encoder.sort()
    encoding.sort()
    return Stages(
        to_encoder_p50=percentile(to_encoder, 50),
        encoding_p50=percentile(encoding, 50),
        frames=len(frames),
    )


async def start(page: Page | None) -> None:
    if page is not None:
        await page.evaluate(STAGES_START)


async def finish(page: Page | None) -> Stages | None:
    return stages_of(await page.evaluate(STAGES_FINISH)) if page is not None else None
