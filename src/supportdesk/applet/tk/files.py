"""File transfer and diagnostics questions as small Tk dialogs.

In the customer's language (German unless told otherwise). Each question is a window
of its own, opened in the worker thread that asks it (Tk stays in the thread that
created it) and closed when answered. Nothing defaults to yes: closing a window, or
losing the display, declines. Progress and results go to :attr:`TkFilesUI.status`,
the active window's file line.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import tkinter as tk
from pathlib import Path
from tkinter import ttk

from supportdesk.applet import texts
from supportdesk.applet.files import FileQuestion, OfferAnswer
from supportdesk.applet.texts import N_
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt
from supportdesk.diagnostics.report import DiagnosticsReport
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.transfer.endpoint import TransferEvent
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import Direction

WRAP = pt(345)
WITHDRAW_POLL_MS = 200
REPORT_LINES = 24


class ChoiceDialog:
    """A question with buttons; :meth:`run` returns the chosen key, or ``default``
    if the window is closed without an answer."""

    def __init__(
        self,
        title: str,
        text: str,
        choices: list[tuple[str, str]],
        *,
        default: str,
        details: str | None = None,
        screen: str | None = None,
        withdrawn: threading.Event | None = None,
    ) -> None:
        self.answer = default
        self.default = default
        self.withdrawn = withdrawn
        self.root = theme.new_root(screen)
        self.root.title(title)
        self.root.attributes("-topmost", True)
        self.root.protocol("WM_DELETE_WINDOW", self.root.destroy)
        frame = ttk.Frame(self.root, padding=(pt(10), pt(8)))
        frame.pack(fill="both", expand=True)
        ttk.Label(frame, text=text, wraplength=WRAP, justify="left").pack(anchor="w")
        if details is not None:
            # 24 lines, unless that would push the buttons off a small (or large-print)
            # screen: the report scrolls anyway.
            lines = theme.lines_that_fit(self.root, REPORT_LINES, "TkFixedFont")
            box, report = theme.text_box(frame, width=80, height=lines, wrap="word")
            report.insert("1.0", details)
            report.configure(state="disabled")  # shown to be read, not edited
            box.pack(fill="both", expand=True, pady=(pt(6), 0))
        bar = ttk.Frame(frame)
        bar.pack(anchor="e", pady=(pt(8), 0))
        self.buttons: dict[str, ttk.Button] = {}
        for key, label in choices:
            button = ttk.Button(bar, text=label, command=functools.partial(self.choose, key))
            button.pack(side="left", padx=(pt(5), 0))
            self.buttons[key] = button

    def choose(self, key: str) -> None:
        self.answer = key
        self.root.destroy()

    def run(self) -> str:
        if self.withdrawn is not None:
            self.root.after(WITHDRAW_POLL_MS, self._check_withdrawn)
        with contextlib.suppress(tk.TclError):
            self.root.mainloop()
        return self.answer

    def _check_withdrawn(self) -> None:
        # Tk belongs to this thread: another thread only sets the event.
        assert self.withdrawn is not None
        if self.withdrawn.is_set():
            self.answer = self.default
            self.root.destroy()
        else:
            self.root.after(WITHDRAW_POLL_MS, self._check_withdrawn)


OFFER = N_("Your agent would like to send you a file:")
ACCEPT_QUESTION = N_("Accept the file?")
NAME_TAKEN = N_("“{name}” already exists: replace or keep both?")
DECLINE, ACCEPT, REPLACE, KEEP_BOTH = N_("Decline"), N_("Accept"), N_("Replace"), N_("Keep both")
REPORT_TITLE = N_("Diagnostic information")
REPORT_QUESTION = N_("Your agent asks for diagnostic information. Send the report?")
WITHHOLD, SEND, CANCEL = N_("Withhold"), N_("Send"), N_("Cancel")
SEND_TITLE = N_("Send the file?")
SEND_QUESTION = N_("Send the file to the agent?")
RECEIVED = N_("Received: {name} (in {folder})")
SENT = N_("Sent: {name}")
NOT_TRANSFERRED = N_("Not transferred: {name} ({outcome})")
TRANSFERRING = N_("Transferring: {name}")
PROGRESS = N_("Transferring: {name} {percent} %")


def _size(count: int, language: Language) -> str:
    if count >= 1024 * 1024:
        return f"{texts.decimal(count / (1024 * 1024), language)} MiB"
    return texts.byte_count(count, texts.gettext_for(language))


def offer_dialog(
    question: FileQuestion,
    screen: str | None = None,
    language: Language = DEFAULT_LANGUAGE,
    withdrawn: threading.Event | None = None,
) -> ChoiceDialog:
    _ = texts.gettext_for(language)
    text = (
        f"{_(OFFER)}\n\n{question.name}\n"
        f"{_size(question.size, language)}, SHA-256 {question.sha256[:16]}…\n\n"
        f"{_(ACCEPT_QUESTION)}"
    )
    choices = [("decline", _(DECLINE))]
    if question.name_taken:
        text += "\n\n" + _(NAME_TAKEN).format(name=question.name)
        choices += [("replace", _(REPLACE)), ("keep_both", _(KEEP_BOTH))]
    else:
        choices += [("accept", _(ACCEPT))]
    return ChoiceDialog(
        _(ACCEPT_QUESTION), text, choices, default="decline", screen=screen, withdrawn=withdrawn
    )


def report_dialog(
    report: DiagnosticsReport, screen: str | None = None, language: Language = DEFAULT_LANGUAGE
) -> ChoiceDialog:
    _ = texts.gettext_for(language)
    return ChoiceDialog(
        _(REPORT_TITLE),
        _(REPORT_QUESTION),
        [("withhold", _(WITHHOLD)), ("send", _(SEND))],
        default="withhold",
        details=report.render_text(language.value),
        screen=screen,
    )


def send_dialog(
    name: str, size: int, screen: str | None = None, language: Language = DEFAULT_LANGUAGE
) -> ChoiceDialog:
    _ = texts.gettext_for(language)
    return ChoiceDialog(
        _(SEND_TITLE),
        f"{_(SEND_QUESTION)}\n\n{name}\n{_size(size, language)}",
        [("no", _(CANCEL)), ("yes", _(SEND))],
        default="no",
        screen=screen,
    )


class TkFilesUI:
    """The :class:`~supportdesk.applet.files.FilesUI` of the windowed applet."""

    def __init__(self, screen: str | None = None, language: Language = DEFAULT_LANGUAGE) -> None:
        self.screen = screen
        self.language = language
        self._ = texts.gettext_for(language)
        self.status = ""
        """The latest transfer news, for the active window's file line."""
        self._open: dict[str, threading.Event] = {}  # offer id -> its dialog's close signal

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        withdrawn = self._open[question.id] = threading.Event()
        try:
            dialog = offer_dialog(question, self.screen, self.language, withdrawn)
            return OfferAnswer(dialog.run())
        except tk.TclError:
            return OfferAnswer.DECLINE
        finally:
            self._open.pop(question.id, None)

    def withdraw(self, question_id: str) -> None:
        # The dialog closes itself (Tk is not ours to touch from this thread).
        withdrawn = self._open.get(question_id)
        if withdrawn is not None:
            withdrawn.set()

    def confirm_send(self, name: str, size: int) -> bool:
        try:
            return send_dialog(name, size, self.screen, self.language).run() == "yes"
        except tk.TclError:
            return False

    def ask_report(self, report: DiagnosticsReport) -> bool:
        try:
            return report_dialog(report, self.screen, self.language).run() == "send"
        except tk.TclError:
            return False

    def show(self, event: TransferEvent, folder: Path) -> None:
        # Called on the link's loop: never block. The active window shows the line.
        _ = self._
        if event.state is TransferState.DONE and event.direction is Direction.TO_CUSTOMER:
            name = event.final_name or event.name
            self.status = _(RECEIVED).format(name=name, folder=folder)
        elif event.state is TransferState.DONE:
            self.status = _(SENT).format(name=event.name)
        elif event.state in (TransferState.DECLINED, TransferState.CANCELLED, TransferState.FAILED):
            outcome = texts.transfer_outcome(event.outcome or event.state.value, _)
            self.status = _(NOT_TRANSFERRED).format(name=event.name, outcome=outcome)
        else:
            self.status = _(TRANSFERRING).format(name=event.name)

    def progress(self, name: str, done: int, size: int) -> None:
        percent = done * 100 // max(size, 1)
        self.status = self._(PROGRESS).format(name=name, percent=percent)
