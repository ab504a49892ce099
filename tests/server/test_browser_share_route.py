"""POST /fernwartung/browser through the real app and database: the join token is checked
without being spent, the consent text of the browser family is on the page, and every
bad token gets the portal's plain "no session" answer."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from supportdesk.domain.consent import BROWSER_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.server.state import desk_of_app
from tests.conftest import FixedClock
from tests.server.console_client import add_agent, log_in, token_in
from tests.server.test_support_sessions import customer, issue_key, join

NO_SESSION = "Dieser Schlüssel passt nicht oder ist abgelaufen"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


@pytest.fixture
async def agent_client(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    await add_agent(desk, "anna", name="Anna Berger")
    await log_in(client, desk, "anna")
    return client


async def ready_page(app: FastAPI, agent_client: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """An issued session redeemed by a customer: the issue's facts and the join_ready HTML."""
    issued = await issue_key(agent_client)
    async with await customer(app) as browser:
        ready = await join(browser, issued["key"])
    assert ready.status_code == 200
    return issued, ready.text


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, name
    return match.group(1)


async def test_join_ready_offers_the_browser_first_then_the_program(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    _issued, page = await ready_page(app, agent_client)
    browser_way = page.index("Bildschirm im Browser freigeben (nichts installieren)")
    program_way = page.index("Mit Fernsteuerung: Support-Programm verwenden")
    assert browser_way < program_way
    form = re.search(r'<form method="post" action="/fernwartung/browser">(.*?)</form>', page, re.S)
    assert form, "the browser way is a POST form"
    assert 'name="join_token"' in form.group(1) and 'name="csrf_token"' in form.group(1)
    assert "?token=" not in page and "/fernwartung/browser?" not in page
    assert re.search(r"data-join-command>supportdesk join --server \S+ --token=\S+<", page)
    assert "<details>" in page  # the program's instructions stay on the page, folded


async def test_a_good_token_opens_the_page_without_spending_the_token(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued, ready = await ready_page(app, agent_client)
    token = hidden(ready, "join_token")
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        page = await browser.post(
            "/fernwartung/browser", data={"join_token": token, "csrf_token": csrf}
        )
    assert page.status_code == 200, page.text
    text = page.text
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.DE).render("Anna Berger")
    assert f'data-consent-version="{BROWSER_CONSENT_VERSION}"' in text
    assert f'data-consent-sha256="{shown.sha256}"' in text
    assert hashlib.sha256(shown.text.encode()).hexdigest() == shown.sha256
    for paragraph in shown.text.split("\n\n"):
        assert paragraph in html.unescape(text)
    assert issued["number"] in text and issued["code"] in text and "Anna Berger" in text
    for words in (
        "Ja, Bildschirm freigeben",
        "Stimmt dieser Code mit dem überein, den Ihr Berater nennt?",
        "Die Sitzung wird aufgezeichnet.",
        "Nicht möglich: Ihre Maus oder Tastatur steuern",
        "Fernwartung aktiv – wird aufgezeichnet",
        "Hier zeigt Ihr Berater",
    ):
        assert words in text, words
    # The number rides along so a load balancer routes the link to its session's node.
    assert f'data-link-path="/ws/browser?session={issued["number"]}"' in text
    # Still good: the page's own link (or the program) spends it.
    session = await desk.remote.take_join_token(token, desk.clock())
    assert session is not None and str(session.consultation_number) == issued["number"]


async def test_the_page_has_no_inline_script_or_style(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    _issued, ready = await ready_page(app, agent_client)
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        page = await browser.post(
            "/fernwartung/browser",
            data={"join_token": hidden(ready, "join_token"), "csrf_token": csrf},
        )
    assert page.status_code == 200
    scripts = SCRIPT.findall(page.text)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "<style" not in page.text and " style=" not in page.text
    assert not re.search(r"\son[a-z]+=", page.text), "no inline event handlers"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"


async def test_english_page_carries_the_english_consent_text(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    _issued, ready = await ready_page(app, agent_client)
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        browser.cookies.set("sd_lang", "en")
        page = await browser.post(
            "/fernwartung/browser",
            data={"join_token": hidden(ready, "join_token"), "csrf_token": csrf},
        )
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.EN).render("Anna Berger")
    assert '<html lang="en">' in page.text
    assert f'data-consent-sha256="{shown.sha256}"' in page.text
    assert "Yes, share my screen" in page.text and "Your agent is pointing here" in page.text


async def test_a_spent_token_gets_the_wrong_key_answer(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    _issued, ready = await ready_page(app, agent_client)
    token = hidden(ready, "join_token")
    assert await desk.remote.take_join_token(token, desk.clock()) is not None
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        page = await browser.post(
            "/fernwartung/browser", data={"join_token": token, "csrf_token": csrf}
        )
    assert page.status_code == 404 and NO_SESSION in page.text


async def test_an_expired_token_gets_the_wrong_key_answer(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    _issued, ready = await ready_page(app, agent_client)
    clock.now += timedelta(minutes=desk.settings.security.join_token_minutes, seconds=1)
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        page = await browser.post(
            "/fernwartung/browser",
            data={"join_token": hidden(ready, "join_token"), "csrf_token": csrf},
        )
    assert page.status_code == 404 and NO_SESSION in page.text


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 5000])
async def test_a_missing_or_unknown_token_gets_the_wrong_key_answer(
    client: httpx.AsyncClient, token: str
) -> None:
    form = await client.get("/fernwartung/start")
    page = await client.post(
        "/fernwartung/browser", data={"join_token": token, "csrf_token": token_in(form)}
    )
    assert page.status_code == 404 and NO_SESSION in page.text


async def test_a_bad_csrf_token_is_refused_and_the_join_token_stays_good(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    _issued, ready = await ready_page(app, agent_client)
    token = hidden(ready, "join_token")
    async with await customer(app) as browser:
        browser.cookies.set("sd_csrf", hidden(ready, "csrf_token"))
        page = await browser.post(
            "/fernwartung/browser", data={"join_token": token, "csrf_token": "forged"}
        )
        assert page.status_code == 400
        missing = await browser.post("/fernwartung/browser", data={"join_token": token})
        assert missing.status_code == 400
    assert await desk.remote.take_join_token(token, desk.clock()) is not None


async def test_a_get_goes_back_to_the_start(client: httpx.AsyncClient) -> None:
    page = await client.get("/fernwartung/browser")
    assert page.status_code == 303 and page.headers["location"] == "/fernwartung/start"
