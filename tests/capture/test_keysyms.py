"""Character to keysym mapping."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.capture import keysyms as ks


@pytest.mark.parametrize(
    ("char", "keysym"),
    [
        ("a", 0x61),
        ("A", 0x41),
        (" ", ks.space),
        ("@", ks.at),
        ("ä", ks.adiaeresis),
        ("Ö", ks.Odiaeresis),
        ("ß", ks.ssharp),
        ("€", ks.EuroSign),
        ("\n", ks.Return),
        ("\t", ks.Tab),
        ("→", 0x01002192),
        ("😀", 0x0101F600),
    ],
)
def test_char_to_keysym(char: str, keysym: int) -> None:
    assert ks.char_to_keysym(char) == keysym


def test_control_characters_and_strings_are_rejected() -> None:
    with pytest.raises(ValueError):
        ks.char_to_keysym("\x01")
    with pytest.raises(ValueError):
        ks.char_to_keysym("ab")


def test_normalize_folds_unicode_keysyms_with_classic_equivalents() -> None:
    assert ks.normalize_keysym(0x010000E4) == ks.adiaeresis
    assert ks.normalize_keysym(0x010020AC) == ks.EuroSign
    assert ks.normalize_keysym(0x01002192) == 0x01002192
    assert ks.normalize_keysym(ks.Return) == ks.Return


def test_function_keys() -> None:
    assert ks.function_key(1) == ks.F1
    assert ks.function_key(12) == ks.F12
    with pytest.raises(ValueError):
        ks.function_key(0)


printable = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x7f").filter(
    lambda c: not 0x80 <= ord(c) < 0xA0
)


@given(printable)
def test_keysym_round_trip(char: str) -> None:
    assert ks.keysym_to_char(ks.char_to_keysym(char)) == char
    assert ks.keysym_to_char(ks.normalize_keysym(ks.UNICODE_OFFSET + ord(char))) == char
