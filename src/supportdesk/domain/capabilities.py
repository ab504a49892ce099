"""What a customer can allow an agent to do in a support session."""

from __future__ import annotations

from enum import Enum


class Capability(Enum):
    """One thing the agent may do on the customer's machine, granted by the customer."""

    VIEW = "view"
    CONTROL = "control"
    FILE_TRANSFER = "file_transfer"
    DIAGNOSTICS = "diagnostics"


# VIEW is the precondition of every session: without it there is nothing to support,
# so consent without VIEW is a decline, and VIEW can only go away by ending.
REQUIRED_CAPABILITIES: frozenset[Capability] = frozenset({Capability.VIEW})


def capability_names(capabilities: frozenset[Capability]) -> list[str]:
    """Sorted wire names, for audit data that must hash the same every time."""
    return sorted(c.value for c in capabilities)
