"""The browser-share page's "Sichtschutz" through the recording: blank for the agent and
in every recorded frame of its span, with the chat going on both ways.

The desk of tests/e2e/test_browser_share.py: a headful Chromium on Xvfb shares the whole
screen (getDisplayMedia, WebCodecs), the agent watches in another Chromium through the
real relay, the server records. The recorded video chunks are decoded one by one with
FFmpeg (PyAV, as the MP4 export does) and each picture is told apart: the neutral picture
of static/share/privacy.js (light greys), or the screen (its blue desktop, the xterm).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import av
import numpy as np
import numpy.typing as npt
import pytest
from av.video.codeccontext import VideoCodecContext
from playwright.async_api import Browser, Page, expect

from supportdesk.recording import RecordingReader
from supportdesk.recording.video_export import _DECODERS
from supportdesk.recording.video_feed import VideoFeed
from supportdesk.recording.video_format import VideoConfig, parse_video_chunk
from tests.desktop import Desktop
from tests.e2e.masking_desk import since, verified_recording
from tests.e2e.test_browser_share import (  # noqa: F401 - the fixtures
    ARTIFACTS,
    agent,
    agent_browser,
    canvas_pixels,
    customer_at_consent,
    customer_browser,
    desktop,
    issue,
    open_live,
    screen_pixels,
    server,
    type_into_terminal,
)
from tests.e2e.test_masking import PRIVACY_NOTICE
from tests.e2e.test_recorded_session import audit_entries
from tests.live_server import LiveServer

pytestmark = [pytest.mark.desktop, pytest.mark.browser]

BLANK = 0.9
"""Share of a picture's pixels that must be the neutral picture's greys (the label's
ink and the codec's blur at the stripes' edges make up the rest)."""


def blank_share(picture: npt.NDArray[np.int16]) -> float:
    """The share of pixels that are a light neutral grey, as the stripes (#d4d4d4 and
    #bcbcbc, blurred by the codec) are; the screen's blue desktop and white xterm are not."""
    rgb = picture[:, :, :3].astype(np.int16)
    spread = rgb.max(axis=2) - rgb.min(axis=2)
    mean = rgb.mean(axis=2)
    return float(((spread <= 16) & (mean >= 0xA8) & (mean <= 0xE0)).mean())


def recorded_pictures(reader: RecordingReader) -> Iterator[tuple[int, npt.NDArray[np.int16]]]:
    """Every picture of the recorded video channel with its recorded time (µs), decoded
    from the channel's first key chunk."""
    (channel,) = [c for c in reader.index.channel_starts if reader.index.is_video(c)]
    decoder: VideoCodecContext | None = None
    for message in VideoFeed(reader, channel, 0).messages():
        if isinstance(message.data, str):
            text = json.loads(message.data)
            if text["type"] == "config":
                config = VideoConfig(text["codec"], text["width"], text["height"])
                created = av.CodecContext.create(_DECODERS[config.family], "r")
                assert isinstance(created, VideoCodecContext)
                decoder = created
            continue
        assert decoder is not None, "a chunk before the first config"
        packet = av.Packet(parse_video_chunk(message.data).data)
        for frame in decoder.decode(packet):
            rgb = frame.to_ndarray(format="rgb24")
            yield message.at_us, rgb.astype(np.int16)


async def until_canvas(
    page: Page, wanted: str, check: Callable[[npt.NDArray[np.int16]], bool], within: float = 15
) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check(await canvas_pixels(page)):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the agent's canvas never showed {wanted}")


async def test_the_share_pages_privacy_screen_blanks_the_agent_and_the_recording(
    desktop: Desktop,  # noqa: F811
    server: LiveServer,  # noqa: F811
    customer_browser: Browser,  # noqa: F811
    agent: Page,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert blank_share(screen_pixels(desktop)) < 0.5, "the screen is told from the blank"
    key, number, _code = await issue(agent, server)
    customer = await customer_at_consent(customer_browser, server, key)
    await open_live(agent, server, number)
    await customer.get_by_role("button", name="Ja, Bildschirm freigeben").click()
    await expect(agent.locator("canvas[data-video-screen]")).to_be_visible(timeout=20_000)
    await until_canvas(agent, "the screen", lambda p: blank_share(p) < 0.5)

    active = customer.locator('[data-part="active"]')
    button = active.get_by_role("button", name="Sichtschutz")
    await button.click()
    on_at = datetime.now(UTC)
    await expect(button).to_have_attribute("aria-pressed", "true")
    await until_canvas(agent, "the blank picture", lambda p: blank_share(p) >= BLANK)
    blanked_at = datetime.now(UTC)
    await expect(agent.locator("[data-notice]")).to_have_text(PRIVACY_NOTICE)
    # The screen changes underneath (the customer types a secret into the terminal) ...
    type_into_terminal(desktop, "TAN 418 227\n" * 3)
    # ... and the chat crosses both ways.
    await agent.get_by_label("Nachricht an den Kunden").fill("Ich warte, bis Sie fertig sind.")
    await agent.get_by_role("button", name="Senden").click()
    await expect(customer.locator("[data-chat]")).to_contain_text("Ich warte, bis Sie fertig")
    await customer.get_by_label("Nachricht an Ihren Berater").fill("Gleich fertig.")
    await customer.get_by_role("button", name="Senden").click()
    await expect(agent.locator("[data-chat]")).to_contain_text("Gleich fertig.")
    await asyncio.sleep(1.0)  # more frames of the changed screen reach the encoder
    assert blank_share(await canvas_pixels(agent)) >= BLANK, "still blank after the chat"

    off_at = datetime.now(UTC)
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "false")
    await until_canvas(agent, "the screen again", lambda p: blank_share(p) < 0.5)
    await expect(agent.locator("[data-notice]")).to_be_hidden()
    await asyncio.sleep(0.5)
    await customer.close()
    await expect(agent.locator("[data-live]")).to_have_attribute(
        "data-state", "ended", timeout=5000
    )
    await customer.context.close()

    await asyncio.sleep(1)  # the final hash is written as the session closes
    entries = await asyncio.to_thread(audit_entries, server, number)
    changes = [
        (e["event_type"], e["data"]["kinds"]) for e in entries if "masking_st" in e["event_type"]
    ]
    assert changes == [
        ("session.masking_started", ["privacy"]),
        ("session.masking_stopped", ["privacy"]),
    ], changes
    path, master_key = verified_recording(server, entries)
    with RecordingReader(path, master_key) as reader:
        start = reader.started_at
        pictures = list(recorded_pictures(reader))
    assert len(pictures) > 10
    blank = [at for at, p in pictures if blank_share(p) >= BLANK]
    assert blank, "the recording has the blank picture"
    assert since(start, on_at) <= blank[0] <= since(start, blanked_at)
    span = [(at, p) for at, p in pictures if blank[0] <= at <= since(start, off_at)]
    assert len(span) > 5, "the span of the Sichtschutz is recorded"
    for at_us, picture in span:
        if blank_share(picture) < BLANK:
            from PIL import Image

            Image.fromarray(picture.astype(np.uint8)).save(ARTIFACTS / f"share-privacy-{at_us}.png")
            raise AssertionError(f"the screen shows at {at_us} µs while the Sichtschutz is on")
    assert blank_share(pictures[0][1]) < 0.5 and blank_share(pictures[-1][1]) < 0.5
    print(
        f"{len(span)} recorded pictures blank over "
        f"{(since(start, off_at) - blank[0]) / 1e6:.1f} s; first "
        f"{(blank[0] - since(start, on_at)) / 1000:.0f} ms after the press"
    )
