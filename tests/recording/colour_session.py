"""A synthetic recording of known pictures: a coloured block that moves every second.

The real RFB engine serves the pictures to a noVNC-like viewer, as in
``session.py``; keyframes every ``keyframe_every`` seconds with the live Tight
streams restarted after each. Second ``i`` shows ``picture(i)``: a background
and a block whose colour and place are unique to ``i``, so a canvas shows which
second it is. The control channel carries the relay's state messages (consent,
pause, resume, end; with ``masking`` the kinds of mask on at given times) and a chat
message, for the player's timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from supportdesk.recording import RecordingWriter, RecordKind, encode_keyframe
from supportdesk.rfb import Rect, RFBServerConnection
from tests.recording.session import (
    CHANNEL,
    NOVNC_FORMAT,
    START,
    TIGHT_NOVNC,
    _restart_tight_streams,
)
from tests.rfb import viewer as v

WIDTH, HEIGHT = 320, 200
BLOCK = 40
SECOND = 1_000_000


def picture(i: int) -> np.ndarray:
    """The screen during second ``i`` (from i s to i+1 s)."""
    frame = np.full((HEIGHT, WIDTH, 3), (20 + (i // 60) % 60, 40, 70), dtype=np.uint8)
    columns, rows = WIDTH // BLOCK, HEIGHT // BLOCK
    x, y = (i % columns) * BLOCK, ((i // columns) % rows) * BLOCK
    rng = np.random.default_rng(i)
    colour = rng.integers(60, 256, 3).astype(np.uint8)
    frame[y : y + BLOCK, x : x + BLOCK] = colour
    # The minute, as a bar: pictures a minute apart differ in more than colour.
    frame[HEIGHT - 6 :, : (i // 60) % WIDTH + 1] = (255, 255, 255)
    return frame


@dataclass
class ColourRecording:
    path: Path
    number: str
    seconds: int
    final_hash: str

    @staticmethod
    def expected_at(at_us: int) -> np.ndarray:
        """The picture a viewer shows at ``at_us`` (updates are sent at whole seconds)."""
        return picture(max(0, at_us) // SECOND)


def record_colours(
    path: Path,
    master_key: bytes,
    number: str,
    *,
    seconds: int = 30,
    keyframe_every: int = 10,
    masking: dict[int, list[str]] | None = None,
) -> ColourRecording:
    """``masking``: second -> the kinds of mask on from half a second into it (the
    relay's state, as it records it after the program's ``masking`` message)."""
    writer = RecordingWriter.create(path, number, master_key, START)
    conn = RFBServerConnection(WIDTH, HEIGHT, "customer-pc")

    def at(us: int) -> datetime:
        return START + timedelta(microseconds=us)

    def s2c(us: int) -> None:
        data = conn.data_to_send()
        if data:
            writer.record(RecordKind.RFB_SERVER_TO_CLIENT, CHANNEL, data, at(us))

    def c2s(us: int, data: bytes) -> None:
        writer.record(RecordKind.RFB_CLIENT_TO_SERVER, CHANNEL, data, at(us))
        conn.receive_data(data)
        conn.events_received()

    def state(us: int, name: str, *capabilities: str) -> None:
        message = {"type": "state", "state": name, "capabilities": list(capabilities)}
        writer.record(RecordKind.CONTROL, 0, json.dumps(message).encode(), at(us))

    state(0, "active", "view")
    s2c(0)
    c2s(100, b"RFB 003.008\n")
    s2c(100)
    c2s(200, b"\x01")
    s2c(200)
    c2s(300, b"\x01")
    s2c(300)
    c2s(400, v.set_pixel_format(NOVNC_FORMAT) + v.set_encodings(*TIGHT_NOVNC))
    previous: np.ndarray | None = None
    for i in range(seconds):
        us = i * SECOND
        frame = picture(i)
        if i and i % keyframe_every == 0:
            assert previous is not None
            writer.keyframe(CHANNEL, encode_keyframe(previous, conn.pixel_format), at(us))
            _restart_tight_streams(conn)
        c2s(us, v.update_request(i > 0, 0, 0, WIDTH, HEIGHT))
        conn.add_damage([Rect(0, 0, WIDTH, HEIGHT)])
        assert conn.update_ready
        conn.send_framebuffer_update(frame)
        s2c(us)
        previous = frame
        if i == 3:
            state(us + 500_000, "active", "control", "view")
        if i == 5:
            chat = {"type": "chat", "from": "agent", "name": "Anna Berger", "text": "Guten Tag"}
            writer.record(RecordKind.CHAT, 0, json.dumps(chat).encode(), at(us + 500_000))
        if masking and i in masking:
            message = {"from": "relay", "type": "state", "state": "active",
                       "capabilities": ["control", "view"], "masking": masking[i]}  # fmt: skip
            writer.record(RecordKind.CONTROL, 0, json.dumps(message).encode(), at(us + 500_000))
        if i == 12:
            state(us + 500_000, "paused", "control", "view")
        if i == 14:
            state(us + 500_000, "active", "control", "view")
        if writer.flush_due(at(us)):
            writer.tick(at(us))
    end = seconds * SECOND
    state(end - 1, "ended", "control", "view")
    final = writer.close(at(end))
    return ColourRecording(path, number, seconds, final)
