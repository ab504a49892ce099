"""The customer's path through the portal over HTTP: /fernwartung opens with the form,
field errors read per kind of field, the typed key survives a refusal, the service
request's receipt follows post/redirect/get, and the pages mark and describe what a
screen reader needs (aria-current, aria-describedby)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from supportdesk.bus import BusUnavailable
from supportdesk.domain.support_key import MAX_WRONG_TRIES
from supportdesk.i18n import translations
from supportdesk.server.messages import FIELD_ERRORS
from supportdesk.server.state import desk_of_app
from supportdesk.store.models import ServiceRequestRow
from tests.conftest import FixedClock
from tests.server.test_portal import csrf_of
from tests.server.test_support_sessions import agent_client, customer, issue_key, join

__all__ = ["agent_client"]  # the fixture, imported for the uniform-refusal test

REFUSAL = (
    "Dieser Schlüssel passt nicht oder ist abgelaufen – bitte lassen Sie sich einen neuen nennen."
)


FACTS_BEFORE_THE_REDESIGN = (
    "A consultation number is created for each session and filed on your PC as a receipt.",
    "A phone call with our service team at the same time.",
    "An internet connection.",
    'Answer "Yes" to start the session or "No" to decline.',
    "Before the session starts, please close every application and document our service "
    "team must not see.",
    'Click "Continue >>". The support key is checked.',
    "Enter your name and the support key you received on the phone.",
    "For technical questions about online banking, our service team can – during your call "
    "with the hotline and only with your permission – connect to your PC and see your screen.",
    "No session can start without your explicit consent, and you can end it at any time.",
    "Start the support program. It shows who invited you and what the service team may do: "
    "see your screen, control your mouse, transfer data and query diagnostic information. "
    "The session is recorded.",
    "The connection is encrypted with TLS for the whole session.",
    "The small support program, which you start for this one session. It installs nothing "
    "and leaves nothing behind but a receipt.",
    "The support key that our service team gives you on the phone.",
    "The whole session is recorded for control and audit purposes.",
    "We do not store personal data beyond what the audit of the session requires, and that "
    "only in pseudonymous form.",
    "We will never ask you for your PIN or a TAN – not on the phone and not during remote support.",
    "You are on the phone with our service team.",
    "You can pause or end the session at any time. At the end you keep a receipt with the "
    "consultation number.",
)

FACTS_NAMING_THE_BANK = (
    "%(bank)s keeps all knowledge of its customers' business secrets and data security "
    "measures obtained in the course of support confidential and never discloses it to third "
    "parties. The staff entrusted with remote support are bound to data protection and "
    "secrecy.",
    "Remote support serves to help you better with the home-banking and payment software "
    "provided by %(bank)s (for example VR-NetWorld Software, Profi cash).",
    "By starting remote support I confirm that I understand how it works and that I want to "
    "open a session with %(team)s. I have closed all programs and documents not meant for "
    "the service team.",
    "%(bank)s gives no warranty for the programs installed on your computer or for their "
    "protective devices (virus scanner, firewall); you remain responsible for the security of "
    "your data. Should problems appear while connecting to your computer, we will tell you and "
    "continue only at your express wish. %(bank)s accepts no liability for faults it did not "
    "cause, even if they occur close in time to the support session.",
)


class _Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.tags if "id" in attrs}

    def by_id(self, element_id: str) -> dict[str, str]:
        return next(attrs for _, attrs in self.tags if attrs.get("id") == element_id)


def _described_by_points_at_real_ids(text: str) -> None:
    elements = _Elements(text)
    for _, attrs in elements.tags:
        for target in attrs.get("aria-describedby", "").split():
            assert target in elements.ids(), f"aria-describedby names missing id {target}"


async def test_remote_support_opens_with_the_form_then_the_steps_then_folded_text(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    text = (await client.get("/fernwartung")).text
    form = text.index('<form method="post" action="/fernwartung/start"')
    steps = text.index('class="three-steps"')
    warning = text.index('class="warning pin-tan"')
    first_fold = text.index("<details")
    # The warning right under the form, the steps beside it, then the folded text.
    assert form < warning < steps < first_fold
    # The PIN/TAN warning stands alone in its box, not as an item of a list.
    assert re.search(r'<p class="warning pin-tan" role="note">.*niemals nach Ihrer PIN', text)
    # Security notes, declaration and liability are folded below, every fact kept.
    for heading in ("Sicherheit und Datenschutz", "Erklärung", "Gewährleistung und Haftung"):
        fold = re.search(rf"<details[^>]*>\s*<summary><h2>{heading}</h2></summary>", text)
        assert fold and fold.start() > form, heading
    # Every sentence of the page before the redesign is still on it (the one step that
    # named the old start button now names the form).
    german = translations("de").gettext
    for sentence in FACTS_BEFORE_THE_REDESIGN:
        assert german(sentence) in text, sentence
    portal = desk_of_app(app).settings.portal
    for sentence in FACTS_NAMING_THE_BANK:
        named = german(sentence) % {"bank": portal.bank_name, "team": portal.team_name}
        assert named in text, sentence
    assert "0941 4095-387" in text and 'href="/fernwartung/programm"' in text


async def test_key_hint_is_tied_to_its_field(client: httpx.AsyncClient) -> None:
    for path in ("/fernwartung", "/fernwartung/start"):
        text = (await client.get(path)).text
        field = _Elements(text).by_id("support_key")
        assert field["aria-describedby"].split() == ["support_key-hint"], path
        _described_by_points_at_real_ids(text)
    token = await csrf_of(client, "/fernwartung/start")
    answer = await client.post(
        "/fernwartung/start", data={"name": "Erika", "support_key": "12", "csrf_token": token}
    )
    field = _Elements(answer.text).by_id("support_key")
    assert field["aria-describedby"].split() == ["support_key-hint", "support_key-error"]
    assert field["aria-invalid"] == "true"
    _described_by_points_at_real_ids(answer.text)


async def test_a_refused_key_stays_in_its_field_escaped(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/fernwartung/start")
    refused = await client.post(
        "/fernwartung/start",
        data={"name": "Erika Müller", "support_key": "123 456 789 012", "csrf_token": token},
    )
    assert refused.status_code == 404
    assert _Elements(refused.text).by_id("support_key")["value"] == "123 456 789 012"
    assert REFUSAL in refused.text
    hostile = await client.post(
        "/fernwartung/start",
        data={"name": "Erika", "support_key": '12"><b>x', "csrf_token": token},
    )
    assert 'value="12&#34;&gt;&lt;b&gt;x"' in hostile.text and "<b>x" not in hostile.text


async def test_wrong_expired_and_unknown_keys_get_the_same_words(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    issued = await issue_key(agent_client)
    digits = issued["key"].replace(" ", "")
    wrong = digits[:-4] + f"{(int(digits[-4:]) + 1) % 10000:04d}"
    unknown = f"{(int(digits[:3]) + 1) % 1000:03d}" + "0" * 9
    answers = []
    async with await customer(app) as browser:
        for key in (wrong, unknown):
            clock.now += timedelta(minutes=1)  # past the client's back-off
            answers.append(await join(browser, key))
        clock.now += timedelta(minutes=20)  # the issued key has expired
        answers.append(await join(browser, digits))

    def refusal(answer: httpx.Response) -> str:
        match = re.search(r'<p class="error" id="support_key-error">([^<]+)</p>', answer.text)
        assert match
        return match.group(1)

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert {refusal(a) for a in answers} == {refusal(answers[0])}
    assert REFUSAL in refusal(answers[0])


def test_the_refusal_states_the_real_number_of_wrong_tries() -> None:
    # The sentence promises "after 5 wrong entries": it must be the domain's limit.
    assert f"after {MAX_WRONG_TRIES} wrong entries" in FIELD_ERRORS["no_session"]


async def test_each_kind_of_field_has_its_own_words_and_the_summary_reads_naturally(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_of(client, "/serviceauftrag")
    answer = await client.post(
        "/serviceauftrag",
        data={"topic": "", "description": "", "contact_value": "", "csrf_token": token},
    )
    text = answer.text
    assert answer.status_code == 422
    assert "Bitte füllen Sie dieses Feld aus." not in text
    assert 'id="topic-error">Bitte wählen Sie ein Thema aus.<' in text  # select
    assert 'id="contact_kind-error">Bitte wählen Sie eine Möglichkeit.<' in text  # radio
    assert 'id="description-error">Bitte beschreiben Sie Ihr Anliegen.<' in text  # text area
    assert 'id="contact_value-error">Bitte geben Sie Ihre Telefonnummer' in text  # text
    summary = re.search(r'<div class="error-summary".*?</div>', text, re.S)
    assert summary
    lines = re.findall(r'<a href="#[a-z_]+">([^<]+)</a>', summary.group(0))
    assert lines == [
        "Thema: Bitte wählen Sie ein Thema aus.",
        "Ihr Anliegen: Bitte beschreiben Sie Ihr Anliegen.",
        "Kontaktweg: Bitte wählen Sie eine Möglichkeit.",
        "Telefonnummer oder E-Mail-Adresse: Bitte geben Sie Ihre Telefonnummer oder "
        "E-Mail-Adresse ein.",
    ]
    assert "?:" not in text
    token = await csrf_of(client, "/fernwartung/start")
    join_answer = await client.post(
        "/fernwartung/start", data={"name": "", "support_key": "", "csrf_token": token}
    )
    assert 'id="name-error">Bitte geben Sie Ihren Namen ein.<' in join_answer.text
    assert 'id="support_key-error">Bitte geben Sie den Support-Schlüssel ein' in join_answer.text


async def test_navigation_marks_the_current_page(client: httpx.AsyncClient) -> None:
    sections = {
        "/": "/",
        "/fernwartung": "/fernwartung",
        "/fernwartung/start": "/fernwartung",
        "/serviceauftrag": "/serviceauftrag",
        "/serviceauftrag/status": "/serviceauftrag/status",
    }
    for path, entry in sections.items():
        text = (await client.get(path)).text
        nav = re.search(r"<nav .*?</nav>", text, re.S)
        assert nav
        current = [a for t, a in _Elements(nav.group(0)).tags if a.get("aria-current")]
        assert [(a["href"], a["aria-current"]) for a in current] == [(entry, "page")], path


async def _file_request(client: httpx.AsyncClient) -> httpx.Response:
    return await client.post(
        "/serviceauftrag",
        data={
            "topic": "online-banking",
            "description": "Die Anmeldung mit VR-NetKey schlägt fehl.",
            "contact_kind": "phone",
            "contact_value": "0941 123456",
            "csrf_token": await csrf_of(client, "/serviceauftrag"),
        },
    )


async def _count_requests(app: FastAPI) -> int:
    async with desk_of_app(app).sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(ServiceRequestRow)) or 0)


async def test_service_request_is_post_redirect_get_and_a_reload_files_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    before = await _count_requests(app)
    posted = await _file_request(client)
    assert posted.status_code == 303
    location = posted.headers["location"]
    assert location == "/serviceauftrag/eingegangen"
    first = await client.get(location)
    again = await client.get(location)
    assert await _count_requests(app) == before + 1
    shown = [
        (
            re.search(r"data-reference>([^<]+)<", page.text),
            re.search(r"data-secret>([^<]+)<", page.text),
        )
        for page in (first, again)
    ]
    assert all(ref and code for ref, code in shown)
    (ref1, code1), (ref2, code2) = shown
    assert ref1 and code1 and ref2 and code2
    assert (ref1.group(1), code1.group(1)) == (ref2.group(1), code2.group(1))
    assert code1.group(1) not in location and code1.group(1) not in posted.headers["set-cookie"]
    assert "Abfragecode" in first.text and "Kennwort" not in first.text
    # The receipt is cached nowhere: no-store on the page that shows the code.
    assert first.headers["cache-control"] == "no-store"


async def test_the_receipt_is_shown_for_a_few_minutes_only(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    posted = await _file_request(client)
    clock.now += timedelta(minutes=11)
    late = await client.get(posted.headers["location"])
    assert late.status_code == 200
    assert "data-secret" not in late.text and "data-receipt-gone" in late.text
    assert "bitte senden Sie den Auftrag nicht noch einmal" in late.text
    # Another browser (no cookie) never sees anyone's receipt.
    async with await customer(app) as stranger:
        assert "data-secret" not in (await stranger.get("/serviceauftrag/eingegangen")).text


async def test_receipt_codes_are_marked_not_to_wrap(client: httpx.AsyncClient) -> None:
    posted = await _file_request(client)
    page = await client.get(posted.headers["location"])
    assert re.search(r'<dd id="reference" class="code" data-reference>', page.text)
    assert re.search(r'<dd id="access-code" class="code" data-secret>', page.text)
    css = (await client.get("/static/portal.css")).text
    assert re.search(r"dl\.receipt dd\.code \{[^}]*white-space: nowrap", css)


async def test_the_secret_is_called_access_code_everywhere(client: httpx.AsyncClient) -> None:
    status = await client.get("/serviceauftrag/status")
    assert '<label for="secret">Abfragecode</label>' in status.text
    assert "Kennwort" not in status.text
    assert 'type="password"' not in status.text  # not a password: the form said never to
    await client.get("/sprache/en?next=/")
    english = await client.get("/serviceauftrag/status")
    assert '<label for="secret">Access code</label>' in english.text
    assert "Secret" not in english.text


async def test_without_the_bus_the_receipt_is_shown_in_the_answer(
    app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request is filed before the flash is kept: if the cluster's Redis is away the
    customer still gets the access code, in the POST's answer, instead of losing it."""

    async def away(value: str, ttl: float) -> str:
        raise BusUnavailable("redis is away")

    monkeypatch.setattr(desk_of_app(app).tickets.store, "issue", away)
    before = await _count_requests(app)
    answer = await _file_request(client)
    assert answer.status_code == 201
    assert re.search(r"data-secret>[A-Z0-9-]+<", answer.text)
    assert await _count_requests(app) == before + 1
