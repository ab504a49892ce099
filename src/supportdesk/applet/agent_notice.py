"""The customer's notice that another agent took over, joined or left the session, and
the "Ablehnen" button that refuses a new agent's control (the relay's
``agent_notice``; docs/applet.md). Words in the customer's language; the Tk bar is
a small frame of its own in the active window."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from tkinter import ttk
from typing import Any

from supportdesk.applet import tk_theme
from supportdesk.applet.texts import N_, Gettext

TOOK_OVER = N_("{name} has taken over your support session.")
JOINED = N_("{name} has joined your support session.")
JOINED_CONTROL = N_("{name} has joined your support session and may control your computer.")
LEFT = N_("{name} has left your support session.")
REFUSE = N_("Refuse")
REFUSED = N_("{name} may not control your computer.")


def notice_text(message: dict[str, Any], _: Gettext, refused: bool = False) -> str:
    """The notice's sentence for the customer."""
    name = str(message.get("agent_name") or "")
    if refused:
        return _(REFUSED).format(name=name)
    change = message.get("change")
    if change == "took_over":
        return _(TOOK_OVER).format(name=name)
    if change == "left":
        return _(LEFT).format(name=name)
    joined = JOINED_CONTROL if message.get("refusable") else JOINED
    return _(joined).format(name=name)


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
        self.frame.pack(fill="x", pady=(0, tk_theme.pt(5)))

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
