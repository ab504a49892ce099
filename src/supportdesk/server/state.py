"""What every request handler shares: settings, database, page renderer, calendar, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from supportdesk.config import Settings
from supportdesk.domain.hotlines import HotlineDirectory
from supportdesk.server.holiday_calendar import HolidayCalendar
from supportdesk.server.rendering import PageRenderer
from supportdesk.store.service_requests import ServiceRequestStore

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Desk:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    directory: HotlineDirectory
    calendar: HolidayCalendar
    pages: PageRenderer
    service_requests: ServiceRequestStore
    clock: Clock = utc_now


def desk_of(connection: HTTPConnection) -> Desk:
    desk: Desk = connection.app.state.desk
    return desk
