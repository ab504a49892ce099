"""``python -m bench.browser_share``: the browser way of sharing the screen against the applet's.

One 1920x1080 Xvfb runs the reference workload (bench/workload.py). Each round runs both
paths in turn through one real ``supportdesk serve`` (TLS, recording on), the agent in a
headless Chromium on the session's live page:

- **browser**: the customer in a headful Chromium on the display chooses the browser way
  and consents (``--auto-select-desktop-capture-source`` stands in for the picker); the
  page captures and encodes the screen, the agent's page decodes it into its canvas;
- **applet**: ``supportdesk join --text`` on the same display, the agent's page shows it
  with noVNC (RFB through the relay).

Both are measured the same way, in the agent's page: a probe reads the painted clock out
of the canvas at every animation frame (decoded by :func:`bench.workload.read_clock`), so
glass-to-glass latency is the page's ``Date.now()`` when a new clock value first shows
minus that value (the workload paints ``time.time()``: one clock, this machine); frames/s
are distinct clock values shown; Mbit/s are the bytes the agent's page receives on its
picture socket (``/ws/video/…`` or ``/ws/viewer/…``), counted by wrapping ``WebSocket``;
CPU is the customer's Chromium (browser process and all its children) or the applet, from
/proc. Then the workload's painter is frozen (SIGSTOP) so only the text scrolls, for the
bandwidth of scrolling text alone; then the text is frozen too and, once the view has
settled, the agent's canvas is compared with a direct screenshot (PSNR, over the xterm and
over the whole screen). Prints the medians and ratios; ``--markdown FILE`` writes them into
FILE's section "Browser sharing".
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.async_api import BrowserContext, Page, Playwright, Route, async_playwright
from tests.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    live_server,
    self_signed_certificate,
)

from bench import workload
from bench.__main__ import (
    machine,
    percentile,
    screenshot,
    stop,
    text_printers,
    xvfb,
)
from bench.agent_page import (
    FINISH,
    PROBE,
    START,
    START_AT,
    CpuMeter,
    add_agent,
    browser_pid,
    canvas_rgb,
    clock_offset,
    family,
    issue,
    latencies_and_frames,
    login,
    park_pointer,
    program_shown,
)
from bench.customer_browser import launch_customer
from bench.doc_block import write_block
from bench.rfb_client import psnr
from bench.share_stages import CUSTOMER_PROBE
from bench.share_stages import finish as finish_stages
from bench.share_stages import start as start_stages
from supportdesk.server.recordings.seek_points import SeekPointRule

PATHS = ("browser", "applet")
# A third path, "before": the browser path with the modules of ``--before`` served instead
# (e.g. the share page's modules of main), for an A/B in the same run.
BEFORE = "before"
LEGIBLE_DB = 38.0


@dataclass
class Result:
    latency_p50: float
    latency_p95: float
    frames_per_s: float
    mbit_per_s: float
    text_mbit_per_s: float
    text_psnr: float
    screen_psnr: float
    cpu_percent: float
    text_cpu_percent: float
    agent_cpu_percent: float
    text_key_share: float  # of the scrolling-text bytes, the share in key chunks (browser)
    # Scrolling text as a long scroll costs it: the deltas of the window, and key chunks of
    # the round's mean key-chunk size at the spacing the recording's seek points take.
    text_steady_mbit_per_s: float = math.nan
    to_encoder_p50: float = math.nan  # the customer's page: clock painted -> encode() (browser)
    encoding_p50: float = math.nan  # encode() -> chunk (browser)


METRICS = (
    ("latency p50 (ms)", "latency_p50", "{:.0f}"),
    ("latency p95 (ms)", "latency_p95", "{:.0f}"),
    ("of the p50: painted to the customer's encoder (ms)", "to_encoder_p50", "{:.0f}"),
    ("of the p50: encoding (ms)", "encoding_p50", "{:.0f}"),
    ("frames/s shown", "frames_per_s", "{:.1f}"),
    ("Mbit/s, whole workload", "mbit_per_s", "{:.2f}"),
    ("Mbit/s, scrolling text only", "text_mbit_per_s", "{:.2f}"),
    ("Mbit/s, scrolling text, key chunks at their spacing", "text_steady_mbit_per_s", "{:.3f}"),
    ("PSNR of the frozen text (dB)", "text_psnr", "{:.1f}"),
    ("PSNR of the frozen screen (dB)", "screen_psnr", "{:.1f}"),
    ("customer CPU, whole workload (% of a core)", "cpu_percent", "{:.0f}"),
    ("customer CPU, scrolling text (% of a core)", "text_cpu_percent", "{:.0f}"),
    ("agent's Chromium CPU (% of a core)", "agent_cpu_percent", "{:.0f}"),
)


# -- the workload ----------------------------------------------------------------------------


def xterm_area(display: str) -> tuple[int, int, int, int]:
    """x, y, width, height of the workload's xterm."""
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        for window in d.screen().root.query_tree().children:
            with contextlib.suppress(Exception):
                if "XTerm" in (window.get_wm_class() or ()):
                    g = window.get_geometry()
                    return int(g.x), int(g.y), int(g.width), int(g.height)
    finally:
        d.close()
    raise RuntimeError("the workload's xterm is not on the screen")


# -- measuring in the agent's page -----------------------------------------------------------


@dataclass
class Workload:
    display: str
    painter: Any
    printers: list[Any]
    text: tuple[int, int, int, int]

    def freeze(self, procs: list[Any]) -> None:
        for proc in procs:
            os.kill(proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for proc in (self.painter, *self.printers):
            os.kill(proc.pid, signal.SIGCONT)


async def measure(
    agent: Page, desk: Workload, customer: CpuMeter, agent_cpu: CpuMeter, args: argparse.Namespace,
    label: str, customer_page: Page | None = None,
) -> Result:  # fmt: skip
    await asyncio.sleep(args.warmup)
    # The whole workload.
    await agent.evaluate(START)
    await start_stages(customer_page)
    customer.begin()
    agent_cpu.begin()
    t0 = time.monotonic()
    await asyncio.sleep(args.seconds)
    got = await agent.evaluate(FINISH)
    elapsed = time.monotonic() - t0
    cpu, cpu_agent = customer.percent(), agent_cpu.percent()
    stages = await finish_stages(customer_page)
    latencies, frames = latencies_and_frames(got["samples"])
    latencies.sort()
    mbit = got["bytes"] * 8 / elapsed / 1e6
    key_chunks, key_bytes = got["keys"], got["keyBytes"]
    keys = f"{got['keys']} key chunks, {got['keyBytes'] / max(got['bytes'], 1):.0%} of the bytes"
    keys += f", {got['chunks'] / elapsed:.1f} chunks/s"
    try:
        # Scrolling text alone: the painter (clock and animation) frozen.
        desk.freeze([desk.painter])
        await asyncio.sleep(1.0)
        text_start = await agent.evaluate(START_AT)
        customer.begin()
        t0 = time.monotonic()
        await asyncio.sleep(args.text_seconds)
        got = await agent.evaluate(FINISH)
        seconds = time.monotonic() - t0
        text_mbit = got["bytes"] * 8 / seconds / 1e6
        text_cpu = customer.percent()
        text_key_share = got["keyBytes"] / max(got["bytes"], 1)
        key_chunks, key_bytes = key_chunks + got["keys"], key_bytes + got["keyBytes"]
        text_steady = steady_mbit(
            got["bytes"] - got["keyBytes"], got["chunks"], seconds, key_bytes / key_chunks
        ) if key_chunks and not label.startswith("applet") else math.nan  # fmt: skip
        keys += f"; text: {got['keys']} key chunks, {text_key_share:.0%}"
        keys += f", {got['chunks'] / seconds:.1f} chunks/s, "
        keys += f"{(got['bytes'] - got['keyBytes']) * 8 / seconds / 1e6:.3f} Mbit/s without them"
        keys += f" ({chunk_timeline(got['trace'], text_start, seconds)})"
        # Everything frozen: what the agent sees once the view has settled.
        desk.freeze(desk.printers)
        await asyncio.sleep(args.settle)
        shown, direct = await canvas_rgb(agent), screenshot(desk.display)
    finally:
        desk.thaw()
    if args.keep:
        from PIL import Image

        args.keep.mkdir(parents=True, exist_ok=True)
        Image.fromarray(shown).save(args.keep / f"{label}-agent.png")
        Image.fromarray(direct).save(args.keep / f"{label}-screen.png")
    if not label.startswith("applet"):
        config = await agent.evaluate("() => __bench.config")
        print(f"{label}: {config}; {keys}", flush=True)
    x, y, w, h = desk.text
    return Result(
        latency_p50=percentile(latencies, 50),
        latency_p95=percentile(latencies, 95),
        frames_per_s=frames / elapsed,
        mbit_per_s=mbit,
        text_mbit_per_s=text_mbit,
        text_psnr=psnr(shown[y : y + h, x : x + w], direct[y : y + h, x : x + w]),
        screen_psnr=psnr(shown, direct),
        cpu_percent=cpu,
        text_cpu_percent=text_cpu,
        agent_cpu_percent=cpu_agent,
        text_key_share=text_key_share,
        text_steady_mbit_per_s=text_steady,
        to_encoder_p50=stages.to_encoder_p50 if stages else math.nan,
        encoding_p50=stages.encoding_p50 if stages else math.nan,
    )


def steady_mbit(delta_bytes: int, chunks: int, seconds: float, key_chunk_bytes: float) -> float:
    """Mbit/s of a long stretch like the window: its deltas, and a key chunk each time the
    recording's seek-point rule asks for one at the window's chunk rate."""
    rule = SeekPointRule()
    keys_per_s = max(chunks / seconds / rule.max_chunks, 1 / rule.max_seconds) if chunks else 0
    return (delta_bytes / seconds + keys_per_s * key_chunk_bytes) * 8 / 1e6


def chunk_timeline(trace: list[list[int]], start_ms: float, seconds: float) -> str:
    """The video chunks the agent's page got in a window, second by second, and when its key
    chunks came: e.g. ``"per second 28 3 2 2; key chunks at 0.4 s"``. ``trace`` holds
    ``[page time ms, bytes, key]`` per chunk; ``start_ms`` is the window's start on the
    page's clock (its first entry's time when not known)."""
    counts = [0] * max(round(seconds), 1)
    keys = []
    for at, _, key in trace:
        offset = (at - start_ms) / 1000
        if 0 <= offset < len(counts):
            counts[int(offset)] += 1
            if key:
                keys.append(f"{offset:.1f}")
    line = "per second " + " ".join(map(str, counts))
    return line + (f"; key chunks at {', '.join(keys)} s" if keys else "")


# -- the two paths ---------------------------------------------------------------------------


async def share_from_the_browser(
    page: Page, portal_url: str, key: str, agent: Page, console_url: str, number: str
) -> None:
    """The customer redeems ``key`` at ``portal_url`` and shares the screen from the
    browser; returns once the agent's live page has painted a frame of it."""
    await page.goto(portal_url + "/fernwartung/start")
    await page.get_by_label("Ihr Name").fill("Erika Müller")
    await page.get_by_label("Support-Schlüssel").fill(key)
    await page.get_by_role("button", name="Weiter >>").click()
    await page.get_by_role(
        "button", name="Bildschirm im Browser freigeben (nichts installieren)"
    ).click()
    await page.get_by_role("button", name="Ja, Bildschirm freigeben").click()
    await agent.goto(f"{console_url}/console/sessions/{number}/live")
    await agent.wait_for_function(
        "() => Number(document.querySelector('[data-video-screen]')?.dataset.frames || 0) > 0",
        timeout=30_000,
    )


async def override(context: BrowserContext, args: argparse.Namespace, before: bool = False) -> None:
    for module, replacement in [*args.override, *(args.before if before else [])]:
        await context.route(f"**/static/{module}", serve(replacement))


async def override_agent(context: BrowserContext, args: argparse.Namespace) -> None:
    """The agent's page: ``--override`` always, ``--before``'s modules while the before path
    runs (``args.running``), for a module the agent's page loads (e.g. video-canvas.js)."""
    args.running = None
    await override(context, args)
    for module, replacement in args.before:
        await context.route(
            f"**/static/{module}", serve(replacement, when=lambda: args.running == BEFORE)
        )


def serve(
    path: Path, when: Callable[[], bool] = lambda: True
) -> Callable[[Route], Awaitable[None]]:
    body = path.read_text(encoding="utf-8")

    async def fulfil(route: Route) -> None:
        if when():
            await route.fulfill(body=body, content_type="text/javascript")
        else:
            await route.fallback()

    return fulfil


async def browser_round(
    playwright: Playwright, agent: Page, server: LiveServer, desk: Workload, agent_cpu: CpuMeter,
    args: argparse.Namespace, path: str = "browser",
) -> Result:  # fmt: skip
    key, number = await issue(agent, server)
    marker = f"--bench-customer={uuid.uuid4().hex}"
    browser = await launch_customer(playwright, desk.display, marker)
    try:
        pid = browser_pid(marker)
        context = await browser.new_context(
            ignore_https_errors=True, viewport={"width": 600, "height": 400}
        )
        if args.stages:  # it reads every frame at encode(): it costs the customer CPU
            await context.add_init_script(CUSTOMER_PROBE)
        await override(context, args, before=path == BEFORE)
        page = await context.new_page()
        await share_from_the_browser(page, server.url, key, agent, server.url, number)
        park_pointer(desk.display)
        result = await measure(
            agent, desk, CpuMeter(lambda: family(pid)), agent_cpu, args, f"{path}-{number}", page
        )
        with contextlib.suppress(Exception):
            await page.get_by_role("button", name="Sitzung beenden").click(timeout=3000)
            await asyncio.sleep(0.5)
        return result
    finally:
        await browser.close()


async def applet_round(
    agent: Page, server: LiveServer, desk: Workload, agent_cpu: CpuMeter, home: Path,
    args: argparse.Namespace,
) -> Result:  # fmt: skip
    async with program_shown(agent, server, desk.display, home) as (applet, number):
        park_pointer(desk.display)
        return await measure(
            agent, desk, CpuMeter(lambda: family(applet.pid)), agent_cpu, args, f"applet-{number}"
        )


# -- the run ---------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> tuple[dict[str, list[Result]], float]:
    """Xvfb with the workload, the server with an agent; then the rounds."""
    with tempfile.TemporaryDirectory(prefix="bench-share-") as tmp, xvfb() as display:
        folder = Path(tmp)
        procs = workload.start(display)
        tls = self_signed_certificate(folder)
        try:
            with live_server(folder, tls=tls, SUPPORTDESK_LOGGING_LEVEL="WARNING") as server:
                add_agent(folder)
                time.sleep(1.0)  # the xterm maps
                desk = Workload(display, procs[1], text_printers(procs), xterm_area(display))
                home = folder / "home"
                (home / "Dokumente").mkdir(parents=True)
                return asyncio.run(rounds(server, desk, home, args))
        finally:
            for proc in procs:
                stop(proc)


async def rounds(
    server: LiveServer, desk: Workload, home: Path, args: argparse.Namespace
) -> tuple[dict[str, list[Result]], float]:
    results: dict[str, list[Result]] = {p: [] for p in args.paths}
    async with async_playwright() as playwright:
        marker = f"--bench-agent={uuid.uuid4().hex}"
        agent_browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, marker]
        )
        agent_pid = browser_pid(marker)
        agent_cpu = CpuMeter(lambda: family(agent_pid))
        context = await agent_browser.new_context(
            ignore_https_errors=True, viewport={"width": 1500, "height": 1000}
        )
        await context.add_init_script(PROBE)
        await override_agent(context, args)
        agent = await login(context, server)
        offset = await clock_offset(agent)
        print(f"agent page clock - bench clock: {offset:+.1f} ms", flush=True)
        for round_ in range(args.rounds):
            order = args.paths if round_ % 2 == 0 else args.paths[::-1]
            for path in order:
                args.running = path
                if path in ("browser", BEFORE):
                    result = await browser_round(
                        playwright, agent, server, desk, agent_cpu, args, path
                    )
                else:
                    result = await applet_round(agent, server, desk, agent_cpu, home, args)
                results[path].append(result)
                print(f"round {round_ + 1} {path}: {result}", flush=True)
        await agent_browser.close()
    return results, offset


def medians(results: dict[str, list[Result]]) -> dict[str, dict[str, float]]:
    return {
        path: {f.name: statistics.median(getattr(r, f.name) for r in rs) for f in fields(Result)}
        for path, rs in results.items()
    }


def shown(fmt: str, value: float) -> str:
    """A cell: the value, or a dash where the path has no such number."""
    return "–" if math.isnan(value) else fmt.format(value)


def render(results: dict[str, list[Result]], args: argparse.Namespace, offset: float) -> str:
    med = medians(results)
    b, a = med["browser"], med["applet"]
    old = med.get(BEFORE)
    lines = [
        "| metric | browser (WebCodecs) | applet (RFB, noVNC) | browser / applet |"
        + (" browser before (`--before`) |" if old else ""),
        "|---|---|---|---|" + ("---|" if old else ""),
    ]
    for label, attr, fmt in METRICS:
        finite = math.isfinite(b[attr]) and math.isfinite(a[attr]) and a[attr]
        ratio = f"{b[attr] / a[attr]:.2f}" if finite else "–"
        row = f"| {label} | {shown(fmt, b[attr])} | {shown(fmt, a[attr])} | {ratio} |"
        lines.append(row + (f" {shown(fmt, old[attr])} |" if old else ""))
    per_round = [
        "",
        "| round | path | p50 (ms) | p95 (ms) | frames/s | Mbit/s | text Mbit/s "
        "| of it key chunks | text PSNR (dB) | customer CPU (%) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path, rs in results.items():
        for i, r in enumerate(rs):
            per_round.append(
                f"| {i + 1} | {path} | {r.latency_p50:.0f} | {r.latency_p95:.0f} | "
                f"{r.frames_per_s:.1f} | {r.mbit_per_s:.2f} | {r.text_mbit_per_s:.2f} | "
                f"{r.text_key_share:.0%} | "
                f"{r.text_psnr:.1f} | {r.cpu_percent:.0f} |"
            )
    checks = [
        (
            "latency p50 at or below the applet path's",
            b["latency_p50"] <= a["latency_p50"],
            f"{b['latency_p50']:.0f} vs {a['latency_p50']:.0f} ms",
        ),
        (
            "at most half the applet's bandwidth on scrolling text, "
            f"text PSNR >= {LEGIBLE_DB:g} dB",
            b["text_mbit_per_s"] <= 0.5 * a["text_mbit_per_s"] and b["text_psnr"] >= LEGIBLE_DB,
            f"{b['text_mbit_per_s']:.2f} vs {a['text_mbit_per_s']:.2f} Mbit/s "
            f"({b['text_mbit_per_s'] / a['text_mbit_per_s']:.2f}x), {b['text_psnr']:.1f} dB",
        ),
        (
            "the same over a long scroll (key chunks at the seek points' spacing)",
            b["text_steady_mbit_per_s"] <= 0.5 * a["text_mbit_per_s"]
            and b["text_psnr"] >= LEGIBLE_DB,
            f"{b['text_steady_mbit_per_s']:.3f} vs {a['text_mbit_per_s']:.2f} Mbit/s "
            f"({b['text_steady_mbit_per_s'] / a['text_mbit_per_s']:.2f}x), "
            f"{b['text_psnr']:.1f} dB",
        ),
    ]
    lines += per_round
    lines += ["", "| target | met | numbers |", "|---|---|---|"]
    lines += [f"| {t} | {'yes' if ok else '**no**'} | {n} |" for t, ok, n in checks]
    header = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; medians of "
        f"{args.rounds} rounds, paths alternating; per path and round {args.warmup:g} s warm-up, "
        f"{args.seconds:g} s whole workload, {args.text_seconds:g} s scrolling text only, "
        f"{args.settle:g} s to settle before the PSNR; the agent's page clock was "
        f"{offset:+.1f} ms off this process's. Load average (1 min) {args.load[0]:.1f} at the "
        f"start, {args.load[1]:.1f} at the end."
    )
    if args.stages:
        header += " The customer's page carried the stage probe (`--stages`), which costs it CPU."
    return header + "\n\n" + "\n".join(lines) + "\n"


SECTION = "## Browser sharing (`python -m bench.browser_share`)"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser_share", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="whole workload, per path")
    parser.add_argument("--text-seconds", type=float, default=10.0, help="scrolling text only")
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument(
        "--stages", action="store_true",
        help="time the customer's page up to and through its encoder (bench/share_stages.py); "
        "the probe costs the customer's Chromium CPU, so the other numbers of such a run are "
        "not the plain path's",
    )  # fmt: skip
    parser.add_argument("--paths", default=",".join(PATHS))
    parser.add_argument(
        "--before", action="append", default=[], metavar="MODULE=FILE",
        help="with the path 'before' in --paths: the browser path with FILE served as the "
        "static MODULE to the customer's page, and to the agent's page while that path runs "
        "(an A/B in the same run)",
    )  # fmt: skip
    parser.add_argument("--markdown", type=Path, help="write the results into this file")
    parser.add_argument("--keep", type=Path, help="save the frozen canvas and screen here")
    parser.add_argument(
        "--override", action="append", default=[], metavar="MODULE=FILE",
        help="serve FILE as the static MODULE (e.g. share/codecs.js, console-video.js) to both "
        "browsers: try encoder settings without editing the tree",
    )  # fmt: skip
    args = parser.parse_args()
    args.paths = args.paths.split(",")
    args.override = [(m, Path(f)) for m, f in (o.split("=", 1) for o in args.override)]
    args.before = [(m, Path(f)) for m, f in (o.split("=", 1) for o in args.before)]
    load = os.getloadavg()[0]
    results, offset = run(args)
    args.load = (load, os.getloadavg()[0])
    if not set(PATHS) <= set(args.paths):
        return 0
    table = render(results, args, offset)
    print(table)
    if args.markdown:
        write_block(args.markdown, SECTION, "browser-share-bench", table)
        print(f"written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
