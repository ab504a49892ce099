"""Support keys: the one-time digits an agent reads to a customer, and the rules that
make guessing them hopeless.

A key is generated here, shown once, and from then on exists only as a keyed digest
(HMAC-SHA256 with a server-side pepper), so a copy of the database alone does not let
anyone redeem or even recognise a key. The redemption decision is a pure function of
the candidate text and the stored records: the shell looks records up, calls
:func:`redeem`, and writes back what it returns.

Sizing (the arithmetic is in docs/security.md and in
:func:`breach_probability_per_year`): an attacker with unlimited client addresses is
held back by two independent layers, each of which alone keeps the chance of redeeming
any key below 1e-3 per year at 200,000 keys a year:

1. a global rate limit on redemption attempts across all clients
   (:data:`GLOBAL_GUESS_RATE_LIMIT`, :data:`GLOBAL_GUESS_BURST`), and
2. per-key voiding after :data:`MAX_WRONG_TRIES` wrong tries, where a wrong try is
   attributed to every live key that shares the candidate's first
   :data:`KEY_PREFIX_DIGITS` digits (see :func:`redeem`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from fractions import Fraction

from supportdesk.domain.utc import require_utc

KEY_DIGITS = 12
"""Length of a support key in decimal digits (10**12 possible keys)."""

KEY_GROUP_SIZE = 3
"""Digits per group when the key is read aloud: "123 456 789 012"."""

KEY_PREFIX_DIGITS = 3
"""Leading digits that name the bucket a wrong try is attributed to."""

DEFAULT_KEY_LIFETIME = timedelta(minutes=10)
MAX_KEY_LIFETIME = timedelta(minutes=60)

MAX_WRONG_TRIES = 5
"""Wrong tries attributed to a key before it is void."""

GLOBAL_GUESS_RATE_LIMIT = 1
"""Redemption attempts per second the server accepts from all clients together."""

GLOBAL_GUESS_BURST = 60
"""Token-bucket capacity of the global limit: attempts that may arrive at once."""

KEYS_PER_YEAR = 200_000
"""Design volume of issued keys per year."""

BREACH_PROBABILITY_TARGET = Fraction(1, 1000)
"""Largest acceptable chance per year that an attacker redeems any key."""

MIN_PEPPER_BYTES = 32

# Domain separation: the same pepper may key other HMACs (pseudonyms), and a key
# digest must never collide with any of them.
_KEY_LABEL = b"supportdesk/support-key/v1\x00"
_PREFIX_LABEL = b"supportdesk/support-key-prefix/v1\x00"

_DIGITS = frozenset("0123456789")
# Separators a customer may type or paste: whitespace and the common dashes.
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


class MalformedSupportKey(ValueError):
    """The text is not a support key: wrong length or characters other than digits."""


class InvalidKeyPolicy(ValueError):
    """A support-key policy value is outside what the security argument allows."""


class WeakPepper(ValueError):
    """The server secret used to key digests is too short."""


@dataclass(frozen=True)
class SupportKey:
    """A support key in clear: exists only between generation and display, or while a
    redemption is being decided. ``repr`` hides the digits so logs never carry one."""

    digits: str = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.digits) != KEY_DIGITS or not set(self.digits) <= _DIGITS:
            raise MalformedSupportKey(f"a support key has exactly {KEY_DIGITS} digits")

    @classmethod
    def generate(cls) -> SupportKey:
        """A new key, uniform over all 10**KEY_DIGITS values (the sizing assumes it)."""
        return cls(f"{secrets.randbelow(10**KEY_DIGITS):0{KEY_DIGITS}d}")

    @classmethod
    def parse(cls, text: str) -> SupportKey:
        """Read a key as typed: spaces and dashes anywhere are ignored; anything else
        but ASCII digits is rejected (``"٣".isdigit()`` is true, but not a key digit)."""
        kept = "".join(c for c in text if not (c.isspace() or c in _DASHES))
        if not kept:
            raise MalformedSupportKey("no support key given")
        if not set(kept) <= _DIGITS:
            raise MalformedSupportKey("a support key has digits only")
        if len(kept) != KEY_DIGITS:
            raise MalformedSupportKey(
                f"a support key has {KEY_DIGITS} digits, this has {len(kept)}"
            )
        return cls(kept)

    def grouped(self) -> str:
        """The key for reading aloud and display: groups of three, space-separated."""
        return " ".join(
            self.digits[i : i + KEY_GROUP_SIZE] for i in range(0, KEY_DIGITS, KEY_GROUP_SIZE)
        )

    @property
    def prefix(self) -> str:
        """The leading digits that wrong tries are attributed by."""
        return self.digits[:KEY_PREFIX_DIGITS]

    def __repr__(self) -> str:
        return "SupportKey(<redacted>)"


def _check_pepper(pepper: bytes) -> None:
    if len(pepper) < MIN_PEPPER_BYTES:
        raise WeakPepper(f"the pepper must be at least {MIN_PEPPER_BYTES} random bytes")


def key_digest(key: SupportKey, pepper: bytes) -> str:
    """The only form in which a key is stored: HMAC-SHA256(pepper, label || digits), hex.

    Keyed rather than a plain hash because 10**12 keys are enumerable in minutes on a
    GPU; without the pepper (kept outside the database) a stolen digest is useless.
    """
    _check_pepper(pepper)
    return hmac.new(pepper, _KEY_LABEL + key.digits.encode("ascii"), hashlib.sha256).hexdigest()


def prefix_digest(key: SupportKey, pepper: bytes) -> str:
    """Keyed digest of the key's prefix: the bucket the store indexes wrong tries by.

    Kept keyed so a database reader does not learn three digits of every live key.
    """
    _check_pepper(pepper)
    return hmac.new(pepper, _PREFIX_LABEL + key.prefix.encode("ascii"), hashlib.sha256).hexdigest()


class KeyStatus(Enum):
    LIVE = "live"
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOID = "void"


@dataclass(frozen=True)
class IssuedSupportKey:
    """What the store keeps about an issued key: digests, owner, times, wrong tries.

    Immutable: every change returns a new record for the shell to write back, which
    lets the store apply it as a compare-and-set against concurrent redemptions.
    """

    digest: str
    prefix_digest: str
    agent_id: str
    issued_at: datetime
    expires_at: datetime
    void_after: int
    wrong_tries: int = 0
    redeemed_at: datetime | None = None

    def status(self, now: datetime) -> KeyStatus:
        """Which answer the key gets at ``now``. Redeemed wins over expired so the
        audit says what really happened to a key that was used in time."""
        require_utc(now)
        if self.redeemed_at is not None:
            return KeyStatus.REDEEMED
        if self.wrong_tries >= self.void_after:
            return KeyStatus.VOID
        if now >= self.expires_at:
            return KeyStatus.EXPIRED
        return KeyStatus.LIVE

    def with_wrong_try(self) -> IssuedSupportKey:
        return replace(self, wrong_tries=self.wrong_tries + 1)

    def with_redemption(self, now: datetime) -> IssuedSupportKey:
        return replace(self, redeemed_at=require_utc(now))


@dataclass(frozen=True)
class SupportKeyPolicy:
    """How long keys live and how many wrong tries they survive.

    Both are bounded above because the security argument in docs/security.md is made
    for those bounds; a deployment may be stricter, never looser.
    """

    lifetime: timedelta = DEFAULT_KEY_LIFETIME
    max_wrong_tries: int = MAX_WRONG_TRIES

    def __post_init__(self) -> None:
        if not timedelta(0) < self.lifetime <= MAX_KEY_LIFETIME:
            raise InvalidKeyPolicy(
                f"key lifetime must be above zero and at most {MAX_KEY_LIFETIME}, "
                f"got {self.lifetime}"
            )
        if not 1 <= self.max_wrong_tries <= MAX_WRONG_TRIES:
            raise InvalidKeyPolicy(
                f"max wrong tries must be 1..{MAX_WRONG_TRIES}, got {self.max_wrong_tries}"
            )

    def issue(
        self, *, agent_id: str, now: datetime, pepper: bytes
    ) -> tuple[SupportKey, IssuedSupportKey]:
        """A fresh key for ``agent_id``: the clear key to show once, and the record to
        store. The clear key must not be stored or logged."""
        require_utc(now)
        key = SupportKey.generate()
        record = IssuedSupportKey(
            digest=key_digest(key, pepper),
            prefix_digest=prefix_digest(key, pepper),
            agent_id=agent_id,
            issued_at=now,
            expires_at=now + self.lifetime,
            void_after=self.max_wrong_tries,
        )
        return key, record


class RefusalReason(Enum):
    """Why a redemption was refused. For the audit log only: the client always gets
    the same answer, whatever the reason, so it learns nothing about other keys."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    ALREADY_REDEEMED = "already_redeemed"
    VOID = "void"


_REFUSAL_FOR_STATUS = {
    KeyStatus.EXPIRED: RefusalReason.EXPIRED,
    KeyStatus.REDEEMED: RefusalReason.ALREADY_REDEEMED,
    KeyStatus.VOID: RefusalReason.VOID,
}


@dataclass(frozen=True)
class Redeemed:
    """The key matched a live record; ``key`` is that record, now marked redeemed."""

    key: IssuedSupportKey

    @property
    def updates(self) -> tuple[IssuedSupportKey, ...]:
        return (self.key,)


@dataclass(frozen=True)
class Refused:
    """No key was redeemed. ``updates`` are records whose wrong-try count went up."""

    reason: RefusalReason
    updates: tuple[IssuedSupportKey, ...] = ()


def redeem(
    candidate: str,
    records: Iterable[IssuedSupportKey],
    *,
    now: datetime,
    pepper: bytes,
) -> Redeemed | Refused:
    """Decide a redemption attempt.

    ``records`` are the stored keys sharing the candidate's prefix digest (passing more
    is harmless: others are ignored). The shell must have checked the global rate limit
    and the client's backoff before calling, and writes back ``result.updates``.

    Attribution of wrong tries: a wrong guess cannot be pinned on the one key it was
    aimed at, and counting it against *every* live key would let any typo (or a
    handful of attacker requests) void all keys at once. So a wrong guess counts
    against the live keys whose first :data:`KEY_PREFIX_DIGITS` digits it shares. To
    redeem a key an attacker must hit its prefix, and every miss inside that prefix
    spends one of the key's :data:`MAX_WRONG_TRIES` tries: at most that many guesses
    ever reach a key's remaining 10**9 values. Guesses in other prefixes cannot
    redeem it and do not harm it. Per-client and global counts are kept by the shell.
    """
    require_utc(now)
    try:
        key = SupportKey.parse(candidate)
    except MalformedSupportKey:
        # Not attributed to any key (it names none), but the shell still counts it
        # against the client and the global limit like any other failure.
        return Refused(RefusalReason.MALFORMED)
    digest = key_digest(key, pepper)
    bucket = prefix_digest(key, pepper)
    in_bucket = [r for r in records if hmac.compare_digest(r.prefix_digest, bucket)]
    matched: IssuedSupportKey | None = None
    for record in in_bucket:
        # compare_digest on every record: timing does not reveal how close a digest is.
        if hmac.compare_digest(record.digest, digest):
            matched = record
    if matched is not None:
        status = matched.status(now)
        if status is KeyStatus.LIVE:
            return Redeemed(matched.with_redemption(now))
        return Refused(_REFUSAL_FOR_STATUS[status])
    wrong = tuple(r.with_wrong_try() for r in in_bucket if r.status(now) is KeyStatus.LIVE)
    return Refused(RefusalReason.UNKNOWN, wrong)


@dataclass(frozen=True)
class ClientBackoff:
    """Per-client exponential backoff after failed redemptions (pure arithmetic).

    The first ``free_failures`` failures cost nothing (a customer mistyping and
    retyping must not wait); after that each failure doubles the wait, up to ``cap``.
    A client quiet for ``forget_after`` starts over. This slows a single address; it
    does nothing against many addresses, which is what the global limit is for.
    """

    base: timedelta = timedelta(seconds=1)
    factor: int = 2
    cap: timedelta = timedelta(minutes=15)
    free_failures: int = 2
    forget_after: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("backoff needs 0 < base <= cap")
        if self.factor < 1 or self.free_failures < 0:
            raise ValueError("backoff needs factor >= 1 and free_failures >= 0")

    def delay(self, failures: int) -> timedelta:
        """How long a client with ``failures`` recent failures waits after the last."""
        if failures <= self.free_failures:
            return timedelta(0)
        exponent = failures - self.free_failures - 1
        # Stop multiplying once past the cap: keeps the numbers small for huge counts.
        delay = self.base
        for _ in range(exponent):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def effective_failures(
        self, failures: int, last_failure_at: datetime | None, now: datetime
    ) -> int:
        """``failures``, or 0 if the client has been quiet long enough to be forgiven."""
        require_utc(now)
        if last_failure_at is None or now - last_failure_at >= self.forget_after:
            return 0
        return failures

    def next_attempt_at(
        self, failures: int, last_failure_at: datetime | None, now: datetime
    ) -> datetime:
        """The earliest instant this client may try again (``now`` if it may now)."""
        count = self.effective_failures(failures, last_failure_at, now)
        if count == 0 or last_failure_at is None:
            return now
        return max(now, require_utc(last_failure_at, "last_failure_at") + self.delay(count))

    def may_attempt(self, failures: int, last_failure_at: datetime | None, now: datetime) -> bool:
        return self.next_attempt_at(failures, last_failure_at, now) <= now


def breach_probability_per_year(
    *,
    keys_per_year: int = KEYS_PER_YEAR,
    key_lifetime: timedelta = MAX_KEY_LIFETIME,
    guess_rate: int = GLOBAL_GUESS_RATE_LIMIT,
    guess_burst: int = GLOBAL_GUESS_BURST,
    key_digits: int = KEY_DIGITS,
) -> Fraction:
    """Upper bound on the chance per year that any key is redeemed by guessing, from
    the global rate limit alone.

    A token bucket of rate r and capacity b admits at most b + r*t attempts in any
    window of length t. A key is live for at most its lifetime L, so at most b + r*L
    guesses are made while it can be redeemed, each hitting it with chance 10**-d
    (keys are uniform and every failure gets the same answer). Union bound over keys:
    P <= K * (b + r*L) / 10**d. Evaluated at the longest allowed lifetime by default.
    """
    seconds = Fraction(key_lifetime.total_seconds())
    guesses_per_key = guess_burst + guess_rate * seconds
    return keys_per_year * guesses_per_key / Fraction(10**key_digits)


def breach_probability_per_year_by_attribution(
    *,
    keys_per_year: int = KEYS_PER_YEAR,
    max_wrong_tries: int = MAX_WRONG_TRIES,
    key_digits: int = KEY_DIGITS,
    prefix_digits: int = KEY_PREFIX_DIGITS,
) -> Fraction:
    """Upper bound from per-key voiding alone, with no rate limit at all.

    Only guesses inside a key's prefix can redeem it, and each wrong one spends a try;
    so at most ``max_wrong_tries`` guesses reach its 10**(d - p) suffixes:
    P <= K * w / 10**(d - p).
    """
    return Fraction(keys_per_year * max_wrong_tries, 10 ** (key_digits - prefix_digits))
