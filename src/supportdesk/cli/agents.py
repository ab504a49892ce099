"""``supportdesk agents``: agent accounts (every change is audited)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from supportdesk.cli.common import cli_actor, settings_of, with_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from supportdesk.accounts import AccountAdmin, LoginsEnded
    from supportdesk.config import Settings


@contextlib.asynccontextmanager
async def _announcer(settings: Settings) -> AsyncIterator[LoginsEnded | None]:
    """With a cluster bus (Redis): tell every node at once that an account's logins
    ended, so they close its sockets. Without one, the server's own check of the store
    finds the change within ``security.socket_check_seconds``."""
    if not settings.bus.redis_url:
        yield None
        return
    from supportdesk.bus import BusUnavailable
    from supportdesk.bus import connect as connect_bus
    from supportdesk.server.agents.socket_register import CHANNEL

    bus = connect_bus(settings.bus.redis_url, namespace=settings.bus.namespace)

    async def announce(agent_id: int) -> None:
        try:
            await bus.events.publish(CHANNEL, {"type": "logins.ended", "agent": agent_id})
        except BusUnavailable:
            print("bus unavailable: the servers notice within seconds", file=sys.stderr)

    try:
        yield announce
    finally:
        await bus.close()


def cmd_agents(args: argparse.Namespace) -> int:
    from supportdesk.accounts import AccountAdmin
    from supportdesk.domain.agent_accounts import InvalidAccount, Role
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory

    settings = settings_of(args)
    now = datetime.now(UTC)

    async def run(engine: AsyncEngine) -> int:
        async with _announcer(settings) as logins_ended:
            admin = AccountAdmin(AuditLog(session_factory(engine)), logins_ended=logins_ended)
            return await act(admin)

    async def act(admin: AccountAdmin) -> int:
        if args.agents_command == "list":
            for agent in await admin.list():
                state = "disabled" if agent.disabled else "active"
                factor = "totp" if agent.totp_secret else "-"
                columns = (agent.username.ljust(24), agent.role.value.ljust(10), state.ljust(8))
                print(*columns, factor.ljust(4), agent.display_name)
            return 0
        if args.agents_command == "add":
            password = None
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            agent, generated = await admin.add(
                args.username, args.name, Role(args.role), password, cli_actor(), now
            )
            print(f"created {agent.username} ({agent.role.value})")
            if generated:
                print(f"initial password (shown once, hand it over in person): {generated}")
            return 0
        if args.agents_command in ("disable", "enable"):
            await admin.set_disabled(
                args.username, args.agents_command == "disable", cli_actor(), now
            )
            print(f"{args.username}: {args.agents_command}d")
            return 0
        if args.agents_command == "set-role":
            agent = await admin.set_role(args.username, Role(args.role), cli_actor(), now)
            print(f"{agent.username}: role {args.role}; its logins were ended")
            return 0
        if args.agents_command == "reset-password":
            password = await admin.reset_password(args.username, cli_actor(), now)
            print(f"new initial password for {args.username} (shown once): {password}")
            print("the second factor was reset and is enrolled again at the next login")
            return 0
        raise AssertionError(args.agents_command)

    try:
        return asyncio.run(with_store(settings, run))
    except InvalidAccount as exc:
        print(f"supportdesk agents: {exc}", file=sys.stderr)
        return 2
