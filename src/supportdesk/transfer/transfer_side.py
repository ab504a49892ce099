"""What both ends of one file transfer share: its identity, its life cycle, and
stopping short of done (cancel, fail), which each end follows by releasing its file."""

from __future__ import annotations

from supportdesk.transfer.lifecycle import IllegalTransition, Step, TransferLifecycle, TransferState
from supportdesk.transfer.messages import (
    CancelReason,
    ErrorCode,
    FileCancel,
    FileError,
    FileOffer,
    TransferMessage,
)


class TransferSide:
    def __init__(self, offer: FileOffer) -> None:
        self.offer = offer
        self.lifecycle = TransferLifecycle()
        self.outcome: str | None = None
        """The cancel reason or error code once the transfer stopped short of done."""

    @property
    def id(self) -> str:
        return self.offer.id

    @property
    def state(self) -> TransferState:
        return self.lifecycle.state

    def cancel(self, reason: CancelReason) -> list[TransferMessage]:
        """Stop on purpose (the customer's button, the session's end); idempotent."""
        if not self.lifecycle.allows(Step.CANCEL):
            return []
        self._stop(Step.CANCEL, reason.value)
        return [FileCancel(self.id, reason)]

    def fail(self, code: ErrorCode, detail: str = "") -> list[TransferMessage]:
        """Stop because something broke; returns the error to tell the other side."""
        if not self.lifecycle.allows(Step.FAIL):
            return []
        self._stop(Step.FAIL, code.value)
        return [FileError(self.id, code, detail[:200])]

    def _stop(self, step: Step, outcome: str | None) -> None:
        if not self.lifecycle.allows(step):
            raise IllegalTransition(self.state, step)
        self.outcome = outcome  # before the move, so the change's observers see it
        self.lifecycle.apply(step)
        self._release()

    def _release(self) -> None:
        """Let go of the file: the sender closes its source, the receiver discards."""
        raise NotImplementedError
