"""An update carries about ``max_update_area`` changed pixels; the rest goes with the next.

Small changes first (a clock beside a large moving area goes out with every update),
at least one band per update (progress), non-incremental requests whole, and a
lossless refresh cut in parts stays lossless to its last part.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from supportdesk.rfb import Rect
from supportdesk.rfb.update_tracker import BAND, UpdateTracker, within_area

from . import viewer as v
from .conftest import Pair, desktop_frame

TIGHT, QUALITY_8 = 7, -32 + 8
CLOCK, TEXT = Rect(0, 0, 640, 16), Rect(0, 300, 1120, 660)


def test_small_changes_first_then_bands_of_the_large_one() -> None:
    out = within_area([TEXT, CLOCK], 1 << 17)
    assert out[0] == CLOCK
    assert out[1] == Rect(0, 300, 1120, BAND)  # 122,880 - 10,240 leaves one band's room
    assert sum(r.area for r in out) <= 1 << 17


def test_every_update_makes_progress_and_what_fits_goes_whole() -> None:
    assert within_area([TEXT], 1000) == [Rect(0, 300, 1120, BAND)]
    assert within_area([CLOCK, TEXT], 10**7) == [CLOCK, TEXT]
    assert within_area([], 100) == []


def test_the_tracker_keeps_the_rest_and_sends_it_with_the_next_requests() -> None:
    tracker = UpdateTracker(1920, 1080)
    tracker.add_damage([TEXT, CLOCK])
    sent: list[Rect] = []
    for _ in range(20):
        tracker.request(Rect(0, 0, 1920, 1080), incremental=True)
        rects = tracker.take(1 << 17)
        if not rects:
            break
        assert sum(r.area for r in rects) <= 1 << 17
        sent.extend(rects)
        if len(sent) == 2:
            tracker.add_damage([CLOCK])  # the clock ticks again meanwhile
    covered = np.zeros((1080, 1920), bool)
    for r in sent:
        covered[r.y : r.bottom, r.x : r.right] = True
    assert covered[300:960, :1120].all() and covered[:16, :640].all()
    assert sent.count(CLOCK) == 2  # ticked again: it went with the very next update
    assert not tracker.damage


def test_a_large_area_is_not_starved_by_a_medium_one_that_keeps_changing() -> None:
    tracker = UpdateTracker(1920, 1080)
    tracker.add_damage([TEXT])
    photo = Rect(1200, 100, 480, 270)  # larger than an eighth of the budget
    text_rows = set()
    for _ in range(40):
        tracker.add_damage([photo, CLOCK])  # both change before every request
        tracker.request(Rect(0, 0, 1920, 1080), incremental=True)
        for r in tracker.take(1 << 17):
            if r.intersect(TEXT) == r:
                text_rows.update(range(r.y, r.bottom))
    assert text_rows == set(range(TEXT.y, TEXT.bottom))


def test_a_non_incremental_request_goes_whole() -> None:
    tracker = UpdateTracker(1920, 1080)
    tracker.add_damage([TEXT])
    tracker.request(Rect(0, 0, 1920, 1080), incremental=False)
    assert tracker.take(1 << 17) == [Rect(0, 0, 1920, 1080)]
    assert not tracker.damage


def test_a_refresh_cut_in_parts_stays_lossless_to_the_end(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(256, 192, (TIGHT, QUALITY_8))
    frame = desktop_frame(256, 192)

    def update() -> None:
        conn.receive_data(v.update_request(True, 0, 0, 256, 192))
        assert conn.send_framebuffer_update(frame)
        viewer.feed(conn.data_to_send())

    conn.add_damage([Rect(0, 0, 256, 192)])
    update()
    conn.add_damage([Rect(128, 96, 128, 96)])
    update()  # the photo quarter again: it moves, JPEG
    assert "jpeg" in viewer.tight_kinds and not np.array_equal(viewer.fb, frame)
    conn.max_update_area = 64 * 64
    assert conn.refresh_lossy()
    viewer.tight_kinds.clear()
    parts = 0
    while conn.damage_pending:
        update()
        parts += 1
    assert parts >= 2
    assert "jpeg" not in viewer.tight_kinds
    assert np.array_equal(viewer.fb, frame)
