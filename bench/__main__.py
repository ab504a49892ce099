"""``python -m bench``: our engine against x0vncserver and x11vnc on two Xvfb workloads.

For each workload (the reference one, bench/workload.py, and the heavy one,
bench/heavy_workload.py) starts a 1920x1080 Xvfb with it, then, for each round, each
server in turn on the same display, measured by the same client (bench/rfb_client.py,
Tight + CopyRect, JPEG quality level 8, compression level 2, one outstanding request):
updates/s, Mbit/s, latency p50/p95 from the painted clock, PSNR against a direct
screenshot once the workload is frozen (SIGSTOP) and the view has settled, the server's
CPU from /proc while it works and, still frozen, while the screen is idle, and how soon
a lone small change on that still screen reaches the viewer (bench/lone_change.py). Prints the
tables of medians over the rounds and writes them, with ratios to the best peer and to
x0vncserver, date and machine, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench import workload
from bench.lone_change import FRAME_INTERVAL_MS, lone_changes
from bench.rfb_client import COPY_RECT, TIGHT, RFBClient, compress_level, jpeg_quality, psnr

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1920, 1080
ENCODINGS = (TIGHT, COPY_RECT, jpeg_quality(8), compress_level(2))
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    updates_per_s: float
    mbit_per_s: float
    latency_p50: float
    latency_p95: float
    psnr: float
    cpu_percent: float
    idle_cpu_percent: float
    lone_p50: float
    lone_p95: float


METRICS = (
    ("updates/s", "updates_per_s", "{:.1f}"),
    ("Mbit/s", "mbit_per_s", "{:.2f}"),
    ("latency p50 (ms)", "latency_p50", "{:.1f}"),
    ("latency p95 (ms)", "latency_p95", "{:.1f}"),
    ("PSNR (dB)", "psnr", "{:.1f}"),
    ("server CPU (% of a core)", "cpu_percent", "{:.1f}"),
    ("idle server CPU (% of a core)", "idle_cpu_percent", "{:.2f}"),
    ("small change on a still screen, p50 (ms)", "lone_p50", "{:.1f}"),
    ("small change on a still screen, p95 (ms)", "lone_p95", "{:.1f}"),
)
IDLE_SECONDS = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{WIDTH}x{HEIGHT}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    number = b""
    while not number.endswith(b"\n"):
        ready, _, _ = select.select([read_fd], [], [], 10)
        chunk = os.read(read_fd, 16) if ready else b""
        if not chunk:
            proc.kill()
            raise RuntimeError("Xvfb did not start")
        number += chunk
    os.close(read_fd)
    try:
        yield f":{int(number)}"
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def server_command(name: str, display: str, port: int) -> list[str]:
    """The command line of server ``name``; ``supportdesk:ARGS`` is our engine with ARGS added.

    A variant of our engine (``"supportdesk:--frame-rate=30"``) runs in the same rounds
    as the others, so an experiment is measured side by side, not against another day.
    """
    engine, _, extra = name.partition(":")
    if engine == "supportdesk":
        return [sys.executable, "-m", "bench.engine_server", "--display", display,
                "--port", str(port), *extra.split()]  # fmt: skip
    if name == "x0vncserver":
        # Debian's x0vncserver is a Perl wrapper; run the binary so /proc shows its CPU.
        binary = shutil.which("X0tigervnc") or "x0vncserver"
        return [binary, "-display", display, f"-rfbport={port}", "-SecurityTypes=None",
                "-localhost", "-AlwaysShared"]  # fmt: skip
    if name == "x11vnc":
        return ["x11vnc", "-display", display, "-rfbport", str(port), "-localhost", "-nopw",
                "-forever", "-shared", "-quiet"]  # fmt: skip
    raise ValueError(name)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def screenshot(display: str) -> np.ndarray:
    from Xlib import X
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        image = d.screen().root.get_image(0, 0, WIDTH, HEIGHT, X.ZPixmap, 0xFFFFFFFF)
        return np.frombuffer(image.data, dtype=np.uint8).reshape(HEIGHT, WIDTH, 4)[:, :, 2::-1]
    finally:
        d.close()


async def connect(port: int, deadline: float) -> RFBClient:
    while True:
        try:
            return await RFBClient.open("127.0.0.1", port, within=5)
        except (OSError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def measure(pid: int, port: int, display: str, workers: list[Any], seconds: float) -> Result:
    client = await connect(port, time.monotonic() + 15)
    await client.set_encodings(*ENCODINGS)
    await client.request(incremental=False)
    await client.next_update(within=10)
    warm_until = time.monotonic() + 2.0
    while time.monotonic() < warm_until:  # let caches, zlib streams and polling settle
        await client.request()
        await client.next_update(within=10)
    latencies: list[float] = []
    updates = 0
    bytes0, cpu0, t0 = client.bytes_received, cpu_seconds(pid), time.monotonic()
    while time.monotonic() - t0 < seconds:
        await client.request()
        update = await client.next_update(within=10)
        updates += 1
        if update.touches(*workload.CLOCK_AREA):
            painted = workload.read_clock(client.fb)
            if painted is not None:
                now = int(update.received_at * 1000) & 0xFFFFFFFF
                latencies.append(((now - painted) & 0xFFFFFFFF) / 1.0)
    elapsed = time.monotonic() - t0
    cpu = (cpu_seconds(pid) - cpu0) / elapsed * 100
    nbytes = client.bytes_received - bytes0
    # Freeze the workload and let the view settle, then compare with the screen itself.
    for proc in workers:
        os.kill(proc.pid, signal.SIGSTOP)
    try:
        settle_until = time.monotonic() + 1.5
        while time.monotonic() < settle_until:
            await client.request()
            with contextlib.suppress(TimeoutError):
                await client.next_update(within=0.5)
        quality = psnr(client.fb, screenshot(display))
        # Still frozen: an idle screen, one request waiting (as a viewer leaves it).
        await client.request()
        idle_cpu0, idle_t0 = cpu_seconds(pid), time.monotonic()
        with contextlib.suppress(TimeoutError):
            while time.monotonic() - idle_t0 < IDLE_SECONDS:
                await client.next_update(within=IDLE_SECONDS)
                await client.request()
        idle_cpu = (cpu_seconds(pid) - idle_cpu0) / (time.monotonic() - idle_t0) * 100
        lone = sorted(await lone_changes(client, display))
    finally:
        for proc in workers:
            os.kill(proc.pid, signal.SIGCONT)
    await client.close()
    latencies.sort()
    return Result(
        updates_per_s=updates / elapsed,
        mbit_per_s=nbytes * 8 / elapsed / 1e6,
        latency_p50=percentile(latencies, 50),
        latency_p95=percentile(latencies, 95),
        psnr=quality,
        cpu_percent=cpu,
        idle_cpu_percent=idle_cpu,
        lone_p50=percentile(lone, 50),
        lone_p95=percentile(lone, 95),
    )


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]


def run_server(name: str, display: str, workers: list[Any], seconds: float) -> Result:
    port = free_port()
    proc = subprocess.Popen(
        server_command(name, display, port), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return asyncio.run(measure(proc.pid, port, display, workers, seconds))
    finally:
        stop(proc)


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    python = platform.python_version()
    return f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {python}"


PEER = "x0vncserver"
"""The issue's yardstick: targets are ratios to TigerVNC's x0vncserver in the same run."""


def render(results: dict[str, list[Result]], workload_name: str) -> str:
    """The side-by-side table of medians for one workload, and its targets against the peer."""
    names = list(results)
    med = {
        n: {attr: statistics.median(getattr(r, attr) for r in results[n]) for _, attr, _ in METRICS}
        for n in names
    }
    peers = [n for n in names if not n.startswith("supportdesk")]
    ours = next((n for n in names if n.startswith("supportdesk")), None)
    against_peer = PEER in names and ours is not None
    head = f" | {ours} / best peer |" + (f" {ours} / {PEER} |" if against_peer else "")
    lines = [
        "| metric | " + " | ".join(names) + head,
        "|---|" + "---|" * (len(names) + 1 + int(against_peer)),
    ]
    higher_is_better = {"updates_per_s", "psnr"}
    for label, attr, fmt in METRICS:
        values = [fmt.format(med[n][attr]) for n in names]
        if peers and ours is not None:
            pick = max if attr in higher_is_better else min
            best = pick(med[p][attr] for p in peers)
            values.append(_ratio(med[ours][attr], best))
        if against_peer and ours is not None:
            values.append(_ratio(med[ours][attr], med[PEER][attr]))
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    if against_peer and ours is not None:
        lines += ["", f"| target (against {PEER}, same run) | met |", "|---|---|"]
        lines += [
            f"| {text} | {'yes' if ok else '**no**'} |"
            for text, ok in targets(workload_name, med[ours], med[PEER])
        ]
    return "\n".join(lines) + "\n"


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs else "–"


def targets(name: str, ours: dict[str, float], peer: dict[str, float]) -> list[tuple[str, bool]]:
    """Issue 16's done-criterion for workload ``name``."""
    if name == "heavy":
        return [
            (
                "updates/s at least 0.5x",
                ours["updates_per_s"] >= 0.5 * peer["updates_per_s"],
            ),
            ("PSNR >= 40 dB", ours["psnr"] >= 40),
            ("latency p50 at most 1.2x", ours["latency_p50"] <= 1.2 * peer["latency_p50"]),
        ]
    return [
        ("latency p50 at most 1.0x", ours["latency_p50"] <= peer["latency_p50"]),
        ("CPU at most 1.0x", ours["cpu_percent"] <= peer["cpu_percent"]),
        (
            "bandwidth at most 0.8x, at PSNR >= 40 dB",
            ours["mbit_per_s"] <= 0.8 * peer["mbit_per_s"] and ours["psnr"] >= 40,
        ),
        ("idle: under 1 % of a core", ours["idle_cpu_percent"] < 1.0),
        (
            f"a small change on a still screen shown within one frame interval "
            f"({FRAME_INTERVAL_MS:.1f} ms), p95",
            ours["lone_p95"] <= FRAME_INTERVAL_MS,
        ),
    ]


WORKLOADS = {
    "reference": "the reference workload (bench/workload.py)",
    "heavy": "the heavy workload (bench/heavy_workload.py)",
}


@contextlib.contextmanager
def running_workload(name: str, display: str) -> Iterator[list[Any]]:
    """Start workload ``name`` on ``display``; yield the processes to freeze for the PSNR."""
    if name == "heavy":
        env = {**os.environ, "DISPLAY": display}
        env.pop("XAUTHORITY", None)
        painter = subprocess.Popen([sys.executable, "-m", "bench.heavy_workload"], env=env)
        try:
            time.sleep(2.0)
            yield [painter]
        finally:
            stop(painter)
        return
    procs = workload.start(display)
    try:
        time.sleep(2.0)
        yield [*text_printers(procs), procs[1]]
    finally:
        for proc in procs:
            stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--servers",
        default="supportdesk,x0vncserver,x11vnc",
        help="comma-separated; 'supportdesk:--frame-rate=30' adds a variant of our engine",
    )
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    names = args.servers.split(",")
    for tool in ("Xvfb", "xterm", *(n for n in names if not n.startswith("supportdesk"))):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is not installed", file=sys.stderr)
            return 2
    load_before = os.getloadavg()[0]
    sections = []
    for workload_name in args.workloads.split(","):
        results: dict[str, list[Result]] = {n: [] for n in names}
        with xvfb() as display, running_workload(workload_name, display) as workers:
            for round_ in range(args.rounds):
                for name in names:
                    result = run_server(name, display, workers, args.seconds)
                    results[name].append(result)
                    print(f"{workload_name} round {round_ + 1} {name}: {result}", flush=True)
        title = f"**{workload_name.capitalize()}**: {WORKLOADS[workload_name]}."
        sections.append(title + "\n\n" + render(results, workload_name))
    header = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; medians of {args.rounds} "
        f"rounds of {args.seconds:g} s per server and workload; load average (1 min) "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end."
    )
    table = header + "\n\n" + "\n".join(sections)
    print(table)
    if not args.no_write:
        write_doc(args.output, table)
        print(f"written to {args.output}")
    return 0


def text_printers(procs: list[subprocess.Popen[bytes]]) -> list[Any]:
    """The text printer is the xterm's child; freeze it (not xterm, which must still draw)."""
    xterm_pid = procs[0].pid
    children = Path(f"/proc/{xterm_pid}/task/{xterm_pid}/children").read_text().split()
    return [_Pid(int(c)) for c in children]


@dataclass
class _Pid:
    pid: int


MARK_START = "<!-- bench:start -->"
MARK_END = "<!-- bench:end -->"


def write_doc(path: Path, table: str) -> None:
    """Replace the generated block of docs/benchmarks.md, keeping the hand-written notes."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{MARK_START}\n{table}{MARK_END}"
    if MARK_START in text and MARK_END in text:
        before, rest = text.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        text = before + block + after
    else:
        text = "# Benchmarks\n\n" + block + "\n" + text
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
