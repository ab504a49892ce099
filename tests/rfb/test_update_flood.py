"""A viewer's flood of update requests costs linear time and never breaks an update.

Non-incremental requests used to be checked against every earlier one (quadratic), and
more than 65,535 pending areas raised in the applet's write loop (the update's count is
a U16). The tracker now collapses what piles up into a covering box, and what does not
fit in one update waits, as damage, for the next.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from supportdesk.rfb import Rect, SetDesktopSize
from supportdesk.rfb import server as server_module
from supportdesk.rfb.encodings.pseudo import DesktopSizeStatus
from supportdesk.rfb.update_tracker import MAX_DAMAGE_RECTS, MAX_PENDING_AREAS, UpdateTracker

from . import viewer as v
from .conftest import Pair


def test_many_distinct_full_requests_stay_bounded_and_covered() -> None:
    tracker = UpdateTracker(300, 300)
    asked = [Rect(i % 300, (i // 300) % 300, 1, 1) for i in range(20_000)]
    for area in asked:
        tracker.request(area, incremental=False)
        assert len(tracker.full_areas) <= MAX_PENDING_AREAS
    tracker.add_damage(Rect(i % 290, i % 280, 3, 3) for i in range(20_000))
    assert len(tracker.damage) <= MAX_DAMAGE_RECTS
    sent = tracker.take()
    for area in asked:
        assert any(rect.contains(area) for rect in sent)  # nothing asked for is lost


def test_an_update_with_more_areas_than_fit_in_u16_is_split_not_raised(
    connect: Callable[..., Pair], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The U16 limit, scaled down to 20 so the test needs no 65,536 requests."""
    monkeypatch.setattr(server_module, "_MAX_RECTANGLES", 20)
    conn, viewer = connect(width=200, height=120, encodings=(0,))
    frame = np.random.default_rng(3).integers(0, 255, (120, 200, 3), dtype=np.uint8)
    for i in range(40):  # distinct single pixels, none containing another
        conn.receive_data(v.update_request(False, (7 * i) % 200, i % 120, 1, 1))
    first = conn.send_framebuffer_update(frame)
    assert first == 20
    viewer.feed(conn.data_to_send())
    conn.receive_data(v.update_request(True, 0, 0, 200, 120))
    assert conn.send_framebuffer_update(frame) > 0  # the rest, with the next request
    viewer.feed(conn.data_to_send())
    for i in range(40):
        x, y = (7 * i) % 200, i % 120
        assert np.array_equal(viewer.fb[y, x], frame[y, x])


def test_a_flood_of_set_desktop_size_gets_one_answer(connect: Callable[..., Pair]) -> None:
    conn, _ = connect(encodings=(0, -308))
    conn.receive_data(v.update_request(False, 0, 0, 200, 120))
    flood = v.set_desktop_size(640, 480, [(0, 0, 0, 640, 480, 0)]) * 70_000
    conn.receive_data(flood)
    for event in conn.events_received():
        if isinstance(event, SetDesktopSize):
            conn.reply_desktop_size(DesktopSizeStatus.PROHIBITED)
    frame = np.zeros((120, 200, 3), dtype=np.uint8)
    assert conn.send_framebuffer_update(frame) <= 3
