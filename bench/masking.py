"""``python -m bench.masking``: what masking adds to each frame, on the reference workload.

Starts a 1920x1080 Xvfb with the workload (bench/workload.py) and, frame after frame,
runs the whole-grab capture path (capture_loop.py, the polling loop the applet runs
where there is no damage watch: the mask areas read before and after the grab, the mss
grab, the painting, damage detection against the previous frame, then Tight encoding
of the damage through the RFB engine), in four modes taken
in turn so the workload is the same for each: masking off, one secret field (a
password field of 300x32 near the middle, as the AT-SPI watcher reports it), a window
rule (a 640x480 window), and the Sichtschutz (the whole picture). Prints, per mode, the
median and p95 of the masking step alone (reading the areas, painting) and of the whole
capture-to-encode time per frame (which the workload's changes and the machine dominate).
"""

from __future__ import annotations

import argparse
import statistics
import struct
import time
from collections.abc import Sequence

from bench import workload
from bench.__main__ import xvfb
from bench.rfb_client import TIGHT, compress_level, jpeg_quality
from supportdesk.capture.damage import detect_damage
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_sources import EVERYWHERE
from supportdesk.capture.screen_source import Frame, MssScreenSource
from supportdesk.rfb import Rect, RFBServerConnection

MODES: dict[str, tuple[MaskArea, ...]] = {
    "off": (),
    "secret field": (MaskArea(Rect(800, 520, 300, 32), MaskKind.SECRET_INPUT),),
    "window rule": (MaskArea(Rect(600, 300, 640, 480), MaskKind.WINDOW_RULE),),
    "Sichtschutz": (MaskArea(EVERYWHERE, MaskKind.PRIVACY),),
}


class Fixed:
    def __init__(self, areas: Sequence[MaskArea]) -> None:
        self.now = tuple(areas)

    def areas(self) -> Sequence[MaskArea]:
        return self.now


def engine(width: int, height: int) -> RFBServerConnection:
    """An RFB engine past its handshake, with Tight (level 8 JPEG, zlib 2) chosen."""
    conn = RFBServerConnection(width, height, "bench")
    conn.receive_data(b"RFB 003.008\n")
    conn.receive_data(b"\x01")  # security: none
    conn.receive_data(b"\x01")  # ClientInit: shared
    encodings = (TIGHT, jpeg_quality(8), compress_level(2))
    message = struct.pack(">BxH", 2, len(encodings))
    conn.receive_data(message + b"".join(struct.pack(">i", e) for e in encodings))
    conn.data_to_send()
    conn.events_received()
    return conn


def run(frames: int) -> dict[str, dict[str, list[float]]]:
    """Per mode: the masking step's time and the whole capture-to-encode time, in ms."""
    times = {mode: {"mask": [], "total": []} for mode in MODES}
    with xvfb() as display:
        procs = workload.start(display)
        source = MssScreenSource(display)
        try:
            time.sleep(3)  # the painter and the xterm are up
            width, height = source.monitors()[0].width, source.monitors()[0].height
            painter = MaskPainter("Geschützte Eingabe")
            conn = engine(width, height)
            previous: dict[str, Frame | None] = dict.fromkeys(MODES)
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
                if mode != "off":
                    areas = list(dict.fromkeys([*before, *masks.areas()]))
                    frame = painter.paint(frame, monitor_rects(areas, (0, 0), (width, height)))
                t3 = time.perf_counter()
                times[mode]["mask"].append(((t1 - t0) + (t3 - t2)) * 1000)
                last = previous[mode]
                damage = detect_damage(last, frame) if last is not None else []
                if damage:
                    conn.add_damage([Rect(r.x, r.y, r.width, r.height) for r in damage])
                    conn.receive_data(struct.pack(">BBHHHH", 3, 1, 0, 0, width, height))
                    conn.send_framebuffer_update(frame[:, :, 2::-1])
                    conn.data_to_send()
                times[mode]["total"].append((time.perf_counter() - started) * 1000)
                previous[mode] = frame.copy()
                time.sleep(1 / 30 / len(MODES))
        finally:
            source.close()
            for p in procs:
                p.terminate()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames per mode")
    args = parser.parse_args()
    times = run(args.frames)
    print(f"{'mode':<14} {'mask p50':>9} {'mask p95':>9} {'total p50':>10} {'total p95':>10}  (ms)")
    for mode, got in times.items():
        m, t = sorted(got["mask"][5:]), sorted(got["total"][5:])  # first frames: caches
        print(
            f"{mode:<14} {statistics.median(m):9.3f} {m[int(len(m) * 0.95)]:9.3f} "
            f"{statistics.median(t):10.2f} {t[int(len(t) * 0.95)]:10.2f}"
        )


if __name__ == "__main__":
    main()
