"""What every request handler shares: settings, database, page renderer, calendar, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from supportdesk.config import Settings
from supportdesk.domain.hotlines import HotlineDirectory
from supportdesk.passwords import PasswordHashing
from supportdesk.secret_keys import ServerKeys
from supportdesk.server.agents.presence import AgentPresence
from supportdesk.server.agents.socket_register import AgentSockets
from supportdesk.server.cluster.session_changes import SessionChanges
from supportdesk.server.holiday_calendar import HolidayCalendar
from supportdesk.server.relay.hub import RelayHub
from supportdesk.server.relay.socket_tickets import SocketTickets
from supportdesk.server.remote_support import RemoteSupport
from supportdesk.server.rendering import PageRenderer
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.failure_counters import FailureCounters
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
    keys: ServerKeys
    audit: AuditLog
    counters: FailureCounters
    remote: RemoteSupport
    relay: RelayHub
    tickets: SocketTickets
    hashing: PasswordHashing
    agent_sockets: AgentSockets
    session_changes: SessionChanges
    clock: Clock = utc_now
    presence: AgentPresence | None = None  # the agents online on any node


def desk_of(connection: HTTPConnection) -> Desk:
    return desk_of_app(connection.app)


def desk_of_app(app: Any) -> Desk:
    desk: Desk = app.state.desk
    return desk
