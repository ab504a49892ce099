"""Continuous updates are paced by fences: a viewer that stops answering stops getting
updates after a few, and gets them again (with everything changed meanwhile) when it
answers; a viewer without fences, or asking update by update, is not paced."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from supportdesk.rfb import ClientFence, Rect
from supportdesk.rfb.update_pacing import MAX_IN_FLIGHT, PACE_PAYLOAD, UpdatePacer

from . import viewer as v
from .conftest import Pair, desktop_frame

ANSWER = v.client_fence(0, PACE_PAYLOAD)


def test_the_pacer_counts_only_answers_to_its_own_fences() -> None:
    pacer = UpdatePacer(window=2)
    assert not pacer.blocked
    pacer.sent()
    pacer.sent()
    assert pacer.blocked
    assert not pacer.answered(ClientFence(0, b"other"))  # someone else's fence
    assert not pacer.answered(ClientFence(1 << 31, PACE_PAYLOAD))  # a request, not an answer
    assert pacer.blocked
    assert pacer.answered(ClientFence(0, PACE_PAYLOAD))
    assert not pacer.blocked
    pacer.reset()
    assert not pacer.answered(ClientFence(0, PACE_PAYLOAD))  # nothing owed: not below zero
    assert pacer.in_flight == 0
    with pytest.raises(ValueError):
        UpdatePacer(window=0)


def _change(conn_frame: np.ndarray, conn: object, i: int) -> None:
    from supportdesk.rfb import RFBServerConnection

    assert isinstance(conn, RFBServerConnection)
    row = (i % 12) * 10
    conn_frame[row : row + 5] = (i, 255 - i, i)
    conn.add_damage([Rect(0, row, 200, 5)])


def test_a_viewer_that_does_not_answer_gets_no_more_than_the_window(
    connect: Callable[..., Pair],
) -> None:
    conn, viewer = connect(encodings=(0, -313, -312))
    frame = desktop_frame()
    conn.receive_data(v.enable_continuous_updates(True, 0, 0, 200, 120))
    sent = 0
    for i in range(MAX_IN_FLIGHT + 3):
        _change(frame, conn, i)
        if conn.update_ready:
            sent += conn.send_framebuffer_update(frame) > 0
    assert sent == MAX_IN_FLIGHT
    assert not conn.update_ready
    assert conn.send_framebuffer_update(frame) == 0  # held, not lost
    viewer.feed(conn.data_to_send())
    fences = [entry for entry in viewer.log if entry[0] == "fence"]
    assert fences[-MAX_IN_FLIGHT:] == [("fence", 1 << 31, PACE_PAYLOAD)] * MAX_IN_FLIGHT

    conn.receive_data(ANSWER)  # the viewer drew the first of them
    assert conn.update_ready
    assert conn.send_framebuffer_update(frame) >= 1  # everything held back, in one update
    viewer.feed(conn.data_to_send())
    for i in range(MAX_IN_FLIGHT + 3):  # every change arrived, the held ones too
        row = (i % 12) * 10
        assert np.array_equal(viewer.fb[row : row + 5], frame[row : row + 5])
    assert not conn.update_ready


def test_an_answer_to_another_fence_does_not_release_updates(
    connect: Callable[..., Pair],
) -> None:
    conn, _ = connect(encodings=(0, -313, -312))
    frame = desktop_frame()
    conn.receive_data(v.enable_continuous_updates(True, 0, 0, 200, 120))
    for i in range(MAX_IN_FLIGHT):
        _change(frame, conn, i)
        conn.send_framebuffer_update(frame)
    _change(frame, conn, 99)
    conn.receive_data(v.client_fence(0, b""))  # the answer to the handshake's fence
    assert not conn.update_ready
    conn.receive_data(v.enable_continuous_updates(False, 0, 0, 200, 120))
    conn.receive_data(v.enable_continuous_updates(True, 0, 0, 200, 120))
    assert conn.update_ready  # switched off and on: nothing counted as on its way


def test_without_fences_or_continuous_updates_nothing_is_paced(
    connect: Callable[..., Pair],
) -> None:
    conn, _ = connect(encodings=(0, -313))  # continuous updates, no fences
    frame = desktop_frame()
    conn.receive_data(v.enable_continuous_updates(True, 0, 0, 200, 120))
    for i in range(MAX_IN_FLIGHT + 3):
        _change(frame, conn, i)
        assert conn.send_framebuffer_update(frame) == 1

    conn, viewer = connect(encodings=(0, -312))  # fences, update by update
    for i in range(MAX_IN_FLIGHT + 3):
        _change(frame, conn, i)
        conn.receive_data(v.update_request(True, 0, 0, 200, 120))
        assert conn.send_framebuffer_update(frame) == 1
    viewer.feed(conn.data_to_send())
    assert [e for e in viewer.log if e[0] == "fence"] == [("fence", 1 << 31, b"")]
