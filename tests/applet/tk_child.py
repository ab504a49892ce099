"""Child process for the Tk tests: shows one applet window on $DISPLAY and reports on stdout.

``consent``: prints the window id and button centres (JSON), then the answer.
``join``: the program's first window (name and support key) with a stand-in server.
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
from supportdesk.applet.tk.consent import ConsentWindow

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
    """Reports the layout again after every rebuild (the language button), and with the
    answer the consent text the window showed when it was given."""
    window = ConsentWindow(REQUEST)
    build, answer = window._build, window._answer
    shown: list[str] = []

    def report() -> None:
        widgets: dict[str, tk.Misc] = dict(window.buttons)
        widgets.update({c.value: box for c, box in window.checkbuttons.items()})
        report_when_mapped(window.root, widgets)

    def rebuild() -> None:
        build()
        report()

    def answer_seen(record: object) -> None:
        if window._text is not None:
            shown.append(str(window._text.cget("text")))
        answer(record)  # type: ignore[arg-type]

    window._build = rebuild  # type: ignore[method-assign]
    window._answer = answer_seen  # type: ignore[method-assign]
    report()
    record = window.run()
    say(
        decision=record.decision.value,
        capabilities=sorted(c.value for c in record.capabilities),
        language=record.language.value,
        sha256=record.text_sha256,
        shown=shown[0] if shown else None,
    )


def active() -> None:
    from bench.rfb_client import RAW, RFBClient

    from supportdesk.applet.screen.rfb_session import RFBSession
    from supportdesk.applet.screen.streams import AsyncioByteReader, AsyncioByteWriter
    from supportdesk.applet.tk.active_window import ActiveWindow
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


def join() -> None:
    """The first window with a stand-in server: only key 123 456 789 012 is accepted."""
    from supportdesk.applet.join import NO_SESSION
    from supportdesk.applet.link.client import LinkError
    from supportdesk.applet.texts import gettext_for, language_of
    from supportdesk.applet.tk.join import JoinWindow

    _ = gettext_for(language_of("de"))
    attempts: list[list[str]] = []

    def redeem(name: str, key: str) -> dict[str, object]:
        attempts.append([name, key])
        if key.replace(" ", "") != "123456789012":
            raise LinkError(_(NO_SESSION))
        return {"token": "join-token", "consultation_number": "BN-2026-4821-7730-8"}

    window = JoinWindow(redeem)
    refused = window._refused

    def button_state() -> str:
        # A ttk button keeps its state in state flags; its "state" option is only the
        # compatibility value last configured, so the flags are what counts.
        return "disabled" if window.button.instate(["disabled"]) else "normal"

    def refused_and_said(failure: str) -> None:
        refused(failure)
        say(message=window.message.cget("text"), button=button_state())

    window._refused = refused_and_said  # type: ignore[method-assign]
    submit = window.submit

    def submitted_and_said_if_kept() -> None:
        submit()
        if button_state() != "disabled":  # not sent: the window says why
            say(message=window.message.cget("text"))

    window.submit = submitted_and_said_if_kept  # type: ignore[method-assign]
    window.button.configure(command=submitted_and_said_if_kept)
    report_when_mapped(
        window.root,
        {"name": window.name, "key": window.key, "continue": window.button},
    )
    window.root.after(
        400, lambda: say(title=window.root.title(), button_text=window.button.cget("text"))
    )
    answer = window.run()
    say(answer=answer, attempts=attempts)


if __name__ == "__main__":
    {"consent": consent, "active": active, "join": join}[sys.argv[1]]()
