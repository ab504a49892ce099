"""The agent's side of one session's file transfers and diagnostics requests.

:class:`SessionFiles` holds the session's :class:`TransferEndpoint` (``Side.AGENT``),
its staging folder under the server's data directory, and the open diagnostics
requests. It does no network I/O: every call returns an :class:`Outbox` — control
messages for the applet, messages for the consoles, audit records and the transfer
events for the recording — and the relay sends them. Files the customer sends are
accepted at once (the customer approved them in the applet) and land atomically in
the staging folder; the agent's uploads wait there until their transfer ends. The
whole folder is removed when the session ends.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import secrets
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from supportdesk.config import Settings
from supportdesk.diagnostics.messages import (
    DiagnosticsReportMessage,
    DiagnosticsRequest,
    DiagnosticsWithheld,
    InvalidDiagnosticsMessage,
    parse_diagnostics_message,
)
from supportdesk.diagnostics.probe import Endpoint
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.session_actors import CUSTOMER_ACTOR
from supportdesk.domain.session_events import TERMINAL_STATES, SessionState
from supportdesk.transfer.endpoint import (
    FileTooLarge,
    Side,
    TransferEndpoint,
    TransferEvent,
    TransferLimits,
    UnknownTransfer,
)
from supportdesk.transfer.errors import InvalidMessage, LocalTransferError
from supportdesk.transfer.lifecycle import TERMINAL_STATES as TRANSFER_ENDS
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import CancelReason, Direction, TransferMessage
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource

log = logging.getLogger(__name__)

UPLOAD_PREFIX = ".upload-"
MAX_OPEN_REQUESTS = 4


@dataclass(frozen=True)
class FilesSetup:
    """What every session's files need from the configuration."""

    root: Path | None = None
    """Staging folders live under it, one per session; None: the system's temp folder."""
    limits: TransferLimits = field(default_factory=TransferLimits)
    endpoints: tuple[Endpoint, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> FilesSetup:
        return cls(
            root=settings.data_dir / "transfers",
            limits=TransferLimits(
                max_size=settings.transfer.max_size,
                max_active=settings.transfer.max_active,
                stall_seconds=settings.transfer.stall_seconds,
                answer_seconds=settings.transfer.answer_seconds,
            ),
            endpoints=tuple(
                Endpoint(e.kind, e.host, e.port) for e in settings.diagnostics.endpoints
            ),
        )


@dataclass
class Outbox:
    """What one step asks the relay to send and record."""

    to_applet: list[dict[str, Any]] = field(default_factory=list)
    to_consoles: list[dict[str, Any]] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)
    file_events: list[TransferEvent] = field(default_factory=list)

    def extend(self, other: Outbox) -> Outbox:
        self.to_applet += other.to_applet
        self.to_consoles += other.to_consoles
        self.audit += other.audit
        self.file_events += other.file_events
        return self


class FilesRefused(Exception):
    """The agent's request cannot be carried out; the message says why (for the console),
    ``status`` which HTTP status answers it."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    path: Path


class SessionFiles:
    def __init__(
        self,
        number: str,
        setup: FilesSetup,
        clock: Callable[[], datetime],
        agent_actor: str,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.number = number
        self.setup = setup
        self.clock = clock
        self.agent_actor = agent_actor
        self._new_id = new_id
        self.endpoint = TransferEndpoint(Side.AGENT, setup.limits, new_id)
        self.folder = DownloadFolder(
            (setup.root or Path(tempfile.gettempdir()) / "supportdesk-transfers")
            / "".join(c for c in number if c.isalnum())
        )
        self.received: dict[str, ReceivedFile] = {}
        self._uploads: dict[str, Path] = {}
        self._requests: dict[str, datetime] = {}
        self._closed = False

    # -- the agent's side -----------------------------------------------------------------

    def upload_path(self) -> Path:
        """A fresh temporary path in the staging folder for an upload to stream into."""
        if self._closed:
            raise FilesRefused("the session has ended")
        return self.folder.ensure() / f"{UPLOAD_PREFIX}{secrets.token_hex(8)}"

    def offer_upload(self, path: Path, name: str, size: int, sha256: str) -> tuple[str, Outbox]:
        """Offer the uploaded file at ``path`` to the customer; the file is removed when
        its transfer ends. Returns the transfer's id and what to send."""
        if self._closed:
            path.unlink(missing_ok=True)
            raise FilesRefused("the session has ended")
        try:
            messages = self.endpoint.offer(name, size, sha256, FileSource(path))
        except FileTooLarge as exc:
            path.unlink(missing_ok=True)
            raise FilesRefused(str(exc), 413) from None
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise FilesRefused(f"the upload could not be read: {exc}") from None
        transfer_id = messages[0].id
        self._uploads[transfer_id] = path
        return transfer_id, self._settle(messages)

    def cancel(self, transfer_id: str) -> Outbox:
        """The agent stops a transfer from the console."""
        return self._settle(self.endpoint.cancel(transfer_id, CancelReason.AGENT))

    def from_console(self, message: Mapping[str, Any], granted: frozenset[Capability]) -> Outbox:
        """``file_cancel`` or ``diagnostics_request`` from the agent's console."""
        kind = message.get("type")
        if kind == "file_cancel":
            return self.cancel(str(message.get("id", "")))
        if kind == "diagnostics_request":
            if Capability.DIAGNOSTICS not in granted:
                return Outbox(to_consoles=[{"type": "diagnostics", "state": "not_allowed"}])
            return self.request_diagnostics()
        return Outbox()

    def follow(self, state: SessionState, granted: frozenset[Capability]) -> Outbox:
        """The session changed: its end, a pause or a revoked grant stops the transfers."""
        if state in TERMINAL_STATES:
            return Outbox() if self._closed else self.close()
        if Capability.DIAGNOSTICS not in granted:
            self._requests.clear()  # a report arriving after the revoke is nobody's
        if Capability.FILE_TRANSFER not in granted:
            return self.stop(CancelReason.CAPABILITY_REVOKED)
        if state is SessionState.PAUSED:
            return self.stop(CancelReason.PAUSED)
        return Outbox()

    def request_diagnostics(self) -> Outbox:
        if len(self._requests) >= MAX_OPEN_REQUESTS:
            return Outbox(to_consoles=[{"type": "diagnostics", "state": "busy"}])
        now = self.clock()
        request = DiagnosticsRequest(self._new_id(), now, self.setup.endpoints)
        self._requests[request.id] = now
        audit = AuditRecord(
            now, "session.diagnostics_requested", self.agent_actor, self.number, {"id": request.id}
        )
        return Outbox(
            to_applet=[request.to_json()],
            to_consoles=[{"type": "diagnostics", "id": request.id, "state": "requested"}],
            audit=[audit],
        )

    # -- what the applet says -------------------------------------------------------------

    def from_applet(self, message: Mapping[str, Any], *, files_allowed: bool) -> Outbox:
        """One ``file_*`` control message from the applet."""
        if not files_allowed and message.get("type") == "file_offer":
            transfer_id = str(message.get("id", ""))[:64]
            return Outbox(
                to_applet=[
                    {
                        "type": "file_error",
                        "id": transfer_id,
                        "code": "not_allowed",
                        "detail": "file transfer is not granted",
                    }
                ]
            )
        try:
            answers = self.endpoint.receive(message)
        except InvalidMessage as exc:
            log.warning("dropped a file message: %s", exc, extra={"session": self.number})
            return Outbox()
        return self._settle(answers, progress=str(message.get("id", "")))

    def diagnostics_from_applet(self, message: Mapping[str, Any]) -> Outbox:
        """The customer's answer to a diagnostics request: the report, or withheld."""
        try:
            parsed = parse_diagnostics_message(message)
        except InvalidDiagnosticsMessage as exc:
            log.warning("dropped a diagnostics message: %s", exc, extra={"session": self.number})
            return Outbox()
        if isinstance(parsed, DiagnosticsRequest) or self._requests.pop(parsed.id, None) is None:
            return Outbox()  # nobody asked for it
        now = self.clock()
        if isinstance(parsed, DiagnosticsWithheld):
            return Outbox(
                to_consoles=[{"type": "diagnostics", "id": parsed.id, "state": "withheld"}],
                audit=[
                    AuditRecord(
                        now, "session.diagnostics_withheld", CUSTOMER_ACTOR, self.number,
                        {"id": parsed.id},
                    )
                ],
            )  # fmt: skip
        assert isinstance(parsed, DiagnosticsReportMessage)
        report = parsed.report
        return Outbox(
            to_consoles=[
                {
                    "type": "diagnostics",
                    "id": parsed.id,
                    "state": "sent",
                    "text": {
                        language: report.render_text(language, for_customer=False)
                        for language in ("de", "en")
                    },
                    "findings": len(report.findings),
                }
            ],
            audit=[
                AuditRecord(
                    now,
                    "session.diagnostics_sent",
                    CUSTOMER_ACTOR,
                    self.number,
                    {"id": parsed.id, "sections": [e.name for e in report.entries]},
                )
            ],
        )

    # -- the session's life ---------------------------------------------------------------

    @property
    def check_every(self) -> float:
        """Seconds between :meth:`expire` calls: often enough to keep the limits."""
        limits = self.setup.limits
        return min(5.0, limits.stall_seconds / 4, limits.answer_seconds / 4)

    def expire(self) -> Outbox:
        """Cancel transfers that stalled or whose offer went unanswered (reason
        ``timeout``); the relay calls this every few seconds."""
        return self._settle(self.endpoint.expire())

    def stop(self, reason: CancelReason) -> Outbox:
        """Cancel every running transfer (capability revoked, paused, session ended)."""
        return self._settle(self.endpoint.cancel_all(reason))

    def close(self) -> Outbox:
        """The session ended: cancel what runs and delete every file of the session."""
        outbox = self.stop(CancelReason.SESSION_ENDED)
        self._closed = True
        self._requests.clear()
        self.received.clear()
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder.path)
        return outbox

    def download(self, transfer_id: str) -> ReceivedFile | None:
        received = self.received.get(transfer_id)
        if received is None or not received.path.is_file():
            return None
        return received

    # -- internals ------------------------------------------------------------------------

    def _settle(self, messages: list[TransferMessage], progress: str = "") -> Outbox:
        """Send ``messages``, then what they set off: accept what the customer offers,
        pump chunks, turn events into console messages and audit records."""
        outbox = Outbox(to_applet=[m.to_json() for m in messages])
        # Accepting and pumping make new events and messages; a few rounds settle it.
        for _ in itertools.count():
            sent = [m.to_json() for m in self.endpoint.pump()]
            events = self.endpoint.events()
            outbox.to_applet += sent
            if not sent and not events:
                break
            for event in events:
                outbox.extend(self._on_event(event))
        transfer = self.endpoint.get(progress) if progress else None
        if transfer is not None and transfer.state is TransferState.TRANSFERRING:
            outbox.to_consoles.append(
                {"type": "file_progress", "id": transfer.id, "bytes_done": transfer.bytes_done}
            )
        return outbox

    def _on_event(self, event: TransferEvent) -> Outbox:
        outbox = Outbox(file_events=[event])
        if event.state is TransferState.OFFERED and event.direction is Direction.TO_AGENT:
            try:
                sink = self.folder.open_part(event.name)
                outbox.to_applet += [m.to_json() for m in self.endpoint.accept(event.id, sink)]
            except UnknownTransfer:
                pass
            except (OSError, LocalTransferError) as exc:
                log.warning("cannot receive a file: %s", exc, extra={"session": self.number})
                outbox.to_applet += [
                    m.to_json() for m in self.endpoint.cancel(event.id, CancelReason.AGENT)
                ]
        download = None
        if event.state is TransferState.DONE and event.direction is Direction.TO_AGENT:
            stored = event.final_name or event.name
            self.received[event.id] = ReceivedFile(event.name, self.folder.path / stored)
            download = f"/console/sessions/{self.number}/files/{event.id}"
        outbox.to_consoles.append(
            {
                "type": "file",
                "id": event.id,
                "direction": event.direction.value,
                "name": event.name,
                "size": event.size,
                "sha256": event.sha256,
                "state": event.state.value,
                "bytes_done": event.bytes_done,
                "outcome": event.outcome,
                "download": download,
            }
        )
        if event.state in TRANSFER_ENDS:
            upload = self._uploads.pop(event.id, None)
            if upload is not None:
                upload.unlink(missing_ok=True)
            actor = self.agent_actor if event.direction is Direction.TO_CUSTOMER else CUSTOMER_ACTOR
            outbox.audit.append(
                AuditRecord(
                    self.clock(), "session.file_transfer", actor, self.number, event.audit_data()
                )
            )
        return outbox
