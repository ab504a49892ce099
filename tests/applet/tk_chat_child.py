"""Child process for the chat tests: the active window with its chat panel on $DISPLAY,
driven by JSON lines on stdin, reporting JSON lines on stdout.

``python -m tests.applet.tk_chat_child de|en`` prints the window id and the centres of
the chat's widgets once the window is shown, then takes commands, one JSON object a
line, handled in Tk's thread in order:

- ``{"heard": {...}}``: a message the link heard (a ``chat`` from the relay);
- ``{"state": {...}}``: the relay's ``state`` message (who watches, who controls);
- ``{"paste": "..."}``: put text into the chat's entry, as pasting does;
- ``{"take_keyboard": true}``: the window takes the keyboard, as a window manager gives it;
- ``{"report": true}``: print what the window shows, and where its widgets are
  now (``toggle_at``, ``entry_at``, ``send_at``);
- ``{"quit": true}``: close the window.

What the panel sent through the link is in every report (``sent``). Tk runs in a child
so it never outlives the test's X server.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from typing import Any

from supportdesk.applet import texts
from supportdesk.applet.chat_lines import LinkChat
from supportdesk.applet.tk.active_window import ActiveWindow
from supportdesk.domain.consent import Language
from tests.applet.tk_child import REQUEST, centre, say
from tests.applet.tk_texts_child import Session


def main(language: Language) -> None:
    sent: list[dict[str, Any]] = []
    chat = LinkChat(sent.append)
    state: dict[str, Any] = {}
    _ = texts.gettext_for(language)
    window = ActiveWindow(
        Session(),
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
        watchers=lambda: texts.watchers(state, _),
        language=language,
        chat=chat,
    )
    panel = window.chat
    assert panel is not None
    root = window.root
    commands: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(json.loads(line))
        commands.put({"quit": True})

    def layout() -> dict[str, Any]:
        return {
            "window": int(root.wm_frame(), 16),
            "toggle_at": centre(panel.toggle),
            "entry_at": centre(panel.entry),
            "send_at": centre(panel.send_button),
        }

    def report() -> None:
        panel.poll()  # what was heard is on the screen before it is reported
        window._refresh()
        root.update_idletasks()
        say(
            title=root.title(),
            toggle=panel.toggle.cget("text"),
            send_button=panel.send_button.cget("text"),
            shown=panel.shown(),
            message=panel.message.cget("text"),
            entry=panel.entry.get(),
            sent=sent,
            unread=panel.unread,
            open=panel.is_open,
            watching=window.watching.cget("text"),
            size=[root.winfo_width(), root.winfo_height()],
            position=[root.winfo_rootx(), root.winfo_rooty()],
            screen=[root.winfo_screenwidth(), root.winfo_screenheight()],
            **layout(),
        )

    def handle() -> None:
        while True:
            try:
                command = commands.get_nowait()
            except queue.Empty:
                break
            if "heard" in command:
                chat.put(command["heard"])
            elif "state" in command:
                state.clear()
                state.update(command["state"])
            elif "paste" in command:
                panel.entry.delete(0, "end")
                panel.entry.insert(0, command["paste"])
            elif "take_keyboard" in command:
                panel.entry.focus_force()
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
        say(**layout())
        threading.Thread(target=read_commands, daemon=True).start()
        handle()

    root.after(100, shown)
    window.run()


if __name__ == "__main__":
    main(Language(sys.argv[1]))
