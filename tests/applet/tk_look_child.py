"""Child process for the look tests: every applet window built on $DISPLAY, its make-up
read back.

``python -m tests.applet.tk_look_child`` builds the first window, the consent window,
the active window (with file buttons), the connection-lost window, the platform notice
and the file dialogs one after the other and prints one JSON object: per window the
widget classes in it, whether anything is shown smaller than it asks to be, and the
theme; the DPI Tk saw and the scaling it uses; a few sizes in pixels that must grow
with the DPI; and the first window's keyboard order and message line. Tk runs in a child so it never
outlives the test's X server.
"""

from __future__ import annotations

import json
import tkinter as tk
from tkinter import ttk
from typing import Any

from supportdesk.applet.files import FileQuestion
from supportdesk.applet.join import NO_SESSION
from supportdesk.applet.texts import gettext_for
from supportdesk.applet.tk.active_window import ActiveWindow
from supportdesk.applet.tk.consent import ConsentWindow
from supportdesk.applet.tk.files import offer_dialog, report_dialog, send_dialog
from supportdesk.applet.tk.join import JoinWindow
from supportdesk.applet.tk.link_lost import ConnectionLostWindow
from supportdesk.applet.tk.platform_notice import NoticeWindow
from supportdesk.domain.consent import Language
from tests.applet.tk_texts_child import REQUEST, Files, Session, a_report


def widgets(widget: tk.Misc) -> list[tk.Misc]:
    """Every widget under ``widget``, in creation order."""
    found: list[tk.Misc] = []
    for child in widget.winfo_children():
        found.append(child)
        found += widgets(child)
    return found


def cut_off(root: tk.Misc) -> list[str]:
    """Widgets shown smaller than they ask to be (a cut-off text, a squeezed button).
    A widget not shown at all (a row hidden while empty, such as the active window's
    helpers) cannot be cut off."""
    return [
        f"{w.winfo_class()} {w.winfo_width()}x{w.winfo_height()} "
        f"< {w.winfo_reqwidth()}x{w.winfo_reqheight()}"
        for w in widgets(root)
        if w.winfo_ismapped()
        and (w.winfo_width() < w.winfo_reqwidth() or w.winfo_height() < w.winfo_reqheight())
    ]


def make_up(root: tk.Tk) -> dict[str, Any]:
    root.update()
    return {
        "classes": sorted({w.winfo_class() for w in widgets(root)}),
        "cut_off": cut_off(root),
        "theme": ttk.Style(root).theme_use(),
        "size": [root.winfo_width(), root.winfo_height()],
    }


def join() -> dict[str, Any]:
    _ = gettext_for(Language.DE)
    window = JoinWindow(lambda name, key: {}, language=Language.DE)
    root = window.root
    shown = make_up(root)
    intro = next(w for w in widgets(root) if w.winfo_class() == "TLabel")
    shown.update(
        dpi=root.winfo_fpixels("1i"),
        scaling=float(root.tk.call("tk", "scaling")),
        wrap_pixels=root.winfo_pixels(intro.cget("wraplength")),
        linespace=int(root.tk.call("font", "metrics", "TkDefaultFont", "-linespace")),
        focus_at_start=str(root.focus_lastfor()),
        tab_order=[
            str(w) for w in (window.name, window.name.tk_focusNext(), window.key.tk_focusNext())
        ],
        fields={"name": str(window.name), "key": str(window.key), "button": str(window.button)},
        button_y=[window.button.winfo_rooty()],
    )
    # A refusal (two lines in German): said in red, and the button stays where it was.
    window._refused(_(NO_SESSION))
    root.update()
    shown["button_y"].append(window.button.winfo_rooty())
    shown["message_lines"] = window.message.winfo_height() // shown["linespace"]
    shown["error_colour"] = str(
        ttk.Style(root).lookup(str(window.message.cget("style")), "foreground")
    )
    shown["button_disabled_after_refusal"] = window.button.instate(["disabled"])
    root.destroy()
    return shown


def consent() -> dict[str, Any]:
    window = ConsentWindow(REQUEST)
    shown = make_up(window.root)
    shown["view_box"] = [
        str(s) for s in window.checkbuttons[next(iter(window.checkbuttons))].state()
    ]
    window.switch_language()
    shown["switched"] = make_up(window.root)
    window.root.destroy()
    return shown


TEAM = {
    "capabilities": ["view", "control"],
    "agents": [
        {"name": "Bernd Becker", "owner": True, "control": True},
        {"name": "Anna-Katharina Schmidt-Lüdenscheid", "owner": False, "control": False},
        {"name": "Carla Schulz", "owner": False, "control": True},
    ],
}


def active() -> dict[str, Any]:
    window = ActiveWindow(
        Session(),
        consultation_number=REQUEST.consultation_number,
        verification_code=REQUEST.verification_code,
        agent_name=REQUEST.agent_name,
        files=Files(),
        team=lambda: TEAM,  # the helpers' row shown, so it is checked too
    )
    shown = make_up(window.root)
    assert window.helpers_label.winfo_ismapped()
    shown["topmost"] = bool(window.root.attributes("-topmost"))
    window.root.destroy()
    return shown


def lost() -> dict[str, Any]:
    window = ConnectionLostWindow(Language.EN)
    shown = make_up(window.root)
    window.root.destroy()
    return shown


def notice() -> dict[str, Any]:
    """The notice that says why the screen is not shared (tk/platform_notice.py)."""
    from supportdesk.applet.platform_notice import refusal_text
    from supportdesk.capture.backends import Unsupported

    _ = gettext_for(Language.DE)
    text = refusal_text(Unsupported.WAYLAND, "https://support.volksbank-musterstadt.de", _)
    window = NoticeWindow("Bildschirm nicht geteilt", text, Language.DE)
    shown = make_up(window.root)
    window.root.destroy()
    return shown


def dialogs() -> dict[str, Any]:
    taken = FileQuestion("t1", "brief.txt", 3 * 1024 * 1024, "ab" * 32, name_taken=True)
    shown = {}
    for name, dialog in (
        ("offer", offer_dialog(taken)),
        ("report", report_dialog(a_report())),
        ("send", send_dialog("Kontoauszug.csv", 1234)),
    ):
        shown[name] = make_up(dialog.root)
        bars = [w for w in widgets(dialog.root) if w.winfo_class() == "TScrollbar"]
        shown[name]["scrollbar_width"] = bars[0].winfo_width() if bars else None
        dialog.root.destroy()
    return shown


if __name__ == "__main__":
    result = {
        "join": join(),
        "consent": consent(),
        "active": active(),
        "lost": lost(),
        "notice": notice(),
        "dialogs": dialogs(),
    }
    print(json.dumps(result, ensure_ascii=False), flush=True)
