"""A session's chat in the audit trail (domain/chat_tally.py): one summary for many
lines, a digest an auditor can recompute from the recording, a split after ``every``."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.audit_chain import WeakPseudonymKey
from supportdesk.domain.chat_tally import CHAT_EVENT, ChatTally

KEY = bytes(range(32))
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def recomputed(lines: list[tuple[str, str, str]]) -> str:
    """What an auditor computes from the recording's chat entries (from, at, text)."""
    mac = hmac.new(KEY, b"supportdesk/chat/v1\x00", hashlib.sha256)
    for side, at, text in lines:
        mac.update(f"{side}\x00{at}\x00{text}\n".encode())
    return mac.hexdigest()[:32]


def test_200_lines_make_one_summary_without_the_words() -> None:
    tally = ChatTally("20261130-0001", KEY)
    said = []
    for n in range(200):
        at = T0 + timedelta(seconds=n)
        side, actor = ("agent", "agent:anna") if n % 2 == 0 else ("customer", "customer")
        text = f"Zeile {n} – grüße"
        assert tally.line(side, actor, text, at, at.isoformat()) == []
        said.append((side, at.isoformat(), text))
    assert tally.lines == 200
    [record] = tally.summary(T0 + timedelta(minutes=5))
    assert record.event_type == CHAT_EVENT and record.subject == "20261130-0001"
    assert record.actor == "system"
    assert record.data["lines"] == {"agent": 100, "customer": 100}
    assert record.data["agents"] == ["agent:anna"]
    assert record.data["from"] == "2026-11-30T09:00:00.000000Z"
    assert record.data["until"] == "2026-11-30T09:03:19.000000Z"
    assert record.data["digest"] == recomputed(said)
    assert "grüße" not in repr(record.data)
    assert tally.summary(T0 + timedelta(minutes=6)) == []  # nothing since


def test_a_long_chat_is_summarised_every_period() -> None:
    tally = ChatTally("n", KEY, every=timedelta(minutes=10))
    written = []
    for minute in range(25):
        at = T0 + timedelta(minutes=minute)
        written += tally.line("customer", "customer", "hallo", at, at.isoformat())
    written += tally.summary(T0 + timedelta(minutes=30))
    assert [r.data["lines"]["customer"] for r in written] == [10, 10, 5]


def test_the_digest_changes_with_any_line() -> None:
    def digest(text: str) -> str:
        tally = ChatTally("n", KEY)
        tally.line("customer", "customer", text, T0, T0.isoformat())
        return str(tally.summary(T0)[0].data["digest"])

    assert digest("ja") != digest("nein")


def test_a_short_key_is_refused() -> None:
    with pytest.raises(WeakPseudonymKey):
        ChatTally("n", b"short")
