"""The customer's link as a live session sees it: connected, lost, or back and asking
for consent again. Pure: fed instants, returns audit records and what to do.

A consented session survives a dropped link (Wi-Fi, a sleeping laptop): while the
link is *lost* nothing crosses and the grace period runs; when it comes back within
the grace the session goes on, unless the gap was longer than the re-consent limit,
in which case the customer is asked again (*renewing*) before anything is captured
(BSI: the customer must know the session is live). Past the grace the shell ends the
session with reason ``connection_lost``.

Transitions are the table :data:`LINK_TRANSITIONS`; anything else raises
:class:`LinkStateError`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import MappingProxyType

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.consent import RenderedConsent
from supportdesk.domain.session_actors import CUSTOMER_ACTOR, SYSTEM_ACTOR
from supportdesk.domain.utc import require_utc


class LinkPhase(Enum):
    CONNECTED = "connected"
    LOST = "lost"
    RENEWING = "renewing"  # back after a long gap: consent is asked again


class LinkMove(Enum):
    LOST = "lost"
    RESTORED = "restored"
    RENEWED = "renewed"


_P = LinkPhase
LINK_TRANSITIONS: MappingProxyType[tuple[LinkPhase, LinkMove], tuple[LinkPhase, ...]] = (
    MappingProxyType(
        {
            (_P.CONNECTED, LinkMove.LOST): (_P.LOST,),
            (_P.RENEWING, LinkMove.LOST): (_P.LOST,),
            (_P.LOST, LinkMove.RESTORED): (_P.CONNECTED, _P.RENEWING),
            (_P.RENEWING, LinkMove.RENEWED): (_P.CONNECTED,),
        }
    )
)
"""(phase, move) -> the phases it may lead to (RESTORED: by the length of the gap)."""


class LinkStateError(Exception):
    """A move the link's phase does not allow: the shell's mistake."""


@dataclass(frozen=True)
class LinkPolicy:
    grace: timedelta = timedelta(seconds=120)
    reconsent_after: timedelta = timedelta(seconds=30)


@dataclass
class CustomerLink:
    """The link of one consented session. The resume secret is held as a digest."""

    number: str
    policy: LinkPolicy = field(default_factory=LinkPolicy)
    phase: LinkPhase = LinkPhase.CONNECTED
    lost_since: datetime | None = None
    renewal_owed: bool = False  # lost while being asked again: still asked on return
    _secret_digest: bytes | None = field(default=None, repr=False)

    @classmethod
    def taken_over(
        cls,
        number: str,
        policy: LinkPolicy,
        secret_digest: str,
        lost_since: datetime,
        renewal_owed: bool,
    ) -> CustomerLink:
        """The link of a session another node served until it went away: lost since
        ``lost_since`` (the last instant it was known alive), resumable with the secret
        whose digest (hex) the session's snapshot kept."""
        return cls(
            number,
            policy,
            LinkPhase.LOST,
            require_utc(lost_since, "lost_since"),
            renewal_owed,
            bytes.fromhex(secret_digest),
        )

    @property
    def secret_digest(self) -> str | None:
        """The resume secret's digest (hex), for the session's snapshot."""
        return None if self._secret_digest is None else self._secret_digest.hex()

    @property
    def crossing_allowed(self) -> bool:
        """Whether anything may cross: only over a connected, consented link."""
        return self.phase is LinkPhase.CONNECTED

    def new_secret(self) -> str:
        """A fresh resume secret for the customer's side; a previous one is void."""
        secret = secrets.token_urlsafe(32)
        self._secret_digest = hashlib.sha256(secret.encode()).digest()
        return secret

    def may_resume(self, secret: str) -> bool:
        """Whether ``secret`` is the current resume secret (compared in constant time)."""
        if self._secret_digest is None:
            return False
        offered = hashlib.sha256(secret.encode()).digest()
        return hmac.compare_digest(offered, self._secret_digest)

    def lost(self, at: datetime) -> list[AuditRecord]:
        """The link dropped: nothing crosses; the grace period starts."""
        owed = self.phase is LinkPhase.RENEWING
        self._move(LinkMove.LOST, LinkPhase.LOST)
        self.renewal_owed = self.renewal_owed or owed
        self.lost_since = require_utc(at, "at")
        return [AuditRecord(at, "session.link_lost", SYSTEM_ACTOR, self.number, {})]

    def restored(self, at: datetime) -> list[AuditRecord]:
        """The link is back. After a gap longer than the re-consent limit the phase is
        RENEWING: the shell asks for consent again before anything crosses."""
        require_utc(at, "at")
        gap = at - (self.lost_since or at)
        renew = gap > self.policy.reconsent_after or self.renewal_owed
        self._move(LinkMove.RESTORED, LinkPhase.RENEWING if renew else LinkPhase.CONNECTED)
        self.lost_since = None
        data = {"gap_ms": int(gap.total_seconds() * 1000), "consent_again": renew}
        return [AuditRecord(at, "session.link_restored", SYSTEM_ACTOR, self.number, data)]

    def renewed(self, at: datetime, consent: RenderedConsent) -> list[AuditRecord]:
        """The customer said "Ja" again, to ``consent`` exactly as shown."""
        self._move(LinkMove.RENEWED, LinkPhase.CONNECTED)
        self.renewal_owed = False
        data = {
            "consent_version": consent.version,
            "language": consent.language.value,
            "text_sha256": consent.sha256,
        }
        return [AuditRecord(at, "consent.renewed", CUSTOMER_ACTOR, self.number, data)]

    def grace_over(self, now: datetime) -> bool:
        """Whether a lost link has stayed away for the whole grace period."""
        return (
            self.phase is LinkPhase.LOST
            and self.lost_since is not None
            and now - self.lost_since >= self.policy.grace
        )

    def _move(self, move: LinkMove, target: LinkPhase) -> None:
        allowed = LINK_TRANSITIONS.get((self.phase, move), ())
        if target not in allowed:
            raise LinkStateError(
                f"{move.value} is not allowed while the link is {self.phase.value}"
            )
        self.phase = target
