"""A file the customer sends is in the session's recording once: each ``file_chunk``
as its message without the base64 ``data``, then its bytes as they are (FILE_DATA),
not the whole message with the bytes a third larger inside it."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from supportdesk.recording import RecordingReader, RecordKind
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.sender import FileSource
from tests.live_server import LiveServer
from tests.server.in_process_server import desk, in_process_server
from tests.server.relay_parties import add_agent
from tests.server.test_relay_files import Session
from tests.server.test_relay_recording import audit_entry


@pytest.fixture(scope="module")
async def running(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    async with in_process_server(tmp_path_factory.mktemp("file-recording")) as (server, app):
        await asyncio.to_thread(add_agent, server, "anna")
        yield server, app


async def test_a_customers_file_is_recorded_once_as_its_bytes(
    running: tuple[LiveServer, FastAPI], tmp_path: Path
) -> None:
    server, app = running
    session = await Session.start(server, ["view", "file_transfer"])
    content = os.urandom(200_000)
    source = tmp_path / "kontoauszug.pdf"
    source.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    for message in session.customer.offer(source.name, len(content), digest, FileSource(source)):
        await session.applet.send(message.to_json())
    assert (await session.customer_answers()).state is TransferState.DONE
    await session.control.send('{"type": "end"}')
    finished = await audit_entry(app, session.number, "recording_finished")
    path = desk(app).relay.recordings.directory / finished.data["file"]
    with RecordingReader(path, desk(app).settings.recording.master_key_bytes()) as reader:
        records = list(reader.records())

    chunks: list[tuple[int, bytes]] = []
    for record, after in itertools.pairwise(records):
        message = json.loads(record.payload) if record.kind is RecordKind.CONTROL else {}
        if message.get("type") == "file_chunk":
            assert "data" not in message
            assert after.kind is RecordKind.FILE_DATA and len(after.payload) == message["bytes"]
            chunks.append((message["seq"], after.payload))
    assert b"".join(data for _, data in sorted(chunks)) == content
    # Once: the file's bytes and nothing like them anywhere else in the recording.
    file_bytes = sum(len(r.payload) for r in records if r.kind is RecordKind.FILE_DATA)
    other = sum(len(r.payload) for r in records if r.kind is not RecordKind.FILE_DATA)
    assert file_bytes == len(content) and other < len(content) // 10
    await session.close()
