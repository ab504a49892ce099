"""Fuzz target of the recording reader: files, decrypted records, and the recorded RFB streams.

An input starts with a tag byte that says which layer it feeds: ``F`` -- a whole
recording file (header, chunk headers, sealed bodies) opened with
:class:`RecordingReader` and read through; ``R`` -- a decrypted chunk body (records)
into :func:`decode_records`, which the GCM tag otherwise keeps out of reach of a
mutator; ``S`` / ``C`` -- a recorded server-to-client / client-to-server RFB stream into
the player's :class:`ServerStreamDecoder` (decoding pixels) / :class:`ClientStreamTracker`.
The only clean error is :class:`RecordingError` (``RecordingInvalid``, ``ChunkInvalid``,
``PlaybackError``).
"""

from __future__ import annotations

import atexit
import shutil
import struct
import tempfile
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import numpy as np

from supportdesk.recording.errors import RecordingError
from supportdesk.recording.format import RecordKind, decode_records
from supportdesk.recording.reader import RecordingReader
from supportdesk.recording.rfb_decoder import ClientStreamTracker, ServerStreamDecoder
from supportdesk.recording.writer import RecordingWriter
from supportdesk.rfb import Rect, RFBServerConnection

from .target import InvariantBroken, Target

MASTER_KEY = bytes(range(32))
_START = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def _rfb_streams() -> tuple[bytes, bytes]:
    """A real session's two directions: a viewer asking Tight, Raw and Cursor; updates."""
    client = (
        b"RFB 003.008\n\x01\x01"
        + struct.pack(">BxH4i", 2, 4, 7, 0, 1, -239)
        + struct.pack(">BBHHHH", 3, 0, 0, 0, 48, 32)
    )
    conn = RFBServerConnection(48, 32)
    conn.receive_data(client)
    frame = np.random.default_rng(5).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    frame[:16] = (200, 10, 10)
    frame[16:, :8] = np.array([(0, 0, 0), (255, 255, 255)], dtype=np.uint8)[
        np.indices((16, 8)).sum(axis=0) % 2
    ]
    conn.send_framebuffer_update(frame)
    conn.receive_data(struct.pack(">BBHHHH", 3, 1, 0, 0, 48, 32))
    conn.add_damage([Rect(4, 4, 20, 10)])
    conn.send_framebuffer_update(frame[::-1].copy())
    return conn.data_to_send(), client


@cache
def _recording() -> tuple[bytes, list[bytes]]:
    server, client = _rfb_streams()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "seed.rec"
        writer = RecordingWriter.create(path, "1234-5678", MASTER_KEY, _START, chunk_bytes=512)
        at = _START
        for i, piece in enumerate([client[:14], server[:200], client[14:], server[200:]]):
            at += timedelta(milliseconds=10)
            kind = (
                RecordKind.RFB_CLIENT_TO_SERVER if i % 2 == 0 else RecordKind.RFB_SERVER_TO_CLIENT
            )
            writer.record(kind, 1, piece, at)
            writer.record(RecordKind.CONTROL, 0xFFFF, b'{"type":"state"}', at)
        writer.close(at + timedelta(seconds=1))
        data = path.read_bytes()
    bodies = [
        struct.pack(">BHQI", 3, 0xFFFF, 1000, 16) + b'{"type":"state"}'
        + struct.pack(">BHQI", 1, 1, 2000, 12) + server[:12]
    ]  # fmt: skip
    return data, bodies


def seeds() -> list[bytes]:
    data, bodies = _recording()
    server, client = _rfb_streams()
    return [b"F" + data, *(b"R" + body for body in bodies), b"S" + server, b"C" + client]


@cache
def _scratch() -> Path:
    """This process's file for the recording under test (removed when it exits)."""
    folder = Path(tempfile.mkdtemp(prefix="supportdesk-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "input.rec"


def run(data: bytes) -> None:
    tag, body = data[:1], data[1:]
    if tag == b"F":
        path = _scratch()
        path.write_bytes(body)
        with RecordingReader(path, MASTER_KEY) as reader:
            for _record in reader.records():
                pass
            for _record in reader.events():
                pass
    elif tag == b"R":
        count = body.count(b"\x01") % 4  # any count: the parser must compare, not trust
        decode_records(body, count)
    elif tag == b"S":
        decoder = ServerStreamDecoder()
        half = len(body) // 2
        decoder.feed(body[:half])
        decoder.feed(body[half:])
        if decoder.framebuffer is not None and decoder.framebuffer.shape[:2] != (
            decoder.height,
            decoder.width,
        ):
            raise InvariantBroken("the framebuffer does not match the announced size")
    elif tag == b"C":
        tracker = ClientStreamTracker()
        tracker.feed(body[:20])
        tracker.feed(body[20:])


TARGETS = [
    Target(
        "recording-reader",
        "recording files, records, recorded RFB streams (player)",
        seeds,
        run,
        (RecordingError,),
        max_size=16384,
    ),
]
