"""Files and diagnostics through the running server: the agent's upload and the
customer's offer routed over the relay, the capability as the gate, cancelling on
revoke and end, the download for the session's agent only, and the audit trail."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection

from supportdesk.diagnostics.messages import DiagnosticsReportMessage
from supportdesk.diagnostics.probe import Label, ProbeStatus
from supportdesk.diagnostics.report import DiagnosticsReport, ReportEntry
from supportdesk.link.frames import decode_control, decode_frame
from supportdesk.transfer.endpoint import Side, TransferEndpoint, TransferEvent
from supportdesk.transfer.lifecycle import TERMINAL_STATES, TransferState
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource, hash_file
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    AgentBrowser,
    FakeApplet,
    add_agent,
    audit_entries,
    control_socket,
    join_token,
    next_of,
)

CONFIG = """
[transfer]
max_size_mb = 1

[diagnostics]
endpoints = [{ kind = "fints", host = "fints.example.de", port = 443 }]
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("files")
    (folder / "supportdesk.toml").write_text(CONFIG)
    with live_server(folder) as running:
        add_agent(running, "anna")
        add_agent(running, "sven", "supervisor")
        yield running


class Session:
    """A live session with the agent's browser, console socket and a fake applet whose
    file side is the real customer endpoint."""

    def __init__(
        self, agent: AgentBrowser, applet: FakeApplet, number: str, control: ClientConnection
    ) -> None:
        self.agent, self.applet, self.number, self.control = agent, applet, number, control
        self.customer = TransferEndpoint(Side.CUSTOMER)

    @classmethod
    async def start(cls, server: LiveServer, capabilities: list[str]) -> Session:
        agent = await AgentBrowser.log_in(server, "anna")
        key, number = await agent.new_session()
        applet = await FakeApplet.connect(server, await join_token(server, key))
        await applet.next_control("consent_request")
        await applet.send({"type": "consent", "decision": "yes", "capabilities": capabilities})
        await applet.next_control("state")
        control = await control_socket(await agent.control_url(number), server.url)
        await next_of(control, "state", state="active")
        return cls(agent, applet, number, control)

    async def upload(self, content: bytes, name: str) -> Any:
        page = await self.agent.http.get(f"/console/sessions/{self.number}/live")
        token = re.search(r'data-csrf="([^"]+)"', page.text)
        assert token, page.text
        return await self.agent.http.post(
            f"/console/sessions/{self.number}/files",
            content=content,
            headers={"X-CSRF-Token": token.group(1), "X-File-Name": name},
        )

    async def customer_answers(self, folder: Path | None = None) -> TransferEvent:
        """Answer the relay's file messages with the customer's endpoint (accepting
        offers into ``folder``) until a transfer ends; returns its last event."""
        while True:
            message = await asyncio.wait_for(self.next_file_message(), timeout=10)
            answers = self.customer.receive(message)
            events = self.customer.events()
            for event in events:
                if event.state is TransferState.OFFERED and folder is not None:
                    sink = DownloadFolder(folder).open_part(event.name)
                    answers += self.customer.accept(event.id, sink)
            answers += self.customer.pump()
            for answer in answers:
                await self.applet.send(answer.to_json())
            events += self.customer.events()
            ended = [e for e in events if e.state in TERMINAL_STATES]
            if ended:
                return ended[-1]

    async def next_file_message(self) -> dict[str, Any]:
        """The next ``file_*`` message the relay sends the applet."""
        while True:
            frame = decode_frame(await self.applet.socket.recv())  # type: ignore[arg-type]
            if frame.channel == 0:
                message = decode_control(frame.payload)
                self.applet.control.append(message)
                if message["type"].startswith("file_"):
                    return message

    def staging(self, server: LiveServer) -> Path:
        return server.workdir / "var" / "transfers" / self.number.replace("-", "")

    async def close(self) -> None:
        await self.applet.socket.close()
        await self.control.close()
        await self.agent.close()


async def test_an_uploaded_file_reaches_the_customer_intact_and_is_audited(
    server: LiveServer, tmp_path: Path
) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    content = os.urandom(300_000)
    answer = await session.upload(content, "Anleitung%20%C3%9Cberweisung.pdf")
    assert answer.status_code == 202, answer.text
    assert answer.json()["name"] == "Anleitung Überweisung.pdf"

    finished = await session.customer_answers(folder=tmp_path)
    assert finished.state is TransferState.DONE, finished
    assert (tmp_path / "Anleitung Überweisung.pdf").read_bytes() == content
    done = await next_of(session.control, "file", state="done")
    assert (
        done["direction"] == "to_customer" and done["sha256"] == hashlib.sha256(content).hexdigest()
    )
    await session.close()

    entries = await asyncio.to_thread(audit_entries, server, session.number)
    [transfer] = [e for e in entries if e["event_type"] == "session.file_transfer"]
    assert transfer["data"]["name"] == "Anleitung Überweisung.pdf"
    assert transfer["data"]["size"] == len(content)
    assert transfer["data"]["sha256"] == hashlib.sha256(content).hexdigest()
    assert transfer["data"]["direction"] == "to_customer"
    assert transfer["data"]["state"] == "done"


async def test_without_the_grant_nothing_crosses_either_way(
    server: LiveServer, tmp_path: Path
) -> None:
    session = await Session.start(server, ["view"])
    answer = await session.upload(b"Inhalt", "brief.txt")
    assert answer.status_code == 403
    source = tmp_path / "kontoauszug.csv"
    source.write_text("Datum;Betrag\n")
    digest = hash_file(source)
    [offer] = session.customer.offer(source.name, digest.size, digest.sha256, FileSource(source))
    await session.applet.send(offer.to_json())
    refused = await asyncio.wait_for(session.next_file_message(), timeout=5)
    assert refused == {
        "type": "file_error",
        "id": offer.id,
        "code": "not_allowed",
        "detail": "file transfer is not granted",
    }
    assert not session.staging(server).exists()
    await session.close()


async def test_forged_too_large_and_badly_named_uploads_are_refused_and_leave_nothing(
    server: LiveServer,
) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    too_large = await session.upload(b"x" * (1024 * 1024 + 1), "gross.bin")
    assert too_large.status_code == 413 and "1 MiB" in too_large.json()["error"]
    forged = await session.agent.http.post(
        f"/console/sessions/{session.number}/files",
        content=b"x",
        headers={"X-CSRF-Token": "forged", "X-File-Name": "brief.txt"},
    )
    assert forged.status_code == 400
    bad_name = await session.upload(b"x", "..%2F..%2Fetc%2Fpasswd")
    assert bad_name.status_code == 400 and "name" in bad_name.json()["error"]
    folder = session.staging(server)
    assert not folder.exists() or list(folder.iterdir()) == []
    await session.applet.drain(0.3)
    assert not any(m["type"] == "file_offer" for m in session.applet.control)
    await session.close()


async def test_a_customer_file_is_downloadable_by_the_sessions_agent_only(
    server: LiveServer, tmp_path: Path
) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    source = tmp_path / "Kontoauszug März.csv"
    source.write_bytes(os.urandom(200_000))
    digest = hash_file(source)
    for message in session.customer.offer(
        source.name, digest.size, digest.sha256, FileSource(source)
    ):
        await session.applet.send(message.to_json())
    finished = await session.customer_answers()
    assert finished.state is TransferState.DONE, finished
    done = await next_of(session.control, "file", state="done")
    assert done["direction"] == "to_agent"

    fetched = await session.agent.http.get(done["download"])
    assert fetched.status_code == 200 and fetched.content == source.read_bytes()
    assert "attachment" in fetched.headers["content-disposition"]
    supervisor = await AgentBrowser.log_in(server, "sven")
    assert (await supervisor.http.get(done["download"])).status_code == 404
    await supervisor.close()

    # The end of the session deletes the file from the server.
    await session.applet.send({"type": "end"})
    await next_of(session.control, "state", state="ended")
    assert (await session.agent.http.get(done["download"])).status_code == 404
    assert not session.staging(server).exists()
    await session.close()

    entries = await asyncio.to_thread(audit_entries, server, session.number)
    [transfer] = [e for e in entries if e["event_type"] == "session.file_transfer"]
    assert transfer["actor"] == "customer" and transfer["data"]["direction"] == "to_agent"
    assert transfer["data"]["sha256"] == digest.sha256


async def test_revoking_file_transfer_cancels_the_running_transfer(server: LiveServer) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    answer = await session.upload(os.urandom(500_000), "gross.bin")
    assert answer.status_code == 202
    offer = await asyncio.wait_for(session.next_file_message(), timeout=5)
    assert offer["type"] == "file_offer"
    # The customer has not answered yet; now takes file transfer back.
    await session.applet.send({"type": "revoke", "capability": "file_transfer"})
    cancel = await asyncio.wait_for(session.next_file_message(), timeout=5)
    assert cancel == {"type": "file_cancel", "id": offer["id"], "reason": "capability_revoked"}
    shown = await next_of(session.control, "file", state="cancelled")
    assert shown["outcome"] == "capability_revoked"
    await session.close()


def a_report() -> DiagnosticsReport:
    from datetime import UTC, datetime

    entry = ReportEntry(
        "clock", Label("Uhrzeit und Zeitzone", "Clock and time zone"), ProbeStatus.OK,
        {"time_zone": "Europe/Berlin", "offset_seconds": 0.4}, None, (), 0.01,
    )  # fmt: skip
    return DiagnosticsReport(datetime.now(UTC), (entry,))


async def test_diagnostics_go_from_the_console_to_the_applet_and_back(
    server: LiveServer,
) -> None:
    session = await Session.start(server, ["view", "diagnostics"])
    await session.control.send(json.dumps({"type": "diagnostics_request"}))
    request = await session.applet.next_control("diagnostics_request")
    assert request["endpoints"] == [{"kind": "fints", "host": "fints.example.de", "port": 443}]
    await next_of(session.control, "diagnostics", state="requested")
    await session.applet.send(DiagnosticsReportMessage(request["id"], a_report()).to_json())
    shown = await next_of(session.control, "diagnostics", state="sent")
    assert "Uhrzeit und Zeitzone: ok" in shown["text"]["de"]
    await session.close()

    events = [
        e["event_type"] for e in await asyncio.to_thread(audit_entries, server, session.number)
    ]
    assert "session.diagnostics_requested" in events and "session.diagnostics_sent" in events


async def test_diagnostics_without_the_grant_are_refused(server: LiveServer) -> None:
    session = await Session.start(server, ["view"])
    await session.control.send(json.dumps({"type": "diagnostics_request"}))
    await next_of(session.control, "diagnostics", state="not_allowed")
    await session.applet.drain(0.3)
    assert not any(m["type"] == "diagnostics_request" for m in session.applet.control)
    await session.close()
