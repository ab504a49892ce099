"""Keys and chunk sealing: wrap the data key, compress + encrypt + chain each chunk.

Pure: bytes in, bytes out. The per-recording 256-bit data key is wrapped with
AES-KW (RFC 3394) under the 32-byte master key; each chunk body is its records,
zstandard-compressed, then AES-256-GCM-encrypted with the chunk header as
associated data. The nonce is the chunk's sequence number (4 zero bytes + U64),
unique per chunk under a key used for one recording only, so it need not be stored.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

import zstandard
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from .errors import ChunkInvalid, RecordingDestroyed, RecordingInvalid, WrongMasterKey
from .format import (
    MAX_BODY,
    ChunkFlags,
    ChunkHeader,
    FileFlags,
    FileHeader,
    Record,
    decode_records,
    encode_record,
)

__all__ = [
    "DATA_KEY_SIZE",
    "GCM_TAG_SIZE",
    "ChunkCodec",
    "chain_seed",
    "chunk_hash",
    "master_key_id",
    "new_data_key",
    "unwrap_data_key",
    "wrap_data_key",
]

DATA_KEY_SIZE = 32
MASTER_KEY_SIZE = 32
GCM_TAG_SIZE = 16
ZSTD_LEVEL = 3
"""RFB data is already compressed in part; level 3 is most of the gain at little CPU."""
_KEY_ID_LABEL = b"supportdesk recording master key id v1\x00"


def _check_master_key(master_key: bytes) -> None:
    if len(master_key) != MASTER_KEY_SIZE:
        raise ValueError(f"the recording master key must be {MASTER_KEY_SIZE} bytes")


def master_key_id(master_key: bytes) -> bytes:
    """8 bytes naming the master key, so a reader can tell 'wrong key' from 'damaged'."""
    _check_master_key(master_key)
    return hashlib.sha256(_KEY_ID_LABEL + master_key).digest()[:8]


def new_data_key() -> bytes:
    return secrets.token_bytes(DATA_KEY_SIZE)


def wrap_data_key(master_key: bytes, data_key: bytes) -> bytes:
    _check_master_key(master_key)
    return aes_key_wrap(master_key, data_key)


def unwrap_data_key(header: FileHeader, master_key: bytes) -> bytes:
    """The recording's data key; raises RecordingDestroyed or WrongMasterKey."""
    _check_master_key(master_key)
    if header.flags & FileFlags.DESTROYED or not any(header.wrapped_key):
        raise RecordingDestroyed("the recording's data key was destroyed")
    if header.master_key_id != master_key_id(master_key):
        raise WrongMasterKey(
            f"recording was sealed under master key id {header.master_key_id.hex()}, "
            f"not {master_key_id(master_key).hex()}"
        )
    try:
        key = aes_key_unwrap(master_key, header.wrapped_key)
    except InvalidUnwrap:
        # Right key id, failed integrity check: the header was damaged or forged.
        raise RecordingInvalid("the wrapped data key does not unwrap: header damaged") from None
    if len(key) != DATA_KEY_SIZE:
        raise RecordingInvalid("the wrapped data key has the wrong size")
    return key


def chain_seed(file_header: bytes) -> bytes:
    """The 'previous hash' of chunk 0: the file header's hash, so the chain covers it."""
    return hashlib.sha256(file_header).digest()


def chunk_hash(header: bytes, body: bytes) -> bytes:
    """The hash the next chunk carries: SHA-256 over header and encrypted body."""
    digest = hashlib.sha256(header)
    digest.update(body)
    return digest.digest()


def _nonce(sequence: int) -> bytes:
    return bytes(4) + sequence.to_bytes(8, "big")


class ChunkCodec:
    """Seals records into chunks and opens them again, for one recording's data key.

    Not thread-safe (the zstandard contexts are reused); the writer calls it under
    its lock.
    """

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_SIZE:
            raise ValueError("data key must be 32 bytes")
        self._aead = AESGCM(data_key)
        self._compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self._decompressor = zstandard.ZstdDecompressor()

    def seal(
        self,
        sequence: int,
        records: Sequence[Record],
        prev_hash: bytes,
        flags: ChunkFlags = ChunkFlags.NONE,
        channel: int = 0xFFFF,
    ) -> tuple[ChunkHeader, bytes]:
        """Header and the chunk's complete bytes (header + encrypted body)."""
        plain = b"".join(encode_record(r) for r in records)
        compressed = self._compressor.compress(plain)
        if len(plain) > MAX_BODY or len(compressed) + GCM_TAG_SIZE > MAX_BODY:
            raise ValueError("chunk too large")
        header = ChunkHeader(
            sequence=sequence,
            first_us=records[0].at_us if records else 0,
            last_us=records[-1].at_us if records else 0,
            record_count=len(records),
            plain_length=len(plain),
            body_length=len(compressed) + GCM_TAG_SIZE,
            prev_hash=prev_hash,
            flags=flags,
            channel=channel,
        )
        head = header.pack()
        body = self._aead.encrypt(_nonce(sequence), compressed, head)
        return header, head + body

    def open(self, header: ChunkHeader, head: bytes, body: bytes) -> list[Record]:
        """Decrypt, check and parse one chunk; raises ChunkInvalid naming it."""
        try:
            compressed = self._aead.decrypt(_nonce(header.sequence), body, head)
        except InvalidTag:
            raise ChunkInvalid(header.sequence, "authentication tag mismatch") from None
        try:
            plain = self._decompressor.decompress(compressed, max_output_size=header.plain_length)
        except zstandard.ZstdError as exc:
            raise ChunkInvalid(header.sequence, f"does not decompress: {exc}") from None
        if len(plain) != header.plain_length:
            raise ChunkInvalid(header.sequence, "decompressed length differs from the header")
        try:
            return decode_records(plain, header.record_count)
        except RecordingInvalid as exc:
            raise ChunkInvalid(header.sequence, str(exc)) from None
