"""A small window that says why the screen is not shared (Wayland, a missing macOS
permission) or what the customer should know first, with one button to close it.

The words come from :mod:`.platform_notice`; text mode prints them instead. Without a
display there is no window to show, and the program's error line says the same.
"""

from __future__ import annotations

import contextlib
import tkinter as tk
from tkinter import ttk

from supportdesk.applet import texts
from supportdesk.applet.texts import N_
from supportdesk.applet.tk import theme
from supportdesk.applet.tk.theme import pt
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

__all__ = ["NoticeWindow", "show_notice"]

CLOSE = N_("Close")  # the same words as tk/link_lost.py's button


class NoticeWindow:
    """The notice; :meth:`run` blocks until the customer closes it."""

    def __init__(
        self,
        title: str,
        text: str,
        language: Language = DEFAULT_LANGUAGE,
        screen: str | None = None,
    ) -> None:
        _ = texts.gettext_for(language)
        self.root = theme.new_root(screen)
        self.root.title(title)
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        frame = ttk.Frame(self.root, padding=(pt(12), pt(10)))
        frame.pack(fill="both", expand=True)
        self.message = ttk.Label(frame, text=text, wraplength=pt(330), justify="left")
        self.message.pack(pady=(0, pt(8)), anchor="w")
        self.button = ttk.Button(
            frame, text=_(CLOSE), style=theme.PRIMARY, default="active", command=self.close
        )
        self.button.pack()
        self.root.bind("<Return>", lambda event: self.close())
        self.root.bind("<Escape>", lambda event: self.close())
        self.root.protocol("WM_DELETE_WINDOW", self.close)

    def close(self) -> None:
        self.root.destroy()

    def run(self) -> None:
        self.root.mainloop()


def show_notice(title: str, text: str, language: Language = DEFAULT_LANGUAGE) -> None:
    """Show the notice until closed; without a display there is nobody to show it to."""
    with contextlib.suppress(tk.TclError):
        NoticeWindow(title, text, language).run()
