"""A synthetic recorded session: the real RFB engine serving a changing desktop to noVNC.

The "applet" is an RFBServerConnection; the "viewer" sends what noVNC sends
(RFB 3.8, security None, SetPixelFormat, SetEncodings with Tight, update
requests). Every byte both ways goes into a RecordingWriter with its time, a
keyframe is written every ``keyframe_every`` seconds, and after each keyframe the
live Tight streams are restarted, which is what the applet must do (see
docs/recording-format.md). The frames sent, with their times, are the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np

from supportdesk.recording import RecordingWriter, RecordKind, encode_keyframe
from supportdesk.recording.format import NO_LINK
from supportdesk.rfb import PixelFormat, Rect, RFBServerConnection
from tests.rfb import viewer as v

NOVNC_FORMAT = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)
TIGHT_NOVNC = (7, 1, 0, -308, -223, -239, -224, -313, -312, -256 + 2)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHANNEL = 1
PHOTO = Rect(0, 72, 64, 24)
PHOTO_EVERY = 110


def desktop(width: int, height: int, step: int) -> np.ndarray:
    """A desktop whose box moves and whose 'clock' block changes every step."""
    rng = np.random.default_rng(7)
    frame = np.full((height, width, 3), (30, 60, 90), dtype=np.uint8)
    text = rng.random((height // 3, width // 2)) > 0.7
    frame[: height // 3, : width // 2][text] = (250, 250, 250)
    x = (step * 7) % (width - 24)
    frame[height // 2 : height // 2 + 20, x : x + 24] = (200, 40 + step % 200, 40)
    digits = np.random.default_rng(step).integers(0, 2, (8, 40)).astype(bool)
    frame[2:10, width - 42 : width - 2][digits] = (255, 255, 0)
    # A photo (hundreds of colours: Tight full-colour zlib, stream 0) that changes
    # rarely, so the live encoder opens stream 0 afresh long after a keyframe used it.
    yy, xx = np.mgrid[0 : PHOTO.height, 0 : PHOTO.width]
    phase = step // PHOTO_EVERY
    photo = np.stack([(xx * 5 + phase * 40) % 256, (yy * 7) % 256, (xx * yy + phase) % 256], -1)
    frame[PHOTO.y : PHOTO.bottom, PHOTO.x : PHOTO.right] = photo.astype(np.uint8)
    return frame


@dataclass
class SyntheticSession:
    path: Path
    width: int
    height: int
    frames: list[tuple[int, np.ndarray]] = field(default_factory=list)
    """(µs since the start, frame) for every update sent."""
    keyframes: list[int] = field(default_factory=list)
    final_hash: str = ""

    def frame_at(self, at_us: int) -> np.ndarray:
        """The picture the viewer had at ``at_us``: the last frame sent at or before it."""
        best = np.zeros_like(self.frames[0][1])
        for t, frame in self.frames:
            if t > at_us:
                break
            best = frame
        return best


def _restart_tight_streams(conn: RFBServerConnection) -> None:
    # Stand-in for the applet-side restart (an rfb API the lead adds): a change of
    # the zlib level restarts the four streams and sets their reset bits; changing
    # back keeps the pending reset bits. Fed to the engine only, not recorded.
    conn.receive_data(v.set_encodings(*TIGHT_NOVNC[:-1], -256 + 3))
    conn.receive_data(v.set_encodings(*TIGHT_NOVNC))
    conn.events_received()


def record_session(
    path: Path,
    master_key: bytes,
    *,
    seconds: float = 30.0,
    step_ms: int = 200,
    keyframe_every: float = 10.0,
    width: int = 160,
    height: int = 96,
    keyframe_encoding: Literal["tight", "raw"] = "tight",
    number: str = "BN-2026-4821-7730-8",
    start: datetime = START,
    segment: int = 1,
    previous_hash: bytes = NO_LINK,
    crash: bool = False,
) -> SyntheticSession:
    """``segment`` > 1 continues the segment that ended in ``previous_hash``; ``crash``
    leaves the file as a killed writer does after its last tick (no FINAL chunk)."""
    session = SyntheticSession(path, width, height)
    writer = RecordingWriter.create(
        path, number, master_key, start, segment=segment, previous_hash=previous_hash
    )
    conn = RFBServerConnection(width, height, "customer-pc")

    def at(us: int) -> datetime:
        return start + timedelta(microseconds=us)

    def s2c(us: int) -> None:
        data = conn.data_to_send()
        if data:
            # Split like the link does (credit-sized pieces), to exercise reassembly.
            for i in range(0, len(data), 3000):
                writer.record(RecordKind.RFB_SERVER_TO_CLIENT, CHANNEL, data[i : i + 3000], at(us))

    def c2s(us: int, data: bytes) -> None:
        writer.record(RecordKind.RFB_CLIENT_TO_SERVER, CHANNEL, data, at(us))
        conn.receive_data(data)
        conn.events_received()

    writer.record(RecordKind.CONTROL, 0, b'{"type":"open","channel":1}', at(0))
    s2c(0)  # server version
    c2s(1000, b"RFB 003.008\n")
    s2c(1000)
    c2s(2000, b"\x01")
    s2c(2000)
    c2s(3000, b"\x01")
    s2c(3000)
    c2s(4000, v.set_pixel_format(NOVNC_FORMAT) + v.set_encodings(*TIGHT_NOVNC))
    c2s(5000, v.update_request(False, 0, 0, width, height))
    s2c(5000)
    step = 0
    next_keyframe = keyframe_every * 1_000_000
    us = 10_000
    end = int(seconds * 1_000_000)
    while us <= end:
        frame = desktop(width, height, step)
        if us >= next_keyframe:
            writer.keyframe(
                CHANNEL,
                encode_keyframe(
                    session.frames[-1][1], conn.pixel_format, encoding=keyframe_encoding
                ),
                at(us),
            )
            session.keyframes.append(us)
            _restart_tight_streams(conn)
            next_keyframe += keyframe_every * 1_000_000
        conn.add_damage([Rect(0, 0, width, height)] if step == 0 else _changes(width, height, step))
        if conn.update_ready:
            conn.send_framebuffer_update(frame)
            session.frames.append((us, frame))
            s2c(us)
            c2s(us + 500, v.update_request(True, 0, 0, width, height))
        if step % 25 == 3:
            writer.record(RecordKind.CHAT, 0, f'{{"text":"msg {step}"}}'.encode(), at(us))
        step += 1
        us += step_ms * 1000
        if writer.flush_due(at(us)):
            writer.tick(at(us))
    if crash:
        writer.tick(at(end))
        session.final_hash = writer.chain_hash
        writer.abort()
        return session
    session.final_hash = writer.close(at(end))
    return session


def _changes(width: int, height: int, step: int) -> list[Rect]:
    changed = [Rect(0, height // 2, width, 20), Rect(width - 42, 2, 40, 8)]
    return [*changed, PHOTO] if step % PHOTO_EVERY == 0 else changed
