"""File transfer and diagnostics questions in text mode, on standard input and output.

The text-mode applet has one reader of standard input (``TextControls``). A question
asked from a worker thread is printed and queued here; the reader hands the next line
to the oldest open question instead of treating it as a command. So "Datei annehmen?
[j/n]" ("Accept the file? [y/n]") is answered by typing ``j`` (or ``y``) while the
session keeps running.
"""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import TextIO

from supportdesk.applet import texts
from supportdesk.applet.files import FileQuestion, OfferAnswer
from supportdesk.applet.texts import N_
from supportdesk.diagnostics.report import DiagnosticsReport
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.transfer.endpoint import TransferEvent
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import Direction

# Answers are taken in both languages, whichever language the questions are asked in.
YES = {"j", "ja", "y", "yes"}
REPLACE = {"e", "ersetzen", "r", "replace"}  # anything else keeps both


class _Question:
    def __init__(self, key: str | None) -> None:
        self.key = key
        self.answer = ""
        self.typed = ""  # the line as typed (the survey's comment keeps its case)
        self.closed = False  # standard input ended before an answer
        self.ready = threading.Event()


class TextQuestions:
    """Questions waiting for a line of standard input, oldest first."""

    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout
        self._open: deque[_Question] = deque()
        self._lock = threading.Lock()

    def ask(self, prompt: str, key: str | None = None) -> str:
        """Print ``prompt`` and block until the customer answers (lower-cased), or
        until :meth:`withdraw` closes the questions asked with ``key`` ("")."""
        question = _Question(key)
        with self._lock:
            self._open.append(question)
            print(prompt, file=self.stdout, flush=True)
        question.ready.wait()
        return question.answer

    def next_line(self, as_typed: bool = False) -> str | None:
        """Block until the reader hands over the next line (lower-cased, unless
        ``as_typed``), without a prompt; None once standard input has ended."""
        question = _Question(None)
        with self._lock:
            self._open.append(question)
        question.ready.wait()
        if question.closed:
            return None
        return question.typed if as_typed else question.answer

    def take(self, line: str) -> bool:
        """Give ``line`` to the oldest open question; False if none is open."""
        with self._lock:
            if not self._open:
                return False
            question = self._open.popleft()
        question.typed = line.strip()
        question.answer = question.typed.lower()
        question.ready.set()
        return True

    def withdraw(self, key: str) -> None:
        """Close the open questions asked with ``key``; the next line is not theirs."""
        with self._lock:
            gone = [q for q in self._open if q.key == key]
            for question in gone:
                self._open.remove(question)
        for question in gone:
            question.ready.set()  # answered "": no

    def close(self) -> None:
        """Answer every open question with no (standard input closed)."""
        with self._lock:
            for question in self._open:
                question.closed = True
        while self.take("n"):
            pass


class QuestionLines:
    """Standard input as the consent dialog reads it while :class:`TextControls` owns
    it: each ``readline`` waits for the next line the reader hands over ("" once
    standard input is closed, as at end of file)."""

    def __init__(self, questions: TextQuestions) -> None:
        self.questions = questions

    def readline(self) -> str:
        line = self.questions.next_line()
        return "" if line is None else line + "\n"


OFFER = N_("The agent would like to send you a file: {name} ({size}, SHA-256 {sha256}…)")
ACCEPT_QUESTION = N_("Accept the file? [y/n]")
NAME_TAKEN = N_("{name} already exists: replace or keep both? [r=replace/b=both]")
SEND_QUESTION = N_("Send the file {name} ({size}) to the agent? [y/n]")
REPORT_QUESTION = N_("Send the report? [y/n]")
TRANSFERRING = N_("Transfer running: {name}")
RECEIVED = N_("File received: {name} in {folder} (open with: o)")
SENT = N_("File sent: {name}")
STOPPED = N_("Transfer stopped: {name} ({outcome})")


def _size(count: int, language: Language) -> str:
    if count < 1024:
        return texts.byte_count(count, texts.gettext_for(language))
    if count < 1024 * 1024:
        return f"{texts.decimal(count / 1024, language)} KiB"
    return f"{texts.decimal(count / (1024 * 1024), language)} MiB"


class TextFilesUI:
    """The :class:`~supportdesk.applet.files.FilesUI` of the text-mode applet."""

    def __init__(
        self, questions: TextQuestions, stdout: TextIO, language: Language = DEFAULT_LANGUAGE
    ) -> None:
        self.questions = questions
        self.stdout = stdout
        self.language = language
        self._ = texts.gettext_for(language)
        self._quarters: dict[str, int] = {}

    def _say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        _ = self._
        size = _size(question.size, self.language)
        self._say(_(OFFER).format(name=question.name, size=size, sha256=question.sha256[:16]))
        if self.questions.ask(_(ACCEPT_QUESTION), question.id) not in YES:
            return OfferAnswer.DECLINE
        if not question.name_taken:
            return OfferAnswer.ACCEPT
        answer = self.questions.ask(_(NAME_TAKEN).format(name=question.name), question.id)
        return OfferAnswer.REPLACE if answer in REPLACE else OfferAnswer.KEEP_BOTH

    def withdraw(self, question_id: str) -> None:
        # show() reports why the file did not come; the question just goes away.
        self.questions.withdraw(question_id)

    def confirm_send(self, name: str, size: int) -> bool:
        question = self._(SEND_QUESTION).format(name=name, size=_size(size, self.language))
        return self.questions.ask(question) in YES

    def ask_report(self, report: DiagnosticsReport) -> bool:
        self._say(report.render_text(self.language.value))
        return self.questions.ask(self._(REPORT_QUESTION)) in YES

    def progress(self, name: str, done: int, size: int) -> None:
        # A line per quarter, not per chunk: the customer reads this.
        step = max(1, size // 4)
        if done // step != self._quarters.get(name, 0):
            self._quarters[name] = done // step
            self._say(f"{name}: {min(100, done * 100 // max(size, 1))} %")

    def show(self, event: TransferEvent, folder: Path) -> None:
        _ = self._
        if event.state is TransferState.ACCEPTED:
            self._say(_(TRANSFERRING).format(name=event.name))
        elif event.state is TransferState.DONE:
            if event.direction is Direction.TO_CUSTOMER:
                name = event.final_name or event.name
                self._say(_(RECEIVED).format(name=name, folder=folder))
            else:
                self._say(_(SENT).format(name=event.name))
        elif event.state in (TransferState.DECLINED, TransferState.CANCELLED, TransferState.FAILED):
            outcome = texts.transfer_outcome(event.outcome or event.state.value, _)
            self._say(_(STOPPED).format(name=event.name, outcome=outcome))
