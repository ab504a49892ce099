"""Before anything is shared: can this machine's screen be shared truthfully, and if
not, say so plainly and point to the browser.

:mod:`supportdesk.capture.backends` decides (Wayland, no display); on macOS the Screen
Recording and Accessibility permissions are checked here
(:mod:`supportdesk.capture.macos_permissions`). The words are pure functions of the
reason and the customer's language; :func:`backend_for_this_machine` is the thin
shell ``run_join`` calls: it shows the words (a window, or the terminal in text mode)
and refuses with :class:`~supportdesk.applet.link.client.LinkError`, or hands back the
platform's device factories.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from supportdesk.applet.link.client import LinkError
from supportdesk.applet.texts import N_, Gettext, gettext_for
from supportdesk.capture import backends
from supportdesk.capture.backends import Backend, Choice, Platform, Unsupported
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

__all__ = [
    "CTRL_ALT_DEL",
    "backend_for_this_machine",
    "browser_address",
    "permission_texts",
    "refusal_text",
]

BROWSER_PATH = "/fernwartung/start"

WAYLAND = N_(
    "This computer uses Wayland. The program cannot show your screen reliably there – "
    "your agent would see a black or outdated picture – so your screen is not shared. "
    "Please share it through your browser instead: {address}"
)
NO_DISPLAY = N_(
    "No screen was found to share: the program was not started on a desktop. Please "
    "start it on your desktop, or share your screen through your browser: {address}"
)
SCREEN_RECORDING = N_(
    "macOS does not yet allow this program to record the screen, so your screen is not "
    "shared. To allow it: open System Settings → Privacy & Security → Screen Recording "
    "(up to macOS 12: System Preferences → Security & Privacy → Privacy), switch on "
    "“{app}”, then quit this program and start it again."
)
ACCESSIBILITY = N_(
    "macOS does not yet allow this program to use the mouse and keyboard: your agent can "
    "see your screen but not operate it. To allow it: open System Settings → Privacy & "
    "Security → Accessibility (up to macOS 12: System Preferences → Security & Privacy → "
    "Privacy), switch on “{app}”, then quit this program and start it again."
)
CTRL_ALT_DEL = N_("A program cannot press Ctrl+Alt+Del – please press the keys yourself.")
"""What to say when the agent's Ctrl+Alt+Del reaches Windows (``Win32InputSink.refused``)."""
NOT_SHARED_TITLE = N_("Screen not shared")
NOTE_TITLE = N_("Note")


def browser_address(server: str) -> str:
    """The page where the customer shares the screen from the browser."""
    return server.rstrip("/") + BROWSER_PATH


def refusal_text(reason: Unsupported, server: str, _: Gettext) -> str:
    """Why this machine's screen is not shared, and the browser way."""
    words = NO_DISPLAY if reason is Unsupported.NO_DISPLAY else WAYLAND
    return _(words).format(address=browser_address(server))


def permission_texts(
    screen_recording: bool, accessibility: bool, app: str, _: Gettext
) -> tuple[str | None, str | None]:
    """(the reason not to share at all, a note to share anyway) for macOS permissions:
    without Screen Recording nothing is shared; without Accessibility the agent only
    watches."""
    blocking = None if screen_recording else _(SCREEN_RECORDING).format(app=app)
    note = None if accessibility else _(ACCESSIBILITY).format(app=app)
    return blocking, note


def backend_for_this_machine(
    server: str,
    language: Language = DEFAULT_LANGUAGE,
    *,
    text_mode: bool,
    stdout: TextIO,
    check: bool = True,
    choice: Choice | None = None,
) -> Backend:
    """This machine's device factories, after the checks (``check=False``: a harness
    brings its own screen). Refused: the words are shown (a window unless
    ``text_mode``) and raised as :class:`LinkError`, whose text the program prints."""
    choice = choice or backends.this_machine()
    _ = gettext_for(language)
    if check and choice.unsupported is not None:
        _refuse(refusal_text(choice.unsupported, server, _), language, text_mode)
    if check and choice.platform is Platform.MACOS:
        from supportdesk.capture.macos_permissions import check_permissions, responsible_app

        granted = check_permissions(ask=True)  # lists the program where one is missing
        app = responsible_app(sys.executable, os.environ)
        blocking, note = permission_texts(granted.screen_recording, granted.accessibility, app, _)
        if blocking is not None:
            _refuse(blocking, language, text_mode)
        if note is not None:
            _tell(note, language, text_mode, stdout)
    return backends.backend_for(choice.platform or Platform.X11)


def refuse_unsupported(
    server: str,
    language: Language = DEFAULT_LANGUAGE,
    *,
    text_mode: bool,
    choice: Choice | None = None,
) -> None:
    """Before name and key are asked: a machine that cannot share its screen (Wayland,
    no display) is told so now, so that no support key is spent on it."""
    choice = choice or backends.this_machine()
    if choice.unsupported is not None:
        _refuse(
            refusal_text(choice.unsupported, server, gettext_for(language)), language, text_mode
        )


class RefusalShown(LinkError):
    """A refusal the customer has been shown in a window already."""


def _refuse(text: str, language: Language, text_mode: bool) -> None:
    if text_mode:
        raise LinkError(text)
    from supportdesk.applet.tk.platform_notice import show_notice

    show_notice(gettext_for(language)(NOT_SHARED_TITLE), text, language)
    raise RefusalShown(text)


def _tell(text: str, language: Language, text_mode: bool, stdout: TextIO) -> None:
    if text_mode:
        print(text, file=stdout, flush=True)
    else:
        from supportdesk.applet.tk.platform_notice import show_notice

        show_notice(gettext_for(language)(NOTE_TITLE), text, language)
