"""Managing agent accounts, shared by the CLI and the admin page; every change audited."""

from __future__ import annotations

import secrets
from datetime import datetime

from supportdesk.domain.agent_accounts import (
    InvalidAccount,
    Role,
    check_display_name,
    check_password,
    check_username,
)
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.passwords import hash_password
from supportdesk.store.agents import Agent, AgentAccounts
from supportdesk.store.audit_log import AuditLog

ONE_TIME_PASSWORD_BYTES = 15  # 20 URL-safe characters, 120 bits


def one_time_password() -> str:
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


class AccountAdmin:
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

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
        async with self.audit.work() as work:
            agent = await AgentAccounts(work.session).add(
                username, display_name, role, hash_password(password), now
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
        return agent

    async def reset_password(
        self, username: str, actor: str, now: datetime, password: str | None = None
    ) -> str:
        """Set a new password (generated unless given), end the agent's logins, and
        clear the second factor so it is enrolled afresh. Returns the password."""
        password = check_password(password or one_time_password())
        async with self.audit.work() as work:
            accounts = AgentAccounts(work.session)
            agent = await self._existing(accounts, username)
            await accounts.set_password(agent.id, hash_password(password), now)
            await accounts.set_totp_secret(agent.id, None)
            await work.record(AuditRecord(now, "account.password_reset", actor, agent.actor))
        return password

    @staticmethod
    async def _existing(accounts: AgentAccounts, username: str) -> Agent:
        agent = await accounts.by_username(username.strip().lower())
        if agent is None:
            raise InvalidAccount(f"no account named {username!r}")
        return agent
