"""File-transfer benchmark: one file each way through a running server and its relay.

Agent -> customer: the console's upload (HTTP body streamed to the staging folder),
the offer, the customer's endpoint accepting into a real folder, chunks over channel 0
with the window's flow control, until the customer holds the verified file. Customer ->
agent: the customer's offer until the server has stored and verified it. Prints MiB/s
for each leg. Run: ``python -m bench.file_transfer [--mib 32]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from tests.server.relay_parties import consent_as_shown
from websockets.asyncio.client import ClientConnection, connect

from bench.relay import PASSWORD, TOKEN, supportdesk_server
from supportdesk.link.frames import decode_control, decode_frame, encode_control
from supportdesk.transfer.endpoint import Side, TransferEndpoint
from supportdesk.transfer.lifecycle import TERMINAL_STATES, TransferState
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource, hash_file


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def session(base: str) -> tuple[httpx.AsyncClient, ClientConnection, str, str]:
    http = httpx.AsyncClient(base_url=base, timeout=120)
    form = await http.get("/console/login")
    token = TOKEN.search(form.text).group(1)  # type: ignore[union-attr]
    await http.post(
        "/console/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    dashboard = await http.get("/console/")
    csrf = TOKEN.search(dashboard.text).group(1)  # type: ignore[union-attr]
    page = await http.post("/console/sessions", data={"csrf_token": csrf}, follow_redirects=True)
    key = re.search(r"data-support-key>([^<]+)<", page.text).group(1)  # type: ignore[union-attr]
    number = re.search(r"data-consultation-number>([^<]+)<", page.text).group(1)  # type: ignore[union-attr]
    answer = await http.post("/api/v1/join", json={"name": "Bench", "support_key": key})
    applet = await connect(
        base.replace("http", "ws", 1) + "/ws/applet",
        additional_headers={"Authorization": f"Bearer {answer.json()['token']}"},
        max_size=8 * 1024 * 1024,
    )
    while (request := await next_control(applet))["type"] != "consent_request":
        pass
    yes = {"type": "consent", "decision": "yes", "capabilities": ["view", "file_transfer"]}
    await applet.send(encode_control(consent_as_shown(request, yes)))
    live = await http.get(f"/console/sessions/{number}/live")
    upload_csrf = re.search(r'data-csrf="([^"]+)"', live.text).group(1)  # type: ignore[union-attr]
    return http, applet, number, upload_csrf


async def next_control(applet: ClientConnection) -> dict[str, Any]:
    while True:
        frame = decode_frame(await applet.recv())  # type: ignore[arg-type]
        if frame.channel == 0:
            return decode_control(frame.payload)


async def customer_until_done(
    applet: ClientConnection, customer: TransferEndpoint, folder: Path | None
) -> TransferState:
    """Answer the relay as the customer until a transfer ends."""
    while True:
        message = await next_control(applet)
        if not message["type"].startswith("file_"):
            continue
        answers = customer.receive(message)
        events = customer.events()
        for event in events:
            if event.state is TransferState.OFFERED and folder is not None:
                answers += customer.accept(event.id, DownloadFolder(folder).open_part(event.name))
        answers += customer.pump()
        for answer in answers:
            await applet.send(encode_control(answer.to_json()))
        ended = [e for e in events + customer.events() if e.state in TERMINAL_STATES]
        if ended:
            return ended[-1].state


async def run(mib: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = work / "payload.bin"
        source.write_bytes(os.urandom(mib * 1024 * 1024))
        port = free_port()
        os.environ["SUPPORTDESK_TRANSFER_MAX_SIZE_MB"] = str(max(mib + 1, 100))
        with supportdesk_server(work, port):
            base = f"http://127.0.0.1:{port}"
            http, applet, number, csrf = await session(base)
            customer = TransferEndpoint(Side.CUSTOMER)
            received = work / "customer"

            started = time.perf_counter()
            upload = asyncio.create_task(
                http.post(
                    f"/console/sessions/{number}/files",
                    content=source.read_bytes(),
                    headers={"X-CSRF-Token": csrf, "X-File-Name": "payload.bin"},
                )
            )
            state = await customer_until_done(applet, customer, received)
            to_customer = time.perf_counter() - started
            assert (await upload).status_code == 202 and state is TransferState.DONE
            assert hash_file(received / "payload.bin") == hash_file(source)

            digest = hash_file(source)
            started = time.perf_counter()
            offer = customer.offer("back.bin", digest.size, digest.sha256, FileSource(source))
            for message in offer:
                await applet.send(encode_control(message.to_json()))
            state = await customer_until_done(applet, customer, None)
            to_agent = time.perf_counter() - started
            assert state is TransferState.DONE
            await applet.close()
            await http.aclose()
    return {
        "MiB": mib,
        "agent -> customer MiB/s": mib / to_customer,
        "customer -> agent MiB/s": mib / to_agent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=32, help="file size in MiB")
    result = asyncio.run(run(parser.parse_args().mib))
    for name, value in result.items():
        print(f"{name}: {value:.1f}")


if __name__ == "__main__":
    main()
