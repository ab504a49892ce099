"""The conformance suite's target: a Tk window in a child process that shows a known
picture, has a text field, reports pointer, wheel and key events, and reads and sets
its clipboard on request. Platform-neutral: Tk does the same on X11, Windows and macOS.

Protocol: JSON lines. Out: ``{"ready": {...}}`` once mapped (root coordinates of the
picture, the entry's centre and the pad), then events (``{"button": 1, "down": true,
"at": [x, y]}``, ``{"wheel": "up"}``, ``{"key": "Shift_L", "down": false}``,
``{"motion": [x, y]}``) and replies. In: ``{"cmd": "entry"}``, ``{"cmd": "clipboard"}``,
``{"cmd": "copy", "text": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import threading
import tkinter as tk
from typing import Any

BLOCK = 64
# The known picture: two rows of three blocks, colours as (red, green, blue).
COLOURS = [
    [(255, 0, 0), (0, 255, 0), (0, 0, 255)],
    [(255, 255, 0), (0, 255, 255), (128, 64, 32)],
]


def say(**data: object) -> None:
    print(json.dumps(data), flush=True)


def main() -> None:
    if sys.platform == "win32":  # physical pixels, as the capture sees them
        import ctypes

        with contextlib.suppress(AttributeError, OSError):
            ctypes.windll.shcore.SetProcessDpiAwareness(2)
    root = tk.Tk()
    root.title("supportdesk-conformance")
    root.geometry("+40+40")
    root.attributes("-topmost", True)
    aqua = root.tk.call("tk", "windowingsystem") == "aqua"
    picture = tk.Canvas(
        root, width=3 * BLOCK, height=2 * BLOCK, highlightthickness=0, borderwidth=0
    )
    for row, colours in enumerate(COLOURS):
        for column, (r, g, b) in enumerate(colours):
            x, y = column * BLOCK, row * BLOCK
            picture.create_rectangle(
                x, y, x + BLOCK, y + BLOCK, fill=f"#{r:02x}{g:02x}{b:02x}", width=0
            )
    picture.pack(padx=8, pady=8)
    entry = tk.Entry(root, width=30, font=("TkFixedFont", 12))
    entry.pack(padx=8, pady=4)
    pad = tk.Frame(root, width=240, height=140, background="#dddddd")
    pad.pack(padx=8, pady=8)

    def button(event: Any, down: bool) -> None:
        number = int(event.num)
        if aqua and number in (2, 3):  # Tk on macOS calls the right button 2
            number = 5 - number
        if number in (4, 5, 6, 7):  # X11's wheel buttons
            # Tk 8.6.13 turns X buttons 6/7 (sideways) into Shift-Button-4/5 itself.
            if number in (4, 5) and int(event.state) & 1:
                number += 2
            if down:
                say(wheel={4: "up", 5: "down", 6: "h-", 7: "h+"}[number])
            return
        say(button=number, down=down, at=[event.x_root, event.y_root])

    def wheel(event: Any) -> None:
        delta = int(event.delta)
        if int(event.state) & 1:  # Shift: Tk's horizontal wheel on Windows and macOS
            say(wheel="h+" if delta > 0 else "h-")
        else:
            say(wheel="up" if delta > 0 else "down")

    pad.bind("<ButtonPress>", lambda e: button(e, True))
    pad.bind("<ButtonRelease>", lambda e: button(e, False))
    pad.bind("<Motion>", lambda e: say(motion=[e.x_root, e.y_root]))
    pad.bind("<MouseWheel>", wheel)
    root.bind_all("<KeyPress>", lambda e: say(key=e.keysym, down=True))
    root.bind_all("<KeyRelease>", lambda e: say(key=e.keysym, down=False))

    commands: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(json.loads(line))
        commands.put(None)

    def serve() -> None:
        while not commands.empty():
            command = commands.get()
            if command is None:
                root.destroy()
                return
            if command["cmd"] == "entry":
                say(entry=entry.get())
            elif command["cmd"] == "clipboard":
                try:
                    say(clipboard=root.clipboard_get())
                except tk.TclError:
                    say(clipboard=None)
            elif command["cmd"] == "copy":
                root.clipboard_clear()
                root.clipboard_append(command["text"])
                root.update()
                say(copied=True)
        root.after(20, serve)

    def report() -> None:
        root.update_idletasks()
        if not root.winfo_viewable():
            root.after(50, report)
            return
        entry.focus_force()
        say(
            ready={
                "picture": [picture.winfo_rootx(), picture.winfo_rooty(), 3 * BLOCK, 2 * BLOCK],
                "entry": [
                    entry.winfo_rootx() + entry.winfo_width() // 2,
                    entry.winfo_rooty() + entry.winfo_height() // 2,
                ],
                "pad": [pad.winfo_rootx(), pad.winfo_rooty(), 240, 140],
            }
        )

    threading.Thread(target=read_commands, daemon=True).start()
    root.after(100, report)
    root.after(20, serve)
    root.mainloop()


if __name__ == "__main__":
    main()
