"""Segments: the last good chunk of a torn file, the chain across segments, the timeline
of several segments, and version 1 files read as segment 1."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from supportdesk.recording import RecordingReader, RecordingWriter, RecordKind, verify
from supportdesk.recording.crypto import chunk_hash, master_key_id, new_data_key, wrap_data_key
from supportdesk.recording.format import (
    FILE_HEADER_SIZE,
    FILE_HEADER_SIZE_V1,
    NO_LINK,
    ChunkHeader,
    FileHeader,
)
from supportdesk.recording.reader import Problem
from supportdesk.recording.recovery import close_interrupted, find_end, is_torn_tail
from supportdesk.recording.segmented import SegmentedRecording
from supportdesk.recording.segments import (
    SegmentFacts,
    SegmentSpan,
    check_links,
    gaps,
    locate,
    spans,
)

from .session import START, record_session

NUMBER = "BN-2026-4821-7730-8"
H1, H2, H3 = (bytes([n]) * 32 for n in (1, 2, 3))


# -- the chain across segments (pure) ---------------------------------------------------


def test_linked_segments_pass() -> None:
    assert check_links([SegmentFacts(1, NO_LINK, H1)]) is None
    chain = [SegmentFacts(1, NO_LINK, H1), SegmentFacts(2, H1, H2), SegmentFacts(3, H2, H3)]
    assert check_links(chain) is None


def test_a_missing_middle_segment_is_named() -> None:
    problem = check_links([SegmentFacts(1, NO_LINK, H1), SegmentFacts(3, H2, H3)])
    assert problem is not None and problem.segment == 2
    assert "segment 2 is missing" in problem.detail


def test_a_forged_link_is_named() -> None:
    problem = check_links([SegmentFacts(1, NO_LINK, H1), SegmentFacts(2, H3, H2)])
    assert problem is not None and problem.segment == 2
    assert "does not continue segment 1" in problem.detail


def test_a_missing_first_segment_and_an_unreadable_one_fail() -> None:
    first = check_links([SegmentFacts(2, H1, H2)])
    assert first is not None and first.segment == 1
    unreadable = check_links([SegmentFacts(1, NO_LINK, None), SegmentFacts(2, H1, H2)])
    assert unreadable is not None and unreadable.segment == 2


def test_spans_place_segments_on_one_timeline_with_gaps() -> None:
    placed = spans([1_000_000, 9_000_000, 9_500_000], [5_000_000, 1_000_000, 2_000_000])
    assert placed == [
        SegmentSpan(1, 0, 5_000_000),
        SegmentSpan(2, 8_000_000, 1_000_000),
        SegmentSpan(3, 9_000_000, 2_000_000),  # a clock that stepped back: right after
    ]
    assert gaps(placed) == [(5_000_000, 8_000_000), (9_000_000, 9_000_000)]
    assert [locate(placed, t) for t in (0, 5_000_000, 6_000_000, 8_500_000, 10**9)] == [
        0,
        0,
        1,
        1,
        2,
    ]


# -- the last good chunk of a torn file ------------------------------------------------


def crashed(path: Path, key: bytes) -> tuple[str, int]:
    """A segment whose writer died after its last tick: its chain hash and size."""
    session = record_session(path, key, seconds=3, keyframe_every=1, crash=True)
    return session.final_hash, path.stat().st_size


def test_is_torn_tail() -> None:
    assert is_torn_tail(Problem.TRUNCATED, b"SDCH\x00")
    assert is_torn_tail(Problem.BAD_CHUNK_HEADER, bytes(100))
    assert not is_torn_tail(Problem.BAD_CHUNK_HEADER, b"garbage")
    assert not is_torn_tail(Problem.TAG_MISMATCH, b"x" * 100)
    assert not is_torn_tail(Problem.TRUNCATED, b"")


@pytest.mark.parametrize("cut_inside", ["header", "body"])
def test_a_half_written_chunk_is_found_and_cut(
    tmp_path: Path, master_key: bytes, cut_inside: str
) -> None:
    path = tmp_path / "a.sdrec"
    final_hash, size = crashed(path, master_key)
    with RecordingReader(path, master_key) as reader:
        last = reader.index.entries[-1]
        chunks = len(reader.index)
    # The chunk the writer was writing when it was killed: its header and a bit of body.
    torn = ChunkHeader(chunks, last.header.last_us, last.header.last_us, 3, 900, 500, H1).pack()
    piece = torn[:20] if cut_inside == "header" else torn + b"\x5a" * 7
    with open(path, "ab") as file:
        file.write(piece)
    found = find_end(path, master_key)
    assert (found.final_hash, found.chunks, found.good_size) == (final_hash, chunks, size)
    assert found.torn_bytes == len(piece) and found.problem is None
    assert path.stat().st_size == size + len(piece)  # find_end only reads
    closed = close_interrupted(path, master_key)
    assert closed.cut and path.stat().st_size == size
    report = verify(path, master_key, final_hash)
    assert report.ok and not report.closed_cleanly


def test_zeros_after_the_last_chunk_are_a_torn_tail(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "a.sdrec"
    final_hash, size = crashed(path, master_key)
    with open(path, "ab") as file:
        file.write(bytes(4096))
    closed = close_interrupted(path, master_key)
    assert (closed.final_hash, closed.size, closed.torn_bytes) == (final_hash, size, 4096)


def test_a_damaged_complete_chunk_is_evidence_and_stays(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "a.sdrec"
    crashed(path, master_key)
    with RecordingReader(path, master_key) as reader:
        entries = reader.index.entries
    data = bytearray(path.read_bytes())
    data[entries[-1].body_offset + 2] ^= 1
    path.write_bytes(bytes(data))
    closed = close_interrupted(path, master_key)
    assert closed.chunks == len(entries) - 1 and not closed.cut
    assert closed.problem and "tag" in closed.problem
    assert path.stat().st_size == len(data)
    with RecordingReader(path, master_key) as reader:
        head, body = reader.read_chunk_bytes(len(entries) - 2)
    assert closed.final_hash == chunk_hash(head, body).hex()


def test_an_unreadable_file_has_no_final_hash(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "a.sdrec"
    path.write_bytes(b"not a recording")
    end = find_end(path, master_key)
    assert end.final_hash is None and end.problem
    assert find_end(tmp_path / "missing.sdrec", master_key).problem


# -- the next segment and the whole -------------------------------------------------------


def test_the_next_segment_carries_the_last_hash_and_plays_on_one_timeline(
    tmp_path: Path, master_key: bytes
) -> None:
    first = record_session(tmp_path / "1.sdrec", master_key, seconds=3, keyframe_every=1)
    later = START + timedelta(seconds=10)
    second = record_session(
        tmp_path / "2.sdrec",
        master_key,
        seconds=2,
        keyframe_every=1,
        start=later,
        segment=2,
        previous_hash=bytes.fromhex(first.final_hash),
    )
    report = verify(second.path, master_key, second.final_hash)
    assert report.ok and report.segment == 2
    assert report.previous_hash.hex() == first.final_hash
    with SegmentedRecording.open([first.path, second.path], master_key) as recording:
        assert [s.offset_us for s in recording.spans] == [0, 10_000_000]
        assert recording.gaps == [(recording.spans[0].end_us, 10_000_000)]
        assert recording.duration_us == 10_000_000 + recording.readers[1].duration_us
        assert recording.channel_in(1, 1, video=False) == 1
        assert [c.channel for c in recording.channels()] == [1]
        chat = [r.at_us for r in recording.events() if r.kind is RecordKind.CHAT]
        assert chat and chat[-1] >= 10_000_000  # the second segment's chat, shifted


def test_a_version_1_file_is_read_as_segment_1(tmp_path: Path, master_key: bytes) -> None:
    data_key = new_data_key()
    header = FileHeader(
        NUMBER,
        0,
        secrets.token_bytes(16),
        master_key_id(master_key),
        wrap_data_key(master_key, data_key),
        version=1,
    )
    head = header.pack()
    assert len(head) == FILE_HEADER_SIZE_V1 < FILE_HEADER_SIZE
    path = tmp_path / "v1.sdrec"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, head)
    writer = RecordingWriter(fd, path, header, head, data_key, START)
    writer.record(RecordKind.CHAT, 0, b'{"text":"hallo"}', START)
    final = writer.close(START + timedelta(seconds=1))
    report = verify(path, master_key, final)
    assert report.ok and report.segment == 1 and report.previous_hash == NO_LINK
    with RecordingReader(path, master_key) as reader:
        assert reader.header.version == 1
        assert [r.payload for r in reader.records()] == [b'{"text":"hallo"}']


def test_header_links_are_checked() -> None:
    with pytest.raises(ValueError):
        FileHeader(NUMBER, 0, bytes(16), bytes(8), bytes(40), segment=1, previous_hash=H1).pack()
    with pytest.raises(ValueError):
        FileHeader(NUMBER, 0, bytes(16), bytes(8), bytes(40), version=1, segment=2).pack()
    packed = FileHeader(NUMBER, 0, bytes(16), bytes(8), bytes(40), segment=3, previous_hash=H2)
    parsed = FileHeader.parse(packed.pack())
    assert (parsed.segment, parsed.previous_hash, parsed.size) == (3, H2, FILE_HEADER_SIZE)
