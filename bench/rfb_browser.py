"""``python -m bench.rfb_browser``: the support program against TigerVNC, as the agent sees them.

One 1920x1080 Xvfb per workload (bench/workload.py's reference workload, bench/heavy_workload.py's
heavy one); the agent is one headless Chromium; each round runs both lanes in turn on the
same display, the order reversed every other round:

- **supportdesk**: the support program (``supportdesk join --text``, view only) through a real
  ``supportdesk serve`` (TLS, recording as configured by default) into the agent's live page
  (the console's noVNC);
- **x0vncserver**: ``X0tigervnc`` on the same display → ``websockify`` (TLS, the same
  certificate) → the same noVNC files the console ships (``node_modules/@novnc/novnc`` and the
  console's ``novnc-zlib-reset.js``, served by a loopback http server in this process) with the
  console's noVNC settings (quality and compression level read from ``console-live.js``,
  scaled into a box of the console's size, shared, view only);
- **engine** (only if asked for with ``--lanes``): our engine alone (bench/engine_server.py,
  as ``python -m bench`` runs it) in the x0vncserver lane's place, behind the same websockify.

Both are measured in the agent's page with bench/agent_page.py's probe: glass-to-glass latency
from the painted clock read out of the noVNC canvas, frames/s shown, Mbit/s received on the
picture socket; CPU from /proc of the customer side (the program; X0tigervnc + websockify), of
the hop (``supportdesk serve``; websockify) and of the agent's Chromium (all its processes);
then the workload is frozen and the settled canvas is compared with a screenshot (PSNR).
``--markdown FILE`` writes the medians and ratios into FILE's section for this bench.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import Page, async_playwright
from tests.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    free_port,
    live_server,
    self_signed_certificate,
)

from bench.__main__ import (
    ROOT,
    WORKLOADS,
    machine,
    percentile,
    running_workload,
    screenshot,
    server_command,
    stop,
    xvfb,
)
from bench.agent_page import (
    FINISH,
    START,
    CpuMeter,
    add_agent,
    browser_pid,
    canvas_rgb,
    clock_offset,
    family,
    latencies_and_frames,
    login,
    park_pointer,
    probe_script,
    program_shown,
)
from bench.doc_block import write_block
from bench.novnc_page import STATIC, console_settings, viewer_files, wait_listening
from bench.rfb_client import psnr

LANES = ("supportdesk", "x0vncserver")
DIAGNOSTIC_LANES = ("engine",)
PEER = "x0vncserver"
LABELS = {
    "supportdesk": "supportdesk (program → serve → noVNC)",
    "x0vncserver": "x0vncserver (X0tigervnc → websockify → noVNC)",
    "engine": "engine alone (engine_server → websockify → noVNC)",
}
PICTURE_SOCKETS = r"^/ws/viewer/|^/websockify$"


@dataclass
class Result:
    latency_p50: float
    latency_p95: float
    frames_per_s: float
    mbit_per_s: float
    screen_psnr: float
    customer_cpu: float  # the program; X0tigervnc + websockify
    screen_server_cpu: float  # the program; X0tigervnc
    hop_cpu: float  # supportdesk serve; websockify
    agent_cpu: float
    load: float  # 1-minute load average when the lane's measurement began


METRICS = (
    ("latency p50 (ms)", "latency_p50", "{:.0f}"),
    ("latency p95 (ms)", "latency_p95", "{:.0f}"),
    ("frames/s shown", "frames_per_s", "{:.1f}"),
    ("Mbit/s received by the page", "mbit_per_s", "{:.2f}"),
    ("PSNR of the settled canvas (dB)", "screen_psnr", "{:.1f}"),
    ("customer side CPU (% of a core)", "customer_cpu", "{:.0f}"),
    ("of it the screen server (% of a core)", "screen_server_cpu", "{:.0f}"),
    ("the hop: supportdesk serve or websockify (% of a core)", "hop_cpu", "{:.0f}"),
    ("agent's Chromium CPU (% of a core)", "agent_cpu", "{:.0f}"),
)


# -- pure parts ------------------------------------------------------------------------------


def medians(results: dict[str, list[Result]]) -> dict[str, dict[str, float]]:
    """Per lane, the median of every field over its rounds (NaN rounds are skipped)."""
    out: dict[str, dict[str, float]] = {}
    for lane, rs in results.items():
        out[lane] = {}
        for f in fields(Result):
            values = [getattr(r, f.name) for r in rs if not math.isnan(getattr(r, f.name))]
            out[lane][f.name] = statistics.median(values) if values else math.nan
    return out


def ratio(ours: float, theirs: float) -> str:
    """``ours / theirs`` for the table; a dash where it means nothing (zero, NaN, inf)."""
    if not (math.isfinite(ours) and math.isfinite(theirs)) or theirs == 0:
        return "–"
    return f"{ours / theirs:.2f}"


def render(results: dict[str, list[Result]]) -> str:
    """One workload's table of medians, each lane against x0vncserver, and the rounds."""
    med = medians(results)
    lanes = list(results)
    against = [lane for lane in lanes if lane != PEER] if PEER in results else []
    head = ["metric", *(LABELS[lane] for lane in lanes), *(f"{lane} / {PEER}" for lane in against)]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---|" * (len(head) - 1)]
    for label, attr, fmt in METRICS:
        cells = [fmt.format(med[lane][attr]) for lane in lanes]
        cells += [ratio(med[lane][attr], med[PEER][attr]) for lane in against]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| round | lane | load | p50 (ms) | p95 (ms) | frames/s | Mbit/s | PSNR (dB) "
        "| customer CPU (%) | hop CPU (%) | agent CPU (%) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lane, rs in results.items():
        for i, r in enumerate(rs):
            lines.append(
                f"| {i + 1} | {lane} | {r.load:.1f} | {r.latency_p50:.0f} | {r.latency_p95:.0f} "
                f"| {r.frames_per_s:.1f} | {r.mbit_per_s:.2f} | {r.screen_psnr:.1f} "
                f"| {r.customer_cpu:.0f} | {r.hop_cpu:.0f} | {r.agent_cpu:.0f} |"
            )
    return "\n".join(lines) + "\n"


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Desk:
    display: str
    workers: list[Any]  # the workload's processes to freeze for the PSNR


async def measure(
    agent: Page, desk: Desk, screen_server: CpuMeter, hop: CpuMeter, agent_cpu: CpuMeter,
    hop_is_customer_side: bool, args: argparse.Namespace,
) -> Result:  # fmt: skip
    park_pointer(desk.display)
    await asyncio.sleep(args.warmup)
    load = os.getloadavg()[0]
    await agent.evaluate(START)
    for meter in (screen_server, hop, agent_cpu):
        meter.begin()
    t0 = time.monotonic()
    await asyncio.sleep(args.seconds)
    got = await agent.evaluate(FINISH)
    elapsed = time.monotonic() - t0
    server_cpu, hop_cpu, browser_cpu = (m.percent() for m in (screen_server, hop, agent_cpu))
    latencies, frames = latencies_and_frames(got["samples"])
    latencies.sort()
    for proc in desk.workers:
        os.kill(proc.pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(args.settle)
        shown, direct = await canvas_rgb(agent), screenshot(desk.display)
    finally:
        for proc in desk.workers:
            os.kill(proc.pid, signal.SIGCONT)
    return Result(
        latency_p50=percentile(latencies, 50),
        latency_p95=percentile(latencies, 95),
        frames_per_s=frames / elapsed,
        mbit_per_s=got["bytes"] * 8 / elapsed / 1e6,
        screen_psnr=psnr(shown, direct),
        customer_cpu=server_cpu + (hop_cpu if hop_is_customer_side else 0.0),
        screen_server_cpu=server_cpu,
        hop_cpu=hop_cpu,
        agent_cpu=browser_cpu,
        load=load,
    )


@dataclass
class Bench:
    server: LiveServer
    agent: Page
    agent_cpu: CpuMeter
    viewer_url: str
    tls: tuple[Path, Path]
    home: Path
    box: tuple[int, int] = (1500, 700)  # the console's screen box, once seen


Lane = Callable[["Bench", "Desk", argparse.Namespace], Awaitable["Result"]]
"""One way of showing the desktop in the agent's page, measured for one round."""


async def supportdesk_lane(bench: Bench, desk: Desk, args: argparse.Namespace) -> Result:
    async with program_shown(bench.agent, bench.server, desk.display, bench.home) as (applet, _):
        box = await bench.agent.locator("[data-screen]").bounding_box()
        if box:
            bench.box = (round(box["width"]), round(box["height"]))
        server_pid = bench.server.process.pid
        return await measure(
            bench.agent, desk, CpuMeter(lambda: family(applet.pid)),
            CpuMeter(lambda: family(server_pid)), bench.agent_cpu, False, args,
        )  # fmt: skip


async def websockify_lane(
    server: str, bench: Bench, desk: Desk, args: argparse.Namespace
) -> Result:
    """``server`` (as ``python -m bench`` runs it: x0vncserver, or our engine alone) on the
    display, behind websockify, in the bench's copy of the console's noVNC."""
    vnc_port, ws_port = free_port(), free_port()
    env = {**os.environ}
    env.pop("XAUTHORITY", None)
    vnc = subprocess.Popen(  # noqa: ASYNC220 - started once per lane, returns at once
        server_command(server, desk.display, vnc_port), env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    websockify = shutil.which("websockify") or str(Path(sys.executable).parent / "websockify")
    cert, key = bench.tls
    proxy = subprocess.Popen(  # noqa: ASYNC220
        [websockify, "--cert", str(cert), "--key", str(key), "--ssl-only",
         f"127.0.0.1:{ws_port}", f"127.0.0.1:{vnc_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(vnc_port)
        wait_listening(ws_port)
        query = {
            "socket": f"wss://127.0.0.1:{ws_port}/websockify",
            "width": bench.box[0],
            "height": bench.box[1],
            **console_settings((STATIC / "console-live.js").read_text(encoding="utf-8")),
        }
        await bench.agent.goto(f"{bench.viewer_url}?{urlencode(query)}")
        await bench.agent.locator('[data-screen][data-viewer="connected"]').wait_for(
            state="attached", timeout=30_000
        )
        await bench.agent.locator("[data-screen] canvas").wait_for(timeout=10_000)
        result = await measure(
            bench.agent, desk, CpuMeter(lambda: family(vnc.pid)),
            CpuMeter(lambda: family(proxy.pid)), bench.agent_cpu, True, args,
        )  # fmt: skip
        await bench.agent.goto("about:blank")
        return result
    finally:
        stop(proxy)
        stop(vnc)


# -- the run ---------------------------------------------------------------------------------


async def all_rounds(
    server: LiveServer, tls: tuple[Path, Path], home: Path, viewer_url: str,
    args: argparse.Namespace,
) -> tuple[dict[str, dict[str, list[Result]]], float]:  # fmt: skip
    results: dict[str, dict[str, list[Result]]] = {}
    async with async_playwright() as playwright:
        marker = f"--bench-agent={uuid.uuid4().hex}"
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, marker]
        )
        agent_pid = browser_pid(marker)
        context = await browser.new_context(
            ignore_https_errors=True, viewport={"width": 1500, "height": 1000}
        )
        await context.add_init_script(probe_script(PICTURE_SOCKETS))
        agent = await login(context, server)
        offset = await clock_offset(agent)
        print(f"agent page clock - bench clock: {offset:+.1f} ms", flush=True)
        bench = Bench(server, agent, CpuMeter(lambda: family(agent_pid)), viewer_url, tls, home)
        lanes: dict[str, Lane] = {
            "supportdesk": supportdesk_lane,
            "x0vncserver": functools.partial(websockify_lane, "x0vncserver"),
            "engine": functools.partial(websockify_lane, "supportdesk"),
        }
        for name in args.workloads:
            results[name] = {lane: [] for lane in args.lanes}
            with xvfb() as display, running_workload(name, display) as workers:
                desk = Desk(display, workers)
                for round_ in range(args.rounds):
                    order = args.lanes if round_ % 2 == 0 else args.lanes[::-1]
                    for lane in order:
                        result = await lanes[lane](bench, desk, args)
                        results[name][lane].append(result)
                        print(f"{name} round {round_ + 1} {lane}: {result}", flush=True)
        await browser.close()
    return results, offset


def run(args: argparse.Namespace) -> tuple[dict[str, dict[str, list[Result]]], float]:
    with tempfile.TemporaryDirectory(prefix="bench-rfb-browser-") as tmp, viewer_files() as url:
        folder = Path(tmp)
        tls = self_signed_certificate(folder)
        with live_server(folder, tls=tls, SUPPORTDESK_LOGGING_LEVEL="WARNING") as server:
            add_agent(folder)
            home = folder / "home"
            (home / "Dokumente").mkdir(parents=True)
            return asyncio.run(all_rounds(server, tls, home, url, args))


def commit() -> str:
    """The checked-out commit the bench ran, for comparing runs across the engine's changes."""
    found = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return found.stdout.strip() or "unknown"


SECTION = "## The program against TigerVNC in the agent's browser (`python -m bench.rfb_browser`)"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rfb_browser", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured, per lane")
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--settle", type=float, default=2.0, help="frozen, before the PSNR")
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument(
        "--lanes", default=",".join(LANES),
        help="supportdesk and x0vncserver for the table; also engine (our engine alone "
        "behind websockify) to look at the engine without the program, its link and the relay",
    )  # fmt: skip
    parser.add_argument("--markdown", type=Path, help="write the results into this file")
    args = parser.parse_args()
    args.workloads = args.workloads.split(",")
    args.lanes = args.lanes.split(",")
    if unknown := set(args.lanes) - {*LANES, *DIAGNOSTIC_LANES}:
        parser.error(f"unknown lanes: {', '.join(sorted(unknown))}")
    for tool in ("Xvfb", "xterm", "X0tigervnc"):
        if shutil.which(tool) is None:
            print(f"bench.rfb_browser: {tool} is not installed", file=sys.stderr)
            return 2
    load = os.getloadavg()[0]
    results, offset = run(args)
    if not {"supportdesk", PEER} <= set(args.lanes):
        return 0
    sections = [
        f"**{name.capitalize()}**: {WORKLOADS[name]}.\n\n" + render(by_lane)
        for name, by_lane in results.items()
    ]
    header = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit {commit()} on {machine()}; "
        f"medians of {args.rounds} "
        f"rounds, lanes alternating; per lane and round {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s measured, {args.settle:g} s frozen before the PSNR; the agent's "
        f"page clock was {offset:+.1f} ms off this process's. Load average (1 min) {load:.1f} "
        f"at the start, {os.getloadavg()[0]:.1f} at the end (per lane in the rounds' tables)."
    )
    table = header + "\n\n" + "\n".join(sections)
    print(table)
    if args.markdown:
        write_block(args.markdown, SECTION, "rfb-browser-bench", table)
        print(f"written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
