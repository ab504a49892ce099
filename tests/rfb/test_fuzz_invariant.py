"""The fuzzing invariant as a short test: the harness in fuzzing/ must hold on random input."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

HARNESS = Path(__file__).resolve().parents[2] / "fuzzing" / "fuzz_client_parser.py"
spec = importlib.util.spec_from_file_location("fuzz_client_parser", HARNESS)
assert spec is not None and spec.loader is not None
fuzz = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=256))
def test_random_bytes_hold_the_invariant(data: bytes) -> None:
    fuzz.check(data)


def test_known_hostile_inputs_hold_the_invariant() -> None:
    for data in [
        b"\x06\x00\x00\x00\xff\xff\xff\xff",
        b"\x02\x00\xff\xff",
        b"\x03\x00\xff\xff\xff\xff\xff\xff\xff\xff",
        b"\x03\x01\x00\x00\x00\x00\x00\x40\x00\x30",
        b"\x96\x01\x00\x00\x00\x00\x00\x10\x00\x10",
        b"\xfb\x00\x00\x10\x00\x10\x01\x00" + bytes(16),
        b"\xff",
    ]:
        fuzz.check(data)
