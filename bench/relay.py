"""Relay benchmark: N concurrent synthetic sessions stream recorded RFB traffic through
the supportdesk relay, and the same streams through websockify, in one run.

Each message carries its send time; the viewer side measures the delivery latency.
Phases: (1) latency with N sessions paced at 30 updates/s each; (2) throughput with
a few sessions streaming as fast as flow control allows. The server's memory per
session comes from /proc. Run: ``python -m bench.relay [--sessions 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import uvloop
from tests.server.relay_parties import consent_as_shown
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from supportdesk.applet.link.channel_writer import ChannelWriter
from supportdesk.link.frames import decode_control, decode_frame, encode_control
from supportdesk.rfb.geometry import Rect
from supportdesk.rfb.server import RFBServerConnection

PASSWORD = "benchmark passwort lang genug"
HEADER = struct.Struct(">IQ")  # length of the rest, send time in ns
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
WINDOW = 1024 * 1024


# -- recorded traffic ----------------------------------------------------------------------


def recorded_updates(count: int = 120) -> list[bytes]:
    """Framebuffer updates from the real engine: a moving box over text-like noise."""
    width, height = 640, 400
    conn = RFBServerConnection(width, height, "bench")
    conn.receive_data(b"RFB 003.008\n\x01\x01")
    conn.receive_data(struct.pack(">BxHiii", 2, 3, 7, 1, 0))  # Tight, CopyRect, Raw
    conn.data_to_send()
    conn.events_received()
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    base[:, :, :] = (base > 200) * 255  # sparse "text"
    updates = []
    for i in range(count):
        frame = base.copy()
        x = (i * 7) % (width - 64)
        frame[100:164, x : x + 64] = (0, 102, 179)
        conn.receive_data(struct.pack(">BBHHHH", 3, 1 if i else 0, 0, 0, width, height))
        conn.events_received()
        conn.add_damage([Rect(0, 0, width, height) if i == 0 else Rect(max(0, x - 8), 100, 80, 64)])
        conn.send_framebuffer_update(frame)
        updates.append(conn.data_to_send())
    return [u for u in updates if u]


async def desynchronise(rate: float | None) -> None:
    """Start a paced session at a random phase: real sessions do not update in lockstep,
    and 100 sessions firing in the same millisecond would measure the queue, not the hop."""
    if rate:
        await asyncio.sleep(random.random() / rate)


def stamped(payload: bytes) -> bytes:
    return HEADER.pack(len(payload) + 8, time.perf_counter_ns()) + payload


class StampReader:
    """Parses length-prefixed stamped messages out of a byte stream; records latencies."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.latencies_ns: list[int] = []
        self.bytes = 0

    def feed(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        self.buffer += data
        self.bytes += len(data)
        while len(self.buffer) >= 4:
            (length,) = struct.unpack_from(">I", self.buffer)
            if len(self.buffer) < 4 + length:
                return
            (sent,) = struct.unpack_from(">Q", self.buffer, 4)
            self.latencies_ns.append(now - sent)
            del self.buffer[: 4 + length]


# -- supportdesk relay ----------------------------------------------------------------------


@contextlib.contextmanager
def supportdesk_server(folder: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "SUPPORTDESK_SERVER_PORT": str(port),
        "SUPPORTDESK_LOGGING_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "supportdesk"]
    subprocess.run(
        [*command, "db", "upgrade"], cwd=folder, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*command, "agents", "add", "bench", "--name", "Bench", "--password-stdin"],
        cwd=folder, env=env, input=(PASSWORD + "\n").encode(), check=True, capture_output=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [*command, "serve"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)


def recorded(folder: Path) -> tuple[int, int]:
    """How many recordings the server wrote under ``folder``, and their bytes."""
    files = list(folder.rglob("*.sdrec"))
    return len(files), sum(f.stat().st_size for f in files)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass
class RelayPair:
    applet: ClientConnection
    viewer: ClientConnection
    channel: int
    control: ClientConnection
    writer: ChannelWriter
    credits: asyncio.Task[None]


async def open_relay_sessions(base: str, count: int) -> list[RelayPair]:
    http = httpx.AsyncClient(base_url=base, timeout=30)
    form = await http.get("/console/login")
    token = TOKEN.search(form.text).group(1)  # type: ignore[union-attr]
    await http.post(
        "/console/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    ws_base = base.replace("http", "ws", 1)
    pairs = []
    for _ in range(count):
        dashboard = await http.get("/console/")
        csrf = TOKEN.search(dashboard.text).group(1)  # type: ignore[union-attr]
        page = await http.post(
            "/console/sessions", data={"csrf_token": csrf}, follow_redirects=True
        )
        key = re.search(r"data-support-key>([^<]+)<", page.text).group(1)  # type: ignore[union-attr]
        number = re.search(r"data-consultation-number>([^<]+)<", page.text).group(1)  # type: ignore[union-attr]
        while True:  # the global guess limit (1/s after a burst of 60) applies here too
            answer = await http.post("/api/v1/join", json={"name": "Bench", "support_key": key})
            if answer.status_code == 200:
                break
            await asyncio.sleep(1.0)
        applet = await connect(
            ws_base + "/ws/applet",
            additional_headers={"Authorization": f"Bearer {answer.json()['token']}"},
            max_size=8 * 1024 * 1024,
        )
        while (
            request := decode_control(decode_frame(await applet.recv()).payload)  # type: ignore[arg-type]
        )["type"] != "consent_request":
            pass
        yes = {"type": "consent", "decision": "yes", "capabilities": ["view"]}
        await applet.send(encode_control(consent_as_shown(request, yes)))
        live = await http.get(f"/console/sessions/{number}/live")
        control_url = re.search(r'data-control-url="([^"]+)"', live.text).group(1)  # type: ignore[union-attr]
        control = await connect(ws_base + control_url, additional_headers={"Origin": base})
        await control.send('{"type": "viewer_ticket"}')
        ticket = None
        while ticket is None:
            message = __import__("json").loads(await control.recv())
            ticket = message.get("ticket")
        viewer = await connect(
            f"{ws_base}/ws/viewer/{number}?ticket={ticket}",
            additional_headers={"Origin": base},
            max_size=8 * 1024 * 1024,
        )
        channel = None
        while channel is None:
            message = decode_control(decode_frame(await applet.recv()).payload)  # type: ignore[arg-type]
            if message["type"] == "open":
                channel = int(message["channel"])
        # One writer per channel for the whole run, as in the applet: the relay's
        # credit refers to everything sent on the channel.
        writer = ChannelWriter(applet.send, channel, WINDOW)
        credits = asyncio.create_task(applet_credit_loop(applet, writer))
        pairs.append(RelayPair(applet, viewer, channel, control, writer, credits))
    await http.aclose()
    return pairs


async def applet_credit_loop(applet: ClientConnection, writer: ChannelWriter) -> None:
    with contextlib.suppress(Exception):
        async for message in applet:
            frame = decode_frame(message)  # type: ignore[arg-type]
            if frame.channel == 0:
                control = decode_control(frame.payload)
                if control["type"] == "credit":
                    await writer.returned(int(control["bytes"]))


async def stream_relay(
    pair: RelayPair, updates: list[bytes], rate: float | None, seconds: float
) -> StampReader:
    """Stream as the applet does: its own channel writer (coalescing, within credit)."""
    reader = StampReader()
    writer = pair.writer

    async def receive() -> None:
        with contextlib.suppress(Exception):
            async for message in pair.viewer:
                reader.feed(message if isinstance(message, bytes) else message.encode())

    receiving = asyncio.create_task(receive())
    await desynchronise(rate)
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        await writer.write(stamped(updates[i % len(updates)]))
        i += 1
        if rate:
            await asyncio.sleep(1 / rate)
    await asyncio.sleep(0.5)
    receiving.cancel()
    return reader


# -- direct: the applet's writer straight to a viewer, one WebSocket, no relay ----------


async def stream_direct(
    port: int, updates: list[bytes], rate: float | None, seconds: float
) -> StampReader:
    """The baseline for "added latency": the same writer and stream, one hop."""
    reader = StampReader()

    async def viewer(socket: ServerConnection) -> None:
        async for message in socket:
            assert isinstance(message, bytes), "the channel writer sends binary frames"
            reader.feed(message[2:])

    async with serve(viewer, "127.0.0.1", port, compression=None, max_size=8 * 1024 * 1024):
        applet = await connect(f"ws://127.0.0.1:{port}/", compression=None)
        writer = ChannelWriter(applet.send, 1, WINDOW)
        await desynchronise(rate)
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            await writer.write(stamped(updates[i % len(updates)]))
            await writer.returned(writer.credit.in_flight)  # no relay, no credit to wait for
            i += 1
            if rate:
                await asyncio.sleep(1 / rate)
        await asyncio.sleep(0.5)
        await applet.close()
    return reader


# -- websockify --------------------------------------------------------------------------


async def websockify_sessions(
    port: int, target_port: int, count: int
) -> tuple[list[ClientConnection], asyncio.Queue[asyncio.StreamWriter]]:
    writers: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await writers.put(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", target_port)
    viewers = []
    for _ in range(count):
        viewers.append(
            await connect(
                f"ws://127.0.0.1:{port}/",
                subprotocols=[Subprotocol("binary")],
                max_size=8 * 1024 * 1024,
            )
        )
    # Keep accepting until websockify has dialled the target for every viewer.
    accepted = [await asyncio.wait_for(writers.get(), timeout=30) for _ in viewers]
    server.close()
    for writer in accepted:
        writers.put_nowait(writer)
    return viewers, writers


async def stream_websockify(
    viewer: ClientConnection,
    target: asyncio.StreamWriter,
    updates: list[bytes],
    rate: float | None,
    seconds: float,
) -> StampReader:
    reader = StampReader()

    async def receive() -> None:
        with contextlib.suppress(Exception):
            async for message in viewer:
                reader.feed(message if isinstance(message, bytes) else message.encode())

    receiving = asyncio.create_task(receive())
    await desynchronise(rate)
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        target.write(stamped(updates[i % len(updates)]))
        i += 1
        await target.drain()
        if rate:
            await asyncio.sleep(1 / rate)
    await asyncio.sleep(0.5)
    receiving.cancel()
    return reader


# -- the run -------------------------------------------------------------------------------


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def start_websockify(command: str, port: int, target_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [command, f"127.0.0.1:{port}", f"127.0.0.1:{target_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def summarise(readers: list[StampReader], seconds: float) -> dict[str, float]:
    latencies = sorted(x for r in readers for x in r.latencies_ns)
    if not latencies:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "mbit_s": 0.0, "messages": 0}
    return {
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[int(len(latencies) * 0.99)] / 1e6,
        "mbit_s": sum(r.bytes for r in readers) * 8 / seconds / 1e6,
        "messages": len(latencies),
    }


async def main_async(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    updates = recorded_updates()
    results: dict[str, dict[str, float]] = {}
    websockify = shutil.which("websockify") or str(Path(sys.executable).parent / "websockify")
    with tempfile.TemporaryDirectory() as folder:
        port = 18600 + os.getpid() % 1000
        with supportdesk_server(Path(folder), port) as server:
            idle_rss = rss_kib(server.pid)
            say(f"opening {args.sessions} relay sessions")
            pairs = await open_relay_sessions(f"http://127.0.0.1:{port}", args.sessions)
            say("relay: latency phase")
            busy_rss = rss_kib(server.pid)
            readers = await asyncio.gather(
                *(stream_relay(p, updates, args.rate, args.seconds) for p in pairs)
            )
            results["supportdesk latency"] = summarise(list(readers), args.seconds)
            results["supportdesk latency"]["kib_per_session"] = (
                busy_rss - idle_rss
            ) / args.sessions
            say("relay: throughput phase")
            few = pairs[: args.throughput_sessions]
            readers = await asyncio.gather(
                *(stream_relay(p, updates, None, args.seconds) for p in few)
            )
            results["supportdesk throughput"] = summarise(list(readers), args.seconds)
            # Every relayed session is recorded, as in production: the relay's numbers
            # include the recording's cost. Show that it ran.
            count, size = recorded(Path(folder))
            say(f"{count} recordings, {size / 1e6:.0f} MB so far")
            for pair in pairs:
                pair.credits.cancel()
                for socket in (pair.viewer, pair.applet, pair.control):
                    with contextlib.suppress(Exception):
                        await socket.close()
        ws_port, target_port = port + 1, port + 2
        say("direct")
        readers = await asyncio.gather(
            *(
                stream_direct(port + 10 + i, updates, args.rate, args.seconds)
                for i in range(args.sessions)
            )
        )
        results["direct latency"] = summarise(list(readers), args.seconds)
        say("websockify")
        proxy = start_websockify(websockify, ws_port, target_port)
        try:
            await asyncio.sleep(1.5)
            viewers, writers = await websockify_sessions(ws_port, target_port, args.sessions)
            targets = [await writers.get() for _ in viewers]
            readers = await asyncio.gather(
                *(
                    stream_websockify(v, t, updates, args.rate, args.seconds)
                    for v, t in zip(viewers, targets, strict=True)
                )
            )
            results["websockify latency"] = summarise(list(readers), args.seconds)
            n = args.throughput_sessions
            readers = await asyncio.gather(
                *(
                    stream_websockify(v, t, updates, None, args.seconds)
                    for v, t in zip(viewers[:n], targets[:n], strict=True)
                )
            )
            results["websockify throughput"] = summarise(list(readers), args.seconds)
            for viewer in viewers:
                with contextlib.suppress(Exception):
                    await viewer.close()
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--throughput-sessions", type=int, default=4)
    parser.add_argument("--rate", type=float, default=30.0, help="updates per second per session")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--markdown", type=Path, help="append the table to this file")
    args = parser.parse_args()
    # The measuring clients run on uvloop, like the server: less of their own cost in
    # every path's numbers.
    uvloop.install()
    results = asyncio.run(main_async(args))
    lines = [
        f"Relay benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} cores; {args.sessions} sessions at {args.rate:g} updates/s "
        f"for the latency rows, {args.throughput_sessions} unpaced sessions for the "
        f"throughput rows, {args.seconds:g} s each.",
        "",
        "| path | p50 latency (ms) | p99 latency (ms) | Mbit/s | messages | server KiB/session |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in results.items():
        lines.append(
            f"| {name} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['mbit_s']:.1f} | "
            f"{int(row['messages'])} | {row.get('kib_per_session', float('nan')):.0f} |"
        )
    relay, direct, proxy = (
        results.get(f"{name} latency", {}) for name in ("supportdesk", "direct", "websockify")
    )
    if relay and direct and proxy:
        lines += [
            "",
            f"Added by the relay (p50, relay - direct): "
            f"{relay['p50_ms'] - direct['p50_ms']:.2f} ms; "
            f"added by websockify (p50, websockify - direct): "
            f"{proxy['p50_ms'] - direct['p50_ms']:.2f} ms.",
        ]
    ours, theirs = (results.get(f"{n} throughput", {}) for n in ("supportdesk", "websockify"))
    if ours.get("mbit_s") and theirs.get("mbit_s"):
        lines.append(f"Throughput relay / websockify: {ours['mbit_s'] / theirs['mbit_s']:.2f}.")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with args.markdown.open("a", encoding="utf-8") as handle:
            handle.write("\n" + text + "\n")


if __name__ == "__main__":
    main()
