"""Text mode's notice of another agent: a line on standard output saying who took
over, joined or left, with the command that refuses that agent's control while it
could control ("a", or "r" in English: either works in both languages), and that
command carried out once per notice (``agent_notice.py`` has the words)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TextIO

from supportdesk.applet.agent_notice import notice_text
from supportdesk.applet.chat_lines import clean_text
from supportdesk.applet.texts import N_, gettext_for
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

REFUSE_COMMANDS = ("a", "r")  # "ablehnen" and "refuse"
REFUSE_HINT = N_("Type {command} to refuse their control.")
NOTHING_TO_REFUSE = N_("There is nothing to refuse right now.")


class TextNotices:
    """The latest notice as text mode shows it, and its "Ablehnen" as a command.

    ``request`` sends a control message to the relay (``AppletLink.request``)."""

    def __init__(
        self,
        request: Callable[[dict[str, Any]], None],
        stdout: TextIO,
        language: Language = DEFAULT_LANGUAGE,
    ) -> None:
        self._request = request
        self.stdout = stdout
        self._ = gettext_for(language)
        self.command = REFUSE_COMMANDS[0] if language is Language.DE else REFUSE_COMMANDS[1]
        self._latest: dict[str, Any] | None = None
        self._refused: set[str] = set()
        self._lock = threading.Lock()  # the link's thread shows, stdin's thread refuses

    def show(self, message: dict[str, Any]) -> None:
        """A notice from the relay: one line, with the command while it can be refused."""
        with self._lock:
            self._latest = message
        line = notice_text(message, self._)
        if message.get("refusable"):
            line += " " + self._(REFUSE_HINT).format(command=self.command)
        self._print(line)

    def refuse(self) -> None:
        """The customer's refusal of the latest notice: asked of the relay once."""
        with self._lock:
            message = self._latest
            notice = str(message.get("notice")) if message else ""
            refusable = bool(message and message.get("refusable")) and notice not in self._refused
            if refusable:
                self._refused.add(notice)
        if not refusable or message is None:
            self._print(self._(NOTHING_TO_REFUSE))
            return
        self._request({"type": "refuse_control", "notice": notice})
        self._print(notice_text(message, self._, refused=True))

    def _print(self, line: str) -> None:
        # The agent's name comes from the server: no control characters to the terminal.
        print(clean_text(line, newlines=False), file=self.stdout, flush=True)
