"""What the relay makes of the customer's masking: the rules it sends, the audit it writes.

The support program masks on the customer's PC; the relay only hears about it. At
consent the answer says whether secret fields are masked automatically and which
version of the bank's window rules was in force (audited once, ``session.masking_setup``).
While the session runs, a ``masking`` message names the kinds of mask now on
(``secret_input``, ``window_rule``, ``privacy``); each change is audited as started or
stopped, with the kinds and never a place or a content, and the consoles show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.mask_rules import MaskRules
from supportdesk.link.frames import LinkProtocolError

MASK_KINDS = frozenset({"secret_input", "window_rule", "privacy"})
MASKING_STARTED = "session.masking_started"
MASKING_STOPPED = "session.masking_stopped"
MASKING_SETUP = "session.masking_setup"


def masking_kinds(message: dict[str, Any]) -> frozenset[str]:
    """The kinds a ``masking`` message names; LinkProtocolError for anything else."""
    kinds = message.get("kinds")
    if not isinstance(kinds, list) or len(kinds) > len(MASK_KINDS):
        raise LinkProtocolError("masking: 'kinds' must be a short list")
    if not all(isinstance(k, str) and k in MASK_KINDS for k in kinds):
        raise LinkProtocolError(f"masking: unknown kind in {kinds!r}")
    return frozenset(kinds)


def masking_change(
    at: datetime, number: str, before: frozenset[str], after: frozenset[str]
) -> list[AuditRecord]:
    """The audit entries for a change of the masks on (none if nothing changed)."""
    records = []
    if started := after - before:
        records.append(
            AuditRecord(at, MASKING_STARTED, "customer", number, {"kinds": sorted(started)})
        )
    if stopped := before - after:
        records.append(
            AuditRecord(at, MASKING_STOPPED, "customer", number, {"kinds": sorted(stopped)})
        )
    return records


def masking_setup(
    at: datetime, number: str, message: dict[str, Any], rules: MaskRules
) -> AuditRecord:
    """The audit entry of a "Ja": what the program said about masking, and the rules sent."""
    reported = message.get("masking")
    automatic = isinstance(reported, dict) and reported.get("automatic") is True
    version = reported.get("rules_version") if isinstance(reported, dict) else None
    return AuditRecord(
        at,
        MASKING_SETUP,
        "customer",
        number,
        {
            "automatic": automatic,
            "rules_version": rules.version,
            "rules": len(rules.windows),
            # a program that did not receive the rules in force says so here
            "rules_confirmed": version == rules.version,
        },
    )
