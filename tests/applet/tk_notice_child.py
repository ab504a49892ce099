"""Child process for the notice bar's test: the active window on $DISPLAY with the bar
that names another agent, driven by JSON lines on stdin, reporting JSON on stdout.

``python -m tests.applet.tk_notice_child de|en`` prints the window id once the window
is shown, then takes commands, one JSON object a line, handled in Tk's thread:

- ``{"notice": {...}}``: the relay's latest ``agent_notice`` (what the link keeps);
- ``{"state": {...}}``: the relay's latest ``state`` (who is responsible, who helps);
- ``{"report": true}``: print the bar's words, whether "Ablehnen" shows and where
  (``refuse_at``), every ``refuse_control`` request the window sent (``sent``), the
  agent's line (``agent``) and the helpers' row (``helpers``, None while hidden);
- ``{"quit": true}``: close the window.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from typing import Any

from supportdesk.applet.tk.active_window import ActiveWindow
from supportdesk.domain.consent import Language
from tests.applet.tk_child import REQUEST, centre, say
from tests.applet.tk_texts_child import Session


def main(language: Language) -> None:
    sent: list[dict[str, Any]] = []
    latest: list[dict[str, Any] | None] = [None]
    state: list[dict[str, Any]] = [{}]
    window = ActiveWindow(
        Session(),
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
        language=language,
        agent_notice=lambda: latest[0],
        # What join.py's window does: one control message to the relay.
        refuse_control=lambda notice: sent.append({"type": "refuse_control", "notice": notice}),
        team=lambda: state[0],
    )
    bar = window.agent_notice
    assert bar is not None
    root = window.root
    commands: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(json.loads(line))
        commands.put({"quit": True})

    def report() -> None:
        window._refresh()
        root.update_idletasks()
        shown = bool(bar.button.winfo_ismapped())
        helpers = window.helpers_label
        say(
            agent=window.agent_label.cget("text"),
            helpers=helpers.cget("text") if helpers.winfo_ismapped() else None,
            helpers_label=window.helpers_row.cget("text") if helpers.winfo_ismapped() else None,
            text=bar.label.cget("text"),
            button=bar.button.cget("text"),
            refuse_shown=shown,
            refuse_at=centre(bar.button) if shown else None,
            sent=sent,
        )

    def handle() -> None:
        while True:
            try:
                command = commands.get_nowait()
            except queue.Empty:
                break
            if "notice" in command:
                latest[0] = command["notice"]
            elif "state" in command:
                state[0] = command["state"]
            elif "report" in command:
                report()
            elif "quit" in command:
                root.destroy()
                return
        root.after(20, handle)

    def shown() -> None:
        root.update_idletasks()
        if not root.winfo_viewable():
            root.after(50, shown)
            return
        say(window=int(root.wm_frame(), 16))
        threading.Thread(target=read_commands, daemon=True).start()
        handle()

    root.after(100, shown)
    window.run()


if __name__ == "__main__":
    main(Language(sys.argv[1]))
