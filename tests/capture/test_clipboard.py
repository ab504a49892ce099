"""The customer's X clipboard on a real Xvfb display, checked with xclip, a real X client."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator

import pytest

from supportdesk.capture.clipboard import MemoryClipboard, X11Clipboard
from tests.desktop import Desktop, require_tool, wait_until

pytestmark = pytest.mark.desktop
GREETING = "Grüße aus Köln – 100 €"


@pytest.fixture
def clipboard(desktop: Desktop) -> Iterator[X11Clipboard]:
    board = X11Clipboard(desktop.display)
    yield board
    board.close()


def paste(desktop: Desktop, target: str = "UTF8_STRING") -> bytes:
    """What a customer's program gets when it pastes (xclip -o), b"" if nothing is there."""
    xclip = require_tool("xclip")
    done = subprocess.run(
        [xclip, "-o", "-selection", "clipboard", "-t", target],
        env=desktop.env, capture_output=True, timeout=10, check=False,
    )  # fmt: skip
    return done.stdout if done.returncode == 0 else b""


def copy(desktop: Desktop, data: bytes, target: str = "UTF8_STRING") -> subprocess.Popen[bytes]:
    """The customer copies ``data`` in a program that keeps owning the clipboard (xclip -i)."""
    xclip = require_tool("xclip")
    owner = subprocess.Popen(
        [xclip, "-i", "-quiet", "-selection", "clipboard", "-t", target],
        env=desktop.env, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert owner.stdin is not None
    owner.stdin.write(data)
    owner.stdin.close()
    desktop.children.append(owner)  # type: ignore[arg-type]
    return owner


class Heard:
    """Collects what a clipboard reports, from its thread."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self._lock:
            self.texts.append(text)

    def wait_for(self, count: int) -> list[str]:
        wait_until(lambda: len(self.texts) >= count, 10, f"{count} clipboard change(s)")
        return list(self.texts)


def test_agent_text_can_be_pasted_on_the_customer_desktop(
    desktop: Desktop, clipboard: X11Clipboard
) -> None:
    clipboard.set_text(f"{GREETING}\nZeile 2")
    pasted = wait_until(lambda: paste(desktop), 10, "the pasted text")
    assert pasted.decode() == f"{GREETING}\nZeile 2"
    targets = paste(desktop, "TARGETS").decode().split()
    assert {"TARGETS", "UTF8_STRING", "STRING"} <= set(targets)
    assert paste(desktop, "STRING") == f"{GREETING}\nZeile 2".encode("latin-1", "replace")


def test_large_text_is_written_in_pieces_and_arrives_whole(
    desktop: Desktop, clipboard: X11Clipboard
) -> None:
    text = "".join(f"Zeile {i}: äöü ß €\n" for i in range(9000))  # ≈ 200 KiB of UTF-8
    assert 150_000 < len(text.encode()) < clipboard.max_bytes
    clipboard.set_text(text)
    pasted = wait_until(lambda: paste(desktop), 10, "the pasted text")
    assert pasted.decode() == text


def test_text_over_the_limit_is_not_set(desktop: Desktop) -> None:
    board = X11Clipboard(desktop.display, max_bytes=100)
    try:
        board.set_text("x" * 101)
        board.set_text("passt")
        assert wait_until(lambda: paste(desktop), 10, "the pasted text") == b"passt"
    finally:
        board.close()


def test_customer_copy_is_reported(desktop: Desktop, clipboard: X11Clipboard) -> None:
    heard = Heard()
    clipboard.add_listener(heard)
    copy(desktop, GREETING.encode())
    assert heard.wait_for(1) == [GREETING]
    copy(desktop, b"noch einmal")
    assert heard.wait_for(2) == [GREETING, "noch einmal"]


def test_latin_1_only_owner_is_read_as_string(desktop: Desktop, clipboard: X11Clipboard) -> None:
    heard = Heard()
    clipboard.add_listener(heard)
    copy(desktop, "Grüße".encode("latin-1"), target="STRING")
    assert heard.wait_for(1) == ["Grüße"]


def test_own_text_is_not_reported_back(desktop: Desktop, clipboard: X11Clipboard) -> None:
    heard = Heard()
    clipboard.add_listener(heard)
    clipboard.set_text("vom Berater")
    wait_until(lambda: paste(desktop), 10, "the pasted text")
    copy(desktop, b"vom Kunden")
    assert heard.wait_for(1) == ["vom Kunden"]  # the agent's own text never came back


def test_copied_text_over_the_limit_is_not_reported(
    desktop: Desktop, caplog: pytest.LogCaptureFixture
) -> None:
    board = X11Clipboard(desktop.display, max_bytes=100)
    heard = Heard()
    board.add_listener(heard)
    try:
        copy(desktop, b"y" * 101)
        # The refusal is logged; only then the next copy, so that this test checks
        # the limit, not two owners changing within the same millisecond.
        wait_until(lambda: "101 bytes not passed on" in caplog.text, 10, "the refusal")
        copy(desktop, b"klein")
        assert heard.wait_for(1) == ["klein"]
    finally:
        board.close()


def test_removed_listener_hears_nothing(desktop: Desktop, clipboard: X11Clipboard) -> None:
    gone, stays = Heard(), Heard()
    clipboard.add_listener(gone)
    clipboard.add_listener(stays)
    clipboard.remove_listener(gone)
    copy(desktop, b"hallo")
    assert stays.wait_for(1) == ["hallo"]
    assert gone.texts == []


def test_closing_gives_the_clipboard_up(desktop: Desktop) -> None:
    board = X11Clipboard(desktop.display)
    board.set_text("weg")
    wait_until(lambda: paste(desktop), 10, "the pasted text")
    board.close()
    assert paste(desktop) == b""
    board.set_text("ignored after close")


def test_memory_clipboard_reports_copies() -> None:
    board, heard = MemoryClipboard(), Heard()
    board.add_listener(heard)
    board.set_text("vom Berater")
    board.copy("vom Kunden")
    assert (board.text, heard.texts) == ("vom Kunden", ["vom Kunden"])
