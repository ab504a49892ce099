"""What the program says where it does not share the screen (Wayland, no display, a
missing macOS permission) and what a program cannot do on Windows, in both languages;
the check run_join makes before anything is shared."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from supportdesk.applet.link.client import LinkError
from supportdesk.applet.platform_notice import (
    CTRL_ALT_DEL,
    backend_for_this_machine,
    browser_address,
    permission_texts,
    refusal_text,
    refuse_unsupported,
)
from supportdesk.applet.texts import gettext_for
from supportdesk.capture.backends import Choice, Platform, Unsupported
from supportdesk.domain.consent import Language

try:
    from tests.desktop import Desktop, requires_xvfb
except ModuleNotFoundError:
    from desktop import Desktop, requires_xvfb  # type: ignore[no-redef,import-not-found]

SERVER = "https://support.volksbank-musterstadt.de/"
DE, EN = gettext_for(Language.DE), gettext_for(Language.EN)


def test_the_browser_way_is_the_servers_start_page() -> None:
    assert browser_address(SERVER) == "https://support.volksbank-musterstadt.de/fernwartung/start"


def test_wayland_is_said_plainly_with_the_browser_way() -> None:
    for reason in (Unsupported.WAYLAND, Unsupported.XWAYLAND):
        german = refusal_text(reason, SERVER, DE)
        assert german.startswith("Dieser Computer verwendet Wayland.")
        assert "schwarzes oder veraltetes Bild" in german
        assert german.endswith(
            "Browser: https://support.volksbank-musterstadt.de/fernwartung/start"
        )
        english = refusal_text(reason, SERVER, EN)
        assert english.startswith("This computer uses Wayland.")
        assert "Bildschirm" not in english
    assert "Arbeitsoberfläche" in refusal_text(Unsupported.NO_DISPLAY, SERVER, DE)


def test_macos_permissions_say_where_to_switch_them_on() -> None:
    blocking, note = permission_texts(False, False, "Fernwartung", DE)
    assert blocking is not None and note is not None
    assert "Systemeinstellungen → Datenschutz & Sicherheit → Bildschirmaufnahme" in blocking
    assert "„Fernwartung“ ein" in blocking and "starten Sie es neu" in blocking
    assert "Systemeinstellungen → Datenschutz & Sicherheit → Bedienungshilfen" in note
    assert "sehen, aber nicht bedienen" in note
    assert permission_texts(True, True, "Fernwartung", DE) == (None, None)
    blocking_en, note_en = permission_texts(False, True, "Terminal", EN)
    assert blocking_en is not None and "Privacy & Security → Screen Recording" in blocking_en
    assert "“Terminal”" in blocking_en and note_en is None


def test_ctrl_alt_del_is_sayable() -> None:
    assert DE(CTRL_ALT_DEL) == (
        "Strg+Alt+Entf kann ein Programm nicht auslösen – bitte drücken Sie die Tasten selbst."
    )


def test_a_wayland_machine_is_refused_before_anything_is_shared() -> None:
    out = io.StringIO()
    with pytest.raises(LinkError) as refused:
        backend_for_this_machine(
            SERVER,
            Language.DE,
            text_mode=True,
            stdout=out,
            choice=Choice(None, Unsupported.WAYLAND),
        )
    assert str(refused.value) == refusal_text(Unsupported.WAYLAND, SERVER, DE)


def test_a_wayland_machine_is_told_before_name_and_key_are_asked() -> None:
    with pytest.raises(LinkError) as refused:
        refuse_unsupported(
            SERVER, Language.EN, text_mode=True, choice=Choice(None, Unsupported.XWAYLAND)
        )
    assert str(refused.value) == refusal_text(Unsupported.XWAYLAND, SERVER, EN)
    refuse_unsupported(SERVER, Language.DE, text_mode=True, choice=Choice(Platform.X11))


def test_an_x11_machine_gets_its_backend_and_a_harness_needs_no_check() -> None:
    out = io.StringIO()
    x11 = backend_for_this_machine(SERVER, text_mode=True, stdout=out, choice=Choice(Platform.X11))
    assert x11.platform is Platform.X11
    harness = backend_for_this_machine(
        SERVER, text_mode=True, stdout=out, check=False, choice=Choice(None, Unsupported.WAYLAND)
    )
    assert harness.platform is Platform.X11
    assert out.getvalue() == ""


NOTICE_CHILD = """
import json
from supportdesk.applet.platform_notice import refusal_text
from supportdesk.applet.tk.platform_notice import NoticeWindow
from supportdesk.applet.texts import gettext_for
from supportdesk.capture.backends import Unsupported
from supportdesk.domain.consent import Language

text = refusal_text(Unsupported.XWAYLAND, %r, gettext_for(Language.DE))
window = NoticeWindow("Bildschirm nicht geteilt", text, Language.DE)
window.root.update()
print(json.dumps({"title": window.root.title(), "message": window.message.cget("text"),
                  "button": str(window.button.cget("text"))}))
window.close()
"""


@pytest.mark.desktop
@requires_xvfb
def test_the_notice_window_shows_the_words(desktop: Desktop) -> None:
    # In a child process: Tk in the test process would keep its connection to this
    # Xvfb after it stops, and the next test's Tk would die of it.
    shown = subprocess.run(
        [sys.executable, "-c", NOTICE_CHILD % SERVER],
        env=desktop.env, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    assert json.loads(shown.stdout) == {
        "title": "Bildschirm nicht geteilt",
        "message": refusal_text(Unsupported.XWAYLAND, SERVER, DE),
        "button": "Schließen",
    }
