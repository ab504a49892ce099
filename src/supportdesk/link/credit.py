"""Credit-based flow control for one RFB channel of the applet link.

The applet may have at most ``window`` bytes of a channel in flight: sent but not yet
delivered to that channel's viewer. The relay returns credit as it delivers, so a
slow viewer slows its own channel only, and the relay never buffers more than one
window per channel.
"""

from __future__ import annotations

DEFAULT_WINDOW = 1024 * 1024


class CreditError(ValueError):
    """Credit returned that was never spent: a peer's bookkeeping is off."""


class CreditWindow:
    def __init__(self, window: int = DEFAULT_WINDOW) -> None:
        if window <= 0:
            raise ValueError("a credit window must be positive")
        self.window = window
        self.in_flight = 0

    @property
    def available(self) -> int:
        return self.window - self.in_flight

    def spend(self, size: int) -> None:
        """Record ``size`` bytes sent. A single chunk may exceed the window only when
        nothing else is in flight, so oversize chunks cannot deadlock the channel."""
        if size < 0:
            raise ValueError("negative size")
        if size > self.available and self.in_flight > 0:
            raise CreditError("sending beyond the window")
        self.in_flight += size

    def may_send(self, size: int) -> bool:
        return size <= self.available or self.in_flight == 0

    def returned(self, size: int) -> None:
        if not 0 <= size <= self.in_flight:
            raise CreditError(f"credit of {size} returned with {self.in_flight} in flight")
        self.in_flight -= size
