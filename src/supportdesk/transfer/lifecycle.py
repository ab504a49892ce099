"""The life of one transfer, with no I/O: its states, the steps that move it, and the
table of moves.

A transfer's states and moves are the rows of :data:`TRANSITIONS`; anything else
raises :class:`IllegalTransition`. Both sides run the same table: the sender moves on
what it sends and what it is told, the receiver on what it receives and answers.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from types import MappingProxyType

from supportdesk.transfer.errors import TransferError


class IllegalTransition(TransferError):
    """The step is not allowed in the transfer's current state."""

    def __init__(self, state: TransferState, step: Step) -> None:
        super().__init__(f"{step.value} is not allowed in state {state.value}")
        self.state = state
        self.step = step


class TransferState(Enum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    TRANSFERRING = "transferring"
    VERIFYING = "verifying"
    DONE = "done"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Step(Enum):
    """What moves a transfer: a message sent or received, or all bytes being through."""

    ACCEPT = "accept"
    DECLINE = "decline"
    CHUNK = "chunk"
    ACK = "ack"
    ALL_BYTES = "all_bytes"
    COMPLETE = "complete"
    CANCEL = "cancel"
    FAIL = "fail"


TERMINAL_STATES = frozenset(
    {TransferState.DONE, TransferState.DECLINED, TransferState.CANCELLED, TransferState.FAILED}
)

_T = TransferState
TRANSITIONS: MappingProxyType[tuple[TransferState, Step], TransferState] = MappingProxyType(
    {
        (_T.OFFERED, Step.ACCEPT): _T.ACCEPTED,
        (_T.OFFERED, Step.DECLINE): _T.DECLINED,
        (_T.OFFERED, Step.CANCEL): _T.CANCELLED,  # the sender withdraws its offer
        (_T.OFFERED, Step.FAIL): _T.FAILED,  # refused by rule: too large, bad name, busy
        (_T.ACCEPTED, Step.CHUNK): _T.TRANSFERRING,
        (_T.ACCEPTED, Step.ALL_BYTES): _T.VERIFYING,  # an empty file
        (_T.ACCEPTED, Step.CANCEL): _T.CANCELLED,
        (_T.ACCEPTED, Step.FAIL): _T.FAILED,
        (_T.TRANSFERRING, Step.CHUNK): _T.TRANSFERRING,
        (_T.TRANSFERRING, Step.ACK): _T.TRANSFERRING,
        (_T.TRANSFERRING, Step.ALL_BYTES): _T.VERIFYING,
        (_T.TRANSFERRING, Step.CANCEL): _T.CANCELLED,
        (_T.TRANSFERRING, Step.FAIL): _T.FAILED,
        (_T.VERIFYING, Step.ACK): _T.VERIFYING,  # the sender hears acks after its last chunk
        (_T.VERIFYING, Step.COMPLETE): _T.DONE,
        (_T.VERIFYING, Step.CANCEL): _T.CANCELLED,
        (_T.VERIFYING, Step.FAIL): _T.FAILED,
    }
)
"""(state, step) -> next state. Absent pairs are illegal."""


class TransferLifecycle:
    """The state of one transfer; changes only through :meth:`apply`."""

    def __init__(self) -> None:
        self.state = TransferState.OFFERED
        self.on_change: Callable[[TransferState], None] | None = None
        """Called after every change of state (the endpoint's event log)."""

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def allows(self, step: Step) -> bool:
        return (self.state, step) in TRANSITIONS

    def apply(self, step: Step) -> TransferState:
        """Move by ``step``; :class:`IllegalTransition` (state unchanged) if no row."""
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise IllegalTransition(self.state, step)
        changed = target is not self.state
        self.state = target
        if changed and self.on_change is not None:
            self.on_change(target)
        return target


def state_diagram() -> str:
    """The transition table as a Mermaid diagram (docs/file-transfer.md embeds it; a
    test keeps the two equal)."""
    lines = ["stateDiagram-v2", "    [*] --> offered"]
    for (source, step), target in TRANSITIONS.items():
        lines.append(f"    {source.value} --> {target.value}: {step.value}")
    lines.extend(
        f"    {state.value} --> [*]" for state in TransferState if state in TERMINAL_STATES
    )
    return "\n".join(lines)
