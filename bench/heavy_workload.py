"""The heavy workload: a photo-like animation moving across most of the screen, 40 lines of
text rewritten every frame, and the reference clock in the corner.

Run on a 1920x1080 Xvfb (``python -m bench.heavy_workload``, one process). At 30 frames
a second the 480x270 plasma (bench/workload.py) both animates (its pattern slides) and
travels, bouncing between the screen's edges, so over a few seconds it passes over most
of the screen and over the text; the text window (1120x660 at 0,300) gets 40 new lines
every frame in the X core font "fixed"; the millisecond clock (bench/workload.py) is
painted every 10 ms on top of everything, so latency is read exactly as in the
reference workload. Deterministic apart from the clock.
"""

from __future__ import annotations

import time

import numpy as np

from bench.workload import BLOCK, Clock, _plasma, _window, wall_ms

WIDTH, HEIGHT = 1920, 1080
PHOTO = (480, 270)
TEXT_AREA = (0, 300, 1120, 660)
TEXT_LINES = 40
FRAMES_PER_SECOND = 30
_STEP = (23, 11)  # pixels per frame the photo travels, x and y
_WORDS = ["Konto", "Umsatz", "Überweisung", "Depot", "Lastschrift", "Kreditkarte", "Zins"]


def _bounce(position: int, span: int) -> int:
    """Triangle wave: 0 .. span .. 0 as ``position`` grows."""
    period = 2 * span
    p = position % period
    return p if p <= span else period - p


def photo_position(frame: int) -> tuple[int, int]:
    """Where the photo's top-left corner is in ``frame`` (below the clock's row)."""
    pw, ph = PHOTO
    x = _bounce(frame * _STEP[0], WIDTH - pw)
    y = BLOCK + 4 + _bounce(frame * _STEP[1], HEIGHT - ph - BLOCK - 4)
    return x, y


def text_line(frame: int, row: int) -> str:
    """Line ``row`` of the text in ``frame``: changes every frame, like a busy list."""
    words = " ".join(_WORDS[(frame + row + i) % len(_WORDS)] for i in range(9))
    return f"{frame:07d} {row:02d} {words} {(frame * 7919 + row * 104729) % 1000000:06d} EUR"


def run() -> None:
    """Paint clock, moving photo and text forever."""
    from Xlib import X, display

    d = display.Display()
    screen = d.screen()
    text = _window(d, *TEXT_AREA)
    text.change_attributes(background_pixel=screen.white_pixel)
    text.clear_area(0, 0, 0, 0)
    pw, ph = PHOTO
    photo = _window(d, *photo_position(0), pw, ph)
    clock = Clock(d)  # mapped last: on top of the photo
    font = d.open_font("fixed")
    ink = text.create_gc(font=font, foreground=screen.black_pixel, background=screen.white_pixel)
    pgc = photo.create_gc()
    plasma = _plasma(pw * 2, ph)
    line_height = TEXT_AREA[3] // TEXT_LINES
    d.sync()
    frame = 0
    next_frame = time.monotonic()
    while True:
        clock.paint(wall_ms())
        if time.monotonic() >= next_frame:
            x, y = photo_position(frame)
            photo.configure(x=x, y=y)
            offset = (frame * 8) % pw
            image = plasma[:, offset : offset + pw]
            for top in range(0, ph, 64):  # one PutImage request must stay under 256 KiB
                band = np.ascontiguousarray(image[top : top + 64])
                photo.put_image(
                    pgc, 0, top, pw, band.shape[0], X.ZPixmap, screen.root_depth, 0,
                    band.tobytes(),
                )  # fmt: skip
            for row in range(TEXT_LINES):
                line = text_line(frame, row).encode("latin-1")
                text.image_text(ink, 4, row * line_height + 12, line)
            frame += 1
            next_frame += 1 / FRAMES_PER_SECOND
        d.flush()
        time.sleep(0.010)


if __name__ == "__main__":
    run()
