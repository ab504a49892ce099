"""Shared fixtures for the RFB tests: frames and connected server/viewer pairs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from supportdesk.rfb import NATIVE_PIXEL_FORMAT, PixelFormat, RFBServerConnection

from . import viewer as v

NOVNC_FORMAT = PixelFormat(32, 24, False, True, 255, 255, 255, 0, 8, 16)


def desktop_frame(width: int = 200, height: int = 120, seed: int = 1) -> np.ndarray:
    """A desktop-like frame: flat background, a two-colour 'text' block, a photo area."""
    rng = np.random.default_rng(seed)
    frame = np.full((height, width, 3), (30, 60, 90), dtype=np.uint8)
    text = rng.random((height // 3, width // 2)) > 0.7
    frame[: height // 3, : width // 2][text] = (250, 250, 250)
    yy, xx = np.mgrid[0 : height // 2, 0 : width // 2]
    photo = np.stack(
        [
            128 + 100 * np.sin(xx / 7.0) * np.cos(yy / 5.0),
            128 + 90 * np.cos(xx / 11.0 + yy / 13.0),
            (xx * 3 + yy * 2) % 256,
        ],
        axis=-1,
    )
    frame[height // 2 :, width // 2 :] = photo.astype(np.uint8)[: height - height // 2]
    frame[height // 3 : height // 2, :10] = (
        rng.integers(0, 8, (height // 2 - height // 3, 10, 3)) * 30
    )
    stripes = np.array([(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 0), (0, 0, 0)])
    band = frame[height // 3 : height // 2, width // 2 :]
    band[:] = stripes[(np.arange(band.shape[1]) // 7) % len(stripes)][None, :, :]
    return frame


Pair = tuple[RFBServerConnection, v.Viewer]


@pytest.fixture
def connect() -> Callable[..., Pair]:
    def make(
        width: int = 200,
        height: int = 120,
        encodings: tuple[int, ...] = (),
        pixel_format: PixelFormat | None = None,
    ) -> Pair:
        conn = RFBServerConnection(width, height, "test")
        conn.receive_data(b"RFB 003.008\n\x01\x01")
        conn.data_to_send()
        conn.clipboard_allowed = True  # as while the customer allows control
        pf = pixel_format or NATIVE_PIXEL_FORMAT
        if pixel_format is not None:
            conn.receive_data(v.set_pixel_format(pixel_format))
        if encodings:
            conn.receive_data(v.set_encodings(*encodings))
        conn.events_received()
        viewer = v.Viewer(width, height, pf)
        viewer.feed(conn.data_to_send())
        return conn, viewer

    return make
