"""The recordings back office: list, verify, export, hold, purge and open — each audited.

One place for what the ``supportdesk recordings`` commands, the server's daily
purge and the auditor's player page do with stored recordings, so the three agree
on what is checked and what goes into the audit trail. File work (decrypting,
hashing, encoding video, destroying) runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.config import Settings
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.recording import RecordingReader, VerificationReport, verify
from supportdesk.recording.export import ExportResult, Progress, export_mp4
from supportdesk.recording.reader import Problem
from supportdesk.recording.retention import RecordingOnFile, Verdict, decide, purge
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.recordings import (
    RecordingEntry,
    Recordings,
    RecordingState,
    UnknownRecording,
)

__all__ = [
    "FINISHED_EVENTS",
    "MIN_REASON_LENGTH",
    "Check",
    "CheckOutcome",
    "PurgeOutcome",
    "RecordingArchive",
    "RecordingGone",
    "UnknownRecording",
]

# The relay's audit entry at the end of a recorded session carries the final hash.
FINISHED_EVENTS = ("recording_finished",)
MIN_REASON_LENGTH = 10

MasterKey = Callable[[], bytes]


class RecordingGone(LookupError):
    """The recording was purged, or its file is missing."""


class Check(Enum):
    """What ``verify`` concluded about one recording, worst last."""

    INTACT = "intact"
    UNFINISHED = "intact so far, not finished"
    PURGED = "purged"
    NOT_AUDITED = "no final hash in the audit trail"
    REGISTER_MISMATCH = "the register's final hash differs from the audit trail"
    MISSING = "file missing"
    DAMAGED = "damaged"
    WRONG_MASTER_KEY = "wrong master key"

    @property
    def ok(self) -> bool:
        return self in (Check.INTACT, Check.UNFINISHED, Check.PURGED)


@dataclass(frozen=True)
class CheckOutcome:
    entry: RecordingEntry
    check: Check
    audited_hash: str | None
    report: VerificationReport | None
    detail: str

    def audit_data(self) -> dict[str, object]:
        data: dict[str, object] = {"result": self.check.name.lower(), "detail": self.detail}
        if self.report is not None:
            data["chunks_ok"] = self.report.chunks_ok
            data["first_bad_chunk"] = self.report.first_bad_chunk
        return data


@dataclass(frozen=True)
class PurgeOutcome:
    consultation_number: str
    verdict: Verdict
    destroyed: bool
    error: str | None


class RecordingArchive:
    """Stored recordings, their register and the audit trail, for one caller."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        audit: AuditLog,
        directory: Path,
        master_key: MasterKey,
        retention: timedelta,
        longest_session: timedelta = timedelta(hours=10),
    ) -> None:
        self._sessions = sessions
        self._audit = audit
        self.directory = directory
        self._master_key = master_key
        self.retention = retention
        self.longest_session = longest_session

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession], audit: AuditLog
    ) -> RecordingArchive:
        config = settings.recording
        return cls(
            sessions,
            audit,
            config.directory,
            config.master_key_bytes,
            timedelta(days=config.retention_days),
            timedelta(minutes=settings.security.session_max_minutes),
        )

    # -- reading the register -------------------------------------------------------

    async def list(self, *, include_purged: bool = True) -> builtins.list[RecordingEntry]:
        async with self._sessions() as db:
            return await Recordings(db).list(include_purged=include_purged)

    async def get(self, number: str) -> RecordingEntry:
        async with self._sessions() as db:
            return await Recordings(db).require(number)

    async def audited_final_hash(self, number: str) -> str | None:
        """The final hash the relay wrote into the audit trail at the session's end."""
        found = None
        for entry in await self._audit.for_subject(number):
            if entry.event_type in FINISHED_EVENTS and entry.data.get("final_hash"):
                found = str(entry.data["final_hash"])
        return found

    def path_of(self, entry: RecordingEntry) -> Path:
        return entry.path(self.directory)

    # -- verify ---------------------------------------------------------------------

    async def check(self, number: str) -> CheckOutcome:
        """Every chunk, the chain, and the end of the chain against the audit trail."""
        entry = await self.get(number)
        audited = await self.audited_final_hash(number)
        if entry.state is RecordingState.PURGED:
            return CheckOutcome(entry, Check.PURGED, audited, None, "purged, nothing to check")
        path = self.path_of(entry)
        if not path.exists():
            return CheckOutcome(entry, Check.MISSING, audited, None, f"{path} does not exist")
        if audited and entry.final_hash and audited != entry.final_hash:
            return CheckOutcome(
                entry,
                Check.REGISTER_MISMATCH,
                audited,
                None,
                f"audit trail {audited[:16]}…, register {entry.final_hash[:16]}…",
            )
        key = self._master_key()
        report = await asyncio.to_thread(verify, path, key, audited)
        if report.problem is Problem.WRONG_MASTER_KEY:
            return CheckOutcome(entry, Check.WRONG_MASTER_KEY, audited, report, report.detail)
        if report.problem is not None:
            if report.problem is Problem.TRUNCATED and entry.ended_at is None and not audited:
                # A recording whose writer died (crash, SIGKILL) ends in a partial chunk.
                return CheckOutcome(entry, Check.UNFINISHED, audited, report, _describe(report))
            return CheckOutcome(entry, Check.DAMAGED, audited, report, _describe(report))
        if report.consultation_number != entry.consultation_number:
            detail = f"the file belongs to consultation {report.consultation_number}"
            return CheckOutcome(entry, Check.DAMAGED, audited, report, detail)
        if audited is None:
            if entry.ended_at is None:
                return CheckOutcome(entry, Check.UNFINISHED, None, report, _describe(report))
            return CheckOutcome(
                entry, Check.NOT_AUDITED, None, report, "the session ended without an audited hash"
            )
        return CheckOutcome(entry, Check.INTACT, audited, report, _describe(report))

    async def verify(self, number: str, actor: str, now: datetime) -> CheckOutcome:
        outcome = await self.check(number)
        await self._audit.record(
            AuditRecord(now, "recording_verified", actor, number, outcome.audit_data())
        )
        return outcome

    # -- export ---------------------------------------------------------------------

    async def export(
        self,
        number: str,
        out: Path,
        actor: str,
        now: datetime,
        *,
        channel: int | None = None,
        progress: Progress | None = None,
    ) -> ExportResult:
        """Render a channel (default: the first screen channel) to MP4; audited once done.

        A browser's recorded video is remuxed (or re-encoded where MP4 cannot hold it).
        """
        entry = await self.readable(number)
        key = self._master_key()

        def run() -> tuple[int, ExportResult]:
            with RecordingReader(self.path_of(entry), key) as reader:
                chosen = channel
                if chosen is None:
                    channels = sorted(reader.index.channel_starts)
                    chosen = channels[0] if channels else 1
                return chosen, export_mp4(reader, chosen, out, progress=progress)

        chosen, result = await asyncio.to_thread(run)
        await self._audit.record(
            AuditRecord(
                now,
                "recording_exported",
                actor,
                number,
                {
                    "channel": chosen,
                    "file": out.name,
                    "frames": result.frames,
                    "method": result.method,
                },
            )
        )
        return result

    # -- legal hold -----------------------------------------------------------------

    async def set_hold(self, number: str, hold: bool, actor: str, now: datetime) -> None:
        async with self._audit.work() as work:
            await Recordings(work.session).set_hold(number, hold)
            await work.record(AuditRecord(now, "recording_hold", actor, number, {"hold": hold}))

    # -- purge ----------------------------------------------------------------------

    async def purge(self, actor: str, now: datetime) -> builtins.list[PurgeOutcome]:
        """Destroy every recording past retention without a hold; one audit entry each."""
        entries = await self.list(include_purged=False)
        on_file = [
            RecordingOnFile(
                e.consultation_number, self.path_of(e), self._ended(e, now), e.legal_hold
            )
            for e in entries
        ]
        decisions = decide(on_file, now, self.retention)
        results = await asyncio.to_thread(purge, decisions)
        outcomes: builtins.list[PurgeOutcome] = []
        for result in results:
            number = result.recording.consultation_number
            async with self._audit.work() as work:
                if result.error is None:
                    await Recordings(work.session).mark_purged(number, now)
                data: dict[str, object] = {
                    "ended_at": _iso(result.recording.ended_at),
                    "retention_days": self.retention.days,
                    "file_found": result.destroyed,
                }
                if result.error is not None:
                    data["error"] = result.error
                event = "recording_purged" if result.error is None else "recording_purge_failed"
                await work.record(AuditRecord(now, event, actor, number, data))
            outcomes.append(PurgeOutcome(number, Verdict.PURGE, result.destroyed, result.error))
        outcomes.extend(
            PurgeOutcome(d.recording.consultation_number, d.verdict, False, None)
            for d in decisions
            if not d.purge
        )
        return outcomes

    def _ended(self, entry: RecordingEntry, now: datetime) -> datetime | None:
        """The end, or for a recording never finished (its server died) the latest
        moment its session can have ended: sessions end by themselves after the
        longest session time. A live recording is never purged."""
        if entry.ended_at is not None:
            return entry.ended_at
        latest = entry.started_at + self.longest_session
        return latest if latest <= now else None

    # -- playback -------------------------------------------------------------------

    async def open_for_playback(
        self, number: str, reason: str, actor: str, now: datetime
    ) -> RecordingEntry:
        """Record that ``actor`` opens the recording and why; the player may then stream it."""
        reason = reason.strip()
        if len(reason) < MIN_REASON_LENGTH:
            raise ValueError(f"the reason must be at least {MIN_REASON_LENGTH} characters")
        entry = await self.readable(number)
        await self._audit.record(
            AuditRecord(now, "recording_opened", actor, number, {"reason": reason})
        )
        return entry

    def open_reader(self, entry: RecordingEntry) -> RecordingReader:
        return RecordingReader(self.path_of(entry), self._master_key())

    async def readable(self, number: str) -> RecordingEntry:
        entry = await self.get(number)
        if entry.state is RecordingState.PURGED:
            raise RecordingGone(f"the recording of {number} was purged")
        if not self.path_of(entry).exists():
            raise RecordingGone(f"the recording of {number} is missing: {self.path_of(entry)}")
        return entry


def _describe(report: VerificationReport) -> str:
    seconds = report.duration_us / 1e6
    if report.problem is None:
        return f"{report.chunks_ok} chunks, {report.records} records, {seconds:.1f} s"
    where = f" at chunk {report.first_bad_chunk}" if report.first_bad_chunk is not None else ""
    detail = "" if report.detail == report.problem.value else f": {report.detail}"
    return f"{report.problem.value}{where}{detail} ({report.chunks_ok} chunks good)"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
