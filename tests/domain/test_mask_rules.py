"""The bank's window rules: matching, and the form they travel in."""

from __future__ import annotations

import pytest

from supportdesk.domain.mask_rules import InvalidMaskRules, MaskRules, WindowRule

RULES = MaskRules(
    "2026-12-a",
    (WindowRule(title="SecureGo"), WindowRule(application="keepassxc"),
     WindowRule(title="TAN", application="chipTAN-Generator")),
)  # fmt: skip


@pytest.mark.parametrize(
    ("title", "apps", "masked"),
    [
        ("SecureGo plus – TAN", (), True),
        ("securego", ("x",), True),
        ("Passwörter - KeePassXC", ("keepassxc", "KeePassXC"), True),
        ("KeePassXC", ("kate",), False),
        ("TAN-Liste", ("chiptan-generator",), True),
        ("TAN-Liste", ("libreoffice",), False),
        ("Online-Banking – Chromium", ("chromium",), False),
    ],
)
def test_rules_match_title_pieces_and_application_names(
    title: str, apps: tuple[str, ...], masked: bool
) -> None:
    assert RULES.matches(title, apps) is masked


def test_the_rules_travel_as_json_and_come_back_the_same() -> None:
    assert MaskRules.from_json(RULES.as_json()) == RULES
    assert MaskRules.from_json(None) == MaskRules()


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"version": 3},
        {"windows": [{}]},
        {"windows": [{"title": " "}]},
        {"windows": [{"title": "x", "regex": ".*"}]},
        {"windows": [{"title": 5}]},
        {"windows": [{"title": "x"}] * 101},
        {"windows": [{"title": "x" * 201}]},
    ],
)
def test_malformed_rules_are_refused(bad: object) -> None:
    with pytest.raises(InvalidMaskRules):
        MaskRules.from_json(bad)
