"""`supportdesk join`: start the support program for one session and run it to the end.

Gets a join token (from the portal's page, or by asking for name and support key),
links to the bank's server over verified TLS, asks for consent, shares the screen
while allowed, offers pause / control / end, and leaves the receipt.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TextIO

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.link_client import AppletLink, LinkError, SessionFacts
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.domain.consent import ConsentRecord, Language

TEXT_HELP = {
    "de": "Befehle: p = Pause/Fortsetzen, s = Steuerung entziehen/erlauben, "
    "e = Sitzung beenden, c TEXT = Nachricht an den Berater",
    "en": "Commands: p = pause/resume, s = revoke/allow control, e = end the session, "
    "c TEXT = message to the agent",
}


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS; ``ca_file`` adds a private CA (a bank's own PKI, or a test)."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def redeem_by_hand(
    server: str, name: str, support_key: str, context: ssl.SSLContext
) -> dict[str, Any]:
    """Exchange name and support key for a join token at the server's API."""
    url = server.rstrip("/") + "/api/v1/join"
    if not url.startswith("https://"):
        raise LinkError("the server address must start with https://")
    body = json.dumps({"name": name, "support_key": support_key}).encode()
    request = urllib.request.Request(  # noqa: S310 - https only, checked above
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, context=context, timeout=20) as response:  # noqa: S310
            answer: dict[str, Any] = json.load(response)
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LinkError(
                "Zu diesem Namen und Support-Schlüssel gibt es keine Sitzung. / "
                "No session for this name and support key."
            ) from None
        raise LinkError(f"the server answered {exc.code}") from None
    except urllib.error.URLError as exc:
        raise LinkError(f"cannot reach {server}: {exc.reason}") from None


class LinkControls:
    """The active window's buttons, acting on the link (the relay and the applet's own
    sessions follow the state it answers with)."""

    def __init__(self, link: AppletLink) -> None:
        self.link = link
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def control(self) -> bool:
        return self.link.control_allowed

    @property
    def stopped(self) -> bool:
        return self.link.facts.ended_at is not None

    def pause(self) -> None:
        self._paused = True
        self.link.request({"type": "pause"})

    def resume(self) -> None:
        self._paused = False
        self.link.request({"type": "resume"})

    def set_control(self, allowed: bool) -> None:
        self.link.request({"type": "grant" if allowed else "revoke", "capability": "control"})

    def stop(self) -> None:
        self.link.request({"type": "end"})


def show_active_window(link: AppletLink, control_offered: bool) -> None:
    """The always-on-top window, in a thread of its own (Tk stays in that thread)."""
    from supportdesk.applet.active_window import ActiveWindow

    def run() -> None:
        ActiveWindow(
            LinkControls(link),
            consultation_number=link.facts.consultation_number,
            verification_code=link.verification_code,
            agent_name=link.facts.agent_name,
            control_offered=control_offered,
        ).run()

    threading.Thread(target=run, name="active-window", daemon=True).start()


class TextControls:
    """Reads the customer's commands from standard input while the session runs."""

    def __init__(self, link: AppletLink, stdin: TextIO, stdout: TextIO, language: str) -> None:
        self.link, self.stdin, self.stdout, self.language = link, stdin, stdout, language
        self.paused = False
        self.thread = threading.Thread(target=self._run, name="text-controls", daemon=True)

    def start(self) -> None:
        print(TEXT_HELP[self.language], file=self.stdout, flush=True)
        self.thread.start()

    def _run(self) -> None:
        for line in self.stdin:
            command = line.strip()
            if command == "p":
                self.paused = not self.paused
                self.link.request({"type": "pause" if self.paused else "resume"})
            elif command == "s":
                kind = "revoke" if self.link.control_allowed else "grant"
                self.link.request({"type": kind, "capability": "control"})
            elif command in ("e", "q"):
                self.link.request({"type": "end"})
                return
            elif command.startswith("c "):
                self.link.request({"type": "chat", "text": command[2:]})


def run_join(
    server: str,
    token: str,
    *,
    text_mode: bool,
    ca_file: str | None,
    monitor: int,
    language: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    screen_source: Callable[[], ScreenSource] | None = None,
    input_sink: Callable[[], InputSink | None] | None = None,
) -> SessionFacts:
    """Run one session to its end and return what the receipt records."""
    from supportdesk.capture.input_sink import XTestInputSink
    from supportdesk.capture.screen_source import MssScreenSource

    lang = Language.EN if language == "en" else Language.DE

    def ask(request: ConsentRequest) -> ConsentRecord:
        if text_mode:
            return ask_consent_text(build_dialog(request, lang), stdin, stdout)
        from supportdesk.applet.consent_tk import ask_consent_tk

        return ask_consent_tk(request, language=lang)

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "active":
            print(
                "Fernwartung aktiv — wird aufgezeichnet / Remote support active — recorded",
                file=stdout,
                flush=True,
            )
            if text_mode:
                controls.start()
            else:
                show_active_window(link, "control" in data.get("capabilities", []))
        elif kind == "chat" and data.get("from") == "agent":
            print(f"[{data.get('name') or 'Berater'}] {data.get('text')}", file=stdout, flush=True)
        elif kind == "state" and text_mode:
            granted = ", ".join(data.get("capabilities", []))
            watching = ", ".join(
                f"{w.get('name')} ({w.get('role')})" for w in data.get("watchers", [])
            )
            line = f"[{data.get('state')}] {granted}"
            if watching:
                line += f" — es sehen zu / watching: {watching}"
            print(line, file=stdout, flush=True)
        elif kind == "end":
            print(
                f"Sitzung beendet / session ended ({data.get('reason')})", file=stdout, flush=True
            )

    link = AppletLink(
        server,
        token,
        ask_consent=ask,
        screen_source=screen_source or MssScreenSource,
        input_sink=input_sink or XTestInputSink,
        ssl_context=ssl_context(ca_file),
        language=language,
        monitor=monitor,
        on_event=on_event,
    )
    controls = TextControls(link, stdin, stdout, "en" if language == "en" else "de")
    return asyncio.run(link.run())
