"""Agent accounts and their signed-in browsers (login sessions)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.agent_accounts import InvalidAccount, Role
from supportdesk.store.models import AgentRow, LoginSessionRow


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Agent:
    id: int
    username: str
    display_name: str
    role: Role
    disabled: bool
    totp_secret: str | None
    password_hash: str

    @property
    def actor(self) -> str:
        """How the agent appears in the audit trail."""
        return f"agent:{self.username}"

    @classmethod
    def of(cls, row: AgentRow) -> Agent:
        return cls(
            row.id,
            row.username,
            row.display_name,
            Role(row.role),
            row.disabled,
            row.totp_secret,
            row.password_hash,
        )


@dataclass(frozen=True)
class LoginSession:
    id_digest: str
    agent_id: int
    csrf_token: str
    second_factor_done: bool
    created_at: datetime
    last_seen_at: datetime
    totp_pending_secret: str | None = None


class AgentAccounts:
    """Queries and changes on agents, within a caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, username: str, display_name: str, role: Role, password_hash: str, now: datetime
    ) -> Agent:
        row = AgentRow(
            username=username,
            display_name=display_name,
            role=role.value,
            password_hash=password_hash,
            disabled=False,
            created_at=now,
            password_changed_at=now,
        )
        self.session.add(row)
        try:
            async with self.session.begin_nested():
                await self.session.flush()
        except IntegrityError:
            raise InvalidAccount(f"the user name {username!r} is taken") from None
        return Agent.of(row)

    async def by_username(self, username: str) -> Agent | None:
        row = await self.session.scalar(select(AgentRow).where(AgentRow.username == username))
        return Agent.of(row) if row else None

    async def by_id(self, agent_id: int) -> Agent | None:
        row = await self.session.get(AgentRow, agent_id)
        return Agent.of(row) if row else None

    async def all(self) -> list[Agent]:
        rows = await self.session.scalars(select(AgentRow).order_by(AgentRow.username))
        return [Agent.of(row) for row in rows]

    async def count(self) -> int:
        return len(list(await self.session.scalars(select(AgentRow.id))))

    async def set_disabled(self, agent_id: int, disabled: bool) -> None:
        await self.session.execute(
            update(AgentRow).where(AgentRow.id == agent_id).values(disabled=disabled)
        )
        if disabled:
            await self.end_login_sessions(agent_id)

    async def set_password(self, agent_id: int, password_hash: str, now: datetime) -> None:
        await self.session.execute(
            update(AgentRow)
            .where(AgentRow.id == agent_id)
            .values(password_hash=password_hash, password_changed_at=now)
        )
        await self.end_login_sessions(agent_id)

    async def set_role(self, agent_id: int, role: Role) -> None:
        """A new role ends the account's logins: the next one starts with the new rights."""
        await self.session.execute(
            update(AgentRow).where(AgentRow.id == agent_id).values(role=role.value)
        )
        await self.end_login_sessions(agent_id)

    async def set_totp_secret(self, agent_id: int, secret: str | None) -> None:
        await self.session.execute(
            update(AgentRow)
            .where(AgentRow.id == agent_id)
            .values(totp_secret=secret, totp_last_step=None)
        )

    async def use_totp_step(self, agent_id: int, step: int) -> bool:
        """Claim TOTP step ``step`` for a login: True only if no login of this account
        used this step or a later one. One statement, so of two parallel logins with
        the same code only one gets it (no replay)."""
        result = await self.session.execute(
            update(AgentRow)
            .where(AgentRow.id == agent_id)
            .where(or_(AgentRow.totp_last_step.is_(None), AgentRow.totp_last_step < step))
            .values(totp_last_step=step)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def enrol_totp(self, agent_id: int, secret: str, step: int) -> bool:
        """Store the enrolled secret with its first step used; False if the account
        enrolled meanwhile (another browser was quicker)."""
        result = await self.session.execute(
            update(AgentRow)
            .where(AgentRow.id == agent_id)
            .where(AgentRow.totp_secret.is_(None))
            .values(totp_secret=secret, totp_last_step=step)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    # -- login sessions ---------------------------------------------------------------

    async def start_login_session(
        self, agent_id: int, id_digest: str, second_factor_done: bool, now: datetime
    ) -> LoginSession:
        row = LoginSessionRow(
            id_digest=id_digest,
            agent_id=agent_id,
            csrf_token=secrets.token_urlsafe(32),
            second_factor_done=second_factor_done,
            created_at=now,
            last_seen_at=now,
        )
        self.session.add(row)
        return self._login(row)

    async def login_session(self, id_digest: str) -> LoginSession | None:
        row = await self.session.get(LoginSessionRow, id_digest)
        return self._login(row) if row else None

    async def touch_login_session(
        self, id_digest: str, now: datetime, second_factor_done: bool | None = None
    ) -> None:
        values: dict[str, object] = {"last_seen_at": now}
        if second_factor_done is not None:
            values["second_factor_done"] = second_factor_done
        await self.session.execute(
            update(LoginSessionRow).where(LoginSessionRow.id_digest == id_digest).values(values)
        )

    async def set_pending_totp_secret(self, id_digest: str, secret: str) -> str:
        """The enrolment secret of this login: the one already chosen, else ``secret``
        (so reloading the page shows the same QR code)."""
        await self.session.execute(
            update(LoginSessionRow)
            .where(LoginSessionRow.id_digest == id_digest)
            .where(LoginSessionRow.totp_pending_secret.is_(None))
            .values(totp_pending_secret=secret)
        )
        chosen = await self.session.scalar(
            select(LoginSessionRow.totp_pending_secret).where(
                LoginSessionRow.id_digest == id_digest
            )
        )
        return chosen or secret

    async def logins_alive(self, id_digests: Iterable[str], created_after: datetime) -> set[str]:
        """Which of these logins still stand: not ended, the account not disabled,
        started after ``created_after`` (the absolute limit). One query for all."""
        wanted = list(id_digests)
        if not wanted:
            return set()
        rows = await self.session.scalars(
            select(LoginSessionRow.id_digest)
            .join(AgentRow, AgentRow.id == LoginSessionRow.agent_id)
            .where(LoginSessionRow.id_digest.in_(wanted))
            .where(AgentRow.disabled.is_(False))
            .where(LoginSessionRow.created_at > created_after)
        )
        return set(rows)

    async def signed_in_agents(self, created_after: datetime, seen_after: datetime) -> set[int]:
        """The accounts with a login that stands: both factors done, started after
        ``created_after`` (the absolute limit), seen after ``seen_after`` (the idle
        limit), the account not disabled. One query."""
        rows = await self.session.scalars(
            select(LoginSessionRow.agent_id)
            .join(AgentRow, AgentRow.id == LoginSessionRow.agent_id)
            .where(LoginSessionRow.second_factor_done.is_(True))
            .where(LoginSessionRow.created_at > created_after)
            .where(LoginSessionRow.last_seen_at > seen_after)
            .where(AgentRow.disabled.is_(False))
        )
        return set(rows)

    async def end_login_session(self, id_digest: str) -> None:
        await self.session.execute(
            delete(LoginSessionRow).where(LoginSessionRow.id_digest == id_digest)
        )

    async def end_login_sessions(self, agent_id: int) -> None:
        await self.session.execute(
            delete(LoginSessionRow).where(LoginSessionRow.agent_id == agent_id)
        )

    @staticmethod
    def _login(row: LoginSessionRow) -> LoginSession:
        return LoginSession(
            row.id_digest,
            row.agent_id,
            row.csrf_token,
            row.second_factor_done,
            aware(row.created_at),
            aware(row.last_seen_at),
            row.totp_pending_secret,
        )
