"""The byte layout of a recording file: file header, chunk headers and records.

Pure packing and parsing, no files and no crypto (that is :mod:`.crypto`). The
layout is specified, with the reasons for each field, in ``docs/recording-format.md``;
the constants here are the single source of the numbers given there.

A recording is ``FileHeader`` followed by chunks, each ``ChunkHeader`` + encrypted
body. A body decrypts to a zstandard frame that decompresses to records. Version 2
headers (200 bytes) add the segment number and the previous segment's final hash:
a session whose server died continues in a new file chained to the last one.
Version 1 headers (160 bytes) are still read, as segment 1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from .errors import RecordingInvalid

__all__ = [
    "CHUNK_HEADER_SIZE",
    "CHUNK_MAGIC",
    "FILE_HEADER_SIZE",
    "FILE_HEADER_SIZE_V1",
    "FILE_MAGIC",
    "FORMAT_VERSION",
    "MAX_BODY",
    "MAX_FILE_HEADER_SIZE",
    "MAX_RECORD_PAYLOAD",
    "MAX_VIDEO_PAYLOAD",
    "NO_CHANNEL",
    "NO_LINK",
    "RECORD_HEADER_SIZE",
    "RFB_KINDS",
    "VIDEO_HEADER_SIZE",
    "ChunkFlags",
    "ChunkHeader",
    "FileFlags",
    "FileHeader",
    "KeyWrap",
    "Record",
    "RecordKind",
    "decode_records",
    "encode_record",
]

FILE_MAGIC = b"SDREC\x00\r\n"
"""8 bytes; the NUL and CR LF catch a file mangled by a text-mode copy."""
CHUNK_MAGIC = b"SDCH"
FORMAT_VERSION = 2
FILE_HEADER_SIZE_V1 = 160
FILE_HEADER_SIZE = 200
"""The size of a version 2 header (what the writer writes); version 1 has 160."""
MAX_FILE_HEADER_SIZE = FILE_HEADER_SIZE
_HEADER_SIZES = {1: FILE_HEADER_SIZE_V1, 2: FILE_HEADER_SIZE}
NO_LINK = bytes(32)
"""The previous-segment hash of segment 1: there is none."""
CHUNK_HEADER_SIZE = 80
RECORD_HEADER_SIZE = 15
MAX_BODY = 64 * 1024 * 1024
"""Upper bound of one chunk body, plain or encrypted: a reader refuses larger claims."""
MAX_RECORD_PAYLOAD = 48 * 1024 * 1024
MAX_VIDEO_PAYLOAD = 4 * 1024 * 1024
"""A VIDEO record holds one link payload: at most the link's ``MAX_PAYLOAD`` (4 MiB)."""
VIDEO_HEADER_SIZE = 9
"""flags (1 byte) + timestamp (uint64, µs) in front of every encoded video chunk."""
NO_CHANNEL = 0xFFFF
MAX_CONSULTATION_NUMBER = 48
WRAPPED_KEY_FIELD = 48
MASTER_KEY_ID_SIZE = 8
RECORDING_ID_SIZE = 16

# magic, version, header size, flags, created µs, recording id, key wrap, wrapped
# length, master key id, wrapped key, number length, number
_FILE = struct.Struct(">8sHHIq16sBB8s48sB48s")
_FILE_PAD = FILE_HEADER_SIZE_V1 - _FILE.size
# version 2 only, at offset 160: segment number, previous segment's final hash, reserved
_SEGMENT = struct.Struct(">I32s4x")
assert FILE_HEADER_SIZE_V1 + _SEGMENT.size == FILE_HEADER_SIZE
# magic, flags, reserved, channel, sequence, first µs, last µs, records, plain length,
# body length, reserved, previous hash
_CHUNK = struct.Struct(">4sBBHQQQIII4x32s")
_RECORD = struct.Struct(">BHQI")
assert _CHUNK.size == CHUNK_HEADER_SIZE
assert _RECORD.size == RECORD_HEADER_SIZE
assert _FILE_PAD >= 0


class RecordKind(IntEnum):
    """What a record holds; the value is its byte on disk."""

    RFB_SERVER_TO_CLIENT = 1
    """Bytes the applet's RFB server sent towards a viewer (one channel)."""
    RFB_CLIENT_TO_SERVER = 2
    """Bytes a viewer sent towards the applet, after the relay's input gate."""
    CONTROL = 3
    """A JSON control message (consent, state, pause, open/close of channels)."""
    CHAT = 4
    """A JSON chat entry."""
    FILE_EVENT = 5
    """A JSON file-transfer event (offered, accepted, completed, with digest)."""
    KEYFRAME = 6
    """A standalone full-screen update of one channel (see :mod:`.keyframe`)."""
    VIDEO = 7
    """One encoded video chunk of a browser's screen, as on the link: flags, timestamp, bytes."""
    VIDEO_CONFIG = 8
    """The JSON ``video_config`` (codec, width, height) of the video chunks that follow."""
    FILE_DATA = 9
    """The bytes of one ``file_chunk``, decoded, right after the control record that
    names its transfer and sequence number (which then holds no ``data``)."""


RFB_KINDS = frozenset({RecordKind.RFB_SERVER_TO_CLIENT, RecordKind.RFB_CLIENT_TO_SERVER})
"""The records of an RFB channel's two streams."""


EVENT_KINDS = frozenset({RecordKind.CONTROL, RecordKind.CHAT, RecordKind.FILE_EVENT})


class FileFlags(IntFlag):
    NONE = 0
    DESTROYED = 1
    """The data key was overwritten: nothing in this file can be decrypted any more."""


class KeyWrap(IntEnum):
    AES_KW = 1
    """RFC 3394 AES key wrap, AES-256 master key (40-byte output for a 32-byte key)."""


class ChunkFlags(IntFlag):
    NONE = 0
    KEYFRAME = 1
    """The chunk's first record is a keyframe of ``channel``: playback may start here."""
    CHANNEL_START = 2
    """The chunk's first record is the first server-to-client record of ``channel``."""
    EVENTS = 4
    """The chunk holds at least one control, chat or file-event record."""
    FINAL = 8
    """Written by ``close()``: the recording ended cleanly with this chunk."""
    VIDEO = 16
    """With KEYFRAME or CHANNEL_START: ``channel`` is a video channel (a browser's screen)."""


@dataclass(frozen=True, slots=True)
class Record:
    """One timestamped item of a session: ``at_us`` is microseconds since the start."""

    at_us: int
    kind: RecordKind
    channel: int
    payload: bytes


def encode_record(record: Record) -> bytes:
    if len(record.payload) > MAX_RECORD_PAYLOAD:
        raise ValueError(f"record payload of {len(record.payload)} bytes exceeds the limit")
    head = _RECORD.pack(record.kind, record.channel, record.at_us, len(record.payload))
    return head + record.payload


def decode_records(data: bytes, expected_count: int) -> list[Record]:
    """Parse a decompressed chunk body; raises RecordingInvalid if it is malformed."""
    out: list[Record] = []
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        if pos + RECORD_HEADER_SIZE > len(data):
            raise RecordingInvalid("record header cut short")
        kind, channel, at_us, length = _RECORD.unpack_from(data, pos)
        pos += RECORD_HEADER_SIZE
        if pos + length > len(data):
            raise RecordingInvalid("record payload cut short")
        try:
            record_kind = RecordKind(kind)
        except ValueError:
            raise RecordingInvalid(f"unknown record kind {kind}") from None
        out.append(Record(at_us, record_kind, channel, bytes(view[pos : pos + length])))
        pos += length
    if len(out) != expected_count:
        raise RecordingInvalid(f"{len(out)} records, the header says {expected_count}")
    return out


@dataclass(frozen=True, slots=True)
class FileHeader:
    """The plaintext head of a recording: who, when, and the wrapped data key."""

    consultation_number: str
    created_at_us: int
    """Microseconds since the Unix epoch (UTC) at which the session started."""
    recording_id: bytes
    master_key_id: bytes
    wrapped_key: bytes
    key_wrap: KeyWrap = KeyWrap.AES_KW
    flags: FileFlags = FileFlags.NONE
    version: int = FORMAT_VERSION
    segment: int = 1
    """1 for a session's first file; n + 1 for the file that continues segment n."""
    previous_hash: bytes = NO_LINK
    """The final chain hash of segment ``segment - 1`` (32 zero bytes for segment 1)."""

    @property
    def size(self) -> int:
        """Bytes of this header in the file: where chunk 0 starts."""
        return _HEADER_SIZES[self.version]

    @staticmethod
    def size_of(data: bytes) -> int:
        """The header size a file announces in its first 12 bytes (for reading it whole)."""
        if len(data) < 12 or data[:8] != FILE_MAGIC:
            raise RecordingInvalid("not a supportdesk recording (bad magic)")
        version, size = struct.unpack_from(">HH", data, 8)
        if _HEADER_SIZES.get(version) != size:
            raise RecordingInvalid(f"unsupported recording format version {version}")
        return int(size)

    def pack(self) -> bytes:
        number = self.consultation_number.encode("utf-8")
        if len(number) > MAX_CONSULTATION_NUMBER:
            raise ValueError("consultation number too long for the file header")
        if len(self.wrapped_key) > WRAPPED_KEY_FIELD:
            raise ValueError("wrapped key too long for the file header")
        if self.version not in _HEADER_SIZES:
            raise ValueError(f"unknown recording format version {self.version}")
        if len(self.previous_hash) != 32 or self.segment < 1:
            raise ValueError("a segment is numbered from 1 and links by a 32-byte hash")
        if self.segment == 1 and self.previous_hash != NO_LINK:
            raise ValueError("segment 1 has no previous segment")
        if self.version == 1 and (self.segment != 1 or self.previous_hash != NO_LINK):
            raise ValueError("version 1 files cannot continue a segment")
        packed = _FILE.pack(
            FILE_MAGIC,
            self.version,
            self.size,
            self.flags,
            self.created_at_us,
            self.recording_id,
            self.key_wrap,
            len(self.wrapped_key),
            self.master_key_id,
            self.wrapped_key,
            len(number),
            number,
        )
        packed += bytes(_FILE_PAD)
        if self.version >= 2:
            packed += _SEGMENT.pack(self.segment, self.previous_hash)
        return packed

    @classmethod
    def parse(cls, data: bytes) -> FileHeader:
        if len(data) < FILE_HEADER_SIZE_V1:
            raise RecordingInvalid("file shorter than a recording header")
        (
            magic,
            version,
            size,
            flags,
            created,
            recording_id,
            wrap,
            wrapped_length,
            key_id,
            wrapped,
            number_length,
            number,
        ) = _FILE.unpack_from(data)
        if magic != FILE_MAGIC:
            raise RecordingInvalid("not a supportdesk recording (bad magic)")
        if _HEADER_SIZES.get(version) != size:
            raise RecordingInvalid(f"unsupported recording format version {version}")
        if len(data) < size:
            raise RecordingInvalid("file shorter than a recording header")
        segment, previous = 1, NO_LINK
        if version >= 2:
            segment, previous = _SEGMENT.unpack_from(data, FILE_HEADER_SIZE_V1)
            if segment < 1 or (segment == 1 and previous != NO_LINK):
                raise RecordingInvalid("damaged recording header (segment link)")
        if wrapped_length > WRAPPED_KEY_FIELD or number_length > MAX_CONSULTATION_NUMBER:
            raise RecordingInvalid("damaged recording header")
        try:
            key_wrap = KeyWrap(wrap)
            text = number[:number_length].decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise RecordingInvalid("damaged recording header") from None
        return cls(
            consultation_number=text,
            created_at_us=created,
            recording_id=recording_id,
            master_key_id=key_id,
            wrapped_key=wrapped[:wrapped_length],
            key_wrap=key_wrap,
            flags=FileFlags(flags),
            version=version,
            segment=segment,
            previous_hash=previous,
        )


@dataclass(frozen=True, slots=True)
class ChunkHeader:
    """The plaintext, authenticated (GCM associated data) head of one chunk."""

    sequence: int
    first_us: int
    last_us: int
    record_count: int
    plain_length: int
    body_length: int
    prev_hash: bytes
    flags: ChunkFlags = ChunkFlags.NONE
    channel: int = NO_CHANNEL

    def pack(self) -> bytes:
        return _CHUNK.pack(
            CHUNK_MAGIC,
            self.flags,
            0,
            self.channel,
            self.sequence,
            self.first_us,
            self.last_us,
            self.record_count,
            self.plain_length,
            self.body_length,
            self.prev_hash,
        )

    @classmethod
    def parse(cls, data: bytes) -> ChunkHeader:
        """Parse 80 bytes; raises RecordingInvalid on a layout no writer produces."""
        if len(data) != CHUNK_HEADER_SIZE:
            raise RecordingInvalid("chunk header cut short")
        (magic, flags, _, channel, seq, first, last, count, plain, body, prev) = _CHUNK.unpack(data)
        if magic != CHUNK_MAGIC:
            raise RecordingInvalid("bad chunk magic")
        if body > MAX_BODY or plain > MAX_BODY or first > last:
            raise RecordingInvalid("implausible chunk header")
        return cls(seq, first, last, count, plain, body, prev, ChunkFlags(flags), channel)
