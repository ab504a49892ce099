"""`supportdesk join`: start the support program for one session and run it to the end.

Gets a join token (from the portal's page, or by asking for name and support key),
links to the bank's server over verified TLS, asks for consent, shares the screen
while allowed, offers pause / control / end, and leaves the receipt. Everything the
customer reads is in the language of ``join --language`` (German by default); the
commands and answers the customer types work in both languages.
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
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from supportdesk.applet import texts
from supportdesk.applet.agent_notice_text import REFUSE_COMMANDS, TextNotices
from supportdesk.applet.bank_config import BankConfig
from supportdesk.applet.bank_tls import require_tls13
from supportdesk.applet.chat_lines import LinkChat, clean_text
from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.files import FilesUI
from supportdesk.applet.files_text import QuestionLines, TextFilesUI, TextQuestions
from supportdesk.applet.link.client import (
    HTTPS_ONLY,
    UNREACHABLE,
    AppletLink,
    LinkError,
    SessionFacts,
)
from supportdesk.applet.link.keeper import CONNECTION_LOST
from supportdesk.applet.texts import N_, gettext_for, language_of
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.domain.consent import DEFAULT_LANGUAGE, ConsentRecord, Language

TEXT_HELP = N_(
    "Commands: p = pause/resume, s = revoke/allow control, e = end the session, "
    "c TEXT = message to the agent, file PATH = send a file to the agent, "
    "x = cancel transfers, o = open the folder of received files"
)
FILE_COMMANDS = ("datei ", "file ")  # "datei PFAD" and "file PATH", in either language
WATCHING = N_("watching: {names}")
SESSION_ENDED = N_("Session ended")
SESSION_ENDED_BECAUSE = N_("Session ended ({reason})")
CANNOT_READ = N_("Cannot read the file: {error}")
NOT_SENT = N_("File not sent: {error}")
NO_SESSION = N_("There is no session for this name and support key.")
SERVER_ANSWERED = N_("The server answered {status}.")
YOUR_NAME, SUPPORT_KEY = N_("Your name"), N_("Support key")


def ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """Verified TLS 1.3; ``ca_file`` adds a private CA (a bank's own PKI, or a test)."""
    context = require_tls13(ssl.create_default_context())
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def ask_name_and_key(
    language: str | Language = DEFAULT_LANGUAGE, ask: Callable[[str], str] = input
) -> tuple[str, str]:
    """Ask the customer for name and support key ("Ihr Name: ", "Support-Schlüssel: ")."""
    _ = gettext_for(language_of(language))
    return ask(_(YOUR_NAME) + ": ").strip(), ask(_(SUPPORT_KEY) + ": ").strip()


def redeem_by_hand(
    server: str,
    name: str,
    support_key: str,
    context: ssl.SSLContext,
    language: str | Language = DEFAULT_LANGUAGE,
) -> dict[str, Any]:
    """Exchange name and support key for a join token at the server's API; a
    :class:`LinkError` says what went wrong in the customer's ``language``."""
    _ = gettext_for(language_of(language))
    url = server.rstrip("/") + "/api/v1/join"
    if not url.startswith("https://"):
        raise LinkError(_(HTTPS_ONLY).format(server=repr(server)))
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
            raise LinkError(_(NO_SESSION)) from None
        raise LinkError(_(SERVER_ANSWERED).format(status=exc.code)) from None
    except urllib.error.URLError as exc:
        error = exc.reason
        raise LinkError(_(UNREACHABLE).format(server=server, error=error)) from None


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

    def __init__(self, link: AppletLink, language: Language = DEFAULT_LANGUAGE) -> None:
        self.link = link
        self.language = language

    @property
    def status(self) -> str:
        return str(getattr(self.link.files.ui, "status", ""))

    def send_file(self, path: Path) -> None:
        send_file_in_background(self.link, str(path), sys.stderr, self.language)

    def open_folder(self) -> None:
        open_folder(self.link.files.folder.ensure())

    def cancel_running(self) -> None:
        self.link.files.cancel_running()


def show_active_window(
    link: AppletLink,
    control_offered: bool,
    files: bool = False,
    language: Language = DEFAULT_LANGUAGE,
    chat: LinkChat | None = None,
    state: Callable[[], dict[str, Any]] = dict,
) -> None:
    """The always-on-top window, in a thread of its own (Tk stays in that thread);
    ``state`` gives the relay's last ``state`` message (who watches, who controls)."""
    from supportdesk.applet.tk.active_window import ActiveWindow

    _ = gettext_for(language)

    def run() -> None:
        ActiveWindow(
            LinkControls(link),
            consultation_number=link.facts.consultation_number,
            verification_code=link.verification_code,
            agent_name=link.facts.agent_name,
            control_offered=control_offered,
            watchers=lambda: texts.watchers(state(), _),
            notice=lambda: texts.link_notice(
                link.reconnecting, link.state.held, link.state.notice, _
            ),
            files=LinkFileButtons(link, language) if files else None,
            language=language,
            chat=chat,
            agent_notice=lambda: link.agent_notice,
            refuse_control=lambda notice: link.request(
                {"type": "refuse_control", "notice": notice}
            ),
            privacy=link,
            team=state,
        ).run()

    threading.Thread(target=run, name="active-window", daemon=True).start()


def send_file_in_background(
    link: AppletLink, path: str, stdout: TextIO, language: Language = DEFAULT_LANGUAGE
) -> None:
    """Hash, confirm and offer ``path`` without holding up the caller (the confirmation
    is itself a question the caller's thread has to answer)."""
    _ = gettext_for(language)

    def run() -> None:
        try:
            link.files.send_file(Path(path).expanduser())
        except OSError as exc:
            print(_(CANNOT_READ).format(error=exc), file=stdout, flush=True)
        except Exception as exc:  # a refused file (too large) must not kill the thread
            print(_(NOT_SENT).format(error=exc), file=stdout, flush=True)

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


def tk_files_ui(language: Language = DEFAULT_LANGUAGE) -> FilesUI:
    from supportdesk.applet.tk.files import TkFilesUI

    return TkFilesUI(language=language)


class TextControls:
    """Reads the customer's commands from standard input while the session runs."""

    def __init__(
        self,
        link: AppletLink,
        stdin: TextIO,
        stdout: TextIO,
        language: Language = DEFAULT_LANGUAGE,
        questions: TextQuestions | None = None,
        notices: TextNotices | None = None,
    ) -> None:
        self.link, self.stdin, self.stdout, self.language = link, stdin, stdout, language
        self.paused = False
        self.questions = questions or TextQuestions(stdout)
        self.notices = notices or TextNotices(link.request, stdout, language)
        self.thread = threading.Thread(target=self._run, name="text-controls", daemon=True)

    def start(self) -> None:
        print(gettext_for(self.language)(TEXT_HELP), file=self.stdout, flush=True)
        self.thread.start()

    def _run(self) -> None:
        for line in self.stdin:
            command = line.strip()
            if self.questions.take(command):
                continue  # the answer to "Datei annehmen?" and the like
            if command.startswith(FILE_COMMANDS):
                path = command.split(" ", 1)[1].strip()
                send_file_in_background(self.link, path, self.stdout, self.language)
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
            elif command in REFUSE_COMMANDS:
                self.notices.refuse()  # "Ablehnen" of the latest agent notice
        self.questions.close()


def state_line(state: dict[str, Any], language: Language = DEFAULT_LANGUAGE) -> str:
    """Text mode's line for a ``state`` message: "[aktiv] Bildschirm ansehen — es sehen
    zu: Anna Berger (Berater)", and why the session is held, if it is."""
    _ = gettext_for(language)
    granted = texts.capability_names(state.get("capabilities", []), _)
    line = f"[{texts.session_state(state.get('state'), _)}]" + (f" {granted}" if granted else "")
    watching = ", ".join(texts.watchers(state, _))
    if watching:
        line += " — " + _(WATCHING).format(names=watching)
    notice = texts.session_notice(bool(state.get("held")), str(state.get("notice") or ""), _)
    if notice:
        line += f" — {notice}"
    return line


def chat_line(chat: dict[str, Any], language: Language = DEFAULT_LANGUAGE) -> str:
    """The agent's chat message: "[Anna Berger] Hallo", "[Berater] …" without a name;
    one line, without control characters (a terminal obeys them)."""
    name = clean_text(chat.get("name") or "", newlines=False)
    sender = name or gettext_for(language)(texts.AGENT_IN_CHAT)
    return f"[{sender}] {clean_text(chat.get('text', ''), newlines=False)}"


def end_line(reason: object, language: Language = DEFAULT_LANGUAGE) -> str:
    """Text mode's last line: "Sitzung beendet (durch den Berater)", or "Verbindung
    verloren – die Sitzung wurde beendet"."""
    _ = gettext_for(language)
    if reason == CONNECTION_LOST:
        return _(texts.CONNECTION_LOST)
    if not reason:
        return _(SESSION_ENDED)
    return _(SESSION_ENDED_BECAUSE).format(reason=texts.end_reason(reason, _))


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
    on_over: Callable[[SessionFacts], None] = lambda facts: None,
    tls: ssl.SSLContext | None = None,
    bank: BankConfig | None = None,
) -> SessionFacts:
    """Run one session to its end and return what the receipt records; ``on_over``
    gets the same as soon as the session is over here (the receipt is written then,
    even while an "end" waits for a lost link to come back). ``tls`` replaces the default
    context of ``ca_file``. The consent dialog shows the name from the certificate the
    link verified, never the server's word; with a built-in ``bank`` config that is the
    name covering the bank's domain, and the bank's own name is shown."""
    from supportdesk.applet.masking import SessionMasking
    from supportdesk.applet.platform_notice import backend_for_this_machine

    lang = language_of(language)
    _ = gettext_for(lang)
    # Before anything is shared: a screen that cannot be shown truthfully (Wayland, a
    # missing macOS permission) is said plainly and not shared. A harness that brings
    # its own screen needs no check.
    devices = backend_for_this_machine(
        server, lang, text_mode=text_mode, stdout=stdout, check=screen_source is None
    )

    def ask(request: ConsentRequest) -> ConsentRecord:
        # The verified address is the certificate's already (link/consent.py); a built
        # program names its bank itself.
        if bank is not None and bank.name:
            request = replace(request, bank_name=bank.name)
        if text_mode:
            # Asked again after a long gap, standard input has a reader already: the
            # answers come through it.
            answers = QuestionLines(questions) if controls.thread.is_alive() else stdin
            return ask_consent_text(build_dialog(request, lang), answers, stdout)
        from supportdesk.applet.tk.consent import ask_consent_tk

        return ask_consent_tk(request, language=lang)

    def on_event(kind: str, data: dict[str, Any]) -> None:
        if kind == "active":
            print(_(texts.SESSION_ACTIVE), file=stdout, flush=True)
            if text_mode:
                controls.start()
            else:
                granted = data.get("capabilities", [])
                files = "file_transfer" in granted
                show_active_window(
                    link, "control" in granted, files, lang, chat=chat, state=lambda: latest[0]
                )
        elif kind == "chat":
            if not text_mode:
                chat.put(data)  # the window's panel shows both sides
            if data.get("from") == "agent":
                print(chat_line(data, lang), file=stdout, flush=True)
        elif kind == "agent_notice" and text_mode:
            controls.notices.show(data)  # the window has a bar of its own
        elif kind == "state":
            latest[0] = data
            if text_mode:
                print(state_line(data, lang), file=stdout, flush=True)
        elif kind == "end":
            print(end_line(data.get("reason"), lang), file=stdout, flush=True)
        elif kind == "link_lost":
            print(_(texts.RECONNECTING), file=stdout, flush=True)
        elif kind == "link_restored":
            print(_(texts.RECONNECTED), file=stdout, flush=True)
        elif kind == "renewal":
            print(_(texts.ASKED_AGAIN), file=stdout, flush=True)
        elif kind == "renewed":
            print(_(texts.SESSION_ACTIVE), file=stdout, flush=True)

    latest: list[dict[str, Any]] = [{}]  # the relay's last "state" (the window reads it)
    questions = TextQuestions(stdout)
    link = AppletLink(
        server,
        token,
        ask_consent=ask,
        screen_source=screen_source or devices.screen_source,
        input_sink=input_sink or devices.input_sink,
        clipboard=devices.clipboard,
        ssl_context=tls or ssl_context(ca_file),
        language=language,
        monitor=monitor,
        on_event=on_event,
        on_over=on_over,
        files_ui=TextFilesUI(questions, stdout, lang) if text_mode else tk_files_ui(lang),
        masking=SessionMasking(devices.platform),
    )
    controls = TextControls(link, stdin, stdout, lang, questions)
    chat = LinkChat(link.request)
    facts = asyncio.run(link.run())
    if text_mode and facts.survey_token and facts.started_at is not None:
        from supportdesk.applet.exit_survey import ask_text

        # The controls' reader may still own standard input (the agent ended): ask
        # through it then, as the consent renewal does.
        alive = controls.thread.is_alive()
        facts.survey_answer = ask_text(
            (lambda: questions.next_line(as_typed=True)) if alive else stdin.readline,
            stdout,
            lang,
        )
    if not text_mode and facts.started_at is not None and facts.end_reason == CONNECTION_LOST:
        from supportdesk.applet.tk.link_lost import tell_connection_lost

        tell_connection_lost(lang)  # the active window is gone: say why
    return facts
