"""Retention: purge decisions (legal hold, live sessions, the period) and the purge shell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportdesk.recording import RecordingDestroyed, RecordingReader
from supportdesk.recording.retention import (
    DEFAULT_RETENTION,
    RecordingOnFile,
    Verdict,
    decide,
    purge,
)

from .test_round_trip import write_sample

NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


def rec(number: str, ended_days_ago: float | None, hold: bool = False) -> RecordingOnFile:
    ended = None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago)
    return RecordingOnFile(number, Path(f"/nowhere/{number}.sdrec"), ended, hold)


def test_decisions() -> None:
    recordings = [
        rec("old", 91),
        rec("exactly", 90),
        rec("young", 89.9),
        rec("held", 400, hold=True),
        rec("live", None),
    ]
    verdicts = {d.recording.consultation_number: d.verdict for d in decide(recordings, NOW)}
    assert verdicts == {
        "old": Verdict.PURGE,
        "exactly": Verdict.PURGE,
        "young": Verdict.KEEP_WITHIN_RETENTION,
        "held": Verdict.KEEP_LEGAL_HOLD,
        "live": Verdict.KEEP_LIVE,
    }
    assert timedelta(days=90) == DEFAULT_RETENTION


def test_configured_period_and_expiry() -> None:
    (decision,) = decide([rec("a", 10)], NOW, retention=timedelta(days=7))
    assert decision.purge
    assert decision.expires_at == NOW - timedelta(days=3)
    with pytest.raises(ValueError):
        decide([], NOW, retention=timedelta(0))


def test_purge_destroys_key_and_file_and_keeps_the_rest(tmp_path: Path, master_key: bytes) -> None:
    old, held = tmp_path / "old.sdrec", tmp_path / "held.sdrec"
    write_sample(old, master_key, seconds=1)
    write_sample(held, master_key, seconds=1)
    decisions = decide(
        [
            RecordingOnFile("old", old, NOW - timedelta(days=100)),
            RecordingOnFile("held", held, NOW - timedelta(days=100), legal_hold=True),
            RecordingOnFile("gone", tmp_path / "gone.sdrec", NOW - timedelta(days=100)),
        ],
        NOW,
    )
    results = purge(decisions)
    assert [(r.recording.consultation_number, r.destroyed, r.error) for r in results] == [
        ("old", True, None),
        ("gone", False, None),
    ]
    assert not old.exists()
    with RecordingReader(held, master_key) as reader:
        assert list(reader.records())


def test_destroy_of_a_file_still_open_for_reading(tmp_path: Path, master_key: bytes) -> None:
    from supportdesk.recording import destroy

    path = tmp_path / "r.sdrec"
    write_sample(path, master_key, seconds=1)
    with open(path, "rb") as still_open:
        destroy(path)
        data = still_open.read()
    copy = tmp_path / "c.sdrec"
    copy.write_bytes(data)
    with pytest.raises(RecordingDestroyed):
        RecordingReader(copy, master_key)
