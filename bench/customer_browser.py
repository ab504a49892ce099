"""The customer's Chromium for the browser-share benches, launched one way for all of them.

Headful on the bench's X display (the screen capturer needs one), with
``--auto-select-desktop-capture-source`` standing in for the customer's click in the
picker, and its window almost wholly off the screen (60x40 pixels show in the
bottom-right corner), so its own live thumbnail is not moving content only this path
would have to encode.
"""

from __future__ import annotations

import os

from playwright.async_api import Browser, Playwright
from tests.live_server import CHROMIUM, CHROMIUM_ARGS

__all__ = ["CUSTOMER_WINDOW", "launch_customer"]

CUSTOMER_WINDOW = ("--window-position=1860,1040", "--window-size=640,480")


async def launch_customer(playwright: Playwright, display: str, *extra_args: str) -> Browser:
    """A headful Chromium on ``display`` that shares the entire screen when asked."""
    env: dict[str, str | float | bool] = {**os.environ, "DISPLAY": display, "LC_ALL": "C.UTF-8"}
    env.pop("XAUTHORITY", None)
    return await playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=False,
        args=[
            *(a for a in CHROMIUM_ARGS if a != "--headless"),
            "--auto-select-desktop-capture-source=Entire screen",
            *CUSTOMER_WINDOW,
            *extra_args,
        ],
        env=env,
    )
