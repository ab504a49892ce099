"""Remote-support sessions as the server runs them: issue a key, redeem it, end, expire.

The domain decides (support_key, support_session); this module moves the decisions
between the live session objects in memory, the database and the audit trail, in
one audited transaction per step. The customer's name exists only in the live
``SupportSession`` object here.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.bus import InProcessBuckets, TokenBuckets
from supportdesk.domain.audit_chain import AuditRecord, pseudonymise
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.support_key import (
    GLOBAL_GUESS_BURST,
    GLOBAL_GUESS_RATE_LIMIT,
    ClientBackoff,
    MalformedSupportKey,
    Redeemed,
    SupportKey,
    SupportKeyPolicy,
    prefix_digest,
    redeem,
)
from supportdesk.domain.support_session import (
    LIVE_STATES,
    CustomerName,
    Ended,
    EndReason,
    Expired,
    KeyRedeemed,
    SessionEvent,
    SessionState,
    SupportSession,
)
from supportdesk.domain.verification_code import VerificationCode
from supportdesk.secret_keys import ServerKeys
from supportdesk.store.agents import Agent
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.failure_counters import FailureCounters
from supportdesk.store.support_sessions import SupportSessionRecords

log = logging.getLogger(__name__)

GUESS_BUCKET = "support-key-guesses"
"""The bus bucket every node takes from before a redemption looks at any key."""


@dataclass(frozen=True)
class IssuedSession:
    """What the agent sees once after "Neue Fernwartung": the clear key is never stored."""

    key: SupportKey
    consultation_number: str
    verification_code: str
    expires_at: datetime


@dataclass(frozen=True)
class JoinTicket:
    """What the customer gets after a successful redemption: never the support key."""

    token: str
    consultation_number: str
    verification_code: str
    expires_at: datetime


def normalise_address(address: str) -> str:
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        return address.strip().lower()


class RemoteSupport:
    def __init__(
        self,
        audit: AuditLog,
        keys: ServerKeys,
        counters: FailureCounters,
        policy: SupportKeyPolicy,
        join_token_lifetime: timedelta,
        answer_time: timedelta,
        backoff: ClientBackoff | None = None,
        guesses: TokenBuckets | None = None,
        session_time_limit: timedelta = timedelta(hours=2),
    ) -> None:
        self.session_time_limit = session_time_limit
        self.audit = audit
        self.keys = keys
        self.counters = counters
        self.policy = policy
        self.join_token_lifetime = join_token_lifetime
        self.answer_time = answer_time
        self.backoff = backoff or ClientBackoff()
        # The global guessing budget: the bus's, so N nodes on one Redis share it.
        self.guesses: TokenBuckets = InProcessBuckets() if guesses is None else guesses
        self.live: dict[str, SupportSession] = {}
        # Called after every saved change of a live session (the relay pushes it on).
        self.listeners: list[Callable[[SupportSession], Awaitable[None]]] = []

    # -- agent side -----------------------------------------------------------------

    async def issue(self, agent: Agent, now: datetime) -> IssuedSession:
        clear_key, record = self.policy.issue(
            agent_id=str(agent.id), now=now, pepper=self.keys.support_key_pepper
        )
        number = ConsultationNumber.generate(now)
        code = VerificationCode.generate()
        session, records = SupportSession.issue(
            consultation_number=number,
            agent_id=agent.actor,
            verification_code=code,
            key_expires_at=record.expires_at,
            now=now,
        )
        async with self.audit.work() as work:
            await SupportSessionRecords(work.session).create(
                str(number), agent.id, str(code), record
            )
            await work.record(*records)
        self.live[str(number)] = session
        return IssuedSession(clear_key, str(number), str(code), record.expires_at)

    async def apply(self, number: str, event: SessionEvent) -> SupportSession:
        """Apply a domain event to a live session, store it with its audit entries and
        tell the listeners. Raises the domain's SessionError for an illegal move, and
        KeyError for a session that is not live here."""
        session = self.live[number]
        records = session.apply(event)
        await self._save(session, event.at, records)
        if session.is_terminal:
            self.live.pop(number, None)
        for listener in self.listeners:
            await listener(session)
        return session

    async def end(self, number: str, reason: EndReason, now: datetime) -> bool:
        """End a session that is not over yet; False if there was nothing to end."""
        session = self.live.get(number)
        if session is None or session.is_terminal:
            return False
        await self.apply(number, Ended(now, reason))
        return True

    async def expire_due(self, now: datetime) -> list[str]:
        """Expire keys nobody redeemed in time and redemptions whose applet never came;
        end live sessions that ran past the time limit."""
        expired = []
        for number, session in list(self.live.items()):
            due = (session.state is SessionState.ISSUED and now >= session.key_expires_at) or (
                session.state is SessionState.REDEEMED
                and session.last_event_at is not None
                and now >= session.last_event_at + self.join_token_lifetime
            )
            overdue = (
                session.state in LIVE_STATES
                and session.last_event_at is not None
                and now >= session.issued_at + self.session_time_limit
            )
            if due:
                await self.apply(number, Expired(now))
                expired.append(number)
            elif overdue:
                await self.apply(number, Ended(now, EndReason.TIMEOUT))
                expired.append(number)
        return expired

    async def abandon_unfinished(self, now: datetime) -> int:
        """At start-up: sessions a previous process left open cannot go on (their
        live state and the customer's link died with it); close them on the record."""
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            left = [
                s for s in await records.not_finished() if s.consultation_number not in self.live
            ]
            for summary in left:
                await records.save_state(
                    summary.consultation_number,
                    SessionState.ENDED,
                    frozenset(),
                    now,
                    end_reason=EndReason.ERROR.value,
                )
                await work.record(
                    AuditRecord(
                        now,
                        "session.ended",
                        "system",
                        summary.consultation_number,
                        {"reason": EndReason.ERROR.value, "detail": "server restarted"},
                    )
                )
        return len(left)

    def customer_name(self, number: str) -> str | None:
        session = self.live.get(number)
        name = session.customer_name if session else None
        return name.reveal() if name else None

    # -- customer side --------------------------------------------------------------

    async def redeem(
        self, name: str, key_text: str, client_address: str, now: datetime
    ) -> JoinTicket | None:
        """Redeem a support key. Every failure looks and takes the same: None after
        at least ``answer_time``."""
        started = time.monotonic()
        try:
            return await self._redeem(name, key_text, client_address, now)
        finally:
            remaining = self.answer_time.total_seconds() - (time.monotonic() - started)
            if remaining > 0:
                await asyncio.sleep(remaining)

    async def _redeem(
        self, name: str, key_text: str, client_address: str, now: datetime
    ) -> JoinTicket | None:
        client = pseudonymise(
            normalise_address(client_address), self.keys.pseudonym_key, purpose="client-address"
        )
        counter_key = f"redeem:{client}"
        count = await self.counters.get(counter_key)
        if not self.backoff.may_attempt(count.failures, count.last_failure_at, now):
            await self._refused(client, "throttled", now, count_failure=False)
            return None
        if not await self.guesses.take(GUESS_BUCKET, GLOBAL_GUESS_RATE_LIMIT, GLOBAL_GUESS_BURST):
            await self._refused(client, "rate_limited", now, count_failure=False)
            return None
        try:
            key = SupportKey.parse(key_text)
        except MalformedSupportKey:
            await self._refused(client, "malformed", now)
            return None
        customer = CustomerName(name)
        pepper = self.keys.support_key_pepper
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            bucket = await records.keys_in_bucket(prefix_digest(key, pepper))
            outcome = redeem(key_text, bucket.values(), now=now, pepper=pepper)
            number_of = {record.digest: number for number, record in bucket.items()}
            for update in outcome.updates:
                await records.write_key(number_of[update.digest], update)
            session = None
            if isinstance(outcome, Redeemed):
                number = number_of[outcome.key.digest]
                session = self.live.get(number)
            if session is None:
                reason = "unknown" if isinstance(outcome, Redeemed) else outcome.reason.value
                await work.record(self._refusal_record(client, reason, now))
            else:
                customer_pseudonym = pseudonymise(
                    customer.reveal(), self.keys.pseudonym_key, purpose="customer-name"
                )
                audit = session.apply(KeyRedeemed(now, customer, client, customer_pseudonym))
                token = secrets.token_urlsafe(32)
                expires = now + self.join_token_lifetime
                await records.set_join_token(number, self.keys.token_digest(token), expires)
                await records.save_state(
                    number,
                    session.state,
                    session.granted,
                    now,
                    customer_pseudonym=customer_pseudonym,
                )
                await work.record(*audit)
        if session is None:
            await self.counters.record_failure(counter_key, now)
            return None
        await self.counters.reset(counter_key)
        return JoinTicket(token, number, str(session.verification_code), expires)

    async def _refused(
        self, client: str, reason: str, now: datetime, count_failure: bool = True
    ) -> None:
        await self.audit.record(self._refusal_record(client, reason, now))
        if count_failure:
            await self.counters.record_failure(f"redeem:{client}", now)

    @staticmethod
    def _refusal_record(client: str, reason: str, now: datetime) -> AuditRecord:
        return AuditRecord(
            now, "support_key.redemption_failed", f"client:{client}", "-", {"reason": reason}
        )

    async def take_join_token(self, token: str, now: datetime) -> SupportSession | None:
        """The live session a join token opens (once); None for any bad token."""
        async with self.audit.work() as work:
            number = await SupportSessionRecords(work.session).take_join_token(
                self.keys.token_digest(token), now
            )
        return self.live.get(number) if number else None

    async def peek_join_token(self, token: str, now: datetime) -> SupportSession | None:
        """The live session a join token would open, without spending the token; None
        for any bad, spent or expired token (the browser page checks before its link
        spends it)."""
        if not token:
            return None
        async with self.audit.work() as work:
            number = await SupportSessionRecords(work.session).peek_join_token(
                self.keys.token_digest(token), now
            )
        session = self.live.get(number) if number else None
        return None if session is None or session.is_terminal else session

    async def _save(self, session: SupportSession, now: datetime, audit: list[AuditRecord]) -> None:
        async with self.audit.work() as work:
            await SupportSessionRecords(work.session).save_state(
                str(session.consultation_number),
                session.state,
                session.granted,
                now,
                end_reason=session.end_reason.value if session.end_reason else None,
            )
            await work.record(*audit)
