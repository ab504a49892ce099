"""A session works without an input backend: the program's channels open the
platform's input sink only when the agent's input arrives, never for viewing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from supportdesk.applet.link import channels as link_channels
from supportdesk.applet.link.channels import RFBChannels
from supportdesk.capture.backends import Choice, Platform
from supportdesk.capture.lazy_input import LazyInputSink
from supportdesk.capture.screen_source import MemoryScreenSource


async def test_viewing_opens_no_input_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # Say it is Windows: the hello tells the agent's console (Ctrl+Alt+Del is not ours there).
    monkeypatch.setattr(link_channels, "this_machine", lambda: Choice(Platform.WINDOWS))
    opened: list[str] = []
    sent: list[bytes] = []
    told: list[dict[str, Any]] = []

    def no_backend() -> None:
        opened.append("input")
        raise RuntimeError("no X display")  # what XTest says on Windows or macOS

    async def send(data: bytes) -> None:
        sent.append(data)

    async def control(message: dict[str, Any]) -> None:
        told.append(message)

    channels = RFBChannels(
        screen_source=lambda: MemoryScreenSource(((0, 0, 64, 48),)),
        input_sink=no_backend,
        clipboard=lambda: None,
        send=send,
        control=control,
    )
    # The owner's channel, control granted: the sink would be needed only for input.
    await channels.add(1, view_only=False, control=True, paused=False)
    await channels.add(2, view_only=True, control=False, paused=False)
    for _ in range(50):
        if sent:
            break
        await asyncio.sleep(0.02)
    assert told[0]["type"] == "hello" and told[0]["screens"][0]["width"] == 64
    assert told[0]["platform"] == "windows"
    assert sent  # the RFB greeting went out on the channels
    assert opened == []  # nothing opened for viewing
    sink = channels._sink
    assert isinstance(sink, LazyInputSink) and not sink.opened
    channels.stop_all()
    await channels.drop_all()
    channels.close_devices()
    assert opened == []
