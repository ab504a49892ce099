"""Whether a support key that was already redeemed may be redeemed again: by the same
customer, while the session still waits for the customer's link. Pure: fed the
stored facts and ``now``, returns the decision.

Why it exists: after "Weiter >>" on the portal the key is spent and a join token is
issued for the page. A customer who then chooses the support program types the same
name and key into it, and the program redeems them itself. Without this rule that
customer would hear "no session" and need a new key from the agent.

What keeps the key single-use for joining: only one link ever opens with it. Every
redemption replaces the session's join token (the earlier one stops working), and
once a link has spent a token (or the session moved on, or the token or the key ran
out) nothing redeems the key again. The name must be the one the first redemption
gave, compared as its keyed pseudonym, so a key overheard by someone else is no more
use to them than before. docs/security.md has the argument.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from supportdesk.domain.session_events import SessionState
from supportdesk.domain.utc import require_utc


class SecondRedemptionRefusal(Enum):
    """Why a redeemed key was not redeemed again: for the audit only; the client gets
    the one answer every refusal gets."""

    NOT_WAITING = "not_waiting"  # the session moved on: consent asked, over, expired
    LINK_OPENED = "link_opened"  # a link spent the join token
    TOKEN_EXPIRED = "token_expired"  # noqa: S105 - a reason code; the session is due to expire
    KEY_EXPIRED = "key_expired"
    OTHER_CUSTOMER = "other_customer"  # another name than the first redemption's


@dataclass(frozen=True)
class RedeemedKeyFacts:
    """What the store knows of the session whose already redeemed key was typed."""

    state: SessionState
    key_expires_at: datetime
    customer_pseudonym: str | None
    join_token_unspent: bool  # the token's digest is still stored: no link took it
    join_token_expires_at: datetime | None


@dataclass(frozen=True)
class SecondRedemption:
    """The decision: allowed when ``refusal`` is None."""

    refusal: SecondRedemptionRefusal | None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def decide_second_redemption(
    facts: RedeemedKeyFacts, customer_pseudonym: str, now: datetime
) -> SecondRedemption:
    """Whether the customer whose name has ``customer_pseudonym`` may redeem the key
    again at ``now``. The checks run in a fixed order so the audit names the first
    rule that refused."""
    require_utc(now)
    refusal: SecondRedemptionRefusal | None = None
    if facts.state is not SessionState.REDEEMED:
        refusal = SecondRedemptionRefusal.NOT_WAITING
    elif not facts.join_token_unspent:
        refusal = SecondRedemptionRefusal.LINK_OPENED
    elif facts.join_token_expires_at is None or now >= facts.join_token_expires_at:
        refusal = SecondRedemptionRefusal.TOKEN_EXPIRED
    elif now >= facts.key_expires_at:
        refusal = SecondRedemptionRefusal.KEY_EXPIRED
    elif facts.customer_pseudonym is None or not hmac.compare_digest(
        facts.customer_pseudonym, customer_pseudonym
    ):
        refusal = SecondRedemptionRefusal.OTHER_CUSTOMER
    return SecondRedemption(refusal)
