"""Two transfer endpoints joined by an in-memory link: every message goes through the
real channel-0 framing (encode_control/decode_control), as the applet link carries it."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from supportdesk.link.frames import decode_control, decode_frame, encode_control
from supportdesk.transfer.endpoint import Side, TransferEndpoint, TransferEvent, TransferLimits
from supportdesk.transfer.messages import TransferMessage


class MemorySource:
    """A ChunkSource over bytes, noting whether it was closed."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)
        self.closed = False

    def read(self, size: int) -> bytes:
        return self._file.read(size)

    def close(self) -> None:
        self.closed = True


@dataclass
class LinkPair:
    agent: TransferEndpoint
    customer: TransferEndpoint
    wire: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    """Every message that crossed, as (from side, decoded JSON)."""

    @classmethod
    def make(
        cls, limits: TransferLimits | None = None, clock: Callable[[], float] = time.monotonic
    ) -> LinkPair:
        return cls(
            TransferEndpoint(Side.AGENT, limits, clock=clock),
            TransferEndpoint(Side.CUSTOMER, limits, clock=clock),
        )

    def endpoint(self, side: Side) -> TransferEndpoint:
        return self.agent if side is Side.AGENT else self.customer

    def deliver(self, sender: Side, messages: list[TransferMessage], limit: int = 100_000) -> None:
        """Carry ``messages`` from ``sender`` to its peer and every answer back, pumping
        both sides, until nothing more is sent."""
        queue = [(sender, m) for m in messages]
        steps = 0
        while True:
            if not queue:
                queue = [(Side.AGENT, m) for m in self.agent.pump()]
                queue += [(Side.CUSTOMER, m) for m in self.customer.pump()]
                if not queue:
                    return
            source, message = queue.pop(0)
            frame = decode_frame(encode_control(message.to_json()))
            decoded = decode_control(frame.payload)
            self.wire.append((source.value, decoded))
            target = Side.CUSTOMER if source is Side.AGENT else Side.AGENT
            answers = self.endpoint(target).receive(decoded)
            queue.extend((target, answer) for answer in answers)
            steps += 1
            assert steps < limit, "the link never went quiet"

    def types(self) -> list[str]:
        return [str(m["type"]) for _, m in self.wire]


def final_states(events: list[TransferEvent]) -> list[str]:
    return [e.state.value for e in events]
