"""Fuzz targets of the applet link: frames, control messages, and the file-transfer protocol.

``link-frames``: any WebSocket message through :func:`decode_frame`, which must give back
exactly what :func:`encode_frame` makes of the result. ``control-messages``: channel-0
payloads through :func:`decode_control` and the applet's :func:`check_relay_message`
(and the transfer schema for ``file_*``); a message that passes must be one the applet
can act on. ``file-transfer``: a newline-separated conversation from the agent's side
into the customer's :class:`TransferEndpoint`, which accepts every offer into memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from typing import Any

from supportdesk.applet.link.consent import consent_request
from supportdesk.applet.link.relay_messages import check_relay_message
from supportdesk.domain.consent import CURRENT_CONSENT_VERSION
from supportdesk.link.frames import (
    KEYFRAME_FLAG,
    LinkProtocolError,
    decode_control,
    decode_frame,
    encode_control,
    encode_frame,
)
from supportdesk.transfer.endpoint import Side, TransferEndpoint, TransferLimits
from supportdesk.transfer.errors import InvalidMessage, TransferError
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import parse_message

from .target import InvariantBroken, Target

RELAY_MESSAGES: list[dict[str, Any]] = [
    {"type": "consent_request", "renewal": False, "mode": "applet", "bank": "Musterbank",
     "domain": "bank.example", "agent_name": "Anna Berger", "consultation_number": "1234-5678",
     "verification_code": "4711", "capabilities": ["view", "control"],
     "consent_version": CURRENT_CONSENT_VERSION, "consent_sha256": "00" * 32, "consent_text": "…"},
    {"type": "open", "channel": 1, "view_only": False, "name": "Anna", "role": "agent"},
    {"type": "close", "channel": 1},
    {"type": "credit", "channel": 1, "bytes": 262144},
    {"type": "keyframe", "channel": 3},
    {"type": "screen", "screen": 1},
    {"type": "state", "state": "active", "capabilities": ["view"], "paused": False,
     "held": False, "notice": None, "watchers": [{"name": "Anna", "role": "agent"}]},
    {"type": "chat", "from": "agent", "name": "Anna", "text": "Guten Tag", "at": "2026-12-06"},
    {"type": "end", "reason": "agent"},
    {"type": "resume", "secret": "abc", "grace_seconds": 120},
    {"type": "heartbeat"},
    {"type": "file_offer", "id": "a" * 32, "direction": "to_customer", "name": "brief.pdf",
     "size": 10, "sha256": "0" * 64},
    {"type": "file_chunk", "id": "a" * 32, "seq": 0, "offset": 0, "data": "aGFsbG8="},
    {"type": "diagnostics_request", "server_time": "2026-12-06T00:00:00Z", "endpoints": []},
]  # fmt: skip


def control_seeds() -> list[bytes]:
    return [json.dumps(m, ensure_ascii=False).encode() for m in RELAY_MESSAGES] + [
        b'{"type":"state","capabilities":' + b"[" * 40 + b"]" * 40 + b"}"
    ]


def frame_seeds() -> list[bytes]:
    return [
        *(encode_control(m) for m in RELAY_MESSAGES[:4]),
        encode_frame(1, b"RFB 003.008\n\x01\x01\x03\x00\x00\x00\x00\x00\x00\x40\x00\x30"),
        encode_frame(KEYFRAME_FLAG | 2, b"\x00" + bytes(64)),
        b"\x00",
    ]


def run_frames(data: bytes) -> None:
    frame = decode_frame(data)
    if encode_frame(frame.channel, frame.payload) != data:
        raise InvariantBroken("a decoded frame does not encode to the same bytes")


def run_control(data: bytes) -> None:
    message = decode_control(data)
    if message["type"].startswith("file_"):
        with contextlib.suppress(InvalidMessage):
            parse_message(message)
    check_relay_message(message)
    # What passed the check must be usable as the applet uses it.
    if message["type"] == "consent_request":
        consent_request(message, None)
    encode_control(message)


class _MemorySink:
    def __init__(self, limit: int) -> None:
        self.data = io.BytesIO()
        self.limit = limit

    def write(self, data: bytes) -> None:
        self.data.write(data)
        if self.data.tell() > self.limit:
            raise InvariantBroken("the receiver wrote more than the offered size allows")

    def commit(self) -> str:
        return "file"

    def discard(self) -> None:
        self.data = io.BytesIO()


_LIMITS = TransferLimits(max_size=64 * 1024, window=4, chunk_size=1024)


def transfer_seeds() -> list[bytes]:
    """The agent's side of real transfers into the customer's endpoint, one message a line."""
    out = []
    for size in (0, 10, 3000):
        content = bytes(range(256)) * (size // 256) + bytes(size % 256)
        agent = TransferEndpoint(Side.AGENT, _LIMITS, new_id=lambda: "f" * 32)
        customer = TransferEndpoint(Side.CUSTOMER, _LIMITS)
        lines: list[bytes] = []
        queue = [("agent", m) for m in agent.offer("brief.pdf", size,
                                                    hashlib.sha256(content).hexdigest(),
                                                    _Source(content))]  # fmt: skip
        steps = 0
        while queue and steps < 200:
            steps += 1
            side, message = queue.pop(0)
            wire = json.dumps(message.to_json()).encode()
            if side == "agent":
                lines.append(wire)
                answers = customer.receive(json.loads(wire))
                for event in customer.events():
                    if event.state is TransferState.OFFERED:
                        answers += customer.accept(event.id, _MemorySink(size))
                queue += [("customer", a) for a in answers]
            else:
                queue += [("agent", a) for a in agent.receive(json.loads(wire))]
            if not queue:
                queue = [("agent", m) for m in agent.pump()]
        out.append(b"\n".join(lines))
    return out


class _Source:
    def __init__(self, data: bytes) -> None:
        self.file = io.BytesIO(data)

    def read(self, size: int) -> bytes:
        return self.file.read(size)

    def close(self) -> None:
        pass


def run_transfer(data: bytes) -> None:
    """Each line is one link message; a line the link or the endpoint refuses is dropped
    (as the applet does) and the rest go on. The first refusal is raised at the end, so
    the run counts the input as cleanly rejected."""
    customer = TransferEndpoint(Side.CUSTOMER, _LIMITS)
    refused: Exception | None = None
    for line in data.split(b"\n"):
        try:
            message = decode_control(line)
            if not message["type"].startswith("file_"):
                continue
            customer.receive(message)
        except (LinkProtocolError, InvalidMessage) as exc:
            refused = refused or exc
            continue
        for event in customer.events():
            if event.state is TransferState.OFFERED:
                if event.size > _LIMITS.max_size:
                    raise InvariantBroken("an offer above max_size reached the customer")
                customer.accept(event.id, _MemorySink(event.size))
        customer.pump()
    customer.expire()
    customer.cancel_all(_cancel_reason())
    if refused is not None:
        raise refused


def _cancel_reason() -> Any:
    from supportdesk.transfer.messages import CancelReason

    return CancelReason.SESSION_ENDED


TARGETS = [
    Target("link-frames", "applet link framing (decode/encode)", frame_seeds, run_frames,
           (LinkProtocolError,)),
    Target("control-messages", "channel-0 JSON + the applet's relay-message schema",
           control_seeds, run_control, (LinkProtocolError,)),
    Target("file-transfer", "customer's transfer endpoint fed the agent's side",
           transfer_seeds, run_transfer, (TransferError, LinkProtocolError)),
]  # fmt: skip
