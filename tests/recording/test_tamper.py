"""Tampering and damage: verify names the first bad chunk; a truncated tail still reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from supportdesk.recording import ChunkInvalid, RecordingReader, verify
from supportdesk.recording.format import CHUNK_HEADER_SIZE
from supportdesk.recording.reader import Problem

from .test_round_trip import write_sample


@pytest.fixture
def sample(tmp_path: Path, master_key: bytes) -> tuple[Path, str]:
    path = tmp_path / "r.sdrec"
    _, final = write_sample(path, master_key, seconds=5)
    return path, final


def chunk_offsets(path: Path, key: bytes) -> list[tuple[int, int]]:
    with RecordingReader(path, key) as reader:
        return [(e.offset, e.end) for e in reader.index.entries]


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("where", ["body", "tag", "header-time"])
def test_one_flipped_byte_is_named_by_its_chunk(
    sample: tuple[Path, str], master_key: bytes, where: str
) -> None:
    path, _ = sample
    chunks = chunk_offsets(path, master_key)
    start, end = chunks[3]
    offset = {
        "body": start + CHUNK_HEADER_SIZE + 5,
        "tag": end - 1,
        "header-time": start + 23,  # first_us, low byte: authenticated as associated data
    }[where]
    flip(path, offset)
    report = verify(path, master_key)
    assert report.problem is Problem.TAG_MISMATCH
    assert report.first_bad_chunk == 3
    assert report.chunks_ok == 3
    with RecordingReader(path, master_key) as reader:
        assert len(reader.read_chunk(2)) > 0  # the others still read
        with pytest.raises(ChunkInvalid) as caught:
            list(reader.records())
        assert caught.value.sequence == 3


def test_edited_previous_hash_breaks_the_chain(sample: tuple[Path, str], master_key: bytes) -> None:
    path, _ = sample
    start, _ = chunk_offsets(path, master_key)[4]
    flip(path, start + 60)  # inside prev_hash
    report = verify(path, master_key)
    assert report.problem is Problem.CHAIN_BROKEN and report.first_bad_chunk == 4


def test_edited_file_header_breaks_the_chain_at_chunk_zero(
    sample: tuple[Path, str], master_key: bytes
) -> None:
    path, _ = sample
    data = bytearray(path.read_bytes())
    data[99:118] = b"BN-2026-0000-0000-0"  # another consultation number
    path.write_bytes(bytes(data))
    report = verify(path, master_key)
    assert report.problem is Problem.CHAIN_BROKEN and report.first_bad_chunk == 0


def test_removed_chunk_is_found(sample: tuple[Path, str], master_key: bytes) -> None:
    path, _ = sample
    chunks = chunk_offsets(path, master_key)
    data = path.read_bytes()
    start, end = chunks[2]
    path.write_bytes(data[:start] + data[end:])
    report = verify(path, master_key)
    assert report.problem is Problem.BAD_CHUNK_HEADER and report.first_bad_chunk == 2


def test_truncated_tail_reads_up_to_the_last_complete_chunk(
    sample: tuple[Path, str], master_key: bytes
) -> None:
    path, _ = sample
    chunks = chunk_offsets(path, master_key)
    start, end = chunks[-2]
    with RecordingReader(path, master_key) as reader:
        expected = [
            r for r in reader.records() if r.at_us <= reader.index.entries[-3].header.last_us
        ]
    path.write_bytes(path.read_bytes()[: start + (end - start) // 2])  # mid-chunk
    with RecordingReader(path, master_key) as reader:
        assert reader.truncated and not reader.closed_cleanly
        assert reader.truncated_at == start
        assert list(reader.records()) == expected
    report = verify(path, master_key)
    assert report.problem is Problem.TRUNCATED
    assert report.first_bad_chunk == len(chunks) - 2
    assert report.records == len(expected)


def test_truncated_inside_a_chunk_header(sample: tuple[Path, str], master_key: bytes) -> None:
    path, _ = sample
    start, _ = chunk_offsets(path, master_key)[-1]
    path.write_bytes(path.read_bytes()[: start + 10])
    report = verify(path, master_key)
    assert report.truncated and report.first_bad_chunk == len(chunk_offsets(path, master_key))


def test_cut_at_a_chunk_boundary_is_caught_by_the_audited_hash(
    sample: tuple[Path, str], master_key: bytes
) -> None:
    path, final = sample
    start, _ = chunk_offsets(path, master_key)[-2]
    path.write_bytes(path.read_bytes()[:start])
    plain = verify(path, master_key)
    assert plain.ok and not plain.closed_cleanly  # looks like a crash, not like tampering
    audited = verify(path, master_key, expected_final_hash=final)
    assert audited.problem is Problem.FINAL_HASH_MISMATCH


def test_not_a_recording(tmp_path: Path, master_key: bytes) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"hello" * 100)
    assert verify(path, master_key).problem is Problem.NOT_A_RECORDING
