"""The active window's bar for who took over, joined or left the session, with
"Ablehnen" while that agent could control (``agent_notice.py`` has the words)."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from supportdesk.applet.agent_notice import REFUSE, notice_text
from supportdesk.applet.texts import Gettext
from supportdesk.applet.tk import theme


class AgentNoticeBar:
    """The latest notice and, while its agent could control, "Ablehnen"."""

    def __init__(
        self,
        parent: tk.Misc,
        _: Gettext,
        latest: Callable[[], dict[str, Any] | None],
        refuse: Callable[[str], None],
        wrap: str | int,
    ) -> None:
        self._ = _
        self._latest = latest
        self._refuse = refuse
        self._refused: set[str] = set()
        self.frame = ttk.Frame(parent)
        self.label = ttk.Label(self.frame, anchor="w", justify="left", wraplength=wrap)
        self.label.pack(side="left", fill="x", expand=True)
        self.button = ttk.Button(self.frame, text=_(REFUSE), command=self.refuse)
        self.frame.pack(fill="x", pady=(0, theme.pt(5)))

    def refresh(self) -> None:
        message = self._latest()
        if message is None:
            return
        notice = str(message.get("notice"))
        refused = notice in self._refused
        self.label.configure(text=notice_text(message, self._, refused))
        if message.get("refusable") and not refused:
            self.button.pack(side="right")
        else:
            self.button.pack_forget()

    def refuse(self) -> None:
        """ "Ablehnen": this agent may not control; asked of the relay at once."""
        message = self._latest()
        if message is None:
            return
        notice = str(message.get("notice"))
        self._refused.add(notice)
        self._refuse(notice)
        self.refresh()
