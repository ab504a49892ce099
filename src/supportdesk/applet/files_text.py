"""File transfer and diagnostics questions in text mode, on standard input and output.

The text-mode applet has one reader of standard input (``TextControls``). A question
asked from a worker thread is printed and queued here; the reader hands the next line
to the oldest open question instead of treating it as a command. So "Datei annehmen?
[j/n]" is answered by typing ``j`` while the session keeps running.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import TextIO

from supportdesk.applet.files import FileQuestion, OfferAnswer
from supportdesk.diagnostics.report import DiagnosticsReport
from supportdesk.transfer.endpoint import TransferEvent
from supportdesk.transfer.protocol import Direction, TransferState

YES = {"j", "ja", "y", "yes"}


class _Question:
    def __init__(self) -> None:
        self.answer = ""
        self.ready = threading.Event()


class TextQuestions:
    """Questions waiting for a line of standard input, oldest first."""

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout
        self._open: deque[_Question] = deque()
        self._lock = threading.Lock()

    def ask(self, prompt: str) -> str:
        """Print ``prompt`` and block until the customer answers (lower-cased)."""
        question = _Question()
        with self._lock:
            self._open.append(question)
            print(prompt, file=self.stdout, flush=True)
        question.ready.wait()
        return question.answer

    def take(self, line: str) -> bool:
        """Give ``line`` to the oldest open question; False if none is open."""
        with self._lock:
            if not self._open:
                return False
            question = self._open.popleft()
        question.answer = line.strip().lower()
        question.ready.set()
        return True

    def close(self) -> None:
        """Answer every open question with no (standard input closed)."""
        while self.take("n"):
            pass


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} Bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB".replace(".", ",")
    return f"{count / (1024 * 1024):.1f} MiB".replace(".", ",")


class TextFilesUI:
    """The :class:`~supportdesk.applet.files.FilesUI` of the text-mode applet."""

    def __init__(self, questions: TextQuestions, stdout: TextIO) -> None:
        self.questions = questions
        self.stdout = stdout
        self._quarters: dict[str, int] = {}

    def _say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        self._say(
            f"Der Berater möchte Ihnen eine Datei senden / the agent sends a file: "
            f"{question.name} ({_size(question.size)}, SHA-256 {question.sha256[:16]}…)"
        )
        if self.questions.ask("Datei annehmen? / accept the file? [j/n]") not in YES:
            return OfferAnswer.DECLINE
        if not question.name_taken:
            return OfferAnswer.ACCEPT
        answer = self.questions.ask(
            f"{question.name} gibt es schon: ersetzen oder beide behalten? / "
            "already exists: replace or keep both? [e=ersetzen/b=beide]"
        )
        return (
            OfferAnswer.REPLACE
            if answer in ("e", "ersetzen", "r", "replace")
            else (OfferAnswer.KEEP_BOTH)
        )

    def confirm_send(self, name: str, size: int) -> bool:
        answer = self.questions.ask(
            f"Datei {name} ({_size(size)}) an den Berater senden? / send to the agent? [j/n]"
        )
        return answer in YES

    def ask_report(self, report: DiagnosticsReport) -> bool:
        self._say(report.render_text("de"))
        return self.questions.ask("Bericht senden? / send the report? [j/n]") in YES

    def progress(self, name: str, done: int, size: int) -> None:
        # A line per quarter, not per chunk: the customer reads this.
        step = max(1, size // 4)
        if done // step != self._quarters.get(name, 0):
            self._quarters[name] = done // step
            self._say(f"{name}: {min(100, done * 100 // max(size, 1))} %")

    def show(self, event: TransferEvent, folder: Path) -> None:
        if event.state is TransferState.ACCEPTED:
            self._say(f"Übertragung läuft / transferring: {event.name}")
        elif event.state is TransferState.DONE:
            if event.direction is Direction.TO_CUSTOMER:
                self._say(
                    f"Datei empfangen / file received: {event.final_name or event.name} "
                    f"in {folder} (öffnen mit / open with: o)"
                )
            else:
                self._say(f"Datei gesendet / file sent: {event.name}")
        elif event.state in (TransferState.DECLINED, TransferState.CANCELLED, TransferState.FAILED):
            self._say(
                f"Übertragung beendet / transfer stopped: {event.name} "
                f"({event.outcome or event.state.value})"
            )
