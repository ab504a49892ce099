"""The exit survey on the customer's screen-sharing page, in headful Chromium on Xvfb
sharing the real screen: after the end the survey sits beside the receipt; answered, it
is stored with the consultation number; skipped with one click, nothing is sent or
stored; the downloaded receipt says nothing of it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Request, expect

from tests.browser import test_browser_share_page as sharing
from tests.browser.share_parties import ARTIFACTS, VIEWPORT, horizontal_overflow, server_with_agent
from tests.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.desktop]
# The sharing page's own fixtures: Xvfb and headful Chromium capturing it.
desktop = sharing.desktop
headful = sharing.headful
start_sharing, state_where = sharing.start_sharing, sharing.state_where


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with server_with_agent(tmp_path_factory.mktemp("share-survey")) as running:
        yield running


def stored(server: LiveServer, number: str) -> list[tuple[Any, ...]]:
    found = sorted(server.workdir.rglob("*.db"))
    with sqlite3.connect(found[0]) as db:
        return db.execute(
            "SELECT stars, solved, comment FROM survey_answers WHERE consultation_number = ?",
            (number,),
        ).fetchall()


async def end_by_customer(page: Page, agent: Page, language: str) -> Any:
    await page.get_by_role(
        "button", name="Sitzung beenden" if language == "de" else "End session"
    ).click()
    await state_where(agent, lambda s: s["state"] == "ended", "the end")
    return page.locator('[data-part="receipt"]')


@pytest.mark.parametrize("language", ["de", "en"])
async def test_the_survey_is_answered_once(
    server: LiveServer, headful: Browser, language: str
) -> None:
    agent, page, issued = await start_sharing(headful, server, language)
    receipt = await end_by_customer(page, agent, language)
    survey = receipt.locator("form[data-survey]")
    await expect(survey).to_be_visible()
    question = (
        "Wie zufrieden waren Sie mit der Fernwartung?"
        if language == "de"
        else ("How satisfied were you with the remote support?")
    )
    await expect(survey.get_by_role("group", name=question)).to_be_visible()
    solved = "Wurde Ihr Anliegen gelöst?" if language == "de" else "Was your matter resolved?"
    await expect(survey.get_by_role("group", name=solved)).to_be_visible()
    await survey.get_by_label("4 von 5 Sternen" if language == "de" else "4 of 5 stars").check()
    await survey.get_by_label("Teilweise" if language == "de" else "Partly").check()
    await survey.locator("textarea").fill("Gut erklärt <b>danke</b>")
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / f"share-survey-{language}.png"), full_page=True)
    await survey.get_by_role(
        "button", name="Antwort senden" if language == "de" else "Send answer"
    ).click()
    thanks = "Vielen Dank für Ihre Antwort." if language == "de" else "Thank you for your answer."
    await expect(receipt.locator("[data-survey-done]")).to_have_text(thanks)
    await expect(survey).to_be_hidden()
    assert stored(server, issued["number"]) == [(4, "partly", "Gut erklärt <b>danke</b>")]
    # The receipt the customer keeps says nothing of the survey.
    async with page.expect_download() as text_download:
        await receipt.locator('[data-download="txt"]').click()
    text = (await (await text_download.value).path()).read_text(encoding="utf-8")
    for word in ("zufrieden", "satisfied", "Umfrage", "survey", "Gut erklärt"):
        assert word not in text
    await page.context.close()
    await agent.context.close()


async def test_skipping_is_one_click_and_stores_nothing(
    server: LiveServer, headful: Browser
) -> None:
    agent, page, issued = await start_sharing(headful, server, "de")
    posts: list[str] = []

    def seen(request: Request) -> None:
        if "/api/v1/survey" in request.url:
            posts.append(request.url)

    page.on("request", seen)
    receipt = await end_by_customer(page, agent, "de")
    survey = receipt.locator("form[data-survey]")
    await expect(survey).to_be_visible()
    await survey.get_by_role("button", name="Überspringen").click()
    await expect(survey).to_be_hidden()
    await page.wait_for_timeout(500)
    assert posts == [] and stored(server, issued["number"]) == []
    await expect(receipt.get_by_role("heading", level=1)).to_have_text("Fernwartung beendet")
    await page.context.close()
    await agent.context.close()
