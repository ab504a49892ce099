"""Remote-support sessions as the server runs them: issue a key, redeem it, end, expire.

The domain decides (support_key, support_session); this module moves the decisions
between the session objects, the database and the audit trail, in one audited
transaction per step. The database's snapshot is the session's truth, so any node
of a cluster may take any step (``cluster/live_sessions.py``). The customer's name is
in the live object and, sealed with the server key, in the session's row until the
session ends; never in the audit trail.
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

from supportdesk.bus import Events, InProcessBuckets, InProcessEvents, TokenBuckets
from supportdesk.domain.audit_chain import AuditRecord, pseudonymise
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.second_redemption import (
    SecondRedemptionRefusal,
    decide_second_redemption,
)
from supportdesk.domain.session_events import (
    LIVE_STATES,
    CustomerName,
    Ended,
    EndReason,
    Expired,
    KeyRedeemed,
    KeyRedeemedAgain,
    SessionError,
    SessionEvent,
    SessionState,
)
from supportdesk.domain.session_snapshot import LinkFacts
from supportdesk.domain.support_key import (
    GLOBAL_GUESS_BURST,
    GLOBAL_GUESS_RATE_LIMIT,
    ClientBackoff,
    MalformedSupportKey,
    Redeemed,
    RefusalReason,
    SupportKey,
    SupportKeyPolicy,
    key_digest,
    prefix_digest,
    redeem,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.verification_code import VerificationCode
from supportdesk.secret_keys import ServerKeys
from supportdesk.server.audit.batching import RefusalAudit
from supportdesk.server.cluster.live_sessions import LiveSessions
from supportdesk.server.survey.answers import ExitSurveys
from supportdesk.store.agents import Agent
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.failure_counters import FailureCount, FailureCounters
from supportdesk.store.support_sessions import LiveRow, SupportSessionRecords

log = logging.getLogger(__name__)

REDEMPTION_FAILED = "support_key.redemption_failed"
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
        events: Events | None = None,
        node: str = "local",
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
        self.sessions = LiveSessions(
            audit, keys, InProcessEvents() if events is None else events, node
        )
        # Called after every saved change of a session this node has in hand, made here
        # or on another node (the relay pushes it on).
        self.listeners: list[Callable[[SupportSession], Awaitable[None]]] = []
        # Refusals before any key is looked at, counted per window (server/audit/batching.py);
        # the app sets the window and limit from the settings.
        self.refusals = RefusalAudit(audit, REDEMPTION_FAILED)
        # The exit survey's tokens and answers (server/survey/answers.py).
        self.surveys = ExitSurveys(audit, keys, self.guesses)

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
            await self.sessions.store(SupportSessionRecords(work.session), session, link=None)
        # Consoles on every node show the new waiting session (dashboard_socket.py).
        await self.sessions.announce(session)
        return IssuedSession(clear_key, str(number), str(code), record.expires_at)

    async def apply(
        self, number: str, event: SessionEvent, *, owner_id: int | None = None
    ) -> SupportSession:
        """Apply a domain event to a live session, store it with its audit entries and
        tell the listeners. Raises the domain's SessionError (or TeamError) for an
        illegal move, and KeyError for a session that is not live here. ``owner_id``:
        the account a hand-over gives the session to, for the session's row."""
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            session = await self.sessions.locked(records, number)
            if session is None or session.is_terminal:
                raise KeyError(number)
            audit = session.apply(event)
            try:
                await self._save(records, session, event.at, owner_id=owner_id)
                await work.record(*audit)
            except BaseException:
                self.sessions.invalidate(number)
                raise
        await self._changed(session)
        return session

    async def set_link(self, number: str, link: LinkFacts) -> None:
        """Store what another node needs to resume the customer's link (no audit: the
        relay audits the link's moves itself)."""
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            session = await self.sessions.locked(records, number)
            if session is not None and not session.is_terminal:
                await self.sessions.store(records, session, link)

    def link(self, number: str) -> LinkFacts | None:
        return self.sessions.link(number)

    async def session(self, number: str) -> SupportSession | None:
        """The session as stored now; None if there is none."""
        return await self.sessions.read(number)

    @property
    def live(self) -> dict[str, SupportSession]:
        """The sessions not over that this node has in hand."""
        return self.sessions.cache

    async def _changed(self, session: SupportSession) -> None:
        await self.sessions.announce(session)
        await self.tell_listeners(session)

    async def tell_listeners(self, session: SupportSession) -> None:
        for listener in self.listeners:
            await listener(session)

    async def end(self, number: str, reason: EndReason, now: datetime) -> bool:
        """End a session that is not over yet; False if there was nothing to end."""
        try:
            await self.apply(number, Ended(now, reason))
        except (KeyError, SessionError):
            return False
        return True

    async def expire_due(self, now: datetime) -> list[str]:
        """Expire keys nobody redeemed in time and redemptions whose applet never came;
        end live sessions that ran past the time limit."""
        expired = []
        async with self.audit.database() as db:
            waiting = await SupportSessionRecords(db).not_finished()
        for summary in waiting:
            number = summary.consultation_number
            session = await self.sessions.read(number)
            if session is None or session.is_terminal:
                continue
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
            event = Expired(now) if due else Ended(now, EndReason.TIMEOUT) if overdue else None
            if event is None:
                continue
            try:
                await self.apply(number, event)
            except (KeyError, SessionError):
                continue  # another node was quicker
            expired.append(number)
        return expired

    async def abandon_unfinished(self, now: datetime) -> int:
        """At start-up: sessions left open by a version that kept them in memory only
        (no snapshot to go on from) cannot go on; close them on the record. Sessions
        with a snapshot go on: their customer may come back to this or another node."""
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            left = [
                s
                for s in await records.not_finished()
                if (await records.live_row(s.consultation_number) or LiveRow(0, None, None)).state
                is None
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

    async def customer_name(self, number: str) -> str | None:
        """The name the customer gave, while the session is not over."""
        session = self.live.get(number) or await self.sessions.read(number)
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

        def may_attempt(count: FailureCount) -> bool:
            return self.backoff.may_attempt(count.failures, count.last_failure_at, now)

        # The attempt is counted against the client before it is looked at, in one
        # atomic step: parallel attempts from one address are decided one by one.
        if not await self.counters.reserve([counter_key], now, may_attempt):
            await self._refused(client, "throttled", now, batched=True)
            return None
        if not await self.guesses.take(GUESS_BUCKET, GLOBAL_GUESS_RATE_LIMIT, GLOBAL_GUESS_BURST):
            await self.counters.release([counter_key])  # never looked at: not the client's
            await self._refused(client, "rate_limited", now, batched=True)
            return None
        try:
            key = SupportKey.parse(key_text)
        except MalformedSupportKey:
            await self._refused(client, "malformed", now)
            return None
        customer = CustomerName(name)
        customer_pseudonym = pseudonymise(
            customer.reveal(), self.keys.pseudonym_key, purpose="customer-name"
        )
        pepper = self.keys.support_key_pepper
        async with self.audit.work() as work:
            records = SupportSessionRecords(work.session)
            bucket = await records.keys_in_bucket(prefix_digest(key, pepper))
            outcome = redeem(key_text, bucket.values(), now=now, pepper=pepper)
            number_of = {record.digest: number for number, record in bucket.items()}
            event: KeyRedeemed | KeyRedeemedAgain | None = None
            number, refusal = None, None
            if isinstance(outcome, Redeemed):
                number = number_of[outcome.key.digest]
                event = KeyRedeemed(now, customer, client, customer_pseudonym)
            elif outcome.reason is RefusalReason.UNKNOWN:
                # Not a live key: perhaps this customer's own, redeemed on the portal a
                # moment ago and now typed into the support program.
                number, refusal = await self._second_redemption(
                    records, key_digest(key, pepper), customer_pseudonym, now
                )
                if number is not None:
                    event = KeyRedeemedAgain(now, client, customer_pseudonym)
            if not isinstance(event, KeyRedeemedAgain):
                # The key marked redeemed, or wrong tries against the bucket's live keys
                # (as for any unknown key); a second redemption is no wrong try.
                for update in outcome.updates:
                    await records.write_key(number_of[update.digest], update)
            session = None if number is None else await self.sessions.locked(records, number)
            audit = None
            if session is not None and event is not None:
                try:
                    audit = session.apply(event)
                except SessionError:
                    if isinstance(event, KeyRedeemed):
                        raise  # redeem() checked the key: a bug, surfaced as before
                    # The session cannot take it (say another node's clock ran ahead):
                    # refused like any other second redemption; it stays unchanged.
                    refusal = SecondRedemptionRefusal.NOT_WAITING
            if session is None or number is None or audit is None:
                reason = "unknown" if isinstance(outcome, Redeemed) else outcome.reason.value
                await work.record(self._refusal_record(client, reason, now, refusal))
                session = None
            else:
                token = secrets.token_urlsafe(32)
                expires = now + self.join_token_lifetime
                try:
                    # The new token replaces any earlier one, which stops working.
                    await records.set_join_token(number, self.keys.token_digest(token), expires)
                    first = customer_pseudonym if isinstance(event, KeyRedeemed) else None
                    await self._save(records, session, now, customer_pseudonym=first)
                    await work.record(*audit)
                except BaseException:
                    self.sessions.invalidate(number)
                    raise
        if session is None or number is None:
            return None  # counted when it was reserved
        await self.counters.reset(counter_key)
        await self._changed(session)
        return JoinTicket(token, number, str(session.verification_code), expires)

    @staticmethod
    async def _second_redemption(
        records: SupportSessionRecords, digest: str, customer_pseudonym: str, now: datetime
    ) -> tuple[str | None, SecondRedemptionRefusal | None]:
        """The session whose redeemed key this is, if the same customer may redeem it
        again now (``second_redemption``); else None and why not (None: no such key)."""
        found = await records.redeemed_key(digest)
        if found is None:
            return None, None
        number, facts = found
        decision = decide_second_redemption(facts, customer_pseudonym, now)
        return (number, None) if decision.allowed else (None, decision.refusal)

    async def _refused(
        self, client: str, reason: str, now: datetime, batched: bool = False
    ) -> None:
        if batched:
            # Turned away before any key was looked at (back-off, guessing budget): a
            # flood of these is counted per window, not written one entry each.
            await self.refusals.refused(f"client:{client}", reason, now)
            return
        await self.audit.record(self._refusal_record(client, reason, now))

    @staticmethod
    def _refusal_record(
        client: str, reason: str, now: datetime, again: SecondRedemptionRefusal | None = None
    ) -> AuditRecord:
        data = {"reason": reason}
        if again is not None:
            # The key was this session's, already redeemed: say so, and which rule
            # refused the second redemption (the client still gets the one answer).
            data = {"reason": RefusalReason.ALREADY_REDEEMED.value, "again": again.value}
        return AuditRecord(now, REDEMPTION_FAILED, f"client:{client}", "-", data)

    async def take_join_token(self, token: str, now: datetime) -> SupportSession | None:
        """The live session a join token opens (once); None for any bad token."""
        async with self.audit.work() as work:
            number = await SupportSessionRecords(work.session).take_join_token(
                self.keys.token_digest(token), now
            )
        return await self.sessions.read(number) if number else None

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
        session = await self.sessions.read(number) if number else None
        return None if session is None or session.is_terminal else session

    async def _save(
        self,
        records: SupportSessionRecords,
        session: SupportSession,
        now: datetime,
        customer_pseudonym: str | None = None,
        owner_id: int | None = None,
    ) -> None:
        await records.save_state(
            str(session.consultation_number),
            session.state,
            session.granted,
            now,
            customer_pseudonym=customer_pseudonym,
            end_reason=session.end_reason.value if session.end_reason else None,
            owner_id=owner_id,
        )
        await self.sessions.store(records, session)
