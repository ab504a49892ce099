"""What the database keeps of remote-support sessions: key digests, state, times.

Never the customer's name in the clear: its keyed pseudonym, and while the session
is not over its sealed form (``secret_keys.ServerKeys.seal``), erased at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.second_redemption import RedeemedKeyFacts
from supportdesk.domain.session_events import LIVE_STATES, TERMINAL_STATES, SessionState
from supportdesk.domain.support_key import IssuedSupportKey
from supportdesk.store.agents import aware
from supportdesk.store.models import SupportSessionRow


@dataclass(frozen=True)
class SessionSummary:
    """A session as the console lists it."""

    consultation_number: str
    agent_id: int
    verification_code: str
    state: SessionState
    capabilities: frozenset[Capability]
    issued_at: datetime
    expires_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    redeemed_at: datetime | None = None  # when the customer gave name and key

    @classmethod
    def of(cls, row: SupportSessionRow) -> SessionSummary:
        return cls(
            row.consultation_number,
            row.agent_id,
            row.verification_code,
            SessionState(row.state),
            frozenset(Capability(c) for c in row.capabilities.split(",") if c),
            aware(row.issued_at),
            aware(row.expires_at),
            aware(row.started_at) if row.started_at else None,
            aware(row.ended_at) if row.ended_at else None,
            row.end_reason,
            aware(row.redeemed_at) if row.redeemed_at else None,
        )


@dataclass(frozen=True)
class LiveRow:
    """A session's stored snapshot, the version it has, and the sealed name."""

    version: int
    state: str | None
    sealed_name: str | None


def _key_record(row: SupportSessionRow) -> IssuedSupportKey:
    return IssuedSupportKey(
        digest=row.key_digest,
        prefix_digest=row.key_prefix_digest,
        agent_id=str(row.agent_id),
        issued_at=aware(row.issued_at),
        expires_at=aware(row.expires_at),
        void_after=row.key_void_after,
        wrong_tries=row.key_wrong_tries,
        redeemed_at=aware(row.redeemed_at) if row.redeemed_at else None,
    )


class SupportSessionRecords:
    """Reads and writes within a caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        consultation_number: str,
        agent_id: int,
        verification_code: str,
        key: IssuedSupportKey,
    ) -> None:
        self.session.add(
            SupportSessionRow(
                consultation_number=consultation_number,
                agent_id=agent_id,
                verification_code=verification_code,
                key_digest=key.digest,
                key_prefix_digest=key.prefix_digest,
                key_wrong_tries=key.wrong_tries,
                key_void_after=key.void_after,
                issued_at=key.issued_at,
                expires_at=key.expires_at,
                state=SessionState.ISSUED.value,
                capabilities="",
            )
        )

    async def keys_in_bucket(self, prefix_digest: str) -> dict[str, IssuedSupportKey]:
        """Issued keys sharing a prefix digest, by consultation number (locked on PostgreSQL
        so concurrent redemptions of the same bucket are decided one after another)."""
        rows = await self.session.scalars(
            select(SupportSessionRow)
            .where(SupportSessionRow.key_prefix_digest == prefix_digest)
            .where(SupportSessionRow.state == SessionState.ISSUED.value)
            .with_for_update()
        )
        return {row.consultation_number: _key_record(row) for row in rows}

    async def redeemed_key(self, digest: str) -> tuple[str, RedeemedKeyFacts] | None:
        """The session whose key, already redeemed, has ``digest``, and what a second
        redemption is decided on; the row locked on PostgreSQL (like the bucket), so it
        cannot change between the decision and the new token."""
        row = await self.session.scalar(
            select(SupportSessionRow)
            .where(SupportSessionRow.key_digest == digest)
            .where(SupportSessionRow.redeemed_at.is_not(None))
            .with_for_update()
        )
        if row is None:
            return None
        expires = row.join_token_expires_at
        return row.consultation_number, RedeemedKeyFacts(
            state=SessionState(row.state),
            key_expires_at=aware(row.expires_at),
            customer_pseudonym=row.customer_pseudonym,
            join_token_unspent=row.join_token_digest is not None,
            join_token_expires_at=aware(expires) if expires else None,
        )

    async def write_key(self, consultation_number: str, key: IssuedSupportKey) -> None:
        await self.session.execute(
            update(SupportSessionRow)
            .where(SupportSessionRow.consultation_number == consultation_number)
            .values(key_wrong_tries=key.wrong_tries, redeemed_at=key.redeemed_at)
        )

    async def get(self, consultation_number: str) -> SessionSummary | None:
        row = await self._row(consultation_number)
        return SessionSummary.of(row) if row else None

    async def _row(self, consultation_number: str) -> SupportSessionRow | None:
        return await self.session.scalar(
            select(SupportSessionRow).where(
                SupportSessionRow.consultation_number == consultation_number
            )
        )

    async def save_state(
        self,
        consultation_number: str,
        state: SessionState,
        capabilities: frozenset[Capability],
        now: datetime,
        *,
        customer_pseudonym: str | None = None,
        end_reason: str | None = None,
        owner_id: int | None = None,
    ) -> None:
        values: dict[str, object] = {
            "state": state.value,
            "capabilities": ",".join(sorted(c.value for c in capabilities)),
        }
        if customer_pseudonym is not None:
            values["customer_pseudonym"] = customer_pseudonym
        if owner_id is not None:
            # Handed over: the session is listed under its new owner from now on (the
            # issuing agent stays in the audit trail's support_key.issued entry).
            values["agent_id"] = owner_id
        row = None
        if state in LIVE_STATES:
            row = await self._row(consultation_number)
            if row is not None and row.started_at is None:
                values["started_at"] = now
        if capabilities:
            # What the reports count as used: every grant of the session, kept after
            # the end (when ``capabilities`` is emptied) and never narrowed by a revoke.
            row = row or await self._row(consultation_number)
            if row is not None:
                used = {c for c in row.capabilities_used.split(",") if c}
                used |= {c.value for c in capabilities}
                values["capabilities_used"] = ",".join(sorted(used))
        if state in TERMINAL_STATES:
            values["ended_at"] = now
            values["end_reason"] = end_reason or state.value
            # A finished session needs no way back in.
            values["join_token_digest"] = None
        await self.session.execute(
            update(SupportSessionRow)
            .where(SupportSessionRow.consultation_number == consultation_number)
            .values(values)
        )

    async def live_row(self, consultation_number: str, lock: bool = False) -> LiveRow | None:
        """The stored snapshot; ``lock`` holds the row until the caller's transaction ends
        (PostgreSQL), so changes from several nodes are made one after another."""
        query = select(
            SupportSessionRow.live_version,
            SupportSessionRow.live_state,
            SupportSessionRow.customer_name_sealed,
        ).where(SupportSessionRow.consultation_number == consultation_number)
        found = (await self.session.execute(query.with_for_update() if lock else query)).first()
        return None if found is None else LiveRow(found[0], found[1], found[2])

    async def save_live(
        self, consultation_number: str, version: int, state: str, sealed_name: str | None
    ) -> None:
        """Store a new snapshot as ``version``; the sealed name goes with it (None once
        the session is over or before the customer gave one)."""
        await self.session.execute(
            update(SupportSessionRow)
            .where(SupportSessionRow.consultation_number == consultation_number)
            .values(live_state=state, live_version=version, customer_name_sealed=sealed_name)
        )

    async def set_join_token(
        self, consultation_number: str, digest: str, expires_at: datetime
    ) -> None:
        await self.session.execute(
            update(SupportSessionRow)
            .where(SupportSessionRow.consultation_number == consultation_number)
            .values(join_token_digest=digest, join_token_expires_at=expires_at)
        )

    async def take_join_token(self, digest: str, now: datetime) -> str | None:
        """The consultation number the token belongs to, if it is unused and unexpired;
        the token is spent either way."""
        row = await self.session.scalar(
            select(SupportSessionRow)
            .where(SupportSessionRow.join_token_digest == digest)
            .with_for_update()
        )
        if row is None:
            return None
        row.join_token_digest = None
        expires = row.join_token_expires_at
        if expires is None or aware(expires) <= now:
            return None
        return row.consultation_number

    async def peek_join_token(self, digest: str, now: datetime) -> str | None:
        """The consultation number the token belongs to, if it is unused and unexpired;
        unlike :meth:`take_join_token` the token stays valid."""
        row = await self.session.scalar(
            select(SupportSessionRow).where(SupportSessionRow.join_token_digest == digest)
        )
        if row is None:
            return None
        expires = row.join_token_expires_at
        if expires is None or aware(expires) <= now:
            return None
        return row.consultation_number

    async def for_agent(self, agent_id: int, limit: int = 50) -> list[SessionSummary]:
        rows = await self.session.scalars(
            select(SupportSessionRow)
            .where(SupportSessionRow.agent_id == agent_id)
            .order_by(SupportSessionRow.issued_at.desc())
            .limit(limit)
        )
        return [SessionSummary.of(row) for row in rows]

    async def not_finished(self) -> list[SessionSummary]:
        rows = await self.session.scalars(
            select(SupportSessionRow)
            .where(SupportSessionRow.state.not_in([s.value for s in TERMINAL_STATES]))
            .order_by(SupportSessionRow.issued_at)
        )
        return [SessionSummary.of(row) for row in rows]
