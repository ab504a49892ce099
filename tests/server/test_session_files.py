"""The agent's side of a session's files and diagnostics, fed messages, no sockets: the
customer's side is the real customer endpoint, the folders are real folders."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportdesk.diagnostics.messages import DiagnosticsReportMessage, DiagnosticsWithheld
from supportdesk.diagnostics.probe import Endpoint, Label, ProbeStatus
from supportdesk.diagnostics.report import DiagnosticsReport, ReportEntry
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.session_events import SessionState
from supportdesk.server.relay.session_files import (
    FilesRefused,
    FilesSetup,
    Outbox,
    SessionFiles,
)
from supportdesk.transfer.endpoint import Side, TransferEndpoint, TransferLimits
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource, hash_file

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ALL = frozenset(Capability)
AGENT = "agent:anna"


def files_for(tmp_path: Path, **limits: Any) -> SessionFiles:
    setup = FilesSetup(
        tmp_path / "server", TransferLimits(**limits), (Endpoint("fints", "fints.example.de"),)
    )
    return SessionFiles("2026-1103-0001", setup, lambda: NOW, AGENT)


class Customer:
    """The applet's endpoint and folder, answering what the server sends."""

    def __init__(self, folder: Path) -> None:
        self.endpoint = TransferEndpoint(Side.CUSTOMER)
        self.folder = DownloadFolder(folder)
        self.outbox: list[dict[str, Any]] = []

    def take(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self.outbox += [m.to_json() for m in self.endpoint.receive(message)]

    def pump(self) -> None:
        self.outbox += [m.to_json() for m in self.endpoint.pump()]


def exchange(files: SessionFiles, customer: Customer, first: Outbox) -> list[dict[str, Any]]:
    """Carry messages both ways until both sides are quiet; returns the console's view."""
    consoles = list(first.to_consoles)
    audit = list(first.audit)
    customer.take(first.to_applet)
    while customer.outbox:
        pending, customer.outbox = customer.outbox, []
        for message in pending:
            outbox = files.from_applet(message, files_allowed=True)
            consoles += outbox.to_consoles
            audit += outbox.audit
            customer.take(outbox.to_applet)
        customer.pump()
    consoles.append({"type": "audit", "records": audit})
    return consoles


def upload(files: SessionFiles, content: bytes, name: str) -> tuple[str, Outbox]:
    path = files.upload_path()
    path.write_bytes(content)
    return files.offer_upload(path, name, len(content), hashlib.sha256(content).hexdigest())


def test_an_agent_file_reaches_the_customer_after_the_yes_and_is_audited(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    customer = Customer(tmp_path / "Fernwartung-Dateien")
    content = bytes(range(256)) * 1000  # several chunks
    transfer_id, outbox = upload(files, content, "Anleitung.pdf")
    customer.take(outbox.to_applet)
    [offered] = customer.endpoint.events()
    assert offered.name == "Anleitung.pdf" and offered.size == len(content)

    accepted = customer.endpoint.accept(transfer_id, customer.folder.open_part(offered.name))
    customer.outbox = [m.to_json() for m in accepted]
    consoles = exchange(files, customer, Outbox())

    assert (customer.folder.path / "Anleitung.pdf").read_bytes() == content
    done = [m for m in consoles if m.get("type") == "file" and m["state"] == "done"]
    assert done and done[0]["direction"] == "to_customer" and done[0]["download"] is None
    [record] = consoles[-1]["records"]
    assert record.event_type == "session.file_transfer" and record.actor == AGENT
    assert record.data["sha256"] == hashlib.sha256(content).hexdigest()
    assert record.data["state"] == "done" and record.data["name"] == "Anleitung.pdf"
    # The upload waited in the staging folder only while its transfer ran.
    assert list(files.folder.path.iterdir()) == []


def test_a_customer_file_lands_whole_in_the_staging_folder_for_download(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    customer = Customer(tmp_path / "customer")
    source = tmp_path / "Kontoauszug.csv"
    source.write_text("Datum;Betrag\n03.11.2026;-12,50\n" * 5000, encoding="utf-8")
    digest = hash_file(source)
    customer.outbox = [
        m.to_json()
        for m in customer.endpoint.offer(
            source.name, digest.size, digest.sha256, FileSource(source)
        )
    ]
    consoles = exchange(files, customer, Outbox())

    done = [m for m in consoles if m.get("type") == "file" and m["state"] == "done"]
    assert done, consoles
    received = files.download(done[0]["id"])
    assert received is not None and received.name == "Kontoauszug.csv"
    assert received.path.read_bytes() == source.read_bytes()
    assert done[0]["download"] == f"/console/sessions/2026-1103-0001/files/{done[0]['id']}"
    [record] = consoles[-1]["records"]
    assert record.actor == "customer" and record.data["direction"] == "to_agent"

    files.close()
    assert files.download(done[0]["id"]) is None
    assert not files.folder.path.exists()


def test_an_offer_without_the_grant_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    customer = Customer(tmp_path / "customer")
    source = tmp_path / "a.txt"
    source.write_text("x")
    digest = hash_file(source)
    [offer] = customer.endpoint.offer("a.txt", digest.size, digest.sha256, FileSource(source))
    outbox = files.from_applet(offer.to_json(), files_allowed=False)
    assert outbox.to_applet == [
        {
            "type": "file_error",
            "id": offer.id,
            "code": "not_allowed",
            "detail": "file transfer is not granted",
        }
    ]
    assert files.endpoint.transfers == {}
    assert not files.folder.path.exists()


def test_revoking_the_grant_cancels_a_running_transfer_and_audits_it(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    customer = Customer(tmp_path / "customer")
    transfer_id, outbox = upload(files, b"x" * 300_000, "gross.bin")
    customer.take(outbox.to_applet)

    stopped = files.follow(SessionState.ACTIVE, ALL - {Capability.FILE_TRANSFER})

    assert stopped.to_applet == [
        {"type": "file_cancel", "id": transfer_id, "reason": "capability_revoked"}
    ]
    [record] = stopped.audit
    assert record.data["outcome"] == "capability_revoked"
    assert [m["state"] for m in stopped.to_consoles] == ["cancelled"]
    assert list(files.folder.path.iterdir()) == []  # the upload is gone too


def test_the_end_of_the_session_cancels_and_deletes_everything(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    transfer_id, _ = upload(files, b"y" * 1000, "brief.txt")
    ended = files.follow(SessionState.ENDED, ALL)
    assert ended.to_applet == [
        {"type": "file_cancel", "id": transfer_id, "reason": "session_ended"}
    ]
    assert not files.folder.path.exists()
    assert files.follow(SessionState.ENDED, ALL).to_applet == []  # once only


def report() -> DiagnosticsReport:
    entry = ReportEntry(
        "clock", Label("Uhrzeit und Zeitzone", "Clock and time zone"), ProbeStatus.OK,
        {"time_zone": "Europe/Berlin"}, None, (), 0.01,
    )  # fmt: skip
    return DiagnosticsReport(NOW, (entry,))


def test_diagnostics_need_the_grant_and_carry_time_and_endpoints(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    refused = files.from_console({"type": "diagnostics_request"}, ALL - {Capability.DIAGNOSTICS})
    assert refused.to_applet == [] and refused.to_consoles[0]["state"] == "not_allowed"

    asked = files.from_console({"type": "diagnostics_request"}, ALL)
    [request] = asked.to_applet
    assert request["type"] == "diagnostics_request"
    assert request["server_time"] == NOW.isoformat()
    assert request["endpoints"] == [{"kind": "fints", "host": "fints.example.de", "port": 443}]
    assert asked.audit[0].event_type == "session.diagnostics_requested"


def test_a_sent_report_reaches_the_console_in_both_languages(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    [request] = files.from_console({"type": "diagnostics_request"}, ALL).to_applet
    answer = DiagnosticsReportMessage(request["id"], report()).to_json()
    outbox = files.diagnostics_from_applet(answer)
    [shown] = outbox.to_consoles
    assert shown["state"] == "sent"
    assert "Uhrzeit und Zeitzone: ok" in shown["text"]["de"]
    assert "Clock and time zone: ok" in shown["text"]["en"]
    assert outbox.audit[0].event_type == "session.diagnostics_sent"
    # The same answer again is nobody's request any more.
    assert files.diagnostics_from_applet(answer).to_consoles == []


def test_a_withheld_report_is_shown_and_audited_as_withheld(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    [request] = files.from_console({"type": "diagnostics_request"}, ALL).to_applet
    outbox = files.diagnostics_from_applet(DiagnosticsWithheld(request["id"]).to_json())
    assert outbox.to_consoles == [{"type": "diagnostics", "id": request["id"], "state": "withheld"}]
    assert outbox.audit[0].event_type == "session.diagnostics_withheld"
    assert outbox.audit[0].actor == "customer"


def test_a_report_after_the_grant_was_revoked_is_dropped(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    [request] = files.from_console({"type": "diagnostics_request"}, ALL).to_applet
    files.follow(SessionState.ACTIVE, ALL - {Capability.DIAGNOSTICS})
    late = files.diagnostics_from_applet(
        DiagnosticsReportMessage(request["id"], report()).to_json()
    )
    assert late.to_consoles == [] and late.audit == []


def test_an_upload_finishing_after_the_end_is_refused_and_removed(tmp_path: Path) -> None:
    files = files_for(tmp_path)
    path = files.upload_path()
    path.write_bytes(b"spaet")
    files.close()
    with pytest.raises(FilesRefused, match="ended"):
        files.offer_upload(path, "spaet.txt", 5, hashlib.sha256(b"spaet").hexdigest())
    assert not path.exists()
