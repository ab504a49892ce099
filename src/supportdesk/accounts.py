"""Managing agent accounts, shared by the CLI and the admin page; every change audited.

Disabling, a password reset and a role change end the account's logins in the store;
``logins_ended`` (the server's socket register, or the CLI's bus announcement) is then
told, so the account's open sockets close at once rather than at the next check.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime

from supportdesk.domain.agent_accounts import (
    InvalidAccount,
    Role,
    check_display_name,
    check_password,
    check_username,
)
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.passwords import PasswordHashing, hash_password
from supportdesk.store.agents import Agent, AgentAccounts
from supportdesk.store.audit_log import AuditLog

ONE_TIME_PASSWORD_BYTES = 15  # 20 URL-safe characters, 120 bits


def one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


LoginsEnded = Callable[[int], Awaitable[None]]
"""Told the id of an account whose logins were just ended (after the commit)."""


class AccountAdmin:
    def __init__(
        self,
        audit: AuditLog,
        hashing: PasswordHashing | None = None,
        logins_ended: LoginsEnded | None = None,
    ) -> None:
        self.audit = audit
        self.hashing = hashing
        self.logins_ended = logins_ended

    async def _hash(self, password: str) -> str:
        """Argon2id off the event loop: the server's pool, else a thread."""
        if self.hashing is not None:
            return await self.hashing.hash(password)
        return await asyncio.to_thread(hash_password, password)

    async def _ended(self, agent: Agent) -> None:
        if self.logins_ended is not None:
            await self.logins_ended(agent.id)

    async def add(
        self,
        username: str,
        display_name: str,
        role: Role,
        password: str | None,
        actor: str,
        now: datetime,
    ) -> tuple[Agent, str | None]:
        """Create an account. Without a password, one is generated and returned once."""
        username = check_username(username)
        display_name = check_display_name(display_name)
        generated = None
        if password is None:
            password = generated = one_time_password()
        password = check_password(password)
        password_hash = await self._hash(password)
        async with self.audit.work() as work:
            agent = await AgentAccounts(work.session).add(
                username, display_name, role, password_hash, now
            )
            await work.record(
                AuditRecord(now, "account.created", actor, agent.actor, {"role": role.value})
            )
        return agent, generated

    async def list(self) -> list[Agent]:
        async with self.audit.work() as work:
            return await AgentAccounts(work.session).all()

    async def set_disabled(self, username: str, disabled: bool, actor: str, now: datetime) -> Agent:
        async with self.audit.work() as work:
            accounts = AgentAccounts(work.session)
            agent = await self._existing(accounts, username)
            await accounts.set_disabled(agent.id, disabled)
            await work.record(
                AuditRecord(
                    now, "account.disabled" if disabled else "account.enabled", actor, agent.actor
                )
            )
        if disabled:
            await self._ended(agent)
        return agent

    async def set_role(self, username: str, role: Role, actor: str, now: datetime) -> Agent:
        """Give the account another role; its logins end, so its open sockets close and
        the next login carries the new role's rights (and second factor)."""
        async with self.audit.work() as work:
            accounts = AgentAccounts(work.session)
            agent = await self._existing(accounts, username)
            if agent.role is role:
                return agent
            await accounts.set_role(agent.id, role)
            await work.record(
                AuditRecord(
                    now,
                    "account.role_changed",
                    actor,
                    agent.actor,
                    {"from": agent.role.value, "to": role.value},
                )
            )
        await self._ended(agent)
        return agent

    async def reset_password(
        self, username: str, actor: str, now: datetime, password: str | None = None
    ) -> str:
        """Set a new password (generated unless given), end the agent's logins, and
        clear the second factor so it is enrolled afresh. Returns the password."""
        password = check_password(password or one_time_password())
        password_hash = await self._hash(password)
        async with self.audit.work() as work:
            accounts = AgentAccounts(work.session)
            agent = await self._existing(accounts, username)
            await accounts.set_password(agent.id, password_hash, now)
            await accounts.set_totp_secret(agent.id, None)
            await work.record(AuditRecord(now, "account.password_reset", actor, agent.actor))
        await self._ended(agent)
        return password

    @staticmethod
    async def _existing(accounts: AgentAccounts, username: str) -> Agent:
        agent = await accounts.by_username(username.strip().lower())
        if agent is None:
            raise InvalidAccount(f"no account named {username!r}")
        return agent
