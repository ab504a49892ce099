"""The audit trail as an append-only hash chain, and its verification.

Each entry holds the SHA-256 of the one before, over a canonical JSON form (sorted
keys, no whitespace, UTF-8, non-ASCII kept as is), so changing, removing, inserting
or reordering any entry breaks the chain from there on. One thing a chain cannot show
by itself: entries cut off the *end* leave a shorter chain that is still intact. The
defence is an anchor — the head hash and sequence number (:meth:`AuditChain.anchor`)
copied somewhere the database's writer cannot reach (a daily e-mail, a second store,
a printed report) and passed to :func:`verify`. An attacker who can rewrite the whole
tail and recompute every hash is caught the same way, and only that way.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from supportdesk.domain.utc import iso_utc, require_utc

GENESIS_HASH = hashlib.sha256(b"supportdesk audit chain v1 genesis").hexdigest()
"""The ``prev_hash`` of the first entry: a fixed, documented value, not all zeros, so
an entry with a blank predecessor field is never mistaken for the first."""

PSEUDONYM_HEX_CHARS = 32
"""Pseudonyms keep 128 bits: collision-free at our volumes, short enough for logs."""

MIN_PSEUDONYM_KEY_BYTES = 32
_PSEUDONYM_LABEL = b"supportdesk/pseudonym/v1\x00"


class NonCanonicalData(TypeError):
    """Audit data holding a value without one canonical JSON form (floats, bytes, ...)."""


class WeakPseudonymKey(ValueError):
    """The key for pseudonyms is too short to resist guessing the inputs back."""


def _check_canonical(value: Any, path: str) -> None:
    # Floats are refused: 0.1 may print differently across versions and platforms,
    # and a hash over a number that re-serialises differently would read as tampering.
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_canonical(item, f"{path}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NonCanonicalData(f"{path}: keys must be strings, got {key!r}")
            _check_canonical(item, f"{path}.{key}")
        return
    raise NonCanonicalData(f"{path}: {type(value).__name__} has no canonical JSON form")


def canonical_json(value: Any) -> bytes:
    """The one byte form hashed: sorted keys, no whitespace, UTF-8, ensure_ascii off."""
    _check_canonical(value, "data")
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(
    *,
    sequence: int,
    timestamp: str,
    event_type: str,
    actor: str,
    subject: str,
    data: Mapping[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 hex over the canonical JSON of every field of an entry but its hash."""
    body = {
        "sequence": sequence,
        "timestamp": timestamp,
        "event_type": event_type,
        "actor": actor,
        "subject": subject,
        "data": data,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """An audit entry the domain wants written, before it has a place in the chain."""

    at: datetime
    event_type: str
    actor: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEntry:
    """One link of the chain, as stored and exported."""

    sequence: int
    timestamp: str
    event_type: str
    actor: str
    subject: str
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    def computed_hash(self) -> str:
        """The hash this entry's content calls for; differs from ``hash`` if changed."""
        return entry_hash(
            sequence=self.sequence,
            timestamp=self.timestamp,
            event_type=self.event_type,
            actor=self.actor,
            subject=self.subject,
            data=self.data,
            prev_hash=self.prev_hash,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, e.g. one line of ``audit export``."""
        return {
            "sequence": self.sequence,
            "timestamp": self.timestamp,
            "event_type": self.event_type,
            "actor": self.actor,
            "subject": self.subject,
            "data": dict(self.data),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AuditEntry:
        return cls(
            sequence=int(raw["sequence"]),
            timestamp=str(raw["timestamp"]),
            event_type=str(raw["event_type"]),
            actor=str(raw["actor"]),
            subject=str(raw["subject"]),
            data=dict(raw["data"]),
            prev_hash=str(raw["prev_hash"]),
            hash=str(raw["hash"]),
        )


@dataclass(frozen=True, order=True)
class Anchor:
    """An external witness: the chain had ``hash`` at entry ``sequence``."""

    sequence: int
    hash: str


class AuditChain:
    """The writing end of the chain: knows the head, hands out the next entry.

    The shell persists each returned entry before appending the next; after a restart
    it resumes with :meth:`after` on the last stored entry.
    """

    def __init__(self, head_hash: str = GENESIS_HASH, next_sequence: int = 1) -> None:
        if next_sequence < 1:
            raise ValueError("sequence numbers start at 1")
        self._head_hash = head_hash
        self._next_sequence = next_sequence

    @classmethod
    def after(cls, last: AuditEntry | None) -> AuditChain:
        """A chain continuing after ``last`` (``None``: an empty log)."""
        if last is None:
            return cls()
        return cls(last.hash, last.sequence + 1)

    @property
    def head_hash(self) -> str:
        return self._head_hash

    @property
    def next_sequence(self) -> int:
        return self._next_sequence

    def anchor(self) -> Anchor:
        """The current head, to be kept outside the database (see module docstring)."""
        return Anchor(self._next_sequence - 1, self._head_hash)

    def append(
        self,
        *,
        at: datetime,
        event_type: str,
        actor: str,
        subject: str,
        data: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Build the next entry and advance the head."""
        timestamp = iso_utc(require_utc(at, "at"))
        # Round-trip through canonical JSON: the stored data is exactly what was
        # hashed (tuples become lists, the caller's dict can change afterwards).
        plain: dict[str, Any] = json.loads(canonical_json(dict(data or {})))
        digest = entry_hash(
            sequence=self._next_sequence,
            timestamp=timestamp,
            event_type=event_type,
            actor=actor,
            subject=subject,
            data=plain,
            prev_hash=self._head_hash,
        )
        entry = AuditEntry(
            self._next_sequence,
            timestamp,
            event_type,
            actor,
            subject,
            plain,
            self._head_hash,
            digest,
        )
        self._head_hash = digest
        self._next_sequence += 1
        return entry

    def append_record(self, record: AuditRecord) -> AuditEntry:
        return self.append(
            at=record.at,
            event_type=record.event_type,
            actor=record.actor,
            subject=record.subject,
            data=record.data,
        )


class Tampering(Enum):
    """What :func:`verify` concluded went wrong at the first bad entry."""

    CHANGED = "changed"
    """The entry's content no longer matches its own hash."""
    REMOVED = "removed"
    """Sequence numbers jump: the named one and possibly more after it are missing."""
    INSERTED = "inserted"
    """An entry that does not belong: a duplicate sequence number, or one the chain
    skips over (the next entry links past it)."""
    REORDERED = "reordered"
    """An entry appears before one with a lower sequence number."""
    BROKEN_LINK = "broken_link"
    """The entry is intact and in sequence but does not link to its predecessor: the
    predecessor was changed and re-hashed, or entries were removed and renumbered."""
    TRUNCATED = "truncated"
    """The chain ends before an anchor's sequence number: entries cut off the end."""
    ANCHOR_MISMATCH = "anchor_mismatch"
    """An anchored entry has another hash: history up to it was rewritten."""


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of :func:`verify`. When not ``ok``: ``sequence`` is the sequence number
    of the first bad entry (for REMOVED/TRUNCATED the first missing one), ``position``
    the index in the list given (``None`` when the entry is missing)."""

    ok: bool
    entries_checked: int
    head_hash: str
    problem: Tampering | None = None
    sequence: int | None = None
    position: int | None = None
    detail: str = ""


def _fits(entry: AuditEntry, sequence: int, prev_hash: str) -> bool:
    return (
        entry.sequence == sequence
        and entry.prev_hash == prev_hash
        and hmac.compare_digest(entry.computed_hash(), entry.hash)
    )


def verify(
    entries: Sequence[AuditEntry],
    *,
    anchors: Iterable[Anchor] = (),
    start_sequence: int = 1,
    start_prev_hash: str = GENESIS_HASH,
) -> VerificationResult:
    """Check a chain (or a segment: pass where it starts) and name the first bad entry.

    Detection is certain for every change an attacker cannot cover by recomputing
    hashes; the classification into changed / removed / inserted / reordered is the
    most likely explanation of what is seen, since several edits can look alike.
    """
    prev_hash = start_prev_hash
    expected = start_sequence
    sequences = [e.sequence for e in entries]
    wanted = sorted(anchors)
    # Only anchored hashes are kept: memory stays flat however long the log is.
    anchored = {a.sequence for a in wanted}
    hashes: dict[int, str] = {}
    checked = 0

    def bad(
        kind: Tampering, sequence: int, position: int | None, detail: str
    ) -> VerificationResult:
        return VerificationResult(False, checked, prev_hash, kind, sequence, position, detail)

    for i, entry in enumerate(entries):
        if _fits(entry, expected, prev_hash):
            if entry.sequence in anchored:
                hashes[entry.sequence] = entry.hash
            checked += 1
            prev_hash = entry.hash
            expected += 1
            continue
        following = entries[i + 1] if i + 1 < len(entries) else None
        if entry.sequence > expected and expected in sequences[i + 1 :]:
            return bad(
                Tampering.REORDERED,
                entry.sequence,
                i,
                f"entry {entry.sequence} comes before entry {expected}",
            )
        if following is not None and _fits(following, expected, prev_hash):
            return bad(
                Tampering.INSERTED,
                entry.sequence,
                i,
                f"entry at position {i} (claiming {entry.sequence}) is not part of the "
                f"chain: the next entry links past it",
            )
        if entry.sequence > expected:
            return bad(
                Tampering.REMOVED,
                expected,
                None,
                f"entries {expected}..{entry.sequence - 1} are missing",
            )
        if entry.sequence < expected:
            # A duplicate slot: if this entry is the one the chain continues from, the
            # entry before it was the intruder.
            if (
                i > 0
                and entries[i - 1].sequence == entry.sequence
                and entries[i - 1].prev_hash == entry.prev_hash
                and hmac.compare_digest(entry.computed_hash(), entry.hash)
                and following is not None
                and following.prev_hash == entry.hash
            ):
                return bad(
                    Tampering.INSERTED,
                    entry.sequence,
                    i - 1,
                    f"two entries claim sequence {entry.sequence}; the chain continues "
                    f"from the second, so the one at position {i - 1} was inserted",
                )
            return bad(
                Tampering.INSERTED,
                entry.sequence,
                i,
                f"entry {entry.sequence} repeats an earlier sequence number",
            )
        if not hmac.compare_digest(entry.computed_hash(), entry.hash):
            return bad(
                Tampering.CHANGED,
                entry.sequence,
                i,
                f"entry {entry.sequence} was changed: its content does not match its hash",
            )
        return bad(
            Tampering.BROKEN_LINK,
            entry.sequence,
            i,
            f"entry {entry.sequence} does not link to the entry before it: that entry "
            f"was changed and re-hashed, or entries were removed and renumbered",
        )

    last = expected - 1
    for anchor in wanted:
        if anchor.sequence < start_sequence:
            continue
        if anchor.sequence > last:
            return bad(
                Tampering.TRUNCATED,
                last + 1,
                None,
                f"the chain ends at {last} but was anchored at {anchor.sequence}: "
                f"entries {last + 1}..{anchor.sequence} were removed",
            )
        if not hmac.compare_digest(hashes[anchor.sequence], anchor.hash):
            return bad(
                Tampering.ANCHOR_MISMATCH,
                anchor.sequence,
                anchor.sequence - start_sequence,
                f"entry {anchor.sequence} differs from its anchor: the chain up to it "
                f"was rewritten",
            )
    return VerificationResult(True, checked, prev_hash)


def pseudonymise(value: str, key: bytes, *, purpose: str = "generic") -> str:
    """A stable pseudonym for a personal value (client address, customer name).

    HMAC-SHA256 under a server key, labelled with ``purpose`` so the same string gives
    unrelated pseudonyms in different roles, truncated to :data:`PSEUDONYM_HEX_CHARS`
    hex characters. Keyed because names and IPv4 addresses are few enough to hash
    them all: without the key the pseudonym cannot be reversed by trying inputs.
    Input is NFC-normalised and stripped; other normalisation (e.g. the compressed
    form of an IPv6 address) is the caller's, so equal things give equal pseudonyms.
    Destroying the key turns the pseudonyms into anonymous tokens.
    """
    if len(key) < MIN_PSEUDONYM_KEY_BYTES:
        raise WeakPseudonymKey(f"the pseudonym key needs {MIN_PSEUDONYM_KEY_BYTES} bytes")
    message = (
        _PSEUDONYM_LABEL
        + purpose.encode("utf-8")
        + b"\x00"
        + unicodedata.normalize("NFC", value.strip()).encode("utf-8")
    )
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]
