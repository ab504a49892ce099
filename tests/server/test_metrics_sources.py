"""Where the metrics come from, each source on its own: the audit trail (only what
committed), a Redis that cannot be reached, and requests the application fails."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from supportdesk.bus import connect
from supportdesk.bus.redis_link import FAILURES
from supportdesk.config import Settings
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.server.metrics.catalogue import ServerMetrics
from supportdesk.server.metrics.http import RequestMetricsMiddleware, status_class
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from tests.live_server import free_port

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def record(event_type: str, **data: object) -> AuditRecord:
    return AuditRecord(NOW, event_type, "system", "-", data)


async def test_counted_from_the_audit_trail_once_committed(settings: Settings) -> None:
    metrics = ServerMetrics("node-a")
    engine = create_engine(settings.database.url)
    try:
        audit = AuditLog(session_factory(engine))
        audit.observers.append(metrics.observe_audit)
        await audit.record(record("support_key.issued"), record("support_key.redeemed"))
        with pytest.raises(RuntimeError):
            async with audit.work() as work:
                await work.record(record("support_key.issued"))
                raise RuntimeError("rolled back: never happened")
        await audit.record(
            record("support_key.redeemed", again=True),
            record("support_key.redemption_failed", reason="unknown"),
            # A window's count stands for that many refusals (server/audit/batching.py).
            record("support_key.redemption_failed", reason="throttled", count=7),
            record("session.ended", reason="customer"),
            record("consent.declined", reason="no"),
            record("session.expired"),
            record("login.failed", stage="totp", code="wrong"),
            record("session.paused", cause="recording_unavailable", problem="disk full"),
            record("session.paused", party="customer"),  # the customer's pause: no hold
            record("recording_failed", reason="disk full"),
        )
    finally:
        await engine.dispose()
    value = metrics.value
    assert value("supportdesk_support_keys_issued_total") == 1
    assert value("supportdesk_key_redemptions_total", kind="first") == 1
    assert value("supportdesk_key_redemptions_total", kind="again") == 1
    assert value("supportdesk_key_refusals_total", reason="unknown") == 1
    assert value("supportdesk_key_refusals_total", reason="throttled") == 7
    assert value("supportdesk_sessions_ended_total", reason="customer") == 1
    assert value("supportdesk_sessions_ended_total", reason="declined") == 1
    assert value("supportdesk_sessions_ended_total", reason="expired") == 1
    assert value("supportdesk_login_failures_total", stage="totp") == 1
    assert value("supportdesk_recording_holds_total") == 1
    assert value("supportdesk_recording_problems_total", kind="failed") == 1
    text = metrics.render().decode()
    assert 'supportdesk_key_refusals_total{node="node-a",reason="throttled"} 7.0\n' in text


async def test_an_unreachable_redis_is_counted_as_bus_errors() -> None:
    bus = connect(f"redis://127.0.0.1:{free_port()}/0", namespace="metrics-test")
    before = FAILURES["buckets"]
    try:
        assert await bus.buckets.take("demo", 1.0, 5) is False  # fails closed
    finally:
        await bus.close()
    assert FAILURES["buckets"] == before + 1
    text = ServerMetrics("node-a").render().decode()
    assert f'supportdesk_bus_errors_total{{kind="buckets",node="node-a"}} {before + 1}.0\n' in text


async def test_requests_are_counted_by_status_class_and_a_crash_as_5xx() -> None:
    async def fine(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def broken(request: Request) -> PlainTextResponse:
        raise RuntimeError("a bug")

    metrics = ServerMetrics("node-a")
    app = Starlette(routes=[Route("/fine", fine), Route("/broken", broken)])
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/fine")).status_code == 200
        assert (await client.get("/missing")).status_code == 404
        assert (await client.get("/broken")).status_code == 500
    for code in ("2xx", "4xx", "5xx"):
        assert metrics.value("supportdesk_http_requests_total", code=code) == 1
    assert metrics.value("supportdesk_http_request_duration_seconds_count") == 3
    assert [status_class(s) for s in (101, 204, 302, 404, 503, 99)] == [
        "1xx",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "other",
    ]
