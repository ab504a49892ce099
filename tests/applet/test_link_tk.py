"""The Tk side of a lost link, read back from a child process on Xvfb in German and
English: the active window's notice while reconnecting, and the window that says the
session ended because the link did not come back."""

from __future__ import annotations

import pytest

from tests.applet.test_tk_windows import shown_in
from tests.desktop import Desktop

pytestmark = pytest.mark.desktop


@pytest.mark.parametrize(
    ("language", "reconnecting", "lost", "close"),
    [
        (
            "de",
            "Verbindung unterbrochen – wird wiederhergestellt …",
            "Verbindung verloren – die Sitzung wurde beendet",
            "Schließen",
        ),
        (
            "en",
            "Connection interrupted – reconnecting …",
            "Connection lost – the session has ended",
            "Close",
        ),
    ],
)
def test_the_windows_tell_of_a_lost_link(
    desktop: Desktop, language: str, reconnecting: str, lost: str, close: str
) -> None:
    link = shown_in(desktop, language)["link"]
    assert link["reconnecting_notice"] == reconnecting
    assert link["lost"] == {"title": lost, "labels": [lost], "button": close}
