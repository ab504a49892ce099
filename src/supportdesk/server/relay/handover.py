"""What a relay stores so another node can take its session over, and how that node
takes it up: the customer link's facts (kind, language, the resume secret's digest,
when it was last known alive). It reaches the relay through :class:`HandedRelay`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from supportdesk.domain.consent import Language
from supportdesk.domain.customer_link import CustomerLink, LinkPhase
from supportdesk.domain.session_events import LIVE_STATES
from supportdesk.domain.session_snapshot import LinkFacts
from supportdesk.domain.support_session import SupportSession
from supportdesk.server.relay.link_keeper import LinkKeeper
from supportdesk.server.relay.link_rules import LinkKind
from supportdesk.server.remote_support import RemoteSupport

log = logging.getLogger(__name__)


class HandedRelay(Protocol):
    """What a hand-over between nodes needs of the relay; ``SessionRelay`` is one. A
    protocol, so the relay imports this module and not the other way round."""

    number: str
    clock: Callable[[], datetime]
    remote: RemoteSupport
    session: SupportSession
    keeper: LinkKeeper
    link: LinkKind | None
    language: Language
    stepped_aside: bool


def link_facts(relay: HandedRelay) -> LinkFacts | None:
    """The facts of a consented link, as the relay knows them now."""
    link = relay.keeper.link
    if link is None or relay.link is None:
        return None
    return LinkFacts(
        kind=relay.link.value,
        language=relay.language.value,
        secret_digest=link.secret_digest,
        lost_since=link.lost_since,
        renewal_owed=link.renewal_owed or link.phase is LinkPhase.RENEWING,
        seen_at=relay.clock(),
    )


async def keep_link_facts(relay: HandedRelay) -> None:
    """Store the link's facts in the session's snapshot; a failure is logged, never
    fatal (the link goes on; only a take-over would know less)."""
    facts = link_facts(relay)
    if facts is None or relay.stepped_aside:
        return
    try:
        await relay.remote.set_link(relay.number, facts)
    except Exception:
        log.warning("link facts not stored", exc_info=True, extra={"session": relay.number})


async def adopt_link(relay: HandedRelay, facts: LinkFacts) -> None:
    """Take up the link of a session another node served until it went away."""
    relay.link = LinkKind(facts.kind)
    relay.language = Language(facts.language)
    if facts.secret_digest is None or relay.session.state not in LIVE_STATES:
        return
    lost_since = facts.lost_since or facts.seen_at or relay.clock()
    link = CustomerLink.taken_over(
        relay.number, relay.keeper.policy, facts.secret_digest, lost_since, facts.renewal_owed
    )
    await relay.keeper.adopt(link)
