"""The active window's buttons in `supportdesk join` act on the link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from supportdesk.applet.join_window import LinkControls
from supportdesk.applet.link.client import SessionFacts


class RecordingLink:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.control_allowed = True
        self.facts = SessionFacts()

    def request(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def test_buttons_become_link_requests() -> None:
    link = RecordingLink()
    controls = LinkControls(link)  # type: ignore[arg-type]
    assert controls.control and not controls.paused and not controls.stopped
    controls.pause()
    assert controls.paused
    controls.resume()
    controls.set_control(False)
    controls.set_control(True)
    controls.stop()
    assert link.sent == [
        {"type": "pause"},
        {"type": "resume"},
        {"type": "revoke", "capability": "control"},
        {"type": "grant", "capability": "control"},
        {"type": "end"},
    ]
    link.facts.ended_at = datetime.now(UTC)
    assert controls.stopped
