"""The customer's notice that another agent took over, joined or left the session, and
the "Ablehnen" that refuses a new agent's control (the relay's ``agent_notice``;
docs/applet.md): the words, in the customer's language. The window shows them in a
bar of its own (``tk/agent_notice.py``), text mode as a line with a command
(``agent_notice_text.py``); either answers with ``refuse_control`` naming the notice."""

from __future__ import annotations

from typing import Any

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
