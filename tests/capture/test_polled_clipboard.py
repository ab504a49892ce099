"""The polling loop the Windows and macOS clipboards share, over a clipboard kept in
this process (the platform calls themselves run only on their platforms)."""

from __future__ import annotations

import threading

import pytest

from supportdesk.capture.polled_clipboard import PolledClipboard

try:
    from tests.desktop import wait_until
except ModuleNotFoundError:
    from desktop import wait_until  # type: ignore[no-redef,import-not-found]


class SystemClipboard:
    """What a platform's clipboard holds: text and a change counter."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.text: str | None = None
        self.count = 0
        self.reads = 0

    def copy(self, text: str) -> None:  # another program copies
        with self.lock:
            self.text, self.count = text, self.count + 1


class InProcessClipboard(PolledClipboard):
    def __init__(self, system: SystemClipboard, fail: bool = False, **options: object) -> None:
        self.system, self.fail = system, fail
        self.closed_platform = False
        super().__init__(poll_seconds=0.01, **options)  # type: ignore[arg-type]

    def _open(self) -> None:
        if self.fail:
            raise OSError("no window station")

    def _close(self) -> None:
        self.closed_platform = True

    def _change_count(self) -> int:
        return self.system.count

    def _read(self) -> str | None:
        self.system.reads += 1
        text = self.system.text
        return text if text is not None and self._fits(text) else None

    def _write(self, text: str) -> bool:
        self.system.copy(text)
        return True


class Heard(list[str]):
    def __call__(self, text: str) -> None:
        self.append(text)


def test_a_copy_reaches_the_listener_and_our_own_text_does_not() -> None:
    system, heard = SystemClipboard(), Heard()
    board = InProcessClipboard(system)
    board.add_listener(heard)
    board.set_text("vom Berater: Grüße – 100 €")
    wait_until(lambda: system.text is not None, what="the agent's text on the clipboard")
    system.copy("vom Kunden")
    wait_until(lambda: heard, what="the customer's copy")
    board.close()
    assert heard == ["vom Kunden"]
    assert board.closed_platform


def test_nothing_is_read_while_nobody_listens_nor_later() -> None:
    system, heard = SystemClipboard(), Heard()
    board = InProcessClipboard(system)
    system.copy("geheim")
    marker = system.count
    # Let the loop see the change while nobody listens, then listen.
    board.set_text("x")
    wait_until(lambda: system.count > marker, what="our own write")
    board.add_listener(heard)
    system.copy("danach")
    wait_until(lambda: heard, what="the later copy")
    board.close()
    assert heard == ["danach"]
    assert system.reads == 1  # "geheim" was never read


def test_text_over_the_limit_is_neither_set_nor_passed_on() -> None:
    system, heard = SystemClipboard(), Heard()
    board = InProcessClipboard(system, max_bytes=8)
    board.add_listener(heard)
    board.set_text("ü" * 5)  # 10 bytes of UTF-8
    board.set_text("ok")
    wait_until(lambda: system.text == "ok", what="the small text")
    system.copy("zu lang für acht")
    wait_until(lambda: system.reads == 1, what="the large copy read and refused")
    system.copy("klein")
    wait_until(lambda: "klein" in heard, what="the small copy")
    board.close()
    assert heard == ["klein"]


def test_a_clipboard_that_cannot_open_raises_at_once() -> None:
    with pytest.raises(RuntimeError, match="no window station"):
        InProcessClipboard(SystemClipboard(), fail=True)
