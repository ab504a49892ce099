"""The fuzz targets in fuzzing/ at a small count, so a regression fails `make test`.

2,000 mutated inputs per target (a fixed seed: the same inputs every run); every one
must be accepted or rejected with the target's documented clean error. The full run
of 10^6 inputs per target is `python -m fuzzing --inputs 1000000 --jobs 2`, and its
table is in docs/security.md ("Fuzzing").
"""

from __future__ import annotations

import contextlib

import pytest
from fuzzing.mutator import Mutator
from fuzzing.runner import all_targets, run_target

TARGETS = sorted(all_targets())


def test_every_issue_target_is_fuzzed() -> None:
    assert set(TARGETS) == {
        "rfb-client",
        "rfb-gate",
        "link-frames",
        "control-messages",
        "file-transfer",
        "recording-reader",
    }


@pytest.mark.parametrize("name", TARGETS)
def test_target_holds_its_invariant_on_2000_inputs(name: str) -> None:
    result = run_target(name, 2000, seed=15)
    assert result.inputs == 2000
    assert result.failures == 0, (
        f"{result.unexpected} {result.first_failure!r:.300}\n{result.first_trace}"
    )


@pytest.mark.parametrize("name", TARGETS)
def test_every_seed_is_handled(name: str) -> None:
    target = all_targets()[name]
    for seed in target.seeds():
        with contextlib.suppress(*target.clean):
            target.run(seed)


def test_the_mutator_is_deterministic() -> None:
    seeds = [b"RFB 003.008\n\x01\x01", b"\x03\x00" + bytes(8)]
    first = [Mutator(seeds, 7).next() for _ in range(1)]
    a, b = Mutator(seeds, 7), Mutator(seeds, 7)
    assert [a.next() for _ in range(200)] == [b.next() for _ in range(200)]
    assert first[0] == Mutator(seeds, 7).next()
