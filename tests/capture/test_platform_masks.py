"""The platform-neutral parts of masking on Windows and macOS, run here: what the probes
make of an answer, how points become pixels, what the window listers report and how
the bank's rules match those listings, and what the session does when a platform's
watcher or lister cannot open (automatic masking off, rules blank the picture) — which
is what really happens to another OS's backend (on Linux: to both), so that failure is
not simulated."""

from __future__ import annotations

import pytest

from supportdesk.applet.screen.masking import SessionMasking, secret_watcher, window_lister
from supportdesk.capture.backends import Platform, this_machine
from supportdesk.capture.focus_poll import FocusPollWatcher
from supportdesk.capture.macos_secrets import is_secure_field, points_to_pixels
from supportdesk.capture.macos_windows import window_from_info
from supportdesk.capture.mask import MaskKind
from supportdesk.capture.mask_sources import EVERYWHERE, DesktopWindow, WindowRuleMasks
from supportdesk.capture.win32_secrets import password_rect
from supportdesk.capture.win32_windows import application_names, frame_rect
from supportdesk.domain.consent import AutomaticMasking
from supportdesk.domain.mask_rules import MaskRules, WindowRule
from supportdesk.rfb.geometry import Rect

FOREIGN = [p for p in (Platform.WINDOWS, Platform.MACOS) if p is not this_machine().platform]
"""The polling platforms whose probes and listers cannot open on this machine."""

RULES = MaskRules("2026-12-1", (WindowRule(title="SecureGo"), WindowRule(application="keepassxc")))


# -- Windows --------------------------------------------------------------------------------


def test_uia_answers_become_a_rect_only_for_a_shown_password_field() -> None:
    assert password_rect(True, 100, 200, 340, 228) == Rect(100, 200, 240, 28)
    assert password_rect(False, 100, 200, 340, 228) is None  # a plain edit: not secret
    assert password_rect(True, 0, 0, 0, 0) is None  # off screen: UIA gives an empty rect
    # A second monitor left of the primary one: negative physical coordinates stay.
    assert password_rect(True, -1500, 300, -1200, 330) == Rect(-1500, 300, 300, 30)


def test_process_image_names_give_the_rule_both_spellings() -> None:
    assert application_names(r"C:\Program Files\SecureGo\SecureGo.exe") == (
        "SecureGo.exe",
        "SecureGo",
    )
    assert application_names(r"C:\Tools\KeePassXC.EXE") == ("KeePassXC.EXE", "KeePassXC")
    assert application_names("C:/odd/tool") == ("tool",)
    assert application_names("") == ()
    assert frame_rect(10, 20, 650, 500) == Rect(10, 20, 640, 480)
    assert frame_rect(10, 20, 10, 500) is None


def test_rules_match_a_windows_listing_by_title_and_by_process() -> None:
    listing = [
        DesktopWindow("Online-Banking – Chromium", ("chrome.exe", "chrome"), Rect(0, 0, 800, 600)),
        DesktopWindow("SecureGo plus", ("SecureGo.exe", "SecureGo"), Rect(900, 100, 300, 500)),
        DesktopWindow(
            "Datenbank.kdbx", application_names(r"C:\KeePassXC\KeePassXC.exe"), Rect(5, 5, 50, 50)
        ),
    ]
    masks = WindowRuleMasks(RULES, lambda: listing)
    masks.refresh()
    assert {a.rect for a in masks.areas()} == {Rect(900, 100, 300, 500), Rect(5, 5, 50, 50)}
    assert all(a.kind is MaskKind.WINDOW_RULE for a in masks.areas())


# -- macOS ----------------------------------------------------------------------------------


def test_the_secure_text_field_is_found_by_subrole_or_role() -> None:
    assert is_secure_field("AXTextField", "AXSecureTextField")
    assert is_secure_field("AXSecureTextField", None)  # older programs
    assert not is_secure_field("AXTextField", None)
    assert not is_secure_field("AXTextArea", "AXSearchField")
    assert not is_secure_field(None, None)


def test_points_become_frame_pixels_rounded_outwards() -> None:
    # Nominal-resolution capture (the program's): one pixel per point.
    assert points_to_pixels(20.0, 40.0, 200.0, 22.0, 1.0) == Rect(20, 40, 200, 22)
    # Fractions never make the mask smaller than the field.
    assert points_to_pixels(20.5, 40.25, 200.0, 22.0, 1.0) == Rect(20, 40, 201, 23)
    # A capture at the backing scale of a Retina display.
    assert points_to_pixels(20.0, 40.0, 200.0, 22.0, 2.0) == Rect(40, 80, 400, 44)
    # A display left of and above the main one: negative points.
    assert points_to_pixels(-1440.0, -90.5, 100.0, 20.0, 1.0) == Rect(-1440, -91, 100, 21)
    assert points_to_pixels(0.0, 0.0, 0.0, 20.0, 1.0) is None


def test_the_quartz_window_list_entries_become_windows_the_rules_match() -> None:
    entry = window_from_info("TAN – SecureGo", "SecureGo", (100.0, 50.0, 400.0, 300.0), 1.0)
    assert entry == DesktopWindow("TAN – SecureGo", ("SecureGo",), Rect(100, 50, 400, 300))
    # Without Screen Recording the title is missing: only application rules can match.
    untitled = window_from_info(None, "KeePassXC", (0.0, 0.0, 10.0, 10.0), None)
    assert untitled == DesktopWindow("", ("KeePassXC",), Rect(0, 0, 10, 10))
    assert window_from_info("x", "App", (0.0, 0.0, 10.0, 10.0), 0.0) is None  # transparent
    assert window_from_info("x", "App", None, 1.0) is None
    assert window_from_info("x", "App", (0.0, 0.0, 0.0, 10.0), 1.0) is None
    assert window_from_info(None, None, (0.0, 0.0, 10.0, 10.0), 1.0) is None
    masks = WindowRuleMasks(RULES, lambda: [w for w in (entry, untitled) if w is not None])
    masks.refresh()
    assert {a.rect for a in masks.areas()} == {Rect(100, 50, 400, 300), Rect(0, 0, 10, 10)}


# -- the session's decisions ----------------------------------------------------------------


@pytest.mark.parametrize("platform", [Platform.WINDOWS, Platform.MACOS])
def test_each_platform_gets_its_polling_watcher(platform: Platform) -> None:
    assert isinstance(secret_watcher(platform), FocusPollWatcher)


@pytest.mark.parametrize("platform", FOREIGN)
def test_a_probe_that_cannot_open_means_automatic_off_not_a_crash(platform: Platform) -> None:
    # Another OS's probe cannot open here: exactly the failure at the start of a
    # session whose desktop does not answer.
    masking = SessionMasking(platform)
    try:
        assert masking.start(MaskRules("2026-12-1")) is False
        assert masking.consent_facts() == {"automatic": False, "rules_version": "2026-12-1"}
        assert masking.notice is AutomaticMasking.OFF  # the consent says it is off
        assert masking.areas() == []  # nothing claimed masked, nothing blanked
        assert masking.toggle_privacy()  # the Sichtschutz still works
        assert [a.rect for a in masking.areas()] == [EVERYWHERE]
    finally:
        masking.stop()


def test_the_consent_says_what_the_program_does_with_the_accessibility_interface() -> None:
    for platform, on in (
        (Platform.X11, AutomaticMasking.SWITCHED_ON),
        (Platform.WINDOWS, AutomaticMasking.ASKED),
        (Platform.MACOS, AutomaticMasking.ASKED),
    ):
        masking = SessionMasking(platform)
        assert masking.notice is AutomaticMasking.OFF  # not started: not claimed
        masking.automatic = True  # what start() sets when the watcher answered
        assert masking.notice is on


@pytest.mark.parametrize("platform", FOREIGN)
def test_rules_that_cannot_be_followed_blank_the_picture(platform: Platform) -> None:
    with pytest.raises(OSError):
        window_lister(platform)
    masking = SessionMasking(platform)
    try:
        masking.start(RULES)
        assert [a.rect for a in masking.areas()] == [EVERYWHERE]
        assert masking.privacy.on
    finally:
        masking.stop()
