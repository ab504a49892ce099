"""`supportdesk join`: start the support program for one session and run it to the end.

Gets a join token (from the portal's page, or by asking for name and support key),
links to the bank's server over verified TLS, asks for consent, shares the screen
while allowed, offers pause / control / end, and leaves the receipt. Everything the
customer reads is in the language of ``join --language`` (German by default); the
commands and answers the customer types work in both languages.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from supportdesk.applet import texts
from supportdesk.applet.bank_config import BankConfig
from supportdesk.applet.bank_tls import require_tls13
from supportdesk.applet.chat_lines import LinkChat
from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.files_text import QuestionLines, TextFilesUI, TextQuestions
from supportdesk.applet.join_text import TextControls, chat_line, end_line, state_line
from supportdesk.applet.join_window import show_active_window, tk_files_ui
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

NO_SESSION = N_("There is no session for this name and support key.")
SERVER_ANSWERED = N_("The server answered {status}.")


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
    return ask(_(texts.YOUR_NAME) + ": ").strip(), ask(_(texts.SUPPORT_KEY) + ": ").strip()


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
    from supportdesk.applet.platform_notice import backend_for_this_machine
    from supportdesk.applet.screen.masking import SessionMasking

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
