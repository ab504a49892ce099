"""The JSON API: hotlines with live status, and service requests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx

from tests.conftest import FixedClock


async def test_hotlines_report_open_now_and_next_change(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 12, 24, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    body = (await client.get("/api/v1/hotlines")).json()
    lines = {line["id"]: line for line in body["hotlines"]}
    assert body["timezone"] == "Europe/Berlin"
    assert lines["online-banking"]["open_now"] is True
    assert lines["online-banking"]["next_change"] == "2026-12-24T22:00:00+01:00"
    assert lines["profi-cash-ebics"]["open_now"] is False
    assert lines["profi-cash-ebics"]["next_change"] == "2026-12-28T08:30:00+01:00"
    assert lines["pos-card-process"]["open_now"] is None
    assert lines["online-banking"]["phones"][0] == {
        "number": "0941 4095-387",
        "menu_choice": 1,
        "label": None,
        "tel_uri": "tel:+499414095387",
    }


async def test_next_change_in_summer_carries_plus_two(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 CET
    body = (await client.get("/api/v1/hotlines")).json()
    online = next(line for line in body["hotlines"] if line["id"] == "online-banking")
    assert online["next_change"] == "2026-03-29T07:30:00+02:00"


async def test_service_request_api_round_trip(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/service-requests",
        json={
            "topic": "online-banking",
            "description": "TAN-Verfahren lässt sich nicht umstellen.",
            "contact_kind": "phone",
            "contact_value": "+49 941 123456",
        },
    )
    assert created.status_code == 201
    filed = created.json()
    status = await client.post("/api/v1/service-requests/status", json=filed)
    assert status.status_code == 200
    assert status.json()["status"] == "new"
    missing = await client.post(
        "/api/v1/service-requests/status", json={"reference": "SA-1999-1", "secret": "x"}
    )
    assert missing.status_code == 404


async def test_service_request_api_reports_field_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/service-requests",
        json={"topic": "", "description": "x", "contact_kind": "fax", "contact_value": ""},
    )
    assert response.status_code == 422
    assert response.json()["detail"]["errors"] == {
        "topic": "required",
        "description": "too_short",
        "contact_kind": "invalid_choice",
        "contact_value": "required",
    }


async def test_openapi_document_is_not_for_the_signed_out(client: httpx.AsyncClient) -> None:
    # Staff read it (tests/server/test_api_docs.py), or everyone if configured.
    assert (await client.get("/api/v1/openapi.json")).status_code == 303
