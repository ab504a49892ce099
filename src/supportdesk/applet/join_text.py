"""What `supportdesk join` reads and prints on the terminal: text mode's commands and lines.

In text mode (``--text``) the customer types commands ("p", "s", "e", "c TEXT",
"datei PFAD" …) while the session runs, and reads one line per change of the session;
in window mode the same lines still go to the terminal beside the windows. Every line
is in the customer's language; the commands work in both.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from supportdesk.applet import texts
from supportdesk.applet.agent_notice_text import REFUSE_COMMANDS, TextNotices
from supportdesk.applet.chat_lines import clean_text
from supportdesk.applet.files_text import TextQuestions
from supportdesk.applet.link.client import AppletLink
from supportdesk.applet.link.keeper import CONNECTION_LOST
from supportdesk.applet.texts import N_, gettext_for
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

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
