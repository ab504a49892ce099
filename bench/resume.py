"""``python -m bench.resume``: how long the agent waits for the picture after a dropped link.

One 1920x1080 Xvfb runs the reference workload (bench/workload.py: the painted 10 ms
clock, the plasma, the scrolling xterm); one real ``supportdesk serve`` with TLS behind a
:class:`tests.faults.FaultProxy`; the agent in headless Chromium on the session's live
page, connected to the server directly. The customer reaches the server only through the
proxy, one way after the other:

- **applet**: the real ``supportdesk join --text`` (view only), the agent's page showing
  it with noVNC;
- **browser**: a headful Chromium on the display sharing the screen from the browser
  (page and link through the proxy, ``--auto-select-desktop-capture-source`` for the
  picker), the agent's page decoding it into its video canvas.

Each trial black-holes the proxy for 10 s (a dead Wi-Fi: every connection stays open,
nothing crosses), lifts it — t0 is the moment ``black_hole(False)`` returns — and waits
for the agent's page to show a new frame: a probe in the page reads the painted clock out
of the newest canvas at every animation frame, and t1 is the page's
``performance.timeOrigin + performance.now()`` (moved onto this process's ``time.time()``
by the offset measured right after the trial) of the first sample whose clock was painted
after the black hole began, so a stale frame never counts. Resume time is t1 - t0; the
detection of the loss does not count.

Along the way it timestamps what the resume is made of: the customer's link back (the
applet's "Verbindung wiederhergestellt"; the page's new link hearing the relay), the relay
closing the old noVNC viewer (1012), the page's new viewer socket (after its own wait and
a viewer ticket), noVNC connected (the RFB handshake through the applet's new channels),
the first picture message after the gap, and when the first new frame's clock was painted
(its capture). Every trial checks that the customer was not asked again ("Die Verbindung
war eine Weile unterbrochen."); per way the audit must hold one ``session.link_lost`` and
one ``session.link_restored`` (without ``consent_again``) per trial and no
``consent.renewed``. Prints p50/p95/max; ``--markdown FILE`` writes them into FILE's
section "Resume after a dropped link".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import httpx
import numpy as np
import tests.live_server
from playwright.async_api import Page, Playwright, WebSocket, async_playwright
from tests.faults import FaultProxy
from tests.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    free_port,
    live_server,
    self_signed_certificate,
)

from bench import workload
from bench.__main__ import HEIGHT, WIDTH, machine, percentile, stop, xvfb
from bench.agent_page import PASSWORD, clock_offset, issue, login, park_pointer
from bench.browser_share import share_from_the_browser
from bench.customer_browser import launch_customer
from bench.doc_block import write_block

TARGET_P95_S = 2.0
RESTORED = "Verbindung wiederhergestellt"
ASKED_AGAIN = "Die Verbindung war eine Weile unterbrochen."
ACTIVE = "Fernwartung aktiv"
M32 = 0xFFFFFFFF

PROBE = """
(() => {
  const { bits, block, centre, clock, width, height } = __GEOMETRY__;
  const now = () => performance.timeOrigin + performance.now();
  const bench = (window.__bench = { samples: [], events: [] });
  const note = (what, detail) => bench.events.push([now(), what, detail ?? null]);
  // Wrapped, not subclassed: noVNC checks the socket's own prototype for its methods.
  const Native = window.WebSocket;
  let sockets = 0;
  const Watched = function (url, protocols) {
    const socket = new Native(url, protocols);
    const path = new URL(url, location.href).pathname;
    if (/^\\/ws\\/(viewer|video)\\//.test(path)) {
      const id = ++sockets;
      let heard = 0;
      let chunk = 0;
      note("viewer_new", id);
      socket.addEventListener("open", () => note("viewer_open", id));
      socket.addEventListener("message", (event) => {
        const t = now();
        if (t - heard > 500) note("message_after_silence", id);  // the first, or after a gap
        heard = t;
        // The first video chunk after a gap: a key chunk (1) or not (0)?
        if (path.startsWith("/ws/video/") && event.data instanceof ArrayBuffer) {
          if (t - chunk > 500) note("chunk_after_silence", new Uint8Array(event.data, 0, 1)[0] & 1);
          chunk = t;
        }
      });
      socket.addEventListener("close", (event) => note("viewer_close", [id, event.code]));
    }
    return socket;
  };
  Watched.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Watched[name] = Native[name];
  window.WebSocket = Watched;
  const XS = Array.from({ length: bits }, (_, i) => block * i + centre);
  let canvas = null;
  let context = null;
  let last = "";
  let viewer = null;
  const tick = () => {
    requestAnimationFrame(tick);
    const t = now();
    const live = document.querySelector("[data-live]");
    if (live && live.dataset.viewer !== viewer) {
      viewer = live.dataset.viewer;
      note("viewer_" + viewer);
    }
    const all = document.querySelectorAll("[data-screen] canvas");  // the newest viewer's
    const found = document.querySelector("canvas[data-video-screen]") || all[all.length - 1];
    if (!found || !found.width) return;
    if (found !== canvas) {
      canvas = found;
      context = found.getContext("2d");
      last = "";
      note("canvas");
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
      bench.samples.push([t, ...pixels]);
    }
  };
  requestAnimationFrame(tick);
})();
""".replace(
    "__GEOMETRY__",
    json.dumps({**workload.clock_geometry(), "width": WIDTH, "height": HEIGHT}),
)
NOW = "performance.timeOrigin + performance.now()"
RESET = "() => { __bench.samples = []; __bench.events = []; }"
TAKE = """() => {
  const got = { samples: __bench.samples, events: __bench.events };
  __bench.samples = [];
  __bench.events = [];
  return got;
}"""


# -- the customer ----------------------------------------------------------------------------


class Applet:
    """``supportdesk join --text``, its output collected with the time each piece came."""

    def __init__(self, url: str, token: str, cert: Path, display: str, home: Path) -> None:
        env = {
            **os.environ, "DISPLAY": display, "HOME": str(home), "LC_ALL": "C.UTF-8",
            "LANG": "C.UTF-8", "XDG_DOCUMENTS_DIR": str(home / "Dokumente"),
        }  # fmt: skip
        env.pop("XAUTHORITY", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "join", "--server", url,
             f"--token={token}", "--text", "--ca-file", str(cert)],  # a token may start with -
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        self._pieces: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 4096):
            with self._lock:
                self._pieces.append((time.time(), chunk))

    @property
    def output(self) -> str:
        with self._lock:
            return b"".join(c for _, c in self._pieces).decode("utf-8", errors="replace")

    def first_after(self, text: str, since: float) -> float | None:
        """When ``text`` first showed in output that came after ``since`` (time.time())."""
        with self._lock:
            pieces = list(self._pieces)
        before = b"".join(c for t, c in pieces if t < since).decode("utf-8", errors="replace")
        skip = before.count(text)
        seen, found = b"", 0
        for t, chunk in pieces:
            seen += chunk
            found = seen.decode("utf-8", errors="replace").count(text)
            if found > skip:
                return t
        return None

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    async def shows(self, text: str, count: int = 1, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while self.output.count(text) < count:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the applet did not show {text!r}:\n{self.output}")
            await asyncio.sleep(0.05)

    async def consent(self, answers: list[str]) -> None:
        """Answer each question once it is asked (the text mode reads a line only while a
        question is open)."""
        for index, answer in enumerate(answers[:-1]):
            await self.shows("(j/n):", count=index + 1)
            self.type(answer)
        await self.shows('"Ja" oder "Nein"')
        self.type(answers[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


# -- the customer in a browser --------------------------------------------------------------


class BrowserCustomer:
    """The customer sharing from a headful Chromium (its page and link through the proxy);
    each ``/ws/browser`` socket noted with when it was made and first heard the relay."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.links: list[list[float | None]] = []  # [created, first frame received]
        page.on("websocket", self._opened)

    def _opened(self, socket: WebSocket) -> None:
        if urlsplit(socket.url).path != "/ws/browser":
            return
        link: list[float | None] = [time.time(), None]
        self.links.append(link)

        def heard(_: object) -> None:
            if link[1] is None:
                link[1] = time.time()

        socket.on("framereceived", heard)

    def back(self, lost_at: float, t0: float) -> float | None:
        """When a link made after the loss first heard the relay, after the return."""
        times = [
            heard for made, heard in self.links if made and made > lost_at and heard and heard >= t0
        ]
        return min(times) if times else None

    async def asked_again(self) -> bool:
        return ASKED_AGAIN in await self.page.locator("body").inner_text()


class AppletCustomer:
    def __init__(self, applet: Applet) -> None:
        self.applet = applet

    def back(self, lost_at: float, t0: float) -> float | None:
        return self.applet.first_after(RESTORED, t0)

    async def asked_again(self) -> bool:
        return ASKED_AGAIN in self.applet.output


Customer = AppletCustomer | BrowserCustomer


# -- one trial -------------------------------------------------------------------------------


@dataclass
class Trial:
    resume: float  # s from the return of the link to the agent's first new frame
    painted_after_return: float  # s from t0 to when that frame's clock was painted
    customer_back: float | None  # s to the customer's link being back (resumed)
    viewer_closed: float | None  # s to the relay's 1012 on the old noVNC viewer (applet)
    viewer_new: float | None  # s to the page's new viewer socket (applet)
    viewer_connected: float | None  # s to noVNC's "connected", the RFB handshake (applet)
    first_message: float | None  # s to the first picture message on a viewer socket
    first_chunk: float | None  # s to the first video chunk after the gap (browser)
    first_key: int | None  # that chunk a key chunk (1) or not (0)
    dials: int  # connections the proxy accepted during the trial (the customer's tries)
    asked_again: bool


def unwrap(painted: int, reference_ms: float) -> float:
    """A painted clock value (ms mod 2**32) as wall-clock ms near ``reference_ms``."""
    d = (painted - int(reference_ms)) & M32
    if d >= 1 << 31:
        d -= 1 << 32
    return int(reference_ms) + d


def shown_clocks(samples: list[list[float]], reference_ms: float) -> list[tuple[float, float]]:
    """(page time, painted time) in ms for every sample whose clock reads cleanly."""
    fb = np.zeros((workload.BLOCK, workload.CLOCK_BITS * workload.BLOCK, 3), dtype=np.uint8)
    centre = workload.BLOCK // 2
    shown = []
    for sample in samples:
        fb[centre, centre :: workload.BLOCK] = np.asarray(sample[1:], dtype=np.uint8).reshape(-1, 3)
        painted = workload.read_clock(fb)
        if painted is not None:
            shown.append((sample[0], unwrap(painted, reference_ms)))
    return shown


async def flowing(agent: Page, within: float = 30) -> None:
    """Wait until the agent's page shows new clock values (the picture is live)."""
    deadline = time.monotonic() + within
    while True:
        await agent.evaluate(RESET)
        await asyncio.sleep(1.0)
        got = await agent.evaluate(TAKE)
        if len(shown_clocks(got["samples"], time.time() * 1000)) >= 3:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the agent's page shows no moving clock")


async def trial(
    agent: Page, proxy: FaultProxy, customer: Customer, args: argparse.Namespace
) -> Trial:
    await flowing(agent)
    await asyncio.sleep(args.settle)
    await agent.evaluate(RESET)
    accepted = proxy.accepted
    lost_at = time.time()
    proxy.black_hole(True)
    await asyncio.sleep(args.black_hole)
    proxy.black_hole(False)
    t0 = time.time()
    deadline = time.monotonic() + args.timeout
    samples: list[list[float]] = []
    events: list[list[Any]] = []
    first: tuple[float, float] | None = None
    while first is None:
        await asyncio.sleep(0.1)
        got = await agent.evaluate(TAKE)
        samples += got["samples"]
        events += got["events"]
        # New: a clock painted after the black hole began, so never a stale frame.
        first = next((s for s in shown_clocks(samples, t0 * 1000) if s[1] > lost_at * 1000), None)
        if first is None and time.monotonic() > deadline:
            raise RuntimeError(f"no new frame {args.timeout:g} s after the return:\n{events}")
    offset = await clock_offset(agent, NOW)
    seen_ms, painted_ms = first

    def since_t0(page_ms: float) -> float:
        return (page_ms - offset) / 1000 - t0

    def event(name: str, after: float | None = 0.0) -> float | None:
        times = [since_t0(t) for t, what, _ in events if what == name]
        return next((t for t in times if after is not None and t >= after), None)

    closed = next(
        (since_t0(t) for t, what, d in events if what == "viewer_close" and d[1] == 1012), None
    )
    new = event("viewer_new", closed) if closed is not None else None
    back = customer.back(lost_at, t0)
    first_chunk = next(
        ((since_t0(t), d) for t, what, d in events if what == "chunk_after_silence"), None
    )
    # Let the customer's side settle (the relay's new secret, a renewal if one came).
    await asyncio.sleep(0.5)
    return Trial(
        resume=since_t0(seen_ms),
        painted_after_return=painted_ms / 1000 - t0,
        customer_back=None if back is None else back - t0,
        viewer_closed=closed,
        viewer_new=new,
        viewer_connected=event("viewer_connected", new) if new is not None else None,
        first_message=event("message_after_silence"),
        first_chunk=first_chunk[0] if first_chunk else None,
        first_key=first_chunk[1] if first_chunk else None,
        dials=proxy.accepted - accepted,
        asked_again=await customer.asked_again(),
    )


def describe(t: Trial) -> str:
    parts = [
        f"resume {t.resume:.2f} s (customer back {seconds(t.customer_back)}",
        f"first picture message {seconds(t.first_message)}"
        + (
            ""
            if t.first_key is None
            else f", first chunk {seconds(t.first_chunk)} key {t.first_key}"
        ),
    ]
    if t.viewer_closed is not None:
        parts += [
            f"old viewer closed {seconds(t.viewer_closed)}",
            f"new viewer {seconds(t.viewer_new)}",
            f"connected {seconds(t.viewer_connected)}",
        ]
    parts.append(f"frame painted {t.painted_after_return:+.2f})")
    return ", ".join(parts) + f"; {t.dials} dials{', ASKED AGAIN' if t.asked_again else ''}"


def seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


async def trials(
    way: str, agent: Page, proxy: FaultProxy, customer: Customer, args: argparse.Namespace
) -> list[Trial]:
    done = []
    for n in range(args.trials):
        result = await trial(agent, proxy, customer, args)
        done.append(result)
        print(f"{way} trial {n + 1}: {describe(result)}", flush=True)
    return done


# -- the two ways ----------------------------------------------------------------------------


async def applet_way(
    agent: Page, server: LiveServer, proxy: FaultProxy, desk: Desk, args: argparse.Namespace
) -> tuple[list[Trial], str]:
    key, number = await issue(agent, server)
    trust = ssl.create_default_context(cafile=str(server.workdir / "cert.pem"))
    async with httpx.AsyncClient(verify=trust) as client:
        answer = await client.post(
            server.url + "/api/v1/join", json={"name": "Erika Müller", "support_key": key}
        )
    answer.raise_for_status()
    applet = Applet(
        desk.proxy_url, answer.json()["token"], server.workdir / "cert.pem", desk.display,
        desk.home,
    )  # fmt: skip
    try:
        await agent.goto(f"{server.url}/console/sessions/{number}/live")
        await applet.consent(["n", "n", "n", "Ja"])  # view only, then the final yes
        await applet.shows(ACTIVE)
        await agent.locator('[data-live][data-viewer="connected"]').wait_for(
            state="attached", timeout=30_000
        )
        park_pointer(desk.display)
        done = await trials("applet", agent, proxy, AppletCustomer(applet), args)
        applet.type("e")  # the customer ends the session
        await asyncio.to_thread(applet.process.wait, 15)
        return done, number
    except BaseException:
        print(applet.output, file=sys.stderr)
        raise
    finally:
        applet.stop()


async def browser_way(
    playwright: Playwright, agent: Page, server: LiveServer, proxy: FaultProxy, desk: Desk,
    args: argparse.Namespace,
) -> tuple[list[Trial], str]:  # fmt: skip
    key, number = await issue(agent, server)
    browser = await launch_customer(playwright, desk.display)
    try:
        context = await browser.new_context(
            ignore_https_errors=True, viewport={"width": 600, "height": 400}
        )
        page = await context.new_page()
        customer = BrowserCustomer(page)
        await share_from_the_browser(page, desk.proxy_url, key, agent, server.url, number)
        park_pointer(desk.display)
        done = await trials("browser", agent, proxy, customer, args)
        await page.get_by_role("button", name="Sitzung beenden").click(timeout=5000)
        await asyncio.sleep(1.0)
        return done, number
    finally:
        await browser.close()


# -- the run ---------------------------------------------------------------------------------


def audit_counts(server: LiveServer, subject: str) -> dict[str, int]:
    exported = subprocess.run(
        [sys.executable, "-m", "supportdesk", "audit", "export"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    entries = [e for e in entries if e["subject"] == subject]
    kinds = [e["event_type"] for e in entries]
    restored = [e for e in entries if e["event_type"] == "session.link_restored"]
    return {
        "link_lost": kinds.count("session.link_lost"),
        "link_restored": len(restored),
        "consent_again": sum(1 for e in restored if e["data"].get("consent_again")),
        "consent_renewed": kinds.count("consent.renewed"),
    }


@dataclass
class Desk:
    display: str
    home: Path
    proxy_url: str  # the server as the customer reaches it, through the proxy


@dataclass
class Way:
    trials: list[Trial]
    audit: dict[str, int]


def run(args: argparse.Namespace) -> tuple[dict[str, Way], float]:
    """Xvfb with the workload, the proxy and behind it the server with an agent; then
    the trials of each way."""
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as tmp, xvfb() as display:
        folder = Path(tmp)
        procs = workload.start(display)
        tls = self_signed_certificate(folder)
        server_port = free_port()
        proxy = FaultProxy("127.0.0.1", server_port)
        proxy_url = f"https://127.0.0.1:{proxy.start()}"
        # The customer's page comes through the proxy: its origin must be allowed.
        (folder / "supportdesk.toml").write_text(
            f'[server]\nallowed_origins = ["{proxy_url}"]\n', encoding="utf-8"
        )
        try:
            # The server must listen where the proxy forwards to.
            with (
                mock.patch.object(tests.live_server, "free_port", lambda: server_port),
                live_server(folder, tls=tls, SUPPORTDESK_LOGGING_LEVEL="WARNING") as server,
            ):
                subprocess.run(
                    [sys.executable, "-m", "supportdesk", "agents", "add", "bench",
                     "--name", "Bench", "--password-stdin"],
                    cwd=folder, input=PASSWORD + "\n", text=True, check=True,
                    capture_output=True,
                )  # fmt: skip
                home = folder / "home"
                (home / "Dokumente").mkdir(parents=True)
                desk = Desk(display, home, proxy_url)
                return asyncio.run(ways(server, proxy, desk, args))
        finally:
            proxy.stop()
            for proc in procs:
                stop(proc)


async def ways(
    server: LiveServer, proxy: FaultProxy, desk: Desk, args: argparse.Namespace
) -> tuple[dict[str, Way], float]:
    results: dict[str, Way] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(
            ignore_https_errors=True, viewport={"width": 1500, "height": 1000}
        )
        await context.add_init_script(PROBE)
        agent = await login(context, server)
        offset = await clock_offset(agent, NOW)
        print(f"agent page clock - bench clock: {offset:+.1f} ms", flush=True)
        for way in args.ways:
            if way == "applet":
                done, number = await applet_way(agent, server, proxy, desk, args)
            else:
                done, number = await browser_way(playwright, agent, server, proxy, desk, args)
            audit = await asyncio.to_thread(audit_counts, server, number)
            print(f"{way} audit: {audit}", flush=True)
            results[way] = Way(done, audit)
        await browser.close()
    return results, offset


# -- the report ------------------------------------------------------------------------------


def stats(values: list[float | None]) -> tuple[float, float, float]:
    present = sorted(v for v in values if v is not None)
    if not present:
        return (float("nan"),) * 3
    return percentile(present, 50), percentile(present, 95), present[-1]


def _diff(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else later - earlier


ROWS = {
    "applet": [
        ("**agent's first new frame** (resume time)", "resume"),
        ("applet's link back (TLS, upgrade, resume)", "customer_back"),
        ("old viewer closed by the relay (1012)", "viewer_closed"),
        ("page opens a new viewer socket (ticket)", "viewer_new"),
        ("noVNC connected (RFB handshake)", "viewer_connected"),
        ("time the first new frame was painted (capture)", "painted_after_return"),
    ],
    "browser": [
        ("**agent's first new frame** (resume time)", "resume"),
        ("customer's page: a new link hears the relay", "customer_back"),
        ("first video message at the agent", "first_message"),
        ("first video chunk at the agent", "first_chunk"),
        ("time the first new frame was painted (capture)", "painted_after_return"),
    ],
}
STEPS = {
    "applet": [
        ("link back → old viewer closed", "viewer_closed", "customer_back"),
        ("old viewer closed → new viewer socket", "viewer_new", "viewer_closed"),
        ("new viewer socket → noVNC connected", "viewer_connected", "viewer_new"),
        ("noVNC connected → first new frame", "resume", "viewer_connected"),
    ],
    "browser": [
        ("link back → first video chunk", "first_chunk", "customer_back"),
        ("first video chunk → first new frame (decode, paint)", "resume", "first_chunk"),
    ],
}
TITLES = {"applet": "Support program (applet, noVNC)", "browser": "Browser (WebCodecs)"}


def render(results: dict[str, Way], args: argparse.Namespace, offset: float) -> str:
    lines: list[str] = []
    checks: list[str] = []
    for way, result in results.items():
        trials_ = result.trials
        n = len(trials_)
        lines += [
            f"**{TITLES[way]}**, {n} trials:",
            "",
            "| from the link's return to … | p50 (s) | p95 (s) | max (s) |",
            "|---|---|---|---|",
        ]
        for label, attr in ROWS[way]:
            a, b, c = stats([getattr(t, attr) for t in trials_])
            lines.append(f"| {label} | {a:.2f} | {b:.2f} | {c:.2f} |")
        for label, later, earlier in STEPS[way]:
            a, b, c = stats([_diff(getattr(t, later), getattr(t, earlier)) for t in trials_])
            lines.append(f"| step: {label} | {a:.2f} | {b:.2f} | {c:.2f} |")
        keys = [t.first_key for t in trials_ if t.first_key is not None]
        if keys:
            lines.append(
                f"\nThe first video chunk after the gap was a key chunk in {sum(keys)} of "
                f"{len(keys)} trials."
            )
        lines.append("")
        p50, p95, worst = stats([t.resume for t in trials_])
        asked = sum(t.asked_again for t in trials_)
        audit = result.audit
        audit_ok = (audit["link_lost"], audit["link_restored"]) == (n, n) and not (
            audit["consent_again"] or audit["consent_renewed"]
        )
        checks += [
            f"| {way}: after a {args.black_hole:g} s black hole, p95 ≤ {TARGET_P95_S:g} s "
            f"from the link's return | {'yes' if p95 <= TARGET_P95_S else '**no**'} | "
            f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s |",
            f"| {way}: no re-consent at {args.black_hole:g} s (limit 30 s) | "
            f"{'yes' if asked == 0 else '**no**'} | asked again in {asked} of {n} trials |",
            f"| {way}: the audit holds each loss and return | {'yes' if audit_ok else '**no**'} "
            f"| {audit['link_lost']} link_lost, {audit['link_restored']} link_restored "
            f"({audit['consent_again']} with consent_again), {audit['consent_renewed']} "
            "consent.renewed |",
        ]
    lines += ["| target | met | numbers |", "|---|---|---|", *checks]
    header = (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}; per way {args.trials} "
        f"trials of a {args.black_hole:g} s black hole, at least {args.settle + 1:g} s of live "
        f"picture between them; the agent's page clock was {offset:+.1f} ms off this "
        f"process's. Load average (1 min) {args.load[0]:.1f} at the start, "
        f"{args.load[1]:.1f} at the end."
    )
    return header + "\n\n" + "\n".join(lines) + "\n"


SECTION = "## Resume after a dropped link (`python -m bench.resume`)"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.resume", description=__doc__)
    parser.add_argument("--trials", type=int, default=20, help="per way")
    parser.add_argument("--black-hole", type=float, default=10.0, help="seconds, per trial")
    parser.add_argument("--settle", type=float, default=2.0, help="live picture between trials")
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on a trial after")
    parser.add_argument("--ways", default="applet,browser", help="applet, browser or both")
    parser.add_argument("--markdown", type=Path, help="write the results into this file")
    args = parser.parse_args()
    args.ways = args.ways.split(",")
    load = os.getloadavg()[0]
    results, offset = run(args)
    args.load = (load, os.getloadavg()[0])
    table = render(results, args, offset)
    print(table)
    if args.markdown:
        write_block(args.markdown, SECTION, "resume-bench", table)
        print(f"written to {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
