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
from supportdesk.recording import VerificationReport, verify
from supportdesk.recording.export import ExportResult, Progress
from supportdesk.recording.reader import Problem
from supportdesk.recording.retention import RecordingOnFile, Verdict, decide, purge
from supportdesk.recording.segment_export import export_segments
from supportdesk.recording.segmented import SegmentedRecording
from supportdesk.recording.segments import SegmentFacts, check_links
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.recordings import (
    RecordingEntry,
    Recordings,
    RecordingState,
    SegmentEntry,
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

# The relay's audit entries at the end of a segment carry its final hash: finished
# cleanly, or closed by the node that took the session over (its writer had died).
FINISHED_EVENTS = ("recording_finished", "recording_interrupted")
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
    """The audited final hash of the segment the outcome is about (the last if all fine)."""
    report: VerificationReport | None
    """The report of that segment (None if it was not read)."""
    detail: str
    segment: int | None = None
    """The segment that fails (None when the outcome is about the whole)."""
    reports: tuple[VerificationReport, ...] = ()
    """Every segment's report, in order, as far as they were read."""

    def audit_data(self) -> dict[str, object]:
        data: dict[str, object] = {"result": self.check.name.lower(), "detail": self.detail}
        if self.report is not None:
            data["chunks_ok"] = self.report.chunks_ok
            data["first_bad_chunk"] = self.report.first_bad_chunk
        if len(self.entry.segments) > 1:
            data["segments"] = len(self.entry.segments)
            data["segment"] = self.segment
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
        """The final hash of the last segment in the audit trail (the end of the chain)."""
        hashes = await self.audited_hashes(number)
        return hashes[max(hashes)] if hashes else None

    async def audited_hashes(self, number: str) -> dict[int, str]:
        """Segment -> the final hash the relay wrote into the audit trail at its end."""
        found: dict[int, str] = {}
        for entry in await self._audit.for_subject(number):
            if entry.event_type in FINISHED_EVENTS and entry.data.get("final_hash"):
                segment = entry.data.get("segment", 1)
                found[segment if isinstance(segment, int) else 1] = str(entry.data["final_hash"])
        return found

    def path_of(self, entry: RecordingEntry) -> Path:
        return entry.path(self.directory)

    def paths_of(self, entry: RecordingEntry) -> builtins.list[Path]:
        """Every segment's file, in order."""
        return [s.path(self.directory) for s in entry.segments]

    # -- verify ---------------------------------------------------------------------

    async def check(self, number: str) -> CheckOutcome:
        """Every segment: each chunk, the chain, its end against the audit trail; then
        the links between the segments."""
        entry = await self.get(number)
        audited = await self.audited_hashes(number)
        if entry.state is RecordingState.PURGED:
            last = audited.get(entry.last.segment)
            return CheckOutcome(entry, Check.PURGED, last, None, "purged, nothing to check")
        key = self._master_key()
        reports: list[VerificationReport] = []
        facts: list[SegmentFacts] = []
        multi = len(entry.segments) > 1
        for position, segment in enumerate(entry.segments):
            is_last = position == len(entry.segments) - 1
            outcome = await self._check_segment(entry, segment, audited, key, is_last, reports)
            if outcome is not None:
                return outcome
            report = reports[-1]
            assert report.final_hash is not None
            final_hash = bytes.fromhex(report.final_hash)
            facts.append(SegmentFacts(segment.segment, report.previous_hash, final_hash))
        problem = check_links(facts)
        if problem is not None:
            at = min(problem.segment, len(reports)) - 1
            return CheckOutcome(
                entry,
                Check.DAMAGED,
                audited.get(problem.segment),
                reports[at],
                problem.detail,
                problem.segment,
                tuple(reports),
            )
        final = reports[-1]
        if final.problem is Problem.TRUNCATED:
            label = f"segment {entry.last.segment}: " if multi else ""
            return CheckOutcome(
                entry, Check.UNFINISHED, None, final, label + _describe(final), None, tuple(reports)
            )
        if entry.ended_at is None or entry.last.segment not in audited:
            check = Check.UNFINISHED if entry.ended_at is None else Check.NOT_AUDITED
            detail = (
                _describe_all(reports)
                if check is Check.UNFINISHED
                else "the session ended without an audited hash"
            )
            return CheckOutcome(entry, check, None, final, detail, None, tuple(reports))
        detail = _describe_all(reports) if multi else _describe(final)
        return CheckOutcome(
            entry, Check.INTACT, audited[entry.last.segment], final, detail, None, tuple(reports)
        )

    async def _check_segment(
        self,
        entry: RecordingEntry,
        segment: SegmentEntry,
        audited_hashes: dict[int, str],
        key: bytes,
        is_last: bool,
        reports: builtins.list[VerificationReport],
    ) -> CheckOutcome | None:
        """One segment's checks; appends its report, or returns what fails."""
        label = f"segment {segment.segment}: " if len(entry.segments) > 1 else ""
        audited = audited_hashes.get(segment.segment)

        def fail(check: Check, detail: str, report: VerificationReport | None) -> CheckOutcome:
            return CheckOutcome(
                entry, check, audited, report, label + detail, segment.segment, tuple(reports)
            )

        path = segment.path(self.directory)
        if not await asyncio.to_thread(path.exists):
            return fail(Check.MISSING, f"{path} does not exist", None)
        if audited and segment.final_hash and audited != segment.final_hash:
            detail = f"audit trail {audited[:16]}…, register {segment.final_hash[:16]}…"
            return fail(Check.REGISTER_MISMATCH, detail, None)
        report = await asyncio.to_thread(verify, path, key, audited)
        if report.problem is Problem.WRONG_MASTER_KEY:
            return fail(Check.WRONG_MASTER_KEY, report.detail, report)
        reports.append(report)
        if report.problem is not None:
            unfinished = segment.ended_at is None and not audited and is_last
            if report.problem is Problem.TRUNCATED and unfinished:
                # A recording whose writer died (crash, SIGKILL) ends in a partial chunk:
                # unfinished, once the links to the segments before it hold.
                return None
            return fail(Check.DAMAGED, _describe(report), report)
        if report.consultation_number != entry.consultation_number:
            detail = f"the file belongs to consultation {report.consultation_number}"
            return fail(Check.DAMAGED, detail, report)
        if report.segment != segment.segment:
            detail = f"the file is segment {report.segment}, registered as {segment.segment}"
            return fail(Check.DAMAGED, detail, report)
        if audited is None and not is_last:
            return fail(Check.NOT_AUDITED, "the segment ended without an audited hash", report)
        if (
            segment.previous_hash is not None
            and report.previous_hash.hex() != segment.previous_hash
        ):
            detail = "the file's link to the previous segment differs from the register"
            return fail(Check.DAMAGED, detail, report)
        return None

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
        Every segment is exported, in order, with its gaps (``ExportResult.gaps``).
        """
        entry = await self.readable(number)
        key = self._master_key()

        def run() -> tuple[int, ExportResult]:
            with SegmentedRecording.open(self.paths_of(entry), key) as recording:
                chosen = channel
                if chosen is None:
                    chosen = recording.first_channel() or 1
                return chosen, export_segments(recording, chosen, out, progress=progress)

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
                e.consultation_number,
                self.path_of(e),
                self._ended(e, now),
                e.legal_hold,
                tuple(self.paths_of(e)[1:]),
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
                if result.recording.more_paths:
                    data["segments"] = len(result.recording.paths)
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

    def open_recording(self, entry: RecordingEntry) -> SegmentedRecording:
        """Every segment open for reading, on one timeline (file work: use a thread)."""
        return SegmentedRecording.open(self.paths_of(entry), self._master_key())

    async def readable(self, number: str) -> RecordingEntry:
        entry = await self.get(number)
        if entry.state is RecordingState.PURGED:
            raise RecordingGone(f"the recording of {number} was purged")
        for path in self.paths_of(entry):
            if not await asyncio.to_thread(path.exists):
                raise RecordingGone(f"the recording of {number} is missing: {path}")
        return entry


def _describe(report: VerificationReport) -> str:
    seconds = report.duration_us / 1e6
    if report.problem is None:
        return f"{report.chunks_ok} chunks, {report.records} records, {seconds:.1f} s"
    where = f" at chunk {report.first_bad_chunk}" if report.first_bad_chunk is not None else ""
    detail = "" if report.detail == report.problem.value else f": {report.detail}"
    return f"{report.problem.value}{where}{detail} ({report.chunks_ok} chunks good)"


def _describe_all(reports: builtins.list[VerificationReport]) -> str:
    if len(reports) == 1:
        return _describe(reports[0])
    chunks = sum(r.chunks_ok for r in reports)
    records = sum(r.records for r in reports)
    return f"{len(reports)} segments, linked; {chunks} chunks, {records} records"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
