"""Phone numbers as a caller at home and a caller abroad dial them."""

from __future__ import annotations

import pytest

from supportdesk.domain.hotlines import PhoneLine


@pytest.mark.parametrize(
    ("number", "international", "tel"),
    [
        ("0941 4095-387", "+49 941 4095-387", "tel:+499414095387"),
        ("0721 1209 66003", "+49 721 1209 66003", "tel:+49721120966003"),
        ("+43 1 234 567", "+43 1 234 567", "tel:+431234567"),
        ("116 116", "+49 116 116", "tel:+49116116"),
    ],
)
def test_international_form_matches_the_tel_link(number: str, international: str, tel: str) -> None:
    line = PhoneLine(number)
    assert line.international == international
    assert line.tel_uri == tel
    # The link and the shown number are the same digits.
    assert "tel:" + "".join(ch for ch in international if ch == "+" or ch.isdigit()) == tel
