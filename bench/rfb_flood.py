"""``python -m bench.rfb_flood``: what a flood of update requests costs the applet's engine.

Sends N distinct non-incremental FramebufferUpdateRequests (1x1 areas, none inside
another -- the worst case of the old tracker, which checked each against all earlier
ones) into an :class:`RFBServerConnection` on a 1920x1080 framebuffer, then one update.
Prints the time per size: linear growth means the tracker is linear. A 2 MiB viewer
message holds 209,715 such requests.
"""

from __future__ import annotations

import struct
import time

import numpy as np

from supportdesk.rfb import RFBServerConnection

WIDTH, HEIGHT = 1920, 1080


def flood(count: int) -> tuple[float, int]:
    conn = RFBServerConnection(WIDTH, HEIGHT)
    conn.receive_data(b"RFB 003.008\n\x01\x01" + struct.pack(">BxHi", 2, 1, 0))
    message = b"".join(
        struct.pack(">BBHHHH", 3, 0, (i * 7) % WIDTH, (i // WIDTH) % HEIGHT, 1, 1)
        for i in range(count)
    )
    frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    started = time.perf_counter()
    conn.receive_data(message)
    rects = conn.send_framebuffer_update(frame)
    return time.perf_counter() - started, rects


def main() -> None:
    print("| requests | seconds | rectangles in the update |")
    print("|---:|---:|---:|")
    for count in (16_000, 64_000, 209_715):
        seconds, rects = flood(count)
        print(f"| {count:,} | {seconds:.2f} | {rects:,} |")


if __name__ == "__main__":
    main()
