"""Seeking in a 60-minute recording: index lookups read no chunk, starting playback O(1) chunks."""

from __future__ import annotations

import itertools
import os
import struct
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from supportdesk.recording import (
    PlayerFeed,
    RecordingReader,
    RecordingWriter,
    RecordKind,
    encode_keyframe,
)
from supportdesk.rfb.handshake import (
    encode_security_result,
    encode_security_types,
    encode_server_init,
)

from .session import NOVNC_FORMAT, START

MINUTES = 60
KEYFRAME_EVERY_S = 10


def one_pixel_update(second: int) -> bytes:
    rect = struct.pack(">HHHHi", second % 16, 0, 1, 1, 0)
    return (
        b"\x00\x00\x00\x01" + rect + NOVNC_FORMAT.encode_pixels(np.array([[[second % 256, 0, 0]]]))
    )


@pytest.fixture(scope="module")
def hour(tmp_path_factory: pytest.TempPathFactory, master_key: bytes) -> Path:
    path = tmp_path_factory.mktemp("hour") / "hour.sdrec"
    real_fsync = os.fsync
    os.fsync = lambda fd: None  # an hour of once-a-second fsyncs is not what this tests
    try:
        writer = RecordingWriter.create(path, "BN-2026-4821-7730-8", master_key, START)
        handshake = (
            b"RFB 003.008\n"
            + encode_security_types()
            + encode_security_result(True)
            + encode_server_init(16, 16, NOVNC_FORMAT, "pc")
        )
        writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, handshake, START)
        keyframe_picture = np.zeros((16, 16, 3), dtype=np.uint8)
        for second in range(1, MINUTES * 60 + 1):
            at = START + timedelta(seconds=second)
            if second % KEYFRAME_EVERY_S == 0:
                writer.keyframe(1, encode_keyframe(keyframe_picture, NOVNC_FORMAT), at)
            writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, one_pixel_update(second), at)
            writer.record(RecordKind.RFB_CLIENT_TO_SERVER, 1, b"\x03\x01" + bytes(8), at)
            later = at + timedelta(seconds=0.6)
            if writer.flush_due(later):
                writer.tick(later)
        writer.close(START + timedelta(minutes=MINUTES, seconds=1))
    finally:
        os.fsync = real_fsync
    return path


@pytest.mark.parametrize("at_s", [0.5, 9.9, 10.0, 1234.5, 2700.0, 3599.99, 3600.0, 4000.0])
def test_seek_finds_the_last_keyframe_without_reading_chunks(
    hour: Path, master_key: bytes, at_s: float
) -> None:
    with RecordingReader(hour, master_key) as reader:
        assert len(reader.index) > MINUTES * 60
        at_us = int(at_s * 1_000_000)
        position = reader.index.keyframe_at_or_before(1, at_us)
        expected_s = int(at_s) // KEYFRAME_EVERY_S * KEYFRAME_EVERY_S
        expected_s = min(expected_s, MINUTES * 60)
        if expected_s == 0:
            assert position is None
        else:
            assert position is not None
            assert reader.index.entries[position].header.first_us == expected_s * 1_000_000
        assert reader.chunks_read == 0


@pytest.mark.parametrize("at_s", [1234.5, 2709.9, 3600.0])
def test_starting_playback_reads_a_bounded_number_of_chunks(
    hour: Path, master_key: bytes, at_s: float
) -> None:
    with RecordingReader(hour, master_key) as reader:
        feed = PlayerFeed(reader, 1, int(at_s * 1_000_000))
        first = list(itertools.islice(feed.messages(), 4))  # handshake, keyframe, catch-up, next
        assert feed.keyframe_at_us == int(at_s) // 10 * 10 * 1_000_000
        assert first[0].at_us == first[1].at_us == int(at_s * 1_000_000)
        # Channel start, keyframe chunk, up to one keyframe interval of chunks (about
        # one a second here), and the next one: independent of the recording's length.
        assert reader.chunks_read <= 2 + KEYFRAME_EVERY_S + 3
