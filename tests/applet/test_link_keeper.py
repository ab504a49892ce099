"""The applet link's pure keeper (applet/link/keeper.py): back-off, heartbeat clock, phases."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest

from supportdesk.applet.link.keeper import (
    LINK_TRANSITIONS,
    Backoff,
    Heartbeat,
    LinkKeeper,
    LinkKeeperError,
    LinkMove,
    LinkPhase,
)

# -- back-off ----------------------------------------------------------------------------


def test_backoff_doubles_up_to_two_seconds_and_never_more() -> None:
    top = Backoff(rand=lambda: 1.0)  # the upper end of every jitter range
    assert [round(top.next_delay(), 3) for _ in range(8)] == [
        0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0,
    ]  # fmt: skip
    anything = Backoff(rand=random.Random(7).random)
    assert all(0 < anything.next_delay() <= 2.0 for _ in range(1000))


def test_backoff_jitters_within_the_upper_half_of_each_step() -> None:
    low, high = Backoff(rand=lambda: 0.0), Backoff(rand=lambda: 0.999999)
    for _ in range(10):
        a, b = low.next_delay(), high.next_delay()
        assert a == pytest.approx(b / 2, rel=1e-5)
    spread = {round(Backoff(rand=random.Random(seed).random).next_delay(), 4) for seed in range(50)}
    assert len(spread) > 40  # customers who lost the link together do not retry together


def test_backoff_starts_again_after_a_success() -> None:
    backoff = Backoff(rand=lambda: 1.0)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


def test_backoff_refuses_a_nonsensical_range() -> None:
    with pytest.raises(ValueError):
        Backoff(first=3, ceiling=2)


# -- heartbeat clock (a fake clock: plain numbers) ---------------------------------------


def test_a_heartbeat_is_due_at_once_and_then_every_second() -> None:
    clock = Heartbeat(now=100.0)
    assert clock.send_due(100.0)
    clock.sent(100.0)
    assert not clock.send_due(100.9)
    assert clock.send_due(101.0)
    assert clock.next_check(100.4) == pytest.approx(0.6)


def test_four_seconds_of_silence_mean_the_link_is_lost() -> None:
    clock = Heartbeat(now=0.0)
    assert not clock.silent(3.99)
    assert clock.silent(4.0)  # at or beyond the timeout


def test_anything_heard_keeps_the_link_alive() -> None:
    clock = Heartbeat(now=0.0)
    for second in range(1, 20):
        clock.heard(float(second))  # a heartbeat (or any message) every second
        assert not clock.silent(second + 0.5)
    assert clock.silent(19 + 4.0)
    clock.heard(10.0)  # a late report of an older instant changes nothing
    assert clock.silent(23.0)


def test_the_next_check_comes_no_later_than_the_silence_limit() -> None:
    clock = Heartbeat(now=0.0)
    clock.sent(0.0)
    clock.last_sent = 10.0  # as if heartbeats went out all along
    assert clock.next_check(3.5) == pytest.approx(0.5)


# -- the keeper's phases -----------------------------------------------------------------


def test_a_lost_link_before_consent_cannot_be_resumed() -> None:
    keeper = LinkKeeper()
    assert not keeper.can_resume
    assert keeper.lost(now=5.0) is False
    assert keeper.phase is LinkPhase.OVER


def test_lost_then_back_within_the_grace() -> None:
    keeper = LinkKeeper(backoff=Backoff(rand=lambda: 1.0))
    keeper.take_secret("s" * 43, grace_seconds=120)
    assert keeper.authorization("1234-5678") == "Resume 1234-5678 " + "s" * 43
    assert keeper.lost(now=10.0)
    assert keeper.phase is LinkPhase.LOST
    assert keeper.next_attempt(10.0) == pytest.approx(0.1)
    assert keeper.next_attempt(10.1) == pytest.approx(0.2)
    assert keeper.connected(now=13.0) == pytest.approx(3.0)  # the gap
    assert keeper.phase.value == "connected"
    # Success resets the back-off for the next loss.
    keeper.lost(now=20.0)
    assert keeper.next_attempt(20.0) == pytest.approx(0.1)


def test_the_grace_bounds_every_wait_and_then_ends_the_tries() -> None:
    keeper = LinkKeeper(backoff=Backoff(rand=lambda: 1.0))
    keeper.take_secret("secret", grace_seconds=5)
    keeper.lost(now=0.0)
    for _ in range(5):
        keeper.next_attempt(0.0)
    assert keeper.next_attempt(4.5) == pytest.approx(0.5)  # no wait beyond the grace
    assert keeper.next_attempt(5.0) is None
    assert keeper.phase is LinkPhase.OVER
    assert not keeper.can_resume  # nothing left to resume with


def test_a_refused_resume_is_the_end() -> None:
    keeper = LinkKeeper()
    keeper.take_secret("secret")
    keeper.lost(now=0.0)
    keeper.refused()
    assert keeper.phase is LinkPhase.OVER
    with pytest.raises(LinkKeeperError):
        keeper.authorization("1")


def test_a_new_secret_replaces_the_old_one_and_may_change_the_grace() -> None:
    keeper = LinkKeeper()
    keeper.take_secret("first")
    assert keeper.grace == 120
    keeper.take_secret("second", grace_seconds=30)
    assert keeper.authorization("9") == "Resume 9 second" and keeper.grace == 30
    keeper.take_secret("third", grace_seconds=None)
    assert keeper.grace == 30
    keeper.take_secret(None, grace_seconds="60")  # not a secret, not a number: ignored
    assert keeper.authorization("9") == "Resume 9 third" and keeper.grace == 30


def test_the_secret_is_never_in_the_keepers_repr() -> None:
    keeper = LinkKeeper()
    keeper.take_secret("do-not-show-me")
    assert "do-not-show-me" not in repr(keeper)


@pytest.mark.parametrize(
    ("phase", "move"), list(itertools.product(list(LinkPhase), list(LinkMove)))
)
def test_only_the_tables_moves_are_allowed(phase: LinkPhase, move: LinkMove) -> None:
    keeper = LinkKeeper(phase=phase)
    keeper.take_secret("secret")
    allowed = (phase, move) in LINK_TRANSITIONS
    act: Callable[[], object] = {
        LinkMove.LOST: lambda: keeper.lost(0.0),
        LinkMove.CONNECTED: lambda: keeper.connected(0.0),
        LinkMove.REFUSED: keeper.refused,
        LinkMove.ENDED: keeper.ended,
        LinkMove.GAVE_UP: lambda: keeper._move(LinkMove.GAVE_UP),
    }[move]
    if allowed:
        act()
        assert keeper.phase is LINK_TRANSITIONS[(phase, move)]
    else:
        with pytest.raises(LinkKeeperError):
            act()


def test_no_attempt_is_planned_unless_the_link_is_lost() -> None:
    with pytest.raises(LinkKeeperError):
        LinkKeeper().next_attempt(0.0)
