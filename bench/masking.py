"""``python -m bench.masking``: what masking adds to each frame, on the reference workload.

Both capture paths, each on its own 1920x1080 Xvfb with the workload (bench/workload.py).

The damage-driven path (bench/masking_damage.py; the program's sessions on X11): per
wake-up, the masking work alone (the two reads of the areas, the mask moves, painting
the grabbed pieces) and the whole wake-up through Tight encoding, in the modes
below and one more whose secret field moves between two places every wake-up.

The polling path (capture_loop.py: Windows, macOS, an X server without DAMAGE), frame
after frame: the mask areas read before and after the grab, the mss grab, the
painting, comparing with the previous frame as ``CaptureLoop._publish`` does (damage
and a vertical scroll as a CopyRect), then encoding through the RFB engine (Tight).

The modes, taken in turn so the workload is the same for each: masking off, one
secret field (a password field of 300x32 near the middle, as the AT-SPI watcher
reports it; over the scrolling text), a window rule (a 640x480 window, over the
scrolling text too), the same window where nothing is drawn, and the Sichtschutz (the
whole picture). Prints, per mode, the median and p95 of the masking step alone and of the
whole capture-to-encode time (which the workload's changes and the machine dominate),
and on the damage path what the encoder got per wake-up (where the masking time went).

On the damage path, also a window with a password field really dragged over the
scrolling text, masking off and on (bench/masking_drag.py): what masking adds for a
field that moves, where "off" pays for the window's motion too (the "field moving"
mode, whose mask jumps while nothing underneath moves, is the stress case).

Times are ``time.perf_counter`` around the steps themselves, many samples; the load
average is printed with them (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import statistics
import struct
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench import masking_damage, masking_drag, workload
from bench.__main__ import xvfb
from bench.masking_damage import FIELD, Lane
from bench.rfb_client import COPY_RECT, TIGHT, compress_level, jpeg_quality
from supportdesk.applet.screen.capture_loop import CopyOp, FrameOp, frame_ops
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.capture.screen_source import Frame, MssScreenSource
from supportdesk.capture.scroll_copies import MaskPlaces, frame_changes
from supportdesk.rfb import Rect, RFBServerConnection

MODES: dict[str, tuple[MaskArea, ...]] = {
    "off": (),
    "secret field": (FIELD,),
    "window rule": (MaskArea(Rect(600, 300, 640, 480), MaskKind.WINDOW_RULE),),
    # the same window where nothing is drawn: what a mask costs the encoder, not the painter
    "rule aside": (MaskArea(Rect(1240, 560, 640, 480), MaskKind.WINDOW_RULE),),
    "Sichtschutz": (MaskArea(EVERYWHERE, MaskKind.PRIVACY),),
}


class Fixed:
    def __init__(self, areas: Sequence[MaskArea]) -> None:
        self.now = tuple(areas)

    def areas(self) -> Sequence[MaskArea]:
        return self.now


def engine(width: int, height: int) -> RFBServerConnection:
    """An RFB engine past its handshake, with CopyRect and Tight (level 8 JPEG, zlib 2)
    chosen, as the agent's viewer (noVNC) asks: scrolls go out as CopyRect."""
    conn = RFBServerConnection(width, height, "bench")
    conn.receive_data(b"RFB 003.008\n")
    conn.receive_data(b"\x01")  # security: none
    conn.receive_data(b"\x01")  # ClientInit: shared
    encodings = (COPY_RECT, TIGHT, jpeg_quality(8), compress_level(2))
    message = struct.pack(">BxH", 2, len(encodings))
    conn.receive_data(message + b"".join(struct.pack(">i", e) for e in encodings))
    conn.data_to_send()
    conn.events_received()
    return conn


@dataclass
class Counts:
    """What one mode's encoder got on the polling path (as a damage path's Lane counts)."""

    encode_ms: list[float] = field(default_factory=list)
    sent: int = 0  # bytes the engine sent
    copies: int = 0  # CopyRects handed on (scrolls)
    tight: int = 0  # pixels handed on as changed (sent Tight)


def changes(
    previous: Frame, frame: Frame, before: Sequence[Rect], now: Sequence[Rect]
) -> list[FrameOp]:
    """What ``CaptureLoop._publish`` hands on for ``frame`` after ``previous``.

    ``before``, ``now``: the rectangles painted into each (a scroll's copies avoid them).
    """
    return frame_ops(*frame_changes(previous, frame, masks=MaskPlaces(tuple(before), tuple(now))))


def run(frames: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, Counts]]:
    """The polling path, per mode: the masking step's and the capture-to-encode time (ms),
    and what the encoder got (each mode has its own RFB engine)."""
    times: dict[str, dict[str, list[float]]] = {m: {"mask": [], "total": []} for m in MODES}
    with xvfb() as display:
        procs = workload.start(display)
        source = MssScreenSource(display)
        try:
            time.sleep(3)  # the painter and the xterm are up
            width, height = source.monitors()[0].width, source.monitors()[0].height
            painter = MaskPainter("Geschützte Eingabe")
            lanes = {mode: engine(width, height) for mode in MODES}
            sent = {mode: Counts() for mode in MODES}
            previous: dict[str, tuple[Frame, list[Rect]] | None] = dict.fromkeys(MODES)
            for i in range(frames * len(MODES)):
                mode = list(MODES)[i % len(MODES)]
                masks = Fixed(MODES[mode])
                started = time.perf_counter()
                # capture_loop.CaptureLoop._grab_masked, step by step, timed
                t0 = time.perf_counter()
                before = masks.areas() if mode != "off" else ()
                t1 = time.perf_counter()
                frame = source.grab(0)
                t2 = time.perf_counter()
                rects: list[Rect] = []
                if mode != "off":
                    areas = list(dict.fromkeys([*before, *masks.areas()]))
                    rects = monitor_rects(areas, (0, 0), (width, height))
                    frame = painter.paint(frame, rects)
                t3 = time.perf_counter()
                times[mode]["mask"].append(((t1 - t0) + (t3 - t2)) * 1000)
                last = previous[mode]
                ops = changes(last[0], frame, last[1], rects) if last is not None else []
                if ops:
                    t4 = time.perf_counter()
                    got = sent[mode]
                    got.sent += masking_damage.encode(lanes[mode], ops, frame)
                    got.encode_ms.append((time.perf_counter() - t4) * 1000)
                    got.copies += sum(isinstance(op, CopyOp) for op in ops)
                    got.tight += sum(op.area for op in ops if isinstance(op, Rect))
                times[mode]["total"].append((time.perf_counter() - started) * 1000)
                previous[mode] = (frame.copy(), rects)
                time.sleep(1 / 30 / len(MODES))
        finally:
            source.close()
            for p in procs:
                p.terminate()
    return times, sent


def percentiles(samples: Sequence[float], warm: int = 5) -> tuple[float, float]:
    """(p50, p95) of ``samples`` without the first ``warm`` (caches still filling)."""
    got = sorted(samples[warm:])
    if not got:
        raise ValueError("no samples past the warm-up")
    return statistics.median(got), got[min(len(got) - 1, int(len(got) * 0.95))]


def table(what: str, times: dict[str, dict[str, list[float]]]) -> str:
    """Per mode: p50 and p95 of the masking step and of the whole time, in ms."""
    lines = [
        f"{'mode':<14} {'mask p50':>9} {'mask p95':>9} {what + ' p50':>11} {what + ' p95':>11}"
        "  (ms)"
    ]
    for mode, got in times.items():
        m50, m95 = percentiles(got["mask"])
        t50, t95 = percentiles(got["total"])
        lines.append(f"{mode:<14} {m50:9.3f} {m95:9.3f} {t50:11.2f} {t95:11.2f}")
    return "\n".join(lines)


def sent_table(lanes: Mapping[str, Lane | Counts], wakes: float) -> str:
    """Per mode: what the encoder got per wake-up (scrolls, changed pixels) and its time."""
    lines = [f"{'mode':<14} {'encode p50':>10} {'CopyRects':>9} {'Tight kpx':>9} {'kB sent':>8}"]
    for mode, lane in lanes.items():
        enc = f"{statistics.median(lane.encode_ms):10.2f}" if lane.encode_ms else f"{'-':>10}"
        lines.append(
            f"{mode:<14} {enc} {lane.copies / wakes:9.2f} {lane.tight / wakes / 1e3:9.0f}"
            f" {lane.sent / wakes / 1e3:8.1f}"
        )
    return "\n".join(lines) + "\n(per wake-up; encode p50 in ms, over the wake-ups that encoded)"


def added(times: dict[str, dict[str, list[float]]], off: str = "off") -> str:
    """Each mode's p50 minus ``off``'s p50 (ms), and their ratio: what masking adds."""
    base = percentiles(times[off]["total"])[0]
    parts = [
        f"{mode} {percentiles(got['total'])[0] - base:+.2f} ms"
        f" ({percentiles(got['total'])[0] / base:.3f})"
        for mode, got in times.items()
        if mode != off
    ]
    return "added p50 against " + off + ": " + ", ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", choices=("damage", "polling", "both"), default="both")
    parser.add_argument("--seconds", type=float, default=40, help="damage path: how long")
    parser.add_argument("--frames", type=int, default=100, help="polling path: frames per mode")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.path in ("damage", "both"):
        lanes, seen = masking_damage.run(MODES, args.seconds, engine)
        print(
            f"damage-driven: {seen['wakes']:.0f} wake-ups, {seen['drawn px'] / 1e3:.0f} kpx"
            f" drawn per wake-up, load {seen['load before']:.2f} -> {seen['load after']:.2f}"
        )
        times = {m: {"mask": lane.mask_ms, "total": lane.total_ms} for m, lane in lanes.items()}
        print(table("wake", times))
        print(added(times))
        print(sent_table(lanes, seen["wakes"]))
        print(
            f"({masking_damage.MOVING!r} is the stress case: the mask jumps between two places"
            " every wake-up while nothing underneath moves, so 'off' has none of that damage)"
        )
        lanes, seen = masking_drag.run(args.seconds, engine)
        print(
            f"damage-driven, a window with a password field dragged over the text (both"
            f" modes draw it): {seen['wakes']:.0f} wake-ups, {seen['drawn px'] / 1e3:.0f} kpx"
            f" drawn per wake-up, load {seen['load before']:.2f} -> {seen['load after']:.2f}"
        )
        times = {m: {"mask": lane.mask_ms, "total": lane.total_ms} for m, lane in lanes.items()}
        print(table("wake", times))
        print(added(times, masking_drag.OFF))
        print(sent_table(lanes, seen["wakes"]))
    if args.path in ("polling", "both"):
        before = os.getloadavg()[0]
        times, sent = run(args.frames)
        print(f"polling: {args.frames} frames per mode, load {before:.2f} -> "
              f"{os.getloadavg()[0]:.2f}")  # fmt: skip
        print(table("frame", times))
        print(added(times))
        print(sent_table(sent, args.frames).replace("wake-up", "frame"))


if __name__ == "__main__":
    main()
