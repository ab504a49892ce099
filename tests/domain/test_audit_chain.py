"""Audit chain: canonical hashing, appending, and detection of every kind of tampering."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.audit_chain import (
    GENESIS_HASH,
    Anchor,
    AuditChain,
    AuditEntry,
    AuditRecord,
    NonCanonicalData,
    Tampering,
    WeakPseudonymKey,
    canonical_json,
    entry_hash,
    pseudonymise,
    verify,
)

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
KEY = b"k" * 32

json_leaf = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=12)
json_data = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        json_leaf,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    max_size=4,
)
records = st.builds(
    AuditRecord,
    at=st.integers(0, 10**9).map(lambda us: T0 + timedelta(microseconds=us)),
    event_type=st.sampled_from(["login", "support_key.issued", "session.ended", "consent.given"]),
    actor=st.sampled_from(["agent:a1", "customer", "system", "agent:Jürgen"]),
    subject=st.sampled_from(["BN-2026-4821-7730-8", "", "agent:a1"]),
    data=json_data,
)


def build(rs: list[AuditRecord]) -> tuple[list[AuditEntry], AuditChain]:
    chain = AuditChain()
    return [chain.append_record(r) for r in rs], chain


def rehash(entry: AuditEntry) -> AuditEntry:
    return replace(entry, hash=entry.computed_hash())


def sample_chain(n: int = 5) -> list[AuditEntry]:
    chain = AuditChain()
    return [
        chain.append(
            at=T0 + timedelta(seconds=i),
            event_type="e",
            actor="system",
            subject="BN-2026-4821-7730-8",
            data={"i": i},
        )
        for i in range(n)
    ]


# -- canonical form and appending ----------------------------------------------------


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": ["ü", None, True]}) == '{"a":["ü",null,true],"b":1}'.encode()
    )


@pytest.mark.parametrize(
    "bad", [{"x": 1.5}, {"x": b"raw"}, {"x": {1: "a"}}, {"x": {"y": [float("nan")]}}]
)
def test_non_canonical_data_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(NonCanonicalData):
        canonical_json(bad)


def test_genesis_is_documented_value() -> None:
    import hashlib

    assert hashlib.sha256(b"supportdesk audit chain v1 genesis").hexdigest() == GENESIS_HASH


def test_append_links_and_numbers() -> None:
    entries = sample_chain(3)
    assert [e.sequence for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[0].timestamp == "2026-11-03T09:00:00.000000Z"
    assert entries[0].hash == entry_hash(
        sequence=1,
        timestamp="2026-11-03T09:00:00.000000Z",
        event_type="e",
        actor="system",
        subject="BN-2026-4821-7730-8",
        data={"i": 0},
        prev_hash=GENESIS_HASH,
    )


def test_append_copies_data_and_normalises_tuples() -> None:
    data: dict[str, Any] = {"list": (1, 2)}
    entry = AuditChain().append(at=T0, event_type="e", actor="a", subject="s", data=data)
    data["list"] = "changed"
    assert entry.data == {"list": [1, 2]}
    assert verify([entry]).ok


def test_append_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        AuditChain().append(at=datetime(2026, 1, 1), event_type="e", actor="a", subject="s")


def test_resume_after_last_entry() -> None:
    entries = sample_chain(3)
    chain = AuditChain.after(entries[-1])
    entries.append(chain.append(at=T0, event_type="e", actor="a", subject="s"))
    assert verify(entries).ok
    assert AuditChain.after(None).head_hash == GENESIS_HASH


def test_export_round_trip() -> None:
    entries = sample_chain(4)
    lines = [json.dumps(e.to_dict(), ensure_ascii=False) for e in entries]
    back = [AuditEntry.from_dict(json.loads(line)) for line in lines]
    assert back == entries
    assert verify(back).ok


# -- verification: intact ----------------------------------------------------------


@given(st.lists(records, max_size=12))
def test_intact_chain_verifies(rs: list[AuditRecord]) -> None:
    entries, chain = build(rs)
    result = verify(entries, anchors=[chain.anchor()])
    assert result.ok, result.detail
    assert result.entries_checked == len(rs)
    assert result.head_hash == chain.head_hash


def test_empty_chain_verifies() -> None:
    assert verify([]).ok


def test_segment_verifies_from_its_start() -> None:
    entries = sample_chain(6)
    segment = entries[3:]
    assert not verify(segment).ok
    assert verify(segment, start_sequence=4, start_prev_hash=entries[2].hash).ok


# -- verification: each kind of tampering, by hand ---------------------------------


def test_changed_data_named() -> None:
    entries = sample_chain()
    entries[2] = replace(entries[2], data={"i": 99})
    result = verify(entries)
    assert (result.ok, result.problem, result.sequence, result.position) == (
        False,
        Tampering.CHANGED,
        3,
        2,
    )
    assert result.entries_checked == 2


def test_changed_timestamp_named() -> None:
    entries = sample_chain()
    entries[1] = replace(entries[1], timestamp="2026-11-03T08:00:00.000000Z")
    result = verify(entries)
    assert (result.problem, result.sequence) == (Tampering.CHANGED, 2)


def test_changed_and_rehashed_is_a_broken_link_at_the_next() -> None:
    entries = sample_chain()
    entries[1] = rehash(replace(entries[1], data={"i": 99}))
    result = verify(entries)
    assert (result.problem, result.sequence) == (Tampering.BROKEN_LINK, 3)


def test_removed_middle_named() -> None:
    entries = sample_chain()
    del entries[2]
    result = verify(entries)
    assert (result.problem, result.sequence, result.position) == (Tampering.REMOVED, 3, None)


def test_removed_first_named() -> None:
    entries = sample_chain()
    del entries[0]
    assert (verify(entries).problem, verify(entries).sequence) == (Tampering.REMOVED, 1)


def test_removed_last_needs_the_anchor() -> None:
    entries = sample_chain()
    anchor = Anchor(entries[-1].sequence, entries[-1].hash)
    truncated = entries[:-1]
    assert verify(truncated).ok  # the documented limit of a bare chain
    result = verify(truncated, anchors=[anchor])
    assert (result.problem, result.sequence) == (Tampering.TRUNCATED, 5)


def test_whole_tail_rewritten_needs_the_anchor() -> None:
    entries = sample_chain()
    anchor = Anchor(entries[3].sequence, entries[3].hash)
    chain = AuditChain.after(entries[1])
    forged = entries[:2] + [
        chain.append(at=T0, event_type="e", actor="system", subject="x", data={"forged": i})
        for i in range(3)
    ]
    assert verify(forged).ok
    result = verify(forged, anchors=[anchor])
    assert (result.problem, result.sequence) == (Tampering.ANCHOR_MISMATCH, 4)


def test_inserted_entry_linked_properly_named() -> None:
    entries = sample_chain()
    intruder = rehash(replace(entries[2], data={"forged": True}))
    entries.insert(2, intruder)
    result = verify(entries)
    assert (result.problem, result.sequence, result.position) == (Tampering.INSERTED, 3, 2)


def test_inserted_garbage_named() -> None:
    entries = sample_chain()
    entries.insert(2, replace(entries[2], data={"forged": True}, hash="0" * 64))
    result = verify(entries)
    assert (result.problem, result.position) == (Tampering.INSERTED, 2)


def test_inserted_duplicate_at_end_named() -> None:
    entries = sample_chain()
    entries.append(rehash(replace(entries[-1], data={"forged": True})))
    result = verify(entries)
    assert (result.problem, result.sequence, result.position) == (Tampering.INSERTED, 5, 5)


def test_reordered_named() -> None:
    entries = sample_chain()
    entries[1], entries[3] = entries[3], entries[1]
    result = verify(entries)
    assert (result.problem, result.sequence, result.position) == (Tampering.REORDERED, 4, 1)


def test_first_entry_not_linked_to_genesis() -> None:
    entries = sample_chain()
    entries[0] = rehash(replace(entries[0], prev_hash="f" * 64))
    assert verify(entries).problem is Tampering.BROKEN_LINK


# -- verification: random chains, random tampering ---------------------------------

TAMPERS = ["data", "timestamp", "actor", "rehashed", "remove", "insert", "swap"]


@given(st.lists(records, min_size=2, max_size=10), st.sampled_from(TAMPERS), st.data())
def test_random_tampering_is_detected_and_named(
    rs: list[AuditRecord], tamper: str, data: st.DataObject
) -> None:
    entries, chain = build(rs)
    anchor = chain.anchor()
    n = len(entries)
    if tamper == "data":
        i = data.draw(st.integers(0, n - 1))
        entries[i] = replace(entries[i], data={**entries[i].data, "\x00tampered": True})
        expected = (Tampering.CHANGED, i + 1)
    elif tamper == "timestamp":
        i = data.draw(st.integers(0, n - 1))
        entries[i] = replace(entries[i], timestamp="1999-01-01T00:00:00.000000Z")
        expected = (Tampering.CHANGED, i + 1)
    elif tamper == "actor":
        i = data.draw(st.integers(0, n - 1))
        entries[i] = replace(entries[i], actor=entries[i].actor + "x")
        expected = (Tampering.CHANGED, i + 1)
    elif tamper == "rehashed":
        # Changed and re-hashed: the entry itself looks fine; its successor, or for the
        # last entry the anchor, gives it away.
        i = data.draw(st.integers(0, n - 1))
        entries[i] = rehash(replace(entries[i], subject=entries[i].subject + "x"))
        expected = (Tampering.BROKEN_LINK, i + 2) if i < n - 1 else (Tampering.ANCHOR_MISMATCH, n)
    elif tamper == "remove":
        i = data.draw(st.integers(0, n - 1))
        del entries[i]
        expected = (Tampering.TRUNCATED if i == n - 1 else Tampering.REMOVED, i + 1)
    elif tamper == "insert":
        i = data.draw(st.integers(0, n - 1))
        proper = data.draw(st.booleans())
        fake = replace(entries[i], data={"forged": True})
        entries.insert(i, rehash(fake) if proper else fake)
        expected = (Tampering.INSERTED, i + 1)
    else:
        i = data.draw(st.integers(0, n - 2))
        j = data.draw(st.integers(i + 1, n - 1))
        entries[i], entries[j] = entries[j], entries[i]
        expected = (Tampering.REORDERED, j + 1)
    result = verify(entries, anchors=[anchor])
    assert not result.ok
    assert (result.problem, result.sequence) == expected, result.detail


# -- pseudonyms --------------------------------------------------------------------


def test_pseudonym_is_keyed_stable_and_purpose_bound() -> None:
    p = pseudonymise("203.0.113.7", KEY, purpose="client_address")
    assert len(p) == 32 and int(p, 16) >= 0
    assert p == pseudonymise(" 203.0.113.7 ", KEY, purpose="client_address")
    assert p != pseudonymise("203.0.113.7", b"j" * 32, purpose="client_address")
    assert p != pseudonymise("203.0.113.7", KEY, purpose="customer_name")
    assert "203" not in p


def test_pseudonym_normalises_unicode() -> None:
    assert pseudonymise("Müller", KEY) == pseudonymise("Mu\u0308ller", KEY)


def test_pseudonym_key_length() -> None:
    with pytest.raises(WeakPseudonymKey):
        pseudonymise("x", b"short")
