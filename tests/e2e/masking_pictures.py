"""Reading pictures for the masking end-to-end tests: is an area the mask, or the screen?

A mask is diagonal grey stripes anchored to its own top-left corner (capture/mask.py)
with dark label ink; whether an area is masked is told by its pixels matching the
stripes at one of their 16 phases (a box inside one mask has one). Pictures here are
RGB arrays of the whole screen: the agent's canvas as noVNC drew it, a frame of the
recording decoded by the player's decoder, or a direct X screenshot.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image
from playwright.async_api import Page

from supportdesk.recording import PlayerFeed, RecordingReader
from supportdesk.recording.rfb_decoder import ServerMessageKind, ServerStreamDecoder

Picture = npt.NDArray[np.uint8]

_LIGHT, _DARK, _INK, _STRIPE = 0xD4, 0xBC, 0x30, 8  # capture/mask.py's greys and stripe
TOLERANCE = 24
"""Per channel: Tight may send a striped area as JPEG, which blurs the stripes' edges."""
MASKED = 0.97
"""Share of an area's pixels that must be the mask's for the area to count as masked."""


@dataclass(frozen=True)
class Box:
    """An area of the screen: x, y, width, height."""

    x: int
    y: int
    width: int
    height: int

    def of(self, picture: Picture) -> Picture:
        return picture[self.y : self.y + self.height, self.x : self.x + self.width, :3]

    def inset(self, by: int) -> Box:
        return Box(self.x + by, self.y + by, self.width - 2 * by, self.height - 2 * by)


def masked_share(picture: Picture, box: Box) -> float:
    """The share of ``box``'s pixels in ``picture`` that are the mask's stripes or ink,
    at the stripes' phase that fits best."""
    area = box.of(picture).astype(np.int16)
    ys = np.arange(box.y, box.y + box.height)[:, None]
    xs = np.arange(box.x, box.x + box.width)[None, :]
    on_ink = (np.abs(area - _INK) <= TOLERANCE).all(axis=2)
    best = 0.0
    for phase in range(2 * _STRIPE):
        stripe = np.where(((xs + ys + phase) // _STRIPE) % 2 == 0, _LIGHT, _DARK)[:, :, None]
        on_stripe = (np.abs(area - stripe) <= TOLERANCE).all(axis=2)
        best = max(best, float((on_stripe | on_ink).mean()))
    return best


def typed_marks(picture: Picture, box: Box) -> int:
    """Pixels of dark marks at least 5 pixels wide inside ``box`` (its border left out):
    a password field's dots, or text; not the caret, which is a thin line."""
    area = box.inset(3).of(picture)
    dark = (area < 110).all(axis=2)
    wide = dark[:, 2:-2] & dark[:, :-4] & dark[:, 4:]
    return int(wide.sum())


def is_masked(picture: Picture, box: Box) -> bool:
    return masked_share(picture, box) >= MASKED


def difference(a: Picture, b: Picture, box: Box) -> float:
    """Mean absolute difference per channel of ``box`` in two pictures."""
    return float(np.abs(box.of(a).astype(np.int16) - box.of(b).astype(np.int16)).mean())


def screen_rgb(bgrx: Picture) -> Picture:
    """A direct X screenshot (BGRX) as RGB."""
    return np.ascontiguousarray(bgrx[:, :, 2::-1])


async def canvas_picture(page: Page) -> Picture:
    """The agent's canvas at its full size (noVNC's backing store: the customer's pixels)."""
    url = await page.evaluate(
        "() => [...document.querySelectorAll('[data-screen] canvas')].pop().toDataURL()"
    )
    data = base64.b64decode(url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)


def recorded_frames(reader: RecordingReader, channel: int) -> Iterator[tuple[int, Picture]]:
    """Every picture of a recorded channel, one per framebuffer update, with its time
    (µs from the recording's start), decoded from the channel's beginning."""
    feed = PlayerFeed(reader, channel, 0)
    decoder = ServerStreamDecoder()  # the feed starts with the handshake
    for message in feed.messages():
        for decoded in decoder.feed(message.data):
            if decoded.kind is ServerMessageKind.FRAMEBUFFER_UPDATE:
                assert decoder.framebuffer is not None
                yield message.at_us, decoder.framebuffer.copy()  # it is drawn on in place
