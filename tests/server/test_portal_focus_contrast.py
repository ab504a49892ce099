"""The portal's focus indicator is visible on every surface it can appear on: its
colours, read from portal.css itself, reach 3:1 (WCAG 2.2, 1.4.11 non-text contrast)
against every background the stylesheet paints."""

from __future__ import annotations

import re
from importlib import resources

import pytest

CSS = resources.files("supportdesk.server").joinpath("static/portal.css").read_text()
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


def _variables(css: str) -> dict[str, str]:
    root = re.search(r":root\s*\{([^}]*)\}", css)
    assert root
    return dict(re.findall(r"(--[\w-]+)\s*:\s*([^;]+);", root.group(1)))


def _colour(value: str, variables: dict[str, str]) -> str:
    """The hex colour a declaration's value names, directly or through var()."""
    for _ in range(5):
        var = re.search(r"var\((--[\w-]+)\)", value)
        if not var:
            break
        value = value.replace(var.group(0), variables[var.group(1)])
    match = HEX.search(value)
    assert match, f"no colour in {value!r}"
    digits = match.group(0)[1:]
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits).lower()


def _rules(css: str) -> list[tuple[str, str]]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    # Flatten @media blocks: their rules count like any other.
    css = re.sub(r"@media[^{]*\{", "", css)
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def luminance(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


VARIABLES = _variables(CSS)
RULES = _rules(CSS)


def focus_colours() -> tuple[str, str]:
    """(outline, inner ring) of the portal's one focus rule."""
    focus = [body for selector, body in RULES if ":focus-visible" in selector]
    assert len(focus) == 1, "one focus rule for links, buttons and fields"
    outline = re.search(r"outline\s*:\s*([^;]+);", focus[0])
    ring = re.search(r"box-shadow\s*:\s*([^;]+);", focus[0])
    assert outline and ring
    return _colour(outline.group(1), VARIABLES), _colour(ring.group(1), VARIABLES)


def backgrounds() -> dict[str, str]:
    """Every background colour the stylesheet paints, by the selector that paints it."""
    found = {}
    for selector, body in RULES:
        for value in re.findall(r"background(?:-color)?\s*:\s*([^;]+);", body):
            if "var(" in value or HEX.search(value):
                found[selector] = _colour(value, VARIABLES)
    return found


# The outline sits 2px outside the focused element, so it is seen against the surface
# around it; the white inner ring fills the gap and is seen against the element's own
# fill. Every background in the stylesheet is one of three kinds, and a new one fails
# the test below until it is put into one of them.
OWN_FILLS = {".button", ".button.primary", ".button.primary:hover", ".skip:focus"}
"""Fills of focusable elements: the inner ring must stand out against them."""
DECORATIONS = {".status.open .dot", ".status.closed .dot", "ol.three-steps .step-number"}
"""Small marks that hold no focusable element: no ring is ever drawn on them."""


def surfaces() -> dict[str, str]:
    return {s: c for s, c in backgrounds().items() if s not in OWN_FILLS | DECORATIONS}


def test_the_old_yellow_ring_would_fail_on_white() -> None:
    assert contrast("#ffbf47", "#ffffff") < 3  # 1.64:1, the reason for the change


def test_the_named_fills_exist_and_the_main_surfaces_are_checked() -> None:
    assert set(backgrounds()) >= OWN_FILLS | DECORATIONS
    painted = set(surfaces().values())
    for surface in ("--paper", "--wash", "--brand"):  # page, body, header
        assert _colour(f"var({surface})", VARIABLES) in painted


@pytest.mark.parametrize("selector", sorted(surfaces()))
def test_the_focus_outline_reaches_3_to_1_on_every_surface(selector: str) -> None:
    outline, _ = focus_colours()
    background = surfaces()[selector]
    assert contrast(outline, background) >= 3, (selector, background)


@pytest.mark.parametrize("selector", sorted(OWN_FILLS))
def test_the_inner_ring_reaches_3_to_1_on_every_focusable_fill(selector: str) -> None:
    # On a dark fill (the blue buttons) the white ring stands out; on a light fill (white
    # buttons, the skip link) the ring merges with it and the dark outline does.
    outline, ring = focus_colours()
    fill = backgrounds()[selector]
    assert max(contrast(ring, fill), contrast(outline, fill)) >= 3, (selector, fill)


def test_the_two_rings_stand_apart() -> None:
    outline, ring = focus_colours()
    assert contrast(outline, ring) >= 3
