"""Support keys: format, digests, redemption, attribution, backoff and sizing."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain import support_key as sk
from supportdesk.domain.support_key import (
    BREACH_PROBABILITY_TARGET,
    ClientBackoff,
    InvalidKeyPolicy,
    KeyStatus,
    MalformedSupportKey,
    Redeemed,
    RefusalReason,
    Refused,
    SupportKey,
    SupportKeyPolicy,
    WeakPepper,
    breach_probability_per_year,
    breach_probability_per_year_by_attribution,
    key_digest,
    prefix_digest,
    redeem,
)

PEPPER = b"p" * 32
OTHER_PEPPER = b"q" * 32
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def issue(
    policy: SupportKeyPolicy | None = None, now: datetime = T0
) -> tuple[SupportKey, sk.IssuedSupportKey]:
    return (policy or SupportKeyPolicy()).issue(agent_id="a1", now=now, pepper=PEPPER)


def sibling(key: SupportKey, last: int) -> str:
    """Another key with the same prefix, differing in the last digit."""
    return key.digits[:-1] + str((int(key.digits[-1]) + last) % 10)


# -- format ------------------------------------------------------------------------


def test_generated_key_has_twelve_digits_grouped_in_threes() -> None:
    key = SupportKey.generate()
    assert re.fullmatch(r"\d{3} \d{3} \d{3} \d{3}", key.grouped())
    assert SupportKey.parse(key.grouped()) == key


def test_generated_keys_differ() -> None:
    assert len({SupportKey.generate().digits for _ in range(200)}) == 200


@pytest.mark.parametrize(
    "text",
    [
        "123456789012",
        "123 456 789 012",
        "123-456-789-012",
        " 123\t456–789 012 ",
        "1-2-3 4 5 6789012",
    ],
)
def test_parse_tolerates_spaces_and_dashes(text: str) -> None:
    assert SupportKey.parse(text).digits == "123456789012"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢", "123.456.789.012"],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(MalformedSupportKey):
        SupportKey.parse(text)


@given(st.text(max_size=40))
def test_parse_accepts_or_raises_malformed_only(text: str) -> None:
    try:
        key = SupportKey.parse(text)
    except MalformedSupportKey:
        return
    assert len(key.digits) == sk.KEY_DIGITS


def test_repr_hides_digits() -> None:
    key = SupportKey.parse("123456789012")
    assert "123" not in repr(key)
    assert "123" not in str(key)
    assert "123" not in repr(issue()[0])


# -- digests -----------------------------------------------------------------------


def test_digest_is_keyed_and_separated_from_prefix_digest() -> None:
    key = SupportKey.parse("123456789012")
    assert key_digest(key, PEPPER) == key_digest(SupportKey.parse("123 456 789 012"), PEPPER)
    assert key_digest(key, PEPPER) != key_digest(key, OTHER_PEPPER)
    assert key_digest(key, PEPPER) != prefix_digest(key, PEPPER)
    assert prefix_digest(key, PEPPER) == prefix_digest(SupportKey.parse("123000000000"), PEPPER)
    assert "123456789012" not in key_digest(key, PEPPER)


def test_short_pepper_refused() -> None:
    with pytest.raises(WeakPepper):
        key_digest(SupportKey.generate(), b"short")


def test_issued_record_holds_no_clear_key() -> None:
    key, record = issue()
    assert key.digits not in repr(record)
    assert record.digest == key_digest(key, PEPPER)
    assert record.expires_at == T0 + timedelta(minutes=10)


# -- policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lifetime", [timedelta(0), timedelta(seconds=-1), timedelta(minutes=60, seconds=1)]
)
def test_policy_rejects_lifetimes_outside_bounds(lifetime: timedelta) -> None:
    with pytest.raises(InvalidKeyPolicy):
        SupportKeyPolicy(lifetime=lifetime)


@pytest.mark.parametrize("tries", [0, 6])
def test_policy_rejects_wrong_try_limits_outside_bounds(tries: int) -> None:
    with pytest.raises(InvalidKeyPolicy):
        SupportKeyPolicy(max_wrong_tries=tries)


def test_policy_accepts_sixty_minutes() -> None:
    _, record = issue(SupportKeyPolicy(lifetime=timedelta(minutes=60)))
    assert record.expires_at - record.issued_at == timedelta(hours=1)


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError):
        issue(now=datetime(2026, 11, 3, 9, 0))


# -- redemption --------------------------------------------------------------------


def test_redeem_live_key() -> None:
    key, record = issue()
    result = redeem(key.grouped(), [record], now=T0 + timedelta(minutes=1), pepper=PEPPER)
    assert isinstance(result, Redeemed)
    assert result.key.redeemed_at == T0 + timedelta(minutes=1)
    assert result.updates == (result.key,)
    assert result.key.status(T0 + timedelta(minutes=2)) is KeyStatus.REDEEMED


def test_key_is_single_use() -> None:
    key, record = issue()
    first = redeem(key.digits, [record], now=T0, pepper=PEPPER)
    assert isinstance(first, Redeemed)
    second = redeem(key.digits, [first.key], now=T0, pepper=PEPPER)
    assert second == Refused(RefusalReason.ALREADY_REDEEMED)


def test_key_expires_after_lifetime() -> None:
    key, record = issue()
    assert isinstance(
        redeem(
            key.digits,
            [record],
            now=T0 + timedelta(minutes=10) - timedelta(microseconds=1),
            pepper=PEPPER,
        ),
        Redeemed,
    )
    assert redeem(key.digits, [record], now=T0 + timedelta(minutes=10), pepper=PEPPER) == Refused(
        RefusalReason.EXPIRED
    )


def test_wrong_pepper_does_not_redeem() -> None:
    key, record = issue()
    assert isinstance(redeem(key.digits, [record], now=T0, pepper=OTHER_PEPPER), Refused)


def test_malformed_candidate_touches_no_key() -> None:
    _, record = issue()
    assert redeem("hello", [record], now=T0, pepper=PEPPER) == Refused(RefusalReason.MALFORMED)


def test_wrong_try_in_same_prefix_counts_against_the_key() -> None:
    key, record = issue()
    result = redeem(sibling(key, 1), [record], now=T0, pepper=PEPPER)
    assert isinstance(result, Refused)
    assert result.reason is RefusalReason.UNKNOWN
    assert [r.wrong_tries for r in result.updates] == [1]


def test_wrong_try_in_other_prefix_does_not_count() -> None:
    key, record = issue()
    other_prefix = f"{(int(key.prefix) + 1) % 1000:03d}" + key.digits[3:]
    result = redeem(other_prefix, [record], now=T0, pepper=PEPPER)
    assert result == Refused(RefusalReason.UNKNOWN, ())


def test_key_is_void_after_five_wrong_tries_even_with_the_right_key_next() -> None:
    key, record = issue()
    for attempt in range(1, 6):
        result = redeem(sibling(key, attempt), [record], now=T0, pepper=PEPPER)
        assert isinstance(result, Refused)
        (record,) = result.updates
    assert record.wrong_tries == 5
    assert record.status(T0) is KeyStatus.VOID
    assert redeem(key.digits, [record], now=T0, pepper=PEPPER) == Refused(RefusalReason.VOID)
    # A void key takes no more wrong tries: nothing left to protect.
    assert redeem(sibling(key, 1), [record], now=T0, pepper=PEPPER) == Refused(
        RefusalReason.UNKNOWN
    )


def test_four_wrong_tries_then_right_key_redeems() -> None:
    key, record = issue()
    for attempt in range(1, 5):
        result = redeem(sibling(key, attempt), [record], now=T0, pepper=PEPPER)
        (record,) = result.updates
    assert isinstance(redeem(key.digits, [record], now=T0, pepper=PEPPER), Redeemed)


def test_wrong_try_counts_against_every_live_key_sharing_the_prefix() -> None:
    key_a, rec_a = issue()
    # Force a second key into the same bucket.
    key_b = SupportKey(key_a.prefix + f"{(int(key_a.digits[3:]) + 7) % 10**9:09d}")
    rec_b = replace(rec_a, digest=key_digest(key_b, PEPPER))
    expired = replace(rec_a, digest="x" * 64, expires_at=T0)
    guess = key_a.prefix + f"{(int(key_a.digits[3:]) + 3) % 10**9:09d}"
    result = redeem(guess, [rec_a, rec_b, expired], now=T0, pepper=PEPPER)
    assert isinstance(result, Refused)
    assert sorted(r.digest for r in result.updates) == sorted([rec_a.digest, rec_b.digest])


def test_records_from_other_buckets_are_ignored() -> None:
    key, record = issue()
    foreign = replace(record, prefix_digest="0" * 64)
    assert redeem(key.digits, [foreign], now=T0, pepper=PEPPER) == Refused(RefusalReason.UNKNOWN)


@given(st.lists(st.text(alphabet="0123456789", min_size=12, max_size=12), max_size=60))
def test_brute_force_in_bucket_never_redeems_and_voids(guesses: list[str]) -> None:
    key, record = issue()
    redeemed = 0
    for guess in guesses:
        if guess == key.digits:
            continue
        result = redeem(key.prefix + guess[3:], [record], now=T0, pepper=PEPPER)
        redeemed += isinstance(result, Redeemed)
        for update in result.updates:
            record = update
    assert redeemed == 0
    assert record.wrong_tries <= sk.MAX_WRONG_TRIES


# -- backoff -----------------------------------------------------------------------


def test_backoff_free_failures_then_doubling_to_cap() -> None:
    backoff = ClientBackoff()
    delays = [backoff.delay(n) for n in range(0, 16)]
    assert delays[:3] == [timedelta(0)] * 3
    assert delays[3:7] == [timedelta(seconds=s) for s in (1, 2, 4, 8)]
    assert delays[-1] == timedelta(minutes=15)
    assert backoff.delay(10**9) == timedelta(minutes=15)
    assert all(a <= b for a, b in itertools.pairwise(delays))


def test_backoff_next_attempt() -> None:
    backoff = ClientBackoff()
    last = T0
    assert backoff.next_attempt_at(0, None, T0) == T0
    assert backoff.may_attempt(2, last, T0)
    assert backoff.next_attempt_at(5, last, T0) == T0 + timedelta(seconds=4)
    assert not backoff.may_attempt(5, last, T0 + timedelta(seconds=3))
    assert backoff.may_attempt(5, last, T0 + timedelta(seconds=4))


def test_backoff_forgets_after_quiet_period() -> None:
    backoff = ClientBackoff()
    later = T0 + timedelta(hours=24)
    assert backoff.effective_failures(40, T0, later) == 0
    assert backoff.may_attempt(40, T0, later)
    assert backoff.effective_failures(40, T0, later - timedelta(seconds=1)) == 40


@given(st.integers(0, 200), st.integers(0, 200))
def test_backoff_is_monotonic(a: int, b: int) -> None:
    backoff = ClientBackoff()
    low, high = sorted((a, b))
    assert backoff.delay(low) <= backoff.delay(high) <= backoff.cap


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        ClientBackoff(base=timedelta(0))
    with pytest.raises(ValueError):
        ClientBackoff(factor=0)


# -- sizing ------------------------------------------------------------------------


def test_rate_layer_alone_meets_target_at_longest_lifetime() -> None:
    bound = breach_probability_per_year()
    assert bound <= BREACH_PROBABILITY_TARGET
    assert bound == Fraction(200_000 * (60 + 3600), 10**12)


def test_attribution_layer_alone_meets_target() -> None:
    assert breach_probability_per_year_by_attribution() <= BREACH_PROBABILITY_TARGET


def test_one_digit_less_would_not_do() -> None:
    """The key is no longer than it must be, and no shorter."""
    assert breach_probability_per_year(key_digits=sk.KEY_DIGITS - 1) > BREACH_PROBABILITY_TARGET
    assert (
        breach_probability_per_year_by_attribution(key_digits=sk.KEY_DIGITS - 1)
        > BREACH_PROBABILITY_TARGET
    )


def test_security_doc_agrees_with_code() -> None:
    """The constants table and the bounds in docs/security.md are the code's."""
    doc = DOC.read_text(encoding="utf-8")
    for name in (
        "KEY_DIGITS",
        "KEY_PREFIX_DIGITS",
        "MAX_WRONG_TRIES",
        "GLOBAL_GUESS_RATE_LIMIT",
        "GLOBAL_GUESS_BURST",
        "KEYS_PER_YEAR",
    ):
        row = f"| `{name}` | {getattr(sk, name)} |"
        assert row in doc, f"docs/security.md lacks the row {row}"
    for name in ("DEFAULT_KEY_LIFETIME", "MAX_KEY_LIFETIME"):
        minutes = int(getattr(sk, name).total_seconds() // 60)
        row = f"| `{name}` | {minutes} min |"
        assert row in doc, f"docs/security.md lacks the row {row}"
    for bound in (
        breach_probability_per_year(),
        breach_probability_per_year(key_lifetime=sk.DEFAULT_KEY_LIFETIME),
        breach_probability_per_year_by_attribution(),
    ):
        assert f"{float(bound):.6f}" in doc, f"docs/security.md lacks the bound {float(bound):.6f}"
