"""A flood of refused key redemptions through the real app and database: the audit
trail grows by a few entries per window, not one per attempt, and every attempt is
still accounted for once the window's count is written."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from supportdesk.config import Settings
from supportdesk.domain.audit_chain import AuditEntry
from supportdesk.server.app import create_app
from supportdesk.server.remote_support import REDEMPTION_FAILED
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from tests.conftest import FixedClock

ATTEMPTS = 600
ADDRESS = "203.0.113.5"


async def refusals(desk: Desk) -> list[AuditEntry]:
    return [e async for e in desk.audit.entries() if e.event_type == REDEMPTION_FAILED]


async def test_600_throttled_attempts_write_a_handful_of_entries(
    app: FastAPI, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    for _ in range(ATTEMPTS):
        # One anonymous address, wrong keys: two are looked at, then its back-off
        # turns every further attempt away before any key is looked at.
        ticket = await desk.remote.redeem("Mallory", "1234 5678 9012", ADDRESS, desk.clock())
        assert ticket is None
    written = await refusals(desk)
    # The attempts its back-off let through (each its own entry, as before), and the
    # first throttled one; before the windows this was 600 entries.
    assert len(written) <= 4, [e.data for e in written]
    # The window is over: the sweep writes its count.
    clock.now += timedelta(seconds=desk.settings.audit.refusal_window_seconds)
    await desk.remote.refusals.flush_due(desk.clock())
    written = await refusals(desk)
    assert len(written) <= 5, [e.data for e in written]
    assert sum(int(e.data.get("count", 1)) for e in written) == ATTEMPTS
    reasons = {e.data["reason"] for e in written}
    assert reasons == {"unknown", "throttled"}
    assert (await desk.audit.verify()).ok


async def test_the_count_is_written_when_the_server_stops(
    settings: Settings, clock: FixedClock
) -> None:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        desk = desk_of_app(application)
        desk.remote.answer_time = timedelta(0)
        for _ in range(20):
            await desk.remote.redeem("Mallory", "1234 5678 9012", ADDRESS, desk.clock())
    engine = create_engine(settings.database.url)
    try:
        audit = AuditLog(session_factory(engine))
        written = [e async for e in audit.entries() if e.event_type == REDEMPTION_FAILED]
    finally:
        await engine.dispose()
    assert len(written) < 20
    assert sum(int(e.data.get("count", 1)) for e in written) == 20
