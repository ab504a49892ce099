"""What every command of the command line shares: the settings, a database engine
for one action, the actor named in the audit trail, dates given on the command line."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from supportdesk.config import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


def settings_of(args: argparse.Namespace) -> Settings:
    """The configuration the command runs with (``--config`` or the usual places)."""
    return load_settings(args.config)


async def with_store(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from supportdesk.store.database import create_engine

    engine = create_engine(settings.database.url)
    try:
        return await action(engine)
    finally:
        await engine.dispose()


async def has_agents(engine: AsyncEngine) -> bool:
    from supportdesk.store.agents import AgentAccounts
    from supportdesk.store.database import session_factory

    async with session_factory(engine)() as session:
        return await AgentAccounts(session).count() > 0


def cli_actor() -> str:
    """Who the audit trail names for a command run by hand: the operating-system user."""
    return f"cli:{getpass.getuser()}"


def parse_since(text: str | None) -> datetime | None:
    """``--since``: an ISO date or date-time, UTC unless it names an offset."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
