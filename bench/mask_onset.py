"""``python -m bench.mask_onset``: where the time goes between a click into Chromium's
password field and the moment the AT-SPI watcher masks it.

On its own Xvfb with a private session bus (tests/accessibility.py): the watcher
(capture/atspi_secrets.py), and a headful Chromium with ``--force-renderer-accessibility``
showing the e2e test's login page, started before the watcher as a customer's browser is
open before the session (``--watcher-first``: the other way round). Each round clicks the
user name (focus away), waits, then clicks into the PIN field and types one character at
once (one xdotool command, as a customer who types straight after the click), while a
thread grabs the field's pixels as fast as it can. Per round it notes, in ms from the
moment xdotool was started:

- ``click done``: xdotool returned (the click, and the key, were sent);
- ``event``: the watcher's thread handled the ``object:state-changed:focused`` signal;
- ``role``: the answer to ``GetRole`` (the round trip to Chromium's browser process);
- ``extents``: the answer to ``GetExtents``;
- ``masked``: the watcher's own thread had the field (``tracking``);
- ``dot``: the typed character's dot is first on the screen;
- ``read at dot``: :meth:`areas` read at that moment, as the capture loop reads it right
  after a grab that caught the dot, answered (it may wait: the hold); and whether that
  answer covers the field.

``--fresh`` starts a new Chromium and watcher for every round (so every round is a
browser's first focus after the session began); ``--busy`` runs a thread of pure-Python
work beside the watcher, as the program's capture and encoding share its interpreter.
Prints the median, min and max of each over the rounds with the load average, how often
the dot was on the screen before the field was known, and how often the read at the dot
covered the field. Compare code versions with ``PYTHONPATH=<their src>:.``. Run under
``flock /tmp/supportdesk-bench.lock``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import mss
import numpy as np
import numpy.typing as npt
from playwright.async_api import async_playwright
from tests.accessibility import session_bus
from tests.desktop import xvfb
from tests.e2e.masking_pictures import Box
from tests.e2e.test_masking import LOGIN_PAGE
from tests.live_server import CHROMIUM

from supportdesk.capture.atspi_secrets import SecretFieldWatcher
from supportdesk.rfb.geometry import Rect

STAGES = ("click done", "event", "role", "extents", "masked", "dot", "read at dot")


class TimedWatcher(SecretFieldWatcher):
    """The watcher, noting when each step of a focus change happened (monotonic s)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.marks: dict[str, float] = {}

    def _on_message(self, message: Any) -> None:
        body = message.body
        if message.member == "StateChanged" and body and body[0] == "focused" and body[1]:
            self.marks.setdefault("event", time.monotonic())
        super()._on_message(message)

    async def _call(
        self, bus: Any, dest: str, path: str, iface: str, member: str, sig: str = "", *body: Any
    ) -> list[Any]:
        reply = await super()._call(bus, dest, path, iface, member, sig, *body)
        name = {"GetRole": "role", "GetExtents": "extents"}.get(member)
        if name is not None and (name != "role" or reply[0] == 40):
            self.marks.setdefault(name, time.monotonic())
        return reply


def watch(
    predicate: Callable[[], bool], stop: threading.Event, into: dict[str, float], key: str
) -> threading.Thread:
    """Note the first moment ``predicate`` holds, checking as fast as the CPU lets us."""

    def run() -> None:
        while not stop.is_set():
            if predicate():
                into.setdefault(key, time.monotonic())
                return
            time.sleep(0.0005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def read_at_dot(
    watcher: SecretFieldWatcher,
    seen: Callable[[], bool],
    stop: threading.Event,
    into: dict[str, float],
    field: Box,
    covered: list[bool],
) -> threading.Thread:
    """When the dot is first on the screen, read the watcher's areas as the capture loop
    does right after a grab that caught it; note when the answer came and whether it
    covers the field."""

    def run() -> None:
        while not stop.is_set():
            if seen():
                into.setdefault("dot", time.monotonic())
                areas = watcher.areas()
                into["read at dot"] = time.monotonic()
                x, y = field.x + field.width // 2, field.y + field.height // 2
                covered.append(any(a.rect.contains(Rect(x, y, 1, 1)) for a in areas))
                return
            time.sleep(0.0005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def settle(marks: dict[str, float], deadline: float) -> None:
    """Wait until every stage was seen, or the deadline."""
    while len(marks) < len(STAGES) and time.monotonic() < deadline:
        time.sleep(0.02)


def dots(display: str, box: Box) -> Callable[[], bool]:
    """True once the field shows a dark mark wider than the caret (a typed dot)."""
    grabber = mss.MSS(display=display)
    region = {"left": box.x + 3, "top": box.y + 3, "width": box.width - 6, "height": box.height - 6}

    def seen() -> bool:
        area = np.asarray(grabber.grab(region))[:, :, :3]
        dark: npt.NDArray[np.bool_] = np.asarray((area < 110).all(axis=2))
        wide = dark[:, 2:-2] & dark[:, :-4] & dark[:, 4:]
        return bool(wide.any())

    return seen


def busy(stop: threading.Event) -> None:
    """Pure-Python work holding the GIL in turns, as the program's capture and encoding
    threads do beside the watcher's."""
    while not stop.is_set():
        sum(i * i for i in range(20000))


async def rounds(count: int, late_watcher: bool, fresh: bool, hog: bool) -> list[dict[str, float]]:
    """``count`` rounds: in one browser and watcher, or (``fresh``) each in new ones."""
    results: list[dict[str, float]] = []
    stop_busy = threading.Event()
    if hog:
        threading.Thread(target=busy, args=(stop_busy,), daemon=True).start()
    with xvfb(1280, 800, 24) as desk:
        env = desk.env
        with session_bus(env) as address:
            env["DBUS_SESSION_BUS_ADDRESS"] = address
            async with async_playwright() as playwright:
                for per_session in [1] * count if fresh else [count]:
                    await session(
                        desk, env, address, playwright, per_session, late_watcher, results
                    )
    stop_busy.set()
    return results


async def session(
    desk: Any, env: dict[str, str], address: str, playwright: Any, count: int,
    late_watcher: bool, results: list[dict[str, float]],
) -> None:  # fmt: skip
    watcher = TimedWatcher(session_bus=address)
    if not late_watcher:
        assert watcher.start(), watcher.reason
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=False, env=dict(env),
        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
              "--force-renderer-accessibility", "--window-position=0,0",
              "--window-size=700,560"],
    )  # fmt: skip
    page = await (await browser.new_context(no_viewport=True)).new_page()
    await page.set_content(LOGIN_PAGE)
    window = desk.window_titled("Online-Banking", within=10)
    assert window is not None
    desk.focus(window)
    await asyncio.sleep(1.0)
    if late_watcher:  # as in a session: the browser was open before it began
        assert watcher.start(), watcher.reason
    picture = desk.screenshot()[:, :, 2::-1]
    ys, xs = np.nonzero((picture == (255, 0, 255)).all(axis=2))
    boxes = {}
    for name in ("pin", "user"):
        b = await page.locator(f"#{name}").bounding_box()
        assert b is not None
        boxes[name] = Box(
            int(xs.min() + b["x"]), int(ys.min() + b["y"]), int(b["width"]), int(b["height"])
        )
    pin, user = boxes["pin"], boxes["user"]
    covered: list[bool] = []
    for _ in range(count):
        await page.locator("#pin").fill("")
        ux, uy = user.x + user.width - 10, user.y + user.height // 2
        desk.run("xdotool", "mousemove", "--sync", str(ux), str(uy), "click", "1")
        await asyncio.sleep(0.8)
        assert watcher.tracking == 0
        watcher.marks = {}
        marks = watcher.marks
        stop = threading.Event()
        threads = [
            watch(lambda: watcher.tracking > 0, stop, marks, "masked"),
            read_at_dot(watcher, dots(desk.display, pin), stop, marks, pin, covered),
        ]
        cx, cy = pin.x + pin.width // 2, pin.y + pin.height // 2
        t0 = time.monotonic()
        click_and_type = [
            "xdotool", "mousemove", "--sync", str(cx), str(cy), "click", "1", "type", "7",
        ]  # fmt: skip
        await asyncio.to_thread(subprocess.run, click_and_type, env=env, check=True, timeout=20)
        marks["click done"] = time.monotonic()
        await asyncio.to_thread(settle, marks, time.monotonic() + 5)
        stop.set()
        for thread in threads:
            thread.join(1)
        results.append({k: (v - t0) * 1000 for k, v in marks.items()})
        if covered:
            results[-1]["covered"] = float(covered.pop())
        print(
            "  ".join(f"{k} {results[-1].get(k, float('nan')):4.0f}" for k in STAGES)
            + f"  covered {bool(results[-1].get('covered'))}",
            flush=True,
        )
    await browser.close()
    watcher.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument(
        "--watcher-first", action="store_true",
        help="start the watcher before Chromium (default: after, as in a session)",
    )  # fmt: skip
    parser.add_argument(
        "--fresh", action="store_true",
        help="a new Chromium and watcher for every round (each round its first focus)",
    )  # fmt: skip
    parser.add_argument(
        "--busy", action="store_true",
        help="a thread doing pure-Python work beside the watcher (the program's GIL)",
    )  # fmt: skip
    args = parser.parse_args()
    results = asyncio.run(rounds(args.rounds, not args.watcher_first, args.fresh, args.busy))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"\nmedian of {len(results)} rounds, ms after xdotool started (load {' '.join(load)}):")
    for stage in STAGES:
        values = [r[stage] for r in results if stage in r]
        if values:
            print(
                f"  {stage:10s} p50 {statistics.median(values):6.0f}  "
                f"min {min(values):6.0f}  max {max(values):6.0f}  ({len(values)} rounds)"
            )
    early = sum(1 for r in results if "dot" in r and r["dot"] < r.get("masked", float("inf")))
    print(f"  dot on the screen before the field was known: {early} of {len(results)} rounds")
    covered = sum(1 for r in results if r.get("covered"))
    print(
        f"  the areas read when the dot was first seen covered the field: "
        f"{covered} of {len(results)} rounds"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
