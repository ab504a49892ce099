"""The "Sichtschutz" on the browser-share page: the button (and Ctrl+Alt+S) replaces the
picture before encoding, the relay and the agent are told, the video and the chat go on,
and pressing again shows the screen again."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.browser.share_parties import agent_send
from tests.browser.test_browser_share_page import (  # noqa: F401 - the fixtures
    desktop,
    headful,
    server,
    start_sharing,
    state_where,
    wait_for,
)
from tests.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.desktop]


async def test_the_privacy_screen_blanks_the_shared_picture(
    server: LiveServer,  # noqa: F811
    headful: Browser,  # noqa: F811
) -> None:
    agent, page, _ = await start_sharing(headful, server, "de")
    active = page.locator('[data-part="active"]')
    button = active.get_by_role("button", name="Sichtschutz")
    await button.click()
    await expect(button).to_have_attribute("aria-pressed", "true")
    await state_where(agent, lambda s: s.get("masking") == ["privacy"], "the mask at the relay")
    before = (await agent.evaluate("() => window.agent.video"))["chunks"]

    async def still_flowing() -> Any:
        return (await agent.evaluate("() => window.agent.video"))["chunks"] > before + 3

    await wait_for(still_flowing, "video chunks while the Sichtschutz is on")
    await agent_send(agent, {"type": "chat", "text": "Ich warte, bis Sie fertig sind."})
    await expect(active.locator("[data-chat]")).to_contain_text("Ich warte, bis Sie fertig sind.")
    await page.keyboard.press("Control+Alt+S")  # the key combination switches it off
    await expect(button).to_have_attribute("aria-pressed", "false")
    await state_where(agent, lambda s: s.get("masking") == [], "the mask gone at the relay")
    await page.context.close()
    await agent.context.close()
