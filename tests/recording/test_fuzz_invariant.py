"""Invariant: a damaged file is read or rejected with a RecordingError; verify never raises."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.recording import RecordingError, RecordingReader, verify
from supportdesk.recording.video_format import (
    encode_video_config,
    parse_video_chunk,
    parse_video_config,
)

from .test_round_trip import write_sample


@pytest.fixture(scope="module")
def sample(master_key: bytes) -> bytes:
    path = Path(tempfile.mkdtemp()) / "r.sdrec"
    write_sample(path, master_key, seconds=2)
    return path.read_bytes()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), max_size=3),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_damaged_files(
    sample: bytes, master_key: bytes, flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(sample)
    flipped = {offset % len(data): mask for offset, mask in flips}  # no flip undoes another
    for offset, mask in flipped.items():
        data[offset] ^= mask
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    path = Path(tempfile.mkdtemp()) / "r.sdrec"
    path.write_bytes(bytes(data))
    report = verify(path, master_key)
    if flips and cut is None:
        assert not report.ok, flipped  # every byte of a recording is covered by a tag or the chain
    try:
        with RecordingReader(path, master_key) as reader:
            records = list(reader.records())
    except RecordingError:
        assert not report.ok
    else:
        if report.ok or report.truncated:
            assert len(records) == report.records


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=64))
def test_video_payloads_parse_or_raise_value_error(payload: bytes) -> None:
    """Invariant: a VIDEO or VIDEO_CONFIG payload is accepted, or refused with ValueError."""
    for parse in (parse_video_chunk, parse_video_config):
        with contextlib.suppress(ValueError):
            parse(payload)


@settings(max_examples=200, deadline=None)
@given(
    config=st.dictionaries(
        st.sampled_from(["codec", "width", "height", "x"]),
        st.one_of(st.text(max_size=70), st.integers(-5, 20_000), st.booleans(), st.none()),
    )
)
def test_video_configs_round_trip_or_raise_value_error(config: dict[str, object]) -> None:
    try:
        payload = encode_video_config(config)
    except ValueError:
        return
    parsed = parse_video_config(payload)
    assert parsed.as_message() == {k: config[k] for k in ("codec", "width", "height")}
