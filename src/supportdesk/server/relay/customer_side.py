"""The customer's side of a session's relay: the consent asked of the customer, what the
customer's link may say (consent, pause, grants, chat, files, diagnostics, the screens
it has) and what the relay does about it.

The relay (:mod:`.session_relay`) reads the link, checks each message's framing and
records it; :func:`customer_control` carries it out on the relay, which it reaches
through :class:`CustomerRelay`. Which messages a kind of link may send, and what a
consent grants, are the pure rules of :mod:`.link_rules`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, Protocol

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import (
    BROWSER_CONSENT_VERSION,
    CURRENT_CONSENT_VERSION,
    Language,
    RenderedConsent,
)
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.session_actors import CUSTOMER_ACTOR
from supportdesk.domain.session_events import (
    CapabilityGranted,
    CapabilityRevoked,
    ConsentDeclined,
    ConsentGiven,
    ConsentRequested,
    EndReason,
    Party,
    Paused,
    Resumed,
)
from supportdesk.link.frames import LinkProtocolError
from supportdesk.server.relay.link_keeper import LinkKeeper
from supportdesk.server.relay.link_rules import (
    LinkKind,
    check_message,
    consent_event,
    customer_platform,
)
from supportdesk.server.relay.masking_events import masking_change, masking_kinds, masking_setup
from supportdesk.server.relay.session_files import Outbox, SessionFiles
from supportdesk.server.relay.team_side import TeamRelay, refuse_control
from supportdesk.server.relay.video_fanout import VideoFanout, video_config

log = logging.getLogger(__name__)


class CustomerRelay(TeamRelay, Protocol):
    """What the customer's side needs of its relay (the team's side too: the customer
    may refuse an agent's control); ``SessionRelay`` is one. A protocol, so the relay
    imports this module and not the other way round."""

    keeper: LinkKeeper
    video: VideoFanout
    files: SessionFiles
    masking: frozenset[str]
    screens: list[dict[str, Any]]
    platform: str | None
    declined_reason: str | None
    consent_shown: RenderedConsent | None
    consent_offered: frozenset[Capability]

    async def audit(self, *records: AuditRecord) -> None: ...

    async def deliver(self, outbox: Outbox) -> None: ...

    async def post_chat(self, side: str, name: str | None, text: str, actor: str) -> None: ...

    async def going_on(self) -> None: ...

    async def end(self, reason: EndReason) -> None: ...


_AUDITS: set[asyncio.Task[None]] = set()  # held until written (the loop keeps weak refs)


def _audited(task: asyncio.Task[None]) -> None:
    _AUDITS.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("masking audit not written", exc_info=task.exception())


async def customer_control(relay: CustomerRelay, message: dict[str, Any]) -> None:
    """Carry out one control message of the customer's link (already recorded)."""
    kind = message["type"]
    now = relay.clock()
    check_message(relay.link or LinkKind.APPLET, kind)
    if kind == "consent":
        await _consent(relay, message, now)
    elif kind == "video_config":
        config = video_config(message)
        relay.recording.video_config(config)
        relay.video.configure(config)
        await relay.publish()
    elif kind in ("grant", "revoke"):
        capability = Capability(str(message.get("capability")))
        event = (
            CapabilityGranted(now, capability)
            if kind == "grant"
            else CapabilityRevoked(now, capability, Party.CUSTOMER)
        )
        await relay.remote.apply(relay.number, event)
    elif kind == "masking":
        kinds = masking_kinds(message)
        before, relay.masking = relay.masking, kinds
        if records := masking_change(now, relay.number, before, kinds):
            await relay.audit(*records)
            await relay.publish()
    elif kind == "pause":
        await relay.remote.apply(relay.number, Paused(now, Party.CUSTOMER))
    elif kind == "resume":
        await relay.remote.apply(relay.number, Resumed(now, Party.CUSTOMER))
    elif kind == "end":
        await relay.end(EndReason.CUSTOMER)
    elif kind == "chat":
        await relay.post_chat("customer", None, str(message.get("text", "")), CUSTOMER_ACTOR)
    elif kind == "hello":
        screens = message.get("screens", [])
        if isinstance(screens, list):
            relay.screens = [s for s in screens[:16] if isinstance(s, dict)]
        relay.platform = customer_platform(message.get("platform"))
        await relay.publish()
    elif kind == "close":
        viewer = relay.viewers.get(int(message.get("channel", -1)))
        if viewer is not None:
            # The applet ended this stream (e.g. another screen was chosen): the
            # viewer reconnects and gets a fresh channel.
            with contextlib.suppress(Exception):
                await viewer.socket.close(code=1000, reason="stream closed by the applet")
    elif kind == "refuse_control":
        await refuse_control(relay, message.get("notice"))
    elif kind == "credit":
        pass  # the relay never sends RFB data towards the applet on credit
    elif kind.startswith("file_"):
        allowed = Capability.FILE_TRANSFER in relay.session.granted
        await relay.deliver(relay.files.from_applet(message, files_allowed=allowed))
    elif kind.startswith("diagnostics_"):
        await relay.deliver(relay.files.diagnostics_from_applet(message))
    else:
        raise LinkProtocolError(f"unknown control message {kind!r}")


async def _consent(relay: CustomerRelay, message: dict[str, Any], now: datetime) -> None:
    kind = relay.link or LinkKind.APPLET
    event = consent_event(
        kind,
        message,
        relay.consent_shown,
        now,
        agent_name=relay.info.agent_name,
        offered=relay.consent_offered,
    )
    if relay.keeper.renewing:
        await _renewal(relay, event)
        return
    if isinstance(event, ConsentDeclined):
        relay.declined_reason = event.reason
        await relay.remote.apply(relay.number, event)
        return
    await relay.remote.apply(relay.number, event)
    await relay.keeper.consented()
    await relay.recording.start()  # before any screen byte; holds if it cannot
    if kind is LinkKind.BROWSER:
        await relay.recording.video_opened()  # then seek points by its chunks
    # What the program says about masking: audited beside, never in the way of the
    # consented state and the recording's start (an awaited write here delayed them).
    record = masking_setup(now, relay.number, message, relay.info.mask_rules)
    task = asyncio.create_task(relay.audit(record), name=f"masking-audit-{relay.number}")
    _AUDITS.add(task)
    task.add_done_callback(_audited)


async def _renewal(relay: CustomerRelay, event: ConsentGiven | ConsentDeclined) -> None:
    shown = event.shown or relay.consent_shown  # the text the customer read again
    assert shown is not None
    if isinstance(event, ConsentDeclined):
        await relay.end(EndReason.CUSTOMER)  # "Nein" after a long gap: over
        return
    await relay.keeper.renewed(shown)
    await relay.going_on()
    await relay.publish()


async def request_consent(
    relay: CustomerRelay, language: Language, kind: LinkKind, *, renewal: bool = False
) -> None:
    """Ask the customer for consent (or, ``renewal``, again after a long gap): the
    dialog's facts and the first text it shows, for the kind of link."""
    browser = kind is LinkKind.BROWSER
    version = BROWSER_CONSENT_VERSION if browser else CURRENT_CONSENT_VERSION
    capabilities = [Capability.VIEW] if browser else list(Capability)
    # The dialog opens with VIEW alone ticked: its first text. The customer's
    # answer cites the text shown at "Ja" (checked when it comes, above).
    shown = consent_text(version, language).render(relay.info.agent_name)
    relay.consent_shown = shown
    relay.consent_offered = frozenset(capabilities)
    if not renewal:
        await relay.remote.apply(relay.number, ConsentRequested(relay.clock(), shown))
    await relay.to_applet(
        {
            "type": "consent_request",
            "renewal": renewal,
            "mode": kind.value,
            "bank": relay.info.bank_name,
            "domain": relay.info.bank_domain,
            "agent_name": relay.info.agent_name,
            "consultation_number": relay.number,
            "verification_code": str(relay.session.verification_code),
            "capabilities": [c.value for c in capabilities],
            "consent_version": shown.version,
            "consent_sha256": shown.sha256,
            "consent_text": shown.text,
            "recorded": True,
            "mask_rules": relay.info.mask_rules.as_json(),
        }
    )
