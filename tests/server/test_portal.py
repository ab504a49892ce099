"""The portal's pages through the real app and database: content, language, forms."""

from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path)
    match = CSRF.search(page.text)
    assert match, "form carries a CSRF token"
    return match.group(1)


async def test_home_lists_the_lines_with_live_status_in_german(client: httpx.AsyncClient) -> None:
    # The fixture clock stands at Monday, 30 November 2026, 10:00 in Berlin.
    page = await client.get("/")
    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert "Service-Hotline Online Banking" in page.text
    assert "0941 4095-387" in page.text and "Auswahl 1" in page.text and "Auswahl 2" in page.text
    assert "jetzt erreichbar — bis 22:00 Uhr" in page.text
    assert "jetzt erreichbar — bis 16:00 Uhr" in page.text
    assert "24-Stunden-Sperrservice für Onlinemedien" in page.text
    assert "0721 1209 66003" in page.text and "Technische POS-Hotline" in page.text
    assert "ligadirekt@ligabank.de" in page.text


async def test_language_switch_to_english_and_back(client: httpx.AsyncClient) -> None:
    switched = await client.get("/sprache/en?next=/fernwartung")
    assert switched.status_code == 303 and switched.headers["location"] == "/fernwartung"
    page = await client.get("/fernwartung")
    assert '<html lang="en">' in page.text
    assert "Start remote support now" in page.text
    await client.get("/sprache/de?next=/")
    page = await client.get("/fernwartung")
    assert "Jetzt Fernwartung starten" in page.text


async def test_language_switch_refuses_foreign_redirects(client: httpx.AsyncClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = await client.get("/sprache/en", params={"next": target})
        assert response.headers["location"] == "/"


async def test_remote_support_page_explains_before_starting(client: httpx.AsyncClient) -> None:
    page = await client.get("/fernwartung")
    text = page.text
    for heading in ("Voraussetzungen", "Sicherheit und Datenschutz", "Erklärung", "Ablauf"):
        assert f"<h2>{heading}</h2>" in text
    assert "Beratungsnummer" in text
    assert "niemals nach Ihrer PIN oder einer TAN" in text
    assert 'action="/fernwartung/start"' in text and "Jetzt Fernwartung starten" in text


async def test_join_form_validates_each_field(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/fernwartung/start")
    response = await client.post(
        "/fernwartung/start", data={"name": "", "support_key": "12ab", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "Bitte geben Sie Ihren Namen ein." in response.text
    assert "Der Support-Schlüssel besteht nur aus Ziffern." in response.text
    assert 'value="12ab"' in response.text  # nothing typed is lost
    response = await client.post(
        "/fernwartung/start",
        data={"name": "Erika Müller", "support_key": "123 456", "csrf_token": token},
    )
    assert "Der Support-Schlüssel hat genau 12 Ziffern." in response.text
    assert 'value="Erika Müller"' in response.text


async def test_join_with_a_well_formed_key_says_no_session_exists(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_of(client, "/fernwartung/start")
    response = await client.post(
        "/fernwartung/start",
        data={"name": "Erika Müller", "support_key": "123 456 789 012", "csrf_token": token},
    )
    assert response.status_code == 404
    assert (
        "Dieser Schlüssel passt nicht oder ist abgelaufen – bitte lassen Sie sich einen neuen "
        "nennen." in response.text
    )


async def test_forms_without_csrf_token_are_refused_but_keep_input(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/serviceauftrag",
        data={
            "topic": "online-banking",
            "description": "Bitte um Rückruf wegen HBCI.",
            "contact_kind": "phone",
            "contact_value": "0941 123456",
        },
    )
    assert response.status_code == 400
    assert "aus Sicherheitsgründen abgelaufen" in response.text
    assert "Bitte um Rückruf wegen HBCI." in response.text


async def test_service_request_round_trip(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/serviceauftrag")
    filed = await client.post(
        "/serviceauftrag",
        data={
            "topic": "profi-cash-ebics",
            "description": "EBICS-Initialisierung schlägt fehl (INI-Brief).",
            "contact_kind": "email",
            "contact_value": "kunde@example.de",
            "csrf_token": token,
        },
    )
    assert filed.status_code == 303
    filed = await client.get(filed.headers["location"])
    reference = re.search(r"data-reference>([^<]+)<", filed.text)
    secret = re.search(r"data-secret>([^<]+)<", filed.text)
    assert reference and secret
    assert re.fullmatch(r"SA-2026-\d{6}", reference.group(1))
    status = await client.post(
        "/serviceauftrag/status",
        data={"reference": reference.group(1), "secret": secret.group(1), "csrf_token": token},
    )
    assert status.status_code == 200
    assert "eingegangen" in status.text and "Service-Hotline Profi cash / EBICS" in status.text
    wrong = await client.post(
        "/serviceauftrag/status",
        data={"reference": reference.group(1), "secret": "AAAA-BBBB-CCCC", "csrf_token": token},
    )
    assert wrong.status_code == 404
    assert "keinen Auftrag gefunden" in wrong.text


async def test_service_request_errors_per_field_keep_everything_typed(
    client: httpx.AsyncClient,
) -> None:
    token = await csrf_of(client, "/serviceauftrag")
    response = await client.post(
        "/serviceauftrag",
        data={
            "topic": "no-such-line",
            "description": "kurz",
            "contact_kind": "phone",
            "contact_value": "kunde@example.de",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    text = response.text
    assert "Bitte wählen Sie eines der Themen." in text
    assert "mindestens 10 Zeichen" in text
    assert "Telefonnummer mit Vorwahl" in text
    assert ">kurz</textarea>" in text and 'value="kunde@example.de"' in text
    assert 'aria-invalid="true" aria-describedby="description-error"' in text


async def test_status_lookup_validates_reference(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client, "/serviceauftrag/status")
    response = await client.post(
        "/serviceauftrag/status", data={"reference": "42", "secret": "", "csrf_token": token}
    )
    assert response.status_code == 422
    assert (
        "SA-2026-000123" in response.text
        and "Bitte geben Sie Ihren Abfragecode ein." in response.text
    )


async def test_security_headers_on_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # plain HTTP here
    assert "<script>" not in response.text and " style=" not in response.text


async def test_no_hsts_for_a_request_that_only_claims_tls(app) -> None:  # type: ignore[no-untyped-def]
    """Whether the server is reached over TLS is configuration (its public address is
    http here), not what the request's scheme says (tests/server/test_security_headers.py
    has the https side)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as tls:
        response = await tls.get("/healthz")
    assert "strict-transport-security" not in response.headers


async def test_unknown_page_is_a_friendly_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nirgendwo")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.text
