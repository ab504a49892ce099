"""`supportdesk join`: start the support program for one session and run it to the end.

Gets a join token (from the portal's page, or by asking for name and support key),
links to the bank's server over verified TLS, asks for consent, shares the screen
while allowed, offers pause / control / end, and leaves the receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.files import FilesUI
from supportdesk.applet.files_text import TextFilesUI, TextQuestions
from supportdesk.applet.link_client import AppletLink, LinkError, SessionFacts
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.domain.consent import ConsentRecord, Language

TEXT_HELP = {
    "de": "Befehle: p = Pause/Fortsetzen, s = Steuerung entziehen/erlauben, "
    "e = Sitzung beenden, c TEXT = Nachricht an den Berater, "
    "datei PFAD = Datei an den Berater senden, x = Übertragungen abbrechen, "
    "o = Ordner der empfangenen Dateien öffnen",
    "en": "Commands: p = pause/resume, s = revoke/allow control, e = end the session, "
    "c TEXT = message to the agent, datei PATH = send a file to the agent, "
    "x = cancel transfers, o = open the folder of received files",
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


class LinkFileButtons:
    """The active window's file buttons, acting on the link's files."""

    def __init__(self, link: AppletLink) -> None:
        self.link = link

    @property
    def status(self) -> str:
        return str(getattr(self.link.files.ui, "status", ""))

    def send_file(self, path: Path) -> None:
        send_file_in_background(self.link, str(path), sys.stderr)

    def open_folder(self) -> None:
        open_folder(self.link.files.folder.ensure())

    def cancel_running(self) -> None:
        self.link.files.cancel_running()


def show_active_window(link: AppletLink, control_offered: bool, files: bool = False) -> None:
    """The always-on-top window, in a thread of its own (Tk stays in that thread)."""
    from supportdesk.applet.active_window import ActiveWindow

    def run() -> None:
        ActiveWindow(
            LinkControls(link),
            consultation_number=link.facts.consultation_number,
            verification_code=link.verification_code,
            agent_name=link.facts.agent_name,
            control_offered=control_offered,
            watchers=lambda: link.watchers,
            notice=lambda: link.notice,
            files=LinkFileButtons(link) if files else None,
        ).run()

    threading.Thread(target=run, name="active-window", daemon=True).start()


def send_file_in_background(link: AppletLink, path: str, stdout: TextIO) -> None:
    """Hash, confirm and offer ``path`` without holding up the caller (the confirmation
    is itself a question the caller's thread has to answer)."""

    def run() -> None:
        try:
            link.files.send_file(Path(path).expanduser())
        except OSError as exc:
            print(f"Datei nicht lesbar / cannot read the file: {exc}", file=stdout, flush=True)
        except Exception as exc:  # a refused file (too large) must not kill the thread
            print(f"Datei nicht gesendet / file not sent: {exc}", file=stdout, flush=True)

    threading.Thread(target=run, name="send-file", daemon=True).start()


def open_folder(folder: Path) -> None:
    """Show ``folder`` in the system's file manager."""
    import os
    import subprocess

    if sys.platform == "win32":
        os.startfile(folder)  # type: ignore[attr-defined]  # noqa: S606 - our own folder
    else:
        opener = "open" if sys.platform == "darwin" else "xdg-open"
        with contextlib.suppress(OSError):
            subprocess.Popen([opener, str(folder)])  # noqa: S603 - fixed program, our folder


def tk_files_ui() -> FilesUI:
    from supportdesk.applet.files_tk import TkFilesUI

    return TkFilesUI()


class TextControls:
    """Reads the customer's commands from standard input while the session runs."""

    def __init__(
        self,
        link: AppletLink,
        stdin: TextIO,
        stdout: TextIO,
        language: str,
        questions: TextQuestions | None = None,
    ) -> None:
        self.link, self.stdin, self.stdout, self.language = link, stdin, stdout, language
        self.paused = False
        self.questions = questions or TextQuestions(stdout)
        self.thread = threading.Thread(target=self._run, name="text-controls", daemon=True)

    def start(self) -> None:
        print(TEXT_HELP[self.language], file=self.stdout, flush=True)
        self.thread.start()

    def _run(self) -> None:
        for line in self.stdin:
            command = line.strip()
            if self.questions.take(command):
                continue  # the answer to "Datei annehmen?" and the like
            if command.startswith("datei "):
                send_file_in_background(self.link, command[6:].strip(), self.stdout)
            elif command == "o":
                open_folder(self.link.files.folder.ensure())
            elif command == "x":
                self.link.files.cancel_running()
            elif command == "p":
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
        self.questions.close()


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
    from supportdesk.capture.clipboard import open_customer_clipboard
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
                granted = data.get("capabilities", [])
                show_active_window(link, "control" in granted, "file_transfer" in granted)
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
            if data.get("notice"):
                line += f" — {data['notice']}"
            print(line, file=stdout, flush=True)
        elif kind == "end":
            print(
                f"Sitzung beendet / session ended ({data.get('reason')})", file=stdout, flush=True
            )

    questions = TextQuestions(stdout)
    link = AppletLink(
        server,
        token,
        ask_consent=ask,
        screen_source=screen_source or MssScreenSource,
        input_sink=input_sink or XTestInputSink,
        clipboard=open_customer_clipboard,
        ssl_context=ssl_context(ca_file),
        language=language,
        monitor=monitor,
        on_event=on_event,
        files_ui=TextFilesUI(questions, stdout) if text_mode else tk_files_ui(),
    )
    controls = TextControls(link, stdin, stdout, "en" if language == "en" else "de", questions)
    return asyncio.run(link.run())
