"""The agent's page as a measuring instrument: a probe reading the painted clock out of its canvas.

Shared by the benches that measure what the agent sees in Chromium (bench/browser_share.py,
bench/rfb_browser.py): the init script that reads bench/workload.py's clock from the
picture canvas at every animation frame and counts the bytes of the picture sockets, the
decoding of its samples into latencies, the canvas as pixels, the page's clock against
ours, CPU of process trees from /proc, and the agent's and the support program's steps
through a real ``supportdesk serve``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import numpy as np
from playwright.async_api import BrowserContext, Page
from tests.agent_login import sign_in_page
from tests.live_server import LiveServer

from bench import workload
from bench.__main__ import HEIGHT, WIDTH, cpu_seconds

PASSWORD = "benchmark passwort lang genug"
POINTER_PARK = (WIDTH - 1, HEIGHT // 2)  # the pointer where no measured pixel is
CONSOLE_SOCKETS = r"^/ws/(video|viewer)/"
"""The live page's picture sockets: the browser way's video, the program's RFB viewer."""
PICTURE_CANVAS = "document.querySelector('canvas[data-video-screen]') || document.querySelector('[data-screen] canvas')"  # noqa: E501

_PROBE = """
(() => {
  const { bits, block, centre, clock, width, height, sockets } = __GEOMETRY__;
  const bench = (window.__bench = {
    running: false, bytes: 0, keys: 0, keyBytes: 0, chunks: 0, samples: [], trace: [],
  });
  const picture = new RegExp(sockets);
  // Wrapped, not subclassed: noVNC checks the socket's own prototype for its methods.
  const Native = window.WebSocket;
  const Counting = function (url, protocols) {
    const socket = new Native(url, protocols);
    const path = new URL(url, location.href).pathname;
    if (picture.test(path)) {
      socket.addEventListener("message", (event) => {
        const data = event.data;
        if (typeof data === "string") bench.config = data;
        if (!bench.running) return;
        const n = typeof data === "string" ? data.length : (data.byteLength ?? data.size ?? 0);
        bench.bytes += n;
        if (path.startsWith("/ws/video/") && typeof data !== "string") {
          bench.chunks += 1;
          const key = new Uint8Array(data, 0, 1)[0] & 1;
          if (key) {
            bench.keys += 1;
            bench.keyBytes += n;
          }
          bench.trace.push([Math.round(performance.now()), n, key]); // when, bytes, key
        }
      });
    }
    return socket;
  };
  Counting.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Counting[name] = Native[name];
  window.WebSocket = Counting;
  const XS = Array.from({ length: bits }, (_, i) => block * i + centre);
  let canvas = null;
  let context = null;
  let last = "";
  const tick = () => {
    requestAnimationFrame(tick);
    if (!bench.running) return;
    const found = __CANVAS__;
    if (!found || !found.width) return;
    if (found !== canvas) {
      canvas = found;
      context = found.getContext("2d");
    }
    const sx = canvas.width / width;
    const sy = canvas.height / height;
    const y = Math.floor(centre * sy);
    const row = context.getImageData(0, y, Math.ceil(clock * sx), 1).data;
    const pixels = [];
    for (const x of XS) {
      const i = Math.floor(x * sx) * 4;
      pixels.push(row[i], row[i + 1], row[i + 2]);
    }
    const key = pixels.join(",");
    if (key !== last) {
      last = key;
      bench.samples.push([Date.now(), ...pixels]);
    }
  };
  requestAnimationFrame(tick);
})();
"""


def probe_script(picture_sockets: str = CONSOLE_SOCKETS) -> str:
    """The init script for the agent's context: clock samples and the bytes of the sockets
    whose path matches the regular expression ``picture_sockets``."""
    geometry = {
        **workload.clock_geometry(),
        "width": WIDTH,
        "height": HEIGHT,
        "sockets": picture_sockets,
    }
    return _PROBE.replace("__GEOMETRY__", json.dumps(geometry)).replace(
        "__CANVAS__", PICTURE_CANVAS
    )


PROBE = probe_script()
START = (
    "() => Object.assign(__bench,"
    " {samples: [], bytes: 0, keys: 0, keyBytes: 0, chunks: 0, trace: [], running: true})"
)
START_AT = f"() => {{ ({START})(); return performance.now(); }}"
"""START, returning when it started on the page's clock (``performance.now()``, as the trace)."""
FINISH = "() => { __bench.running = false; return __bench; }"


def latencies_and_frames(samples: list[list[int]]) -> tuple[list[float], int]:
    """Latency (ms) of each new clock value the page showed, and how many there were."""
    fb = np.zeros((workload.BLOCK, workload.CLOCK_BITS * workload.BLOCK, 3), dtype=np.uint8)
    centre = workload.BLOCK // 2
    latencies: list[float] = []
    previous = None
    for sample in samples:
        seen_at, pixels = sample[0], sample[1:]
        fb[centre, centre :: workload.BLOCK] = np.asarray(pixels, dtype=np.uint8).reshape(-1, 3)
        painted = workload.read_clock(fb)
        if painted is None or painted == previous:
            continue
        previous = painted
        latencies.append(float(((seen_at & 0xFFFFFFFF) - painted) & 0xFFFFFFFF))
    return latencies, len(latencies)


async def canvas_rgb(agent: Page) -> np.ndarray:
    """The picture canvas of the agent's page, scaled to the screen's size."""
    from PIL import Image

    url = await agent.evaluate(f"() => ({PICTURE_CANVAS}).toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if image.size != (WIDTH, HEIGHT):
        image = image.resize((WIDTH, HEIGHT))
    return np.asarray(image, dtype=np.uint8)


async def clock_offset(agent: Page, now: str = "Date.now()") -> float:
    """The page's clock (``now``, a JavaScript expression in ms) minus this process's
    time.time(), in ms (best of ten round trips)."""
    best: tuple[float, float] = (float("inf"), 0.0)
    for _ in range(10):
        before = time.time()
        shown = await agent.evaluate(now)
        after = time.time()
        best = min(best, (after - before, shown - (before + after) / 2 * 1000))
    return best[1]


# -- processes -------------------------------------------------------------------------------


def children_of() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def family(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, found, todo = children_of(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def browser_pid(marker: str) -> int:
    """The Chromium browser process launched with ``marker`` among its switches."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if marker.encode() in argv and not any(a.startswith(b"--type=") for a in argv):
                return int(entry.name)
    raise RuntimeError(f"no Chromium with {marker}")


class CpuMeter:
    """utime + stime of a process tree over an interval, in percent of one core."""

    def __init__(self, pids: Callable[[], list[int]]) -> None:
        self.pids = pids
        self.start: dict[int, float] = {}
        self.t0 = 0.0

    def _read(self) -> dict[int, float]:
        seconds = {}
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                seconds[pid] = cpu_seconds(pid)
        return seconds

    def begin(self) -> None:
        self.start, self.t0 = self._read(), time.monotonic()

    def percent(self) -> float:
        now, elapsed = self._read(), time.monotonic() - self.t0
        used = sum(v - self.start.get(pid, 0.0) for pid, v in now.items())
        return used / elapsed * 100


def park_pointer(display: str) -> None:
    from Xlib import display as xdisplay

    d = xdisplay.Display(display)
    try:
        d.screen().root.warp_pointer(*POINTER_PARK)
        d.sync()
    finally:
        d.close()


# -- the agent and the support program through the server ------------------------------------


def add_agent(folder: Path) -> None:
    """The agent account ``bench`` in the server started in ``folder``."""
    subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", "bench",
         "--name", "Bench", "--password-stdin"],
        cwd=folder, input=PASSWORD + "\n", text=True, check=True, capture_output=True,
    )  # fmt: skip


async def login(context: BrowserContext, server: LiveServer) -> Page:
    """The agent ``bench`` signed in on a new page, second factor (TOTP) included."""
    page = await context.new_page()
    await sign_in_page(page, server.url, "bench", PASSWORD)
    await page.get_by_role("heading", name="Übersicht").wait_for()
    return page


async def issue(agent: Page, server: LiveServer) -> tuple[str, str]:
    """The agent issues a key in the console: key and consultation number."""
    await agent.goto(server.url + "/console/")
    await agent.get_by_role("button", name="Neue Fernwartung").click()
    key = await agent.locator("[data-support-key]").inner_text()
    number = await agent.locator("[data-consultation-number]").inner_text()
    return key, number


@contextlib.asynccontextmanager
async def program_shown(
    agent: Page, server: LiveServer, display: str, home: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """The support program (``supportdesk join --text``, view only) shares ``display``, and
    the agent's page shows it on the session's live page; yields the program's process and
    the consultation number; the customer ends the session on exit."""
    key, number = await issue(agent, server)
    trust = ssl.create_default_context(cafile=str(server.workdir / "cert.pem"))
    async with httpx.AsyncClient(verify=trust) as client:
        answer = await client.post(
            server.url + "/api/v1/join", json={"name": "Erika Müller", "support_key": key}
        )
    answer.raise_for_status()
    env = {**os.environ, "DISPLAY": display, "HOME": str(home), "LC_ALL": "C.UTF-8"}
    env.pop("XAUTHORITY", None)
    log_path = home / f"applet-{number}.log"
    with log_path.open("w") as log:
        applet = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "supportdesk", "join", "--server", server.url,
            f"--token={answer.json()['token']}", "--text",  # a token may begin with "-"
            "--ca-file", str(server.workdir / "cert.pem"),
            stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    assert applet.stdin is not None
    try:
        applet.stdin.write(b"n\nn\nn\nJa\n")  # view only, then the final yes
        await applet.stdin.drain()
        await agent.goto(f"{server.url}/console/sessions/{number}/live")
        try:
            await agent.locator('[data-live][data-viewer="connected"]').wait_for(
                state="attached", timeout=30_000
            )
        except Exception:
            print(log_path.read_text(), file=sys.stderr)
            raise
        await agent.locator("[data-screen] canvas").wait_for(timeout=10_000)
        yield applet, number
        applet.stdin.write(b"e\n")  # the customer ends the session
        await applet.stdin.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(applet.wait(), 10)
    finally:
        if applet.returncode is None:
            applet.kill()
            await applet.wait()
