"""``python -m bench.recording``: recording size of the reference workload, and seek time.

1. **Bytes per minute.** The reference workload (bench/workload.py) on a 1920x1080
   Xvfb, served by our engine (bench/engine_server.py) to the bench client
   (bench/rfb_client.py: Tight, CopyRect, JPEG quality 8, one outstanding request)
   through a TCP tee that records both directions with :class:`SessionRecorder`,
   as the relay does, plus a keyframe of what the client shows every 10 s (built at
   an update boundary, Rule K1). Reported: the RFB bytes on the wire and the
   recording's bytes, per minute.
2. **Seek time.** A synthetic 60-minute 1920x1080 recording (the engine serving a
   desktop with a moving block and a clock every second; keyframes every 10 s); then,
   at random positions, the time from a new :class:`PlayerFeed` to the first full
   picture (handshake, keyframe and catch-up decoded), with the reader already open
   as the player socket has it. Also the time to open the reader (index scan).

Prints a Markdown block; with ``--markdown FILE`` replaces the block between the
``recording-bench`` markers there (or appends it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench import workload
from bench.__main__ import ENCODINGS, ROOT, free_port, machine, server_command, stop, xvfb
from bench.rfb_client import BGRX_FORMAT, RFBClient
from supportdesk.recording import (
    PlayerFeed,
    RecordingReader,
    RecordingWriter,
    RecordKind,
    SessionRecorder,
    encode_keyframe,
)
from supportdesk.recording.rfb_decoder import ServerStreamDecoder
from supportdesk.rfb import PixelFormat, Rect, RFBServerConnection

KEYFRAME_EVERY = 10.0
CHANNEL = 1
MARK_START = "<!-- recording-bench:start -->"
MARK_END = "<!-- recording-bench:end -->"


# -- 1. bytes per minute of the reference workload ---------------------------------------


async def _pipe(
    source: asyncio.StreamReader,
    sink: asyncio.StreamWriter,
    tee: SessionRecorder,
    to_client: bool,
    counter: list[int],
) -> None:
    while data := await source.read(65536):
        counter[0] += len(data)
        if to_client:
            tee.server_to_client(CHANNEL, data)
        else:
            tee.client_to_server(CHANNEL, data)
        sink.write(data)
        await sink.drain()
    sink.close()


async def record_workload(
    server_port: int, path: Path, key: bytes, seconds: float
) -> dict[str, float]:
    """Tee engine <-> client into a recording for ``seconds``; sizes and counts."""
    recorder = SessionRecorder.create(path, "BENCH-0000", key, lambda: datetime.now(UTC))
    ticker = asyncio.create_task(recorder.run())
    wire = [0]
    tee_port = free_port()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", server_port)
        await asyncio.gather(
            _pipe(server_r, client_w, recorder, True, wire),
            _pipe(client_r, server_w, recorder, False, wire),
            return_exceptions=True,
        )

    tee = await asyncio.start_server(handle, "127.0.0.1", tee_port)
    await asyncio.sleep(1.0)  # the engine server starts up
    client = await RFBClient.open("127.0.0.1", tee_port, within=15)
    await client.set_encodings(*ENCODINGS)
    await client.request(incremental=False)
    await client.next_update(within=10)
    pixel_format = PixelFormat.unpack(BGRX_FORMAT)
    keyframes = keyframe_bytes = updates = 0
    start = time.monotonic()
    next_keyframe = start + KEYFRAME_EVERY
    wire0 = wire[0]
    while time.monotonic() - start < seconds:
        if time.monotonic() >= next_keyframe:
            # Between updates nothing is in flight: an RFB message boundary (Rule K3).
            payload = encode_keyframe(client.fb, pixel_format)
            recorder.keyframe(CHANNEL, payload)
            keyframes += 1
            keyframe_bytes += len(payload)
            next_keyframe += KEYFRAME_EVERY
        await client.request()
        await client.next_update(within=10)
        updates += 1
    elapsed = time.monotonic() - start
    await client.close()
    tee.close()
    await recorder.close()
    await ticker
    minutes = elapsed / 60
    recorded = await asyncio.to_thread(lambda: path.stat().st_size)
    return {
        "seconds": elapsed,
        "updates": updates,
        "wire_per_min": (wire[0] - wire0) / minutes,
        "recording_per_min": recorded / minutes,
        "keyframes": keyframes,
        "keyframe_raw_per_min": keyframe_bytes / minutes,
    }


def measure_size(seconds: float) -> dict[str, float]:
    key = secrets.token_bytes(32)
    with xvfb() as display, tempfile.TemporaryDirectory() as folder:
        procs = workload.start(display)
        port = free_port()
        server = subprocess.Popen(
            server_command("supportdesk", display, port), cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(2.0)
            path = Path(folder) / "workload.sdrec"
            return asyncio.run(record_workload(port, path, key, seconds))
        finally:
            stop(server)
            for proc in procs:
                stop(proc)


# -- 2. seek time in a 60-minute recording ------------------------------------------------

WIDTH, HEIGHT = 1920, 1080
NOVNC_FORMAT = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)
# Tight, CopyRect, Raw, DesktopSize, LastRect, JPEG quality 8, zlib level 2 (last).
TIGHT = (7, 1, 0, -223, -224, -32 + 8, -256 + 2)


def _set_encodings(*codes: int) -> bytes:
    return struct.pack(f">BxH{len(codes)}i", 2, len(codes), *codes)


def _update_request(incremental: bool) -> bytes:
    return struct.pack(">B?HHHH", 3, incremental, 0, 0, WIDTH, HEIGHT)


def _desktop(rng: np.random.Generator) -> np.ndarray:
    frame = np.full((HEIGHT, WIDTH, 3), (32, 64, 96), dtype=np.uint8)
    text = rng.random((HEIGHT // 2, WIDTH // 2)) > 0.8  # a window of "text"
    frame[100 : 100 + HEIGHT // 2, 100 : 100 + WIDTH // 2][text] = (240, 240, 240)
    return frame


def record_hour(path: Path, key: bytes, minutes: int) -> int:
    """A synthetic session of ``minutes``: an update every second, keyframes every 10 s."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    writer = RecordingWriter.create(path, "BENCH-6060", key, start)
    conn = RFBServerConnection(WIDTH, HEIGHT, "bench-desktop")
    frame = _desktop(np.random.default_rng(1))

    def at(us: int) -> datetime:
        return start + timedelta(microseconds=us)

    def s2c(us: int) -> None:
        if data := conn.data_to_send():
            writer.record(RecordKind.RFB_SERVER_TO_CLIENT, CHANNEL, data, at(us))

    def c2s(us: int, data: bytes) -> None:
        writer.record(RecordKind.RFB_CLIENT_TO_SERVER, CHANNEL, data, at(us))
        conn.receive_data(data)
        conn.events_received()

    s2c(0)
    for us, data in ((1, b"RFB 003.008\n"), (2, b"\x01"), (3, b"\x01")):
        c2s(us, data)
        s2c(us)
    setup = struct.pack(">Bxxx", 0) + NOVNC_FORMAT.pack() + _set_encodings(*TIGHT)
    c2s(4, setup)
    seconds = minutes * 60
    for i in range(seconds):
        us = i * 1_000_000 + 10
        if i and i % int(KEYFRAME_EVERY) == 0:
            writer.keyframe(CHANNEL, encode_keyframe(frame, conn.pixel_format), at(us))
            # Restart the live Tight streams (Rule K2) as the tests emulate it: a change
            # of the zlib level and back, fed to the engine only.
            conn.receive_data(_set_encodings(*TIGHT[:-1], -256 + 3) + _set_encodings(*TIGHT))
            conn.events_received()
        x = (i * 37) % (WIDTH - 200)
        frame[600:700, x : x + 200] = ((i * 5) % 256, 200, (i * 11) % 256)
        frame[8:24, 8:328] = 255 if i % 2 else 0  # a clock that changes every second
        c2s(us, _update_request(i > 0))
        damage = (
            [Rect(0, 0, WIDTH, HEIGHT)]
            if i == 0
            else [Rect(0, 600, WIDTH, 100), Rect(8, 8, 320, 16)]
        )
        conn.add_damage(damage)
        conn.send_framebuffer_update(frame)
        s2c(us)
        if writer.flush_due(at(us)):
            writer.tick(at(us))
        if i % 600 == 599:
            print(f"  recorded {(i + 1) // 60} min", flush=True)
    writer.close(at(seconds * 1_000_000))
    return seconds


def first_picture(reader: RecordingReader, at_us: int) -> int:
    """Decode handshake, keyframe and catch-up of a feed at ``at_us``; chunks read."""
    before = reader.chunks_read
    decoder = ServerStreamDecoder()
    for message in PlayerFeed(reader, CHANNEL, at_us).messages():
        if message.at_us > at_us:
            break
        assert isinstance(message.data, bytes), "an RFB channel's feed is bytes"
        decoder.feed(message.data)
    if decoder.framebuffer is None:
        raise RuntimeError(f"no picture at {at_us}")
    return reader.chunks_read - before


def measure_seek(minutes: int, seeks: int) -> dict[str, float]:
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hour.sdrec"
        t0 = time.perf_counter()
        record_hour(path, key, minutes)
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        reader = RecordingReader(path, key)
        opened = time.perf_counter() - t0
        rng = random.Random(7)
        times: list[float] = []
        chunks: list[int] = []
        with reader:
            for _ in range(seeks):
                at_us = rng.randrange(0, minutes * 60_000_000)
                t0 = time.perf_counter()
                chunks.append(first_picture(reader, at_us))
                times.append(time.perf_counter() - t0)
        times.sort()
        return {
            "minutes": minutes,
            "size": path.stat().st_size if path.exists() else 0,
            "build_s": built,
            "open_ms": opened * 1000,
            "p50_ms": statistics.median(times) * 1000,
            "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))] * 1000,
            "max_ms": times[-1] * 1000,
            "chunks_max": max(chunks),
            "seeks": seeks,
        }


# -- report --------------------------------------------------------------------------------


def render(size: dict[str, float] | None, seek: dict[str, float] | None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Run {now} on {machine()}.", ""]
    if size is not None:
        lines += [
            f"Reference workload, {size['seconds']:.0f} s recorded through `SessionRecorder`"
            f" ({size['updates']:.0f} updates, {size['keyframes']:.0f} keyframes):",
            "",
            "| | per minute |",
            "|---|---|",
            f"| RFB bytes on the wire (both directions) | {size['wire_per_min'] / 1e6:.1f} MB |",
            f"| keyframe payloads (before zstd) | {size['keyframe_raw_per_min'] / 1e6:.1f} MB |",
            f"| **recording file** | **{size['recording_per_min'] / 1e6:.1f} MB** |",
            "",
        ]
    if seek is not None:
        lines += [
            f"Seek in a synthetic {seek['minutes']:.0f}-minute 1920x1080 recording "
            f"({seek['size'] / 1e6:.0f} MB, keyframes every {KEYFRAME_EVERY:.0f} s), "
            f"{seek['seeks']:.0f} random positions, time to the first full picture "
            "(feed + decode, reader open):",
            "",
            "| open (index scan) | seek p50 | seek p99 | seek max | chunks read per seek (max) |",
            "|---|---|---|---|---|",
            f"| {seek['open_ms']:.0f} ms | {seek['p50_ms']:.0f} ms | {seek['p99_ms']:.0f} ms"
            f" | {seek['max_ms']:.0f} ms | {seek['chunks_max']:.0f} |",
            "",
            f"Target: the right picture within 2 s of a seek: "
            f"**{'met' if seek['p99_ms'] < 2000 else 'not met'}** (p99; the browser adds "
            "noVNC's drawing of one full-screen update).",
            "",
        ]
    return "\n".join(lines)


def write_doc(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    wrapped = f"{MARK_START}\n{block}{MARK_END}"
    if MARK_START in text and MARK_END in text:
        before, rest = text.split(MARK_START, 1)
        text = before + wrapped + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Recording\n\n" + wrapped + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.recording",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="workload recording length")
    parser.add_argument("--minutes", type=int, default=60, help="length of the seek recording")
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--skip-size", action="store_true", help="only the seek part (no Xvfb)")
    parser.add_argument("--markdown", type=Path, help="write the block into this file")
    args = parser.parse_args()
    size = None
    if not args.skip_size:
        print(f"recording the reference workload for {args.seconds:.0f} s ...", flush=True)
        size = measure_size(args.seconds)
        print(size, flush=True)
    print(f"building a {args.minutes}-minute recording ...", flush=True)
    seek = measure_seek(args.minutes, args.seeks)
    print(seek, flush=True)
    block = render(size, seek)
    print(block)
    if args.markdown:
        write_doc(args.markdown, block)
        print(f"written to {args.markdown}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
