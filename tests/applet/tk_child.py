"""Child process for the Tk tests: shows one applet window on $DISPLAY and reports on stdout.

``consent``: prints the window id and button centres (JSON), then the answer.
``active``: runs an RFBSession with a real mss capture served to a viewer in this process,
shows the active window, and reports when capture ended and what state the session had.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import tkinter as tk

from supportdesk.applet.consent import ConsentRequest
from supportdesk.applet.consent_tk import ConsentWindow

REQUEST = ConsentRequest(
    bank_name="Volksbank Musterstadt eG",
    bank_domain="support.volksbank-musterstadt.de",
    agent_name="Anna Schmidt",
    consultation_number="BN-2026-4821-7730-8",
    verification_code="K7M-4XP",
)


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def centre(widget: tk.Misc) -> list[int]:
    return [
        widget.winfo_rootx() + widget.winfo_width() // 2,
        widget.winfo_rooty() + widget.winfo_height() // 2,
    ]


def report_when_mapped(root: tk.Tk, widgets: dict[str, tk.Misc]) -> None:
    def report() -> None:
        root.update_idletasks()
        if not root.winfo_viewable():
            root.after(50, report)
            return
        say(window=int(root.wm_frame(), 16), **{k: centre(w) for k, w in widgets.items()})

    root.after(100, report)


def consent() -> None:
    window = ConsentWindow(REQUEST)
    widgets: dict[str, tk.Misc] = dict(window.buttons)
    widgets.update({c.value: box for c, box in window.checkbuttons.items()})
    report_when_mapped(window.root, widgets)
    record = window.run()
    say(decision=record.decision.value, capabilities=sorted(c.value for c in record.capabilities))


def active() -> None:
    from bench.rfb_client import RAW, RFBClient

    from supportdesk.applet.active_window import ActiveWindow
    from supportdesk.applet.rfb_session import RFBSession
    from supportdesk.applet.streams import AsyncioByteReader, AsyncioByteWriter
    from supportdesk.capture.screen_source import MssScreenSource

    source = MssScreenSource()
    session = RFBSession(source, None, control=True, max_fps=30)
    ended: dict[str, float] = {}

    class TimedStop:
        """The session as the window sees it, noting when stop() returned."""

        def __getattr__(self, name: str) -> object:
            return getattr(session, name)

        @property
        def paused(self) -> bool:
            return session.paused

        @property
        def control(self) -> bool:
            return session.control

        @property
        def stopped(self) -> bool:
            return session.stopped

        def stop(self) -> None:
            session.stop()
            ended.setdefault("at", time.monotonic())

    async def viewer() -> None:
        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await session.serve(AsyncioByteReader(r), AsyncioByteWriter(w))

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        client = await RFBClient.open("127.0.0.1", server.sockets[0].getsockname()[1])
        await client.set_encodings(RAW)
        await client.request(incremental=False)
        try:
            while True:
                await client.next_update()
                await client.request()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    threading.Thread(target=lambda: asyncio.run(viewer()), daemon=True).start()
    session.start()
    window = ActiveWindow(
        TimedStop(),  # type: ignore[arg-type]
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
    )
    report_when_mapped(window.root, dict(window.buttons))
    window.run()
    grabs = session.grabs
    time.sleep(0.3)
    say(
        stopped_at=ended.get("at"),
        capturing=session.capturing,
        grabs_after_stop=session.grabs - grabs,
        paused=session.paused,
        control=session.control,
    )


if __name__ == "__main__":
    {"consent": consent, "active": active}[sys.argv[1]]()
