"""The one look of the program's windows: native ttk theme, named fonts, styles, high DPI.

Every window of the program starts with :func:`new_root` instead of ``tk.Tk``. It makes
the process DPI-aware on Windows before the first Tk window exists (otherwise Windows
stretches a blurry bitmap of it), sets Tk's scaling from the screen's real DPI, picks
the operating system's own theme ("vista" on Windows, "aqua" on macOS, "clam" on X11)
and defines the few styles the windows share (:data:`ERROR`, :data:`PRIMARY`, …). The
windows give sizes in points (:func:`pt`), never in pixels, so wrap widths and
paddings grow with the fonts on a high-DPI screen.

The decisions are pure functions (:func:`theme_for`, :func:`scaling_for`,
:func:`scaled_size`, :func:`make_dpi_aware` with the Win32 entry points handed in)
and are tested without a display; :func:`apply_look` is the thin part that tells Tk.
"""

from __future__ import annotations

import ctypes
import sys
import tkinter as tk
from collections.abc import Collection
from tkinter import ttk
from typing import Any

__all__ = [
    "BANNER",
    "BOLD",
    "CODE",
    "DANGER",
    "ERROR",
    "ERROR_COLOUR",
    "PRIMARY",
    "WARNING",
    "apply_look",
    "fitting_lines",
    "lines_that_fit",
    "make_dpi_aware",
    "new_root",
    "pt",
    "scaled_size",
    "scaling_for",
    "take_keyboard_when_shown",
    "text_box",
    "theme_for",
    "wrap_to_width",
]

ERROR_COLOUR = "#a00000"
"""The program's red: errors, the PIN/TAN warning, the active window's banner."""

# Style names the windows use (ttk derives them from the plain widget styles).
ERROR = "Error.TLabel"  # a message that says what went wrong, in red
WARNING = "Warning.TLabel"  # red and bold: the fixed PIN/TAN warning
BOLD = "Bold.TLabel"  # a value the customer compares with what the agent says
CODE = "Code.TLabel"  # the verification code, large and in a fixed-width font
BANNER = "Banner.TLabel"  # white on red: "Fernwartung aktiv — wird aufgezeichnet"
PRIMARY = "Primary.TButton"  # the one button a window is for ("Weiter >>")
DANGER = "Danger.TButton"  # "Sitzung beenden"

# Named fonts, derived from Tk's own so they follow the system's family and size.
BOLD_FONT = "SupportdeskBold"
CODE_FONT = "SupportdeskCode"
BANNER_FONT = "SupportdeskBanner"

# Between 72 dpi (macOS reports points, Retina is the system's business) and 288 dpi
# (a 4K laptop at 300 %); a screen reporting less or more is wrong, not exotic.
MIN_SCALING, MAX_SCALING = 1.0, 4.0

# Tk's own themes, drawn by Tk rather than by the system (see apply_look).
DRAWN_BY_TK = frozenset({"clam", "alt", "default", "classic"})

# SetProcessDpiAwareness's PROCESS_PER_MONITOR_DPI_AWARE: the same as mss asks for
# when it captures the screen, so the window and the capture agree on pixels.
PER_MONITOR_AWARE = 2


def pt(points: float) -> str:
    """A Tk screen distance in points (1/72 inch): scales with :func:`scaling_for`."""
    return f"{points:g}p"


def theme_for(platform: str, available: Collection[str]) -> str:
    """The ttk theme that looks native on ``platform`` (``sys.platform``), among the
    themes this Tk has; "default" (always there) when none of the wanted ones is."""
    wanted: tuple[str, ...]
    if platform == "win32":
        wanted = ("vista", "winnative")  # vista: the Windows 7–11 look, winnative: older
    elif platform == "darwin":
        wanted = ("aqua",)
    else:
        # X11 has no native look; clam is the cleanest of Tk's own (flat, readable).
        wanted = ("clam",)
    return next((theme for theme in wanted if theme in available), "default")


def scaling_for(pixels_per_inch: float) -> float:
    """Tk's ``tk scaling`` (pixels per point) for a screen of ``pixels_per_inch``."""
    return min(max(pixels_per_inch / 72.0, MIN_SCALING), MAX_SCALING)


def scaled_size(size: int, factor: float) -> int:
    """A Tk font size times ``factor``: positive sizes are points, negative ones pixels
    (Tk's convention), and the sign stays."""
    magnitude = max(1, round(abs(size) * factor))
    return -magnitude if size < 0 else magnitude


def fitting_lines(wanted: int, screen_height: int, line_height: int, share: float) -> int:
    """How many of ``wanted`` lines of ``line_height`` pixels fit into ``share`` of a
    screen ``screen_height`` pixels high (at least 5: a text box must still show some)."""
    return max(5, min(wanted, int(screen_height * share) // max(line_height, 1)))


def lines_that_fit(root: tk.Misc, wanted: int, font: str, share: float = 0.55) -> int:
    """:func:`fitting_lines` for ``root``'s screen and the named ``font``."""
    line = int(root.tk.call("font", "metrics", font, "-linespace"))
    return fitting_lines(wanted, root.winfo_screenheight(), line, share)


def make_dpi_aware(platform: str = sys.platform, windll: Any = None) -> str | None:
    """On Windows, tell the system this process draws for the screen's real DPI.

    Must run before the first Tk window (Windows decides per process, once). Tries
    ``shcore.SetProcessDpiAwareness`` (Windows 8.1+), then ``user32.SetProcessDPIAware``
    (Vista+). Returns which one was called, or None (not Windows, or neither there).
    ``windll`` is ``ctypes.windll`` unless handed in; elsewhere this does nothing.
    """
    if platform != "win32":
        return None
    dll = windll if windll is not None else getattr(ctypes, "windll", None)
    if dll is None:
        return None
    try:
        # A non-zero HRESULT (E_ACCESSDENIED) means the awareness was set already,
        # by the manifest or by mss: nothing more to do.
        dll.shcore.SetProcessDpiAwareness(PER_MONITOR_AWARE)
        return "SetProcessDpiAwareness"
    except (AttributeError, OSError):
        pass
    try:
        dll.user32.SetProcessDPIAware()
        return "SetProcessDPIAware"
    except (AttributeError, OSError):
        return None


def new_root(screen: str | None = None) -> tk.Tk:
    """A new top-level window of the program, with the program's look applied."""
    make_dpi_aware()
    root = tk.Tk(screenName=screen, className="supportdesk")
    apply_look(root)
    return root


def apply_look(root: tk.Tk) -> ttk.Style:
    """Scale ``root``'s Tk to the screen, pick the native theme, define the styles.

    Every ``tk.Tk`` is an interpreter of its own (the program opens several, in
    different threads), so this runs once per window, before any widget is made.
    """
    root.tk.call("tk", "scaling", scaling_for(root.winfo_fpixels("1i")))
    style = ttk.Style(root)
    style.theme_use(theme_for(sys.platform, style.theme_names()))
    _define_fonts(root)
    style.configure(ERROR, foreground=ERROR_COLOUR)
    style.configure(WARNING, foreground=ERROR_COLOUR, font=BOLD_FONT)
    style.configure(BOLD, font=BOLD_FONT)
    style.configure(CODE, font=CODE_FONT)
    style.configure(
        BANNER,
        foreground="white",
        background=ERROR_COLOUR,
        font=BANNER_FONT,
        padding=(pt(6), pt(4)),
    )
    if style.theme_use() in DRAWN_BY_TK:
        # These themes draw check boxes and scroll bars in pixels of their own, which
        # are tiny on a high-DPI screen; native themes ask the system, which knows.
        # (Whole pixels: clam reads the arrow size as an integer, not a distance.)
        box, gap, arrow, inset = (root.winfo_pixels(pt(n)) for n in (8, 4, 10.5, 3.75))
        style.configure("TCheckbutton", indicatorsize=box, indicatormargin=(0, 0, gap, 0))
        style.configure("TScrollbar", arrowsize=arrow)
        style.configure("TButton", padding=inset)  # clam's 5 pixels at 96 dpi
        style.configure("TEntry", padding=root.winfo_pixels(pt(2)))
    style.configure(PRIMARY, font=BOLD_FONT)
    style.configure(DANGER, foreground=ERROR_COLOUR)
    # The toplevel itself is a classic widget: give it the theme's background, so no
    # strip of another grey shows around the frames.
    background = style.lookup("TFrame", "background")
    if background:
        root.configure(background=background)
    return style


def _define_fonts(root: tk.Tk) -> None:
    existing = set(root.tk.splitlist(root.tk.call("font", "names")))
    base = _font_options(root, "TkDefaultFont")
    fixed = _font_options(root, "TkFixedFont")
    wanted = {
        BOLD_FONT: {**base, "-weight": "bold"},
        BANNER_FONT: {**base, "-weight": "bold", "-size": scaled_size(int(base["-size"]), 1.1)},
        CODE_FONT: {**fixed, "-weight": "bold", "-size": scaled_size(int(base["-size"]), 1.6)},
    }
    for name, options in wanted.items():
        flat = [item for pair in options.items() for item in pair]
        root.tk.call("font", "configure" if name in existing else "create", name, *flat)


def _font_options(root: tk.Tk, name: str) -> dict[str, Any]:
    items = root.tk.splitlist(root.tk.call("font", "configure", name))
    return dict(zip(items[::2], items[1::2], strict=True))


def wrap_to_width(label: ttk.Label) -> None:
    """Let ``label`` wrap at the width its geometry manager gives it (stretch it with
    ``sticky="we"``), instead of at a fixed wrap length narrower than its neighbours."""

    def follow(event: tk.Event[ttk.Label]) -> None:
        if event.width > 1 and str(event.width) != str(label.cget("wraplength")):
            label.configure(wraplength=event.width)

    label.bind("<Configure>", follow, add=True)


def take_keyboard_when_shown(root: tk.Tk, widget: tk.Misc) -> None:
    """Give ``widget`` the keyboard once ``root`` is on the screen.

    A window manager usually does this for a new window; without one (and where a
    manager leaves focus with the pointer), Tk would not take the keyboard until
    clicked. For windows that ask the customer something now, not for notices.
    """

    def shown(event: tk.Event[tk.Misc]) -> None:
        if event.widget is root:  # the children's <Map> passes through here too
            root.unbind("<Map>", binding)
            widget.focus_force()

    binding = root.bind("<Map>", shown, add=True)


def text_box(parent: tk.Misc, **options: Any) -> tuple[ttk.Frame, tk.Text]:
    """A read-only-able text box with a themed scroll bar: ``(frame, text)``.

    ttk has no text widget, so this is the one classic widget the windows keep; it
    gets the theme's field colours and a thin border so it sits in with the rest.
    """
    style = ttk.Style(parent)
    frame = ttk.Frame(parent)
    border = style.lookup("TEntry", "bordercolor") or "#a0a0a0"
    text = tk.Text(
        frame,
        relief="flat",
        borderwidth=0,
        highlightthickness=1,
        highlightbackground=border,
        highlightcolor=border,
        background=style.lookup("TEntry", "fieldbackground") or "white",
        padx=pt(4),
        pady=pt(3),
        **options,
    )
    bar = ttk.Scrollbar(frame, orient="vertical", command=text.yview)
    text.configure(yscrollcommand=bar.set)
    bar.pack(side="right", fill="y")
    text.pack(side="left", fill="both", expand=True)
    return frame, text
