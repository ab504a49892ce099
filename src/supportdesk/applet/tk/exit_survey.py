"""The exit survey's window: stars, "solved?", a comment, and "Send answer" or "Skip".

Shown by the program after a session that ran, once the receipt is written; closing the
window or Escape is a skip, as is "Send answer" with nothing chosen. The window only
asks: the caller sends the answer (``exit_survey.send_answer``).
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from tkinter import ttk

from supportdesk.applet import exit_survey as words
from supportdesk.applet.texts import gettext_for, language_of
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language
from supportdesk.domain.exit_survey import COMMENT_MAX, InvalidAnswer, SurveyAnswer, parse_answer

__all__ = ["SurveyWindow", "ask_survey_tk"]

WRAP = pt(300)


class SurveyWindow:
    """The window; :meth:`run` blocks until the customer sends (the answer) or skips
    (None)."""

    def __init__(
        self, language: str | Language = DEFAULT_LANGUAGE, screen: str | None = None
    ) -> None:
        _ = gettext_for(language_of(language))
        self.answer: SurveyAnswer | None = None
        self.root = theme.new_root(screen)
        self.root.title(_(words.TITLE))
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        frame = ttk.Frame(self.root, padding=(pt(12), pt(10)))
        frame.pack(fill="both", expand=True)
        self.stars = tk.StringVar(self.root, "")
        self.solved = tk.StringVar(self.root, "")
        ttk.Label(frame, text=_(words.STARS_QUESTION), wraplength=WRAP).pack(anchor="w")
        row = ttk.Frame(frame)
        row.pack(anchor="w", pady=(pt(2), pt(8)))
        self.star_buttons: dict[str, ttk.Radiobutton] = {}
        for n in range(1, 6):
            button = ttk.Radiobutton(row, text="★" * n, value=str(n), variable=self.stars)
            button.pack(side="left", padx=(0, pt(6)))
            self.star_buttons[str(n)] = button
        ttk.Label(frame, text=_(words.SOLVED_QUESTION), wraplength=WRAP).pack(anchor="w")
        row = ttk.Frame(frame)
        row.pack(anchor="w", pady=(pt(2), pt(8)))
        self.solved_buttons: dict[str, ttk.Radiobutton] = {}
        for code, label in (("yes", words.YES), ("partly", words.PARTLY), ("no", words.NO)):
            button = ttk.Radiobutton(row, text=_(label), value=code, variable=self.solved)
            button.pack(side="left", padx=(0, pt(10)))
            self.solved_buttons[code] = button
        ttk.Label(frame, text=_(words.COMMENT_LABEL)).pack(anchor="w")
        box, self.comment = theme.text_box(frame, height=4, width=44, wrap="word")
        box.pack(fill="x", pady=(pt(2), pt(4)))
        ttk.Label(frame, text=_(words.PRIVACY), wraplength=WRAP).pack(anchor="w")
        bar = ttk.Frame(frame)
        bar.pack(fill="x", pady=(pt(8), 0))
        self.buttons = {
            "send": ttk.Button(bar, text=_(words.SEND), style=theme.PRIMARY, command=self.send),
            "skip": ttk.Button(bar, text=_(words.SKIP), command=self.skip),
        }
        self.buttons["skip"].pack(side="right")
        self.buttons["send"].pack(side="right", padx=(0, pt(6)))
        self.root.protocol("WM_DELETE_WINDOW", self.skip)
        self.root.bind("<Escape>", lambda event: self.skip())

    def send(self) -> None:
        comment = self.comment.get("1.0", "end").strip()[:COMMENT_MAX]
        data = {"stars": int(self.stars.get()) if self.stars.get() else None,
                "solved": self.solved.get() or None, "comment": comment}  # fmt: skip
        try:
            answer = parse_answer(data)
        except InvalidAnswer:  # characters that are not text: the comment is left out
            answer = parse_answer({**data, "comment": None})
        self.answer = None if answer.is_skip else answer
        self.root.destroy()

    def skip(self) -> None:
        self.answer = None
        self.root.destroy()

    def run(self) -> SurveyAnswer | None:
        self.root.mainloop()
        return self.answer


def ask_survey_tk(language: str | Language = DEFAULT_LANGUAGE) -> SurveyAnswer | None:
    """Show the window until answered or skipped; without a display, a skip."""
    with contextlib.suppress(tk.TclError):
        return SurveyWindow(language).run()
    return None
