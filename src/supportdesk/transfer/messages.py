"""The file-transfer control messages: their fields, limits and strict JSON both ways.

Every message travels on channel 0 of the applet link as one JSON object whose
``type`` starts with ``file_``. File content travels in ``file_chunk`` messages as
base64 inside that JSON: one ordered stream with the control messages (a cancel can
never overtake the chunks it cancels), teed into the recording with the rest of
channel 0 (the relay records each chunk's bytes once, decoded: FILE_DATA), and no
RFB channel or credit window to allocate. The price is a third more
bytes on the wire, which file transfer at support-desk sizes can afford.

A message that breaks the schema raises :class:`InvalidMessage` (the peer's fault);
what a transfer may do next is :mod:`supportdesk.transfer.lifecycle`'s table.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from supportdesk.transfer.errors import InvalidMessage

MAX_CHUNK = 64 * 1024
"""Largest chunk payload in bytes (before base64): 64 KiB keep one chunk well below
the link's 256 KiB control-message limit even after base64 and JSON."""
DEFAULT_CHUNK = MAX_CHUNK
DEFAULT_WINDOW = 8
MAX_WINDOW = 64
"""The receiver chooses the window; the cap bounds what a sender may have in flight."""
MAX_OFFERED_NAME = 1024
MAX_DETAIL = 200
MAX_SIZE_ON_WIRE = 2**53 - 1
"""Largest integer JSON carries exactly (JavaScript's safe integer): the console reads
these messages too."""

_E = TypeVar("_E", bound=Enum)
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


# -- vocabulary ------------------------------------------------------------------------


class Direction(Enum):
    TO_CUSTOMER = "to_customer"
    TO_AGENT = "to_agent"


class CancelReason(Enum):
    """Why a transfer was stopped on purpose."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SESSION_ENDED = "session_ended"
    PAUSED = "paused"
    CAPABILITY_REVOKED = "capability_revoked"
    TIMEOUT = "timeout"


class ErrorCode(Enum):
    """Why a transfer failed (or was refused before the customer saw it)."""

    TOO_LARGE = "too_large"
    BAD_NAME = "bad_name"
    BUSY = "busy"
    NOT_ALLOWED = "not_allowed"
    SIZE_MISMATCH = "size_mismatch"
    HASH_MISMATCH = "hash_mismatch"
    SOURCE_CHANGED = "source_changed"
    READ_FAILED = "read_failed"
    WRITE_FAILED = "write_failed"
    PROTOCOL = "protocol"


# -- messages --------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidMessage(message)


def _check_id(value: object) -> str:
    _require(isinstance(value, str) and _ID.fullmatch(value) is not None, "bad transfer id")
    assert isinstance(value, str)
    return value


def _check_int(value: object, field: str, low: int, high: int) -> int:
    # bool is an int in Python but not a number on the wire.
    _require(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        f"{field} must be an integer in [{low}, {high}]",
    )
    assert isinstance(value, int)
    return value


def _check_sha256(value: object) -> str:
    _require(
        isinstance(value, str) and _SHA256.fullmatch(value) is not None,
        "sha256 must be 64 lowercase hex digits",
    )
    assert isinstance(value, str)
    return value


def _check_str(value: object, field: str, limit: int) -> str:
    _require(isinstance(value, str) and 0 < len(value) <= limit, f"{field} must be 1..{limit}")
    assert isinstance(value, str)
    return value


def _check_enum(kind: type[_E], value: object, field: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidMessage(f"unknown {field} {value!r}") from None


def _fields(data: Mapping[str, Any], expected_type: str, names: frozenset[str]) -> None:
    _require(data.get("type") == expected_type, f"not a {expected_type} message")
    unknown = set(data) - names - {"type"}
    _require(not unknown, f"{expected_type}: unknown fields {sorted(unknown)}")
    missing = names - set(data)
    _require(not missing, f"{expected_type}: missing fields {sorted(missing)}")


@dataclass(frozen=True)
class FileOffer:
    """The sender proposes a file. ``name`` is the sender's wish; the receiver
    sanitises it and never trusts it as a path."""

    TYPE: ClassVar[str] = "file_offer"
    id: str
    direction: Direction
    name: str
    size: int
    sha256: str

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_str(self.name, "name", MAX_OFFERED_NAME)
        _check_int(self.size, "size", 0, MAX_SIZE_ON_WIRE)
        _check_sha256(self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "id": self.id,
            "direction": self.direction.value,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileOffer:
        _fields(data, cls.TYPE, frozenset({"id", "direction", "name", "size", "sha256"}))
        return cls(
            data["id"],
            _check_enum(Direction, data["direction"], "direction"),
            data["name"],
            data["size"],
            data["sha256"],
        )


@dataclass(frozen=True)
class FileAccept:
    """The customer approved; the receiver takes at most ``window`` unacknowledged
    chunks."""

    TYPE: ClassVar[str] = "file_accept"
    id: str
    window: int = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_int(self.window, "window", 1, MAX_WINDOW)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "window": self.window}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileAccept:
        _fields(data, cls.TYPE, frozenset({"id", "window"}))
        return cls(data["id"], data["window"])


@dataclass(frozen=True)
class FileDecline:
    """The customer said no to this transfer."""

    TYPE: ClassVar[str] = "file_decline"
    id: str

    def __post_init__(self) -> None:
        _check_id(self.id)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileDecline:
        _fields(data, cls.TYPE, frozenset({"id"}))
        return cls(data["id"])


@dataclass(frozen=True)
class FileChunk:
    """Bytes ``seq * chunk_size ...`` of the file; ``seq`` counts from 0 without gaps.
    Every chunk but possibly the last is non-empty; an empty file has no chunk."""

    TYPE: ClassVar[str] = "file_chunk"
    id: str
    seq: int
    data: bytes

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_int(self.seq, "seq", 0, MAX_SIZE_ON_WIRE)
        _require(isinstance(self.data, bytes), "chunk data must be bytes")
        _require(0 < len(self.data) <= MAX_CHUNK, f"a chunk holds 1..{MAX_CHUNK} bytes")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "id": self.id,
            "seq": self.seq,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileChunk:
        _fields(data, cls.TYPE, frozenset({"id", "seq", "data"}))
        encoded = data["data"]
        # Refuse before decoding: a 100 MB string must not be decoded to learn it is big.
        _require(
            isinstance(encoded, str) and 0 < len(encoded) <= 4 * ((MAX_CHUNK + 2) // 3),
            "chunk data must be base64 of 1..65536 bytes",
        )
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidMessage("chunk data is not valid base64") from None
        return cls(data["id"], data["seq"], raw)


@dataclass(frozen=True)
class FileAck:
    """The receiver has written every chunk up to and including ``seq`` (cumulative)."""

    TYPE: ClassVar[str] = "file_ack"
    id: str
    seq: int

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_int(self.seq, "seq", 0, MAX_SIZE_ON_WIRE)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "seq": self.seq}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileAck:
        _fields(data, cls.TYPE, frozenset({"id", "seq"}))
        return cls(data["id"], data["seq"])


@dataclass(frozen=True)
class FileCancel:
    """Either side stops the transfer on purpose."""

    TYPE: ClassVar[str] = "file_cancel"
    id: str
    reason: CancelReason

    def __post_init__(self) -> None:
        _check_id(self.id)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "reason": self.reason.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileCancel:
        _fields(data, cls.TYPE, frozenset({"id", "reason"}))
        return cls(data["id"], _check_enum(CancelReason, data["reason"], "reason"))


@dataclass(frozen=True)
class FileComplete:
    """The receiver verified ``sha256`` and the file is under its final name."""

    TYPE: ClassVar[str] = "file_complete"
    id: str
    sha256: str

    def __post_init__(self) -> None:
        _check_id(self.id)
        _check_sha256(self.sha256)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileComplete:
        _fields(data, cls.TYPE, frozenset({"id", "sha256"}))
        return cls(data["id"], data["sha256"])


@dataclass(frozen=True)
class FileError:
    """The transfer failed (or the offer was refused by rule): ``code`` says why,
    ``detail`` is for the log, never shown as a path or with personal data."""

    TYPE: ClassVar[str] = "file_error"
    id: str
    code: ErrorCode
    detail: str = ""

    def __post_init__(self) -> None:
        _check_id(self.id)
        _require(isinstance(self.detail, str) and len(self.detail) <= MAX_DETAIL, "detail too long")

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "code": self.code.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FileError:
        _fields(data, cls.TYPE, frozenset({"id", "code", "detail"}))
        return cls(data["id"], _check_enum(ErrorCode, data["code"], "code"), data["detail"])


TransferMessage = (
    FileOffer
    | FileAccept
    | FileDecline
    | FileChunk
    | FileAck
    | FileCancel
    | FileComplete
    | FileError
)

MESSAGE_TYPES: MappingProxyType[str, type[TransferMessage]] = MappingProxyType(
    {
        kind.TYPE: kind
        for kind in (
            FileOffer,
            FileAccept,
            FileDecline,
            FileChunk,
            FileAck,
            FileCancel,
            FileComplete,
            FileError,
        )
    }
)


def is_transfer_message(message: Mapping[str, Any]) -> bool:
    """Does this control message belong to file transfer (for the link's dispatch)?"""
    kind = message.get("type")
    return isinstance(kind, str) and kind in MESSAGE_TYPES


def parse_message(message: Mapping[str, Any]) -> TransferMessage:
    """A decoded channel-0 object as a transfer message; :class:`InvalidMessage` if it
    is not one or breaks the schema."""
    kind = MESSAGE_TYPES.get(str(message.get("type")))
    if kind is None:
        raise InvalidMessage(f"not a file-transfer message: {message.get('type')!r}")
    return kind.from_json(message)
