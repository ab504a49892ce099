"""Nothing hangs: the relay cancels a transfer whose other side went quiet, and an
offer nobody answers, on both sides, with reason ``timeout``, and audits it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from supportdesk.transfer.sender import FileSource, hash_file
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import add_agent, audit_entries, next_of
from tests.server.test_relay_files import Session

CONFIG = """
[transfer]
stall_seconds = 1
answer_seconds = 2
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("file-timeouts")
    (folder / "supportdesk.toml").write_text(CONFIG)
    with live_server(folder) as running:
        add_agent(running, "anna")
        yield running


async def test_a_customer_file_that_stops_arriving_is_cancelled(
    server: LiveServer, tmp_path: Path
) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    source = tmp_path / "kontoauszug.csv"
    source.write_bytes(b"Datum;Betrag\n" * 20_000)
    digest = hash_file(source)
    [offer] = session.customer.offer(source.name, digest.size, digest.sha256, FileSource(source))
    await session.applet.send(offer.to_json())
    accepted = await asyncio.wait_for(session.next_file_message(), 5)
    assert accepted["type"] == "file_accept"
    # The applet sends no chunk: the relay gives up after the stall time.
    cancel = await asyncio.wait_for(session.next_file_message(), 5)
    assert cancel == {"type": "file_cancel", "id": offer.id, "reason": "timeout"}
    stopped = await asyncio.wait_for(next_of(session.control, "file", state="cancelled"), 5)
    assert stopped["outcome"] == "timeout"
    assert not [p for p in session.staging(server).glob("*") if p.is_file()]
    await session.close()
    entries = await asyncio.to_thread(audit_entries, server, session.number)
    [transfer] = [e for e in entries if e["event_type"] == "session.file_transfer"]
    assert transfer["actor"] == "customer" and transfer["data"]["outcome"] == "timeout"


async def test_an_offer_the_customer_never_answers_is_withdrawn(server: LiveServer) -> None:
    session = await Session.start(server, ["view", "file_transfer"])
    answer = await session.upload(b"Sehr geehrte Kundin ...", "brief.txt")
    assert answer.status_code == 202, answer.text
    offer = await asyncio.wait_for(session.next_file_message(), 5)
    assert offer["type"] == "file_offer"
    cancel = await asyncio.wait_for(session.next_file_message(), 6)
    assert cancel == {"type": "file_cancel", "id": offer["id"], "reason": "timeout"}
    stopped = await asyncio.wait_for(next_of(session.control, "file", state="cancelled"), 5)
    assert stopped["outcome"] == "timeout"
    await session.close()
