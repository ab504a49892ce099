"""Retention: which recordings to purge (pure), and the shell that purges them.

A recording is purged when its session ended more than the retention period ago
(default 90 days) and no legal hold is on it. Recordings of sessions still live
(no end time) are never purged. The caller audits every purge; the decisions carry
the reason for the audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from .erasure import destroy

__all__ = [
    "DEFAULT_RETENTION",
    "PurgeResult",
    "RecordingOnFile",
    "RetentionDecision",
    "Verdict",
    "decide",
    "purge",
]

DEFAULT_RETENTION = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class RecordingOnFile:
    """What retention needs to know about one recording (from the store)."""

    consultation_number: str
    path: Path
    ended_at: datetime | None
    legal_hold: bool = False
    more_paths: tuple[Path, ...] = ()
    """The files of its later segments (a session taken over by another node)."""

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.path, *self.more_paths)


class Verdict(Enum):
    PURGE = "purge"
    KEEP_WITHIN_RETENTION = "within retention period"
    KEEP_LEGAL_HOLD = "legal hold"
    KEEP_LIVE = "session not ended"


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    recording: RecordingOnFile
    verdict: Verdict
    expires_at: datetime | None

    @property
    def purge(self) -> bool:
        return self.verdict is Verdict.PURGE


def decide(
    recordings: Iterable[RecordingOnFile],
    now: datetime,
    retention: timedelta = DEFAULT_RETENTION,
) -> list[RetentionDecision]:
    """One decision per recording; a legal hold wins over an expired period."""
    if retention <= timedelta(0):
        raise ValueError("the retention period must be positive")
    out: list[RetentionDecision] = []
    for rec in recordings:
        if rec.ended_at is None:
            out.append(RetentionDecision(rec, Verdict.KEEP_LIVE, None))
            continue
        expires = rec.ended_at + retention
        if rec.legal_hold:
            verdict = Verdict.KEEP_LEGAL_HOLD
        elif now >= expires:
            verdict = Verdict.PURGE
        else:
            verdict = Verdict.KEEP_WITHIN_RETENTION
        out.append(RetentionDecision(rec, verdict, expires))
    return out


@dataclass(frozen=True, slots=True)
class PurgeResult:
    recording: RecordingOnFile
    destroyed: bool
    """False if the file was already gone (purge is idempotent)."""
    error: str | None = None


def purge(decisions: Iterable[RetentionDecision]) -> list[PurgeResult]:
    """Destroy key and file of every recording decided PURGE (all its segments); errors
    are reported, not raised."""
    results: list[PurgeResult] = []
    for decision in decisions:
        if not decision.purge:
            continue
        destroyed, errors = False, []
        for path in decision.recording.paths:  # every segment, even after one failed
            try:
                destroyed = destroy(path) or destroyed
            except OSError as exc:
                errors.append(f"{path.name}: {exc}" if decision.recording.more_paths else str(exc))
        results.append(PurgeResult(decision.recording, destroyed, "; ".join(errors) or None))
    return results
