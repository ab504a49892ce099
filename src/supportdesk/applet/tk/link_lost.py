"""The window that tells the customer the session ended because the link did not come
back: "Verbindung verloren – die Sitzung wurde beendet" and a button to close it.

The active window closes with the session; without this window a customer who does not
watch a terminal would not learn why. Text mode prints the same words instead.
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

CLOSE = N_("Close")


class ConnectionLostWindow:
    """The notice; :meth:`run` blocks until the customer closes it."""

    def __init__(self, language: Language = DEFAULT_LANGUAGE, screen: str | None = None) -> None:
        _ = texts.gettext_for(language)
        self.root = theme.new_root(screen)
        self.root.title(_(texts.CONNECTION_LOST))
        self.root.resizable(False, False)
        self.root.attributes("-topmost", True)
        frame = ttk.Frame(self.root, padding=(pt(12), pt(10)))
        frame.pack(fill="both", expand=True)
        self.message = ttk.Label(frame, text=_(texts.CONNECTION_LOST), wraplength=pt(270))
        self.message.pack(pady=(0, pt(8)))
        self.button = ttk.Button(
            frame,
            text=_(CLOSE),
            style=theme.PRIMARY,
            default="active",
            command=self.root.destroy,
        )
        self.button.pack()
        self.root.bind("<Return>", lambda event: self.root.destroy())
        self.root.bind("<Escape>", lambda event: self.root.destroy())

    def run(self) -> None:
        self.root.mainloop()


def tell_connection_lost(language: Language = DEFAULT_LANGUAGE) -> None:
    """Show the window until closed; without a display there is nobody to tell."""
    with contextlib.suppress(tk.TclError):
        ConnectionLostWindow(language).run()
