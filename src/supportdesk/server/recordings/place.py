"""Where and how every session's recording is written: one :class:`RecordingPlace` per server.

The folder, the master key the recordings are sealed with, the audit trail the
register lives in, the clocks, and the per-session limits from ``[recording]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from supportdesk.config import RecordingConfig
from supportdesk.recording.budget import MIB, BudgetLimits
from supportdesk.server.metrics.meters import Kept, Tally
from supportdesk.server.recordings.seek_points import SeekPointRule
from supportdesk.store.audit_log import AuditLog

KEYFRAME_INTERVAL = 10.0
"""Seconds between keyframe requests per RFB channel (at most 10 s: the issue's bound).
A browser's video channel follows :class:`SeekPointRule` instead."""
SEEK_TICK = 1.0
"""Seconds between checks whether a browser's video channel is due a seek point."""
RETRY_INTERVAL = 1.0
"""Seconds between attempts to create a recording that could not be created."""


@dataclass(frozen=True)
class RecordingPlace:
    """Where and how every session's recording is written (one per server)."""

    directory: Path
    master_key: bytes
    audit: AuditLog
    clock: Callable[[], datetime]
    keyframe_interval: float = KEYFRAME_INTERVAL
    seek_points: SeekPointRule = field(default_factory=SeekPointRule)
    seek_tick: float = SEEK_TICK
    retry_interval: float = RETRY_INTERVAL
    probe_interval: float = 1.0
    limits: BudgetLimits = field(default_factory=BudgetLimits)
    monotonic: Callable[[], float] = time.monotonic
    recorded: Tally = field(default_factory=Kept)
    """Bytes every session's recording kept (before encryption), for the metrics."""


def seek_point_rule(config: RecordingConfig) -> SeekPointRule:
    """How far apart a browser share's seek points may be, from ``[recording]``."""
    return SeekPointRule(config.video_seek_chunks, config.video_seek_seconds)


def recording_limits(config: RecordingConfig) -> BudgetLimits:
    """The per-session limits from the ``[recording]`` settings."""
    return BudgetLimits(
        quota_bytes=config.session_quota_mb * MIB,
        rate_bytes=config.max_mb_per_second * MIB,
        burst_bytes=config.burst_mb * MIB,
    )
