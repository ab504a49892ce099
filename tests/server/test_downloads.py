"""The download page's pure parts: which system a visitor runs, which file is whose,
and how sizes read in German and English (server/pages/downloads.py)."""

from __future__ import annotations

import pytest

from supportdesk.server.pages.downloads import (
    BUILDS,
    ProgramSystem,
    build_for_slug,
    bytes_text,
    size_text,
    system_of,
)

WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
WINDOWS_FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
UBUNTU_FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROMEBOOK = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "system"),
    [
        (WINDOWS_CHROME, ProgramSystem.WINDOWS),
        (WINDOWS_FIREFOX, ProgramSystem.WINDOWS),
        (MAC_SAFARI, ProgramSystem.MACOS),
        (LINUX_FIREFOX, ProgramSystem.LINUX),
        (UBUNTU_FIREFOX, ProgramSystem.LINUX),
        # Phones, tablets and Chromebooks name a desktop system too: no build for them.
        (ANDROID_CHROME, None),
        (IPHONE_SAFARI, None),
        (IPAD_SAFARI, None),
        (CHROMEBOOK, None),
        ("curl/8.5.0", None),
        ("", None),
    ],
)
def test_the_system_from_the_user_agent(agent: str, system: ProgramSystem | None) -> None:
    assert system_of({"user-agent": agent}) is system


@pytest.mark.parametrize(
    ("hint", "system"),
    [
        ('"Windows"', ProgramSystem.WINDOWS),
        ('"macOS"', ProgramSystem.MACOS),
        ('"Linux"', ProgramSystem.LINUX),
        ('"Android"', None),
        ('"Chrome OS"', None),
        ('"iOS"', None),
    ],
)
def test_the_client_hint_wins_over_the_user_agent(hint: str, system: ProgramSystem | None) -> None:
    # A browser that reduced its User-Agent string, or one that claims another system
    # in it: the hint says what the browser really runs on.
    headers = {"sec-ch-ua-platform": hint, "user-agent": LINUX_FIREFOX}
    assert system_of(headers) is system


def test_an_unknown_or_empty_hint_falls_back_to_the_user_agent() -> None:
    assert system_of({"sec-ch-ua-platform": '"Unknown"', "user-agent": MAC_SAFARI}) is (
        ProgramSystem.MACOS
    )
    assert system_of({"sec-ch-ua-platform": '""', "user-agent": WINDOWS_CHROME}) is (
        ProgramSystem.WINDOWS
    )


def test_a_huge_header_is_read_only_so_far() -> None:
    assert system_of({"user-agent": "x" * 5000 + " Windows"}) is None


def test_every_system_has_its_fixed_file() -> None:
    assert {b.system: b.file_name for b in BUILDS.values()} == {
        ProgramSystem.WINDOWS: "supportdesk-join-windows.exe",
        ProgramSystem.MACOS: "supportdesk-join-macos.zip",
        ProgramSystem.LINUX: "supportdesk-join-linux",
    }
    assert BUILDS[ProgramSystem.MACOS].media_type == "application/zip"
    assert all(b.system is s for s, b in BUILDS.items())


@pytest.mark.parametrize("slug", ["windows", "macos", "linux"])
def test_a_slug_names_its_build(slug: str) -> None:
    build = build_for_slug(slug)
    assert build is not None and build.system.value == slug


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Windows",
        "supportdesk-join-linux",
        "../supportdesk-join-linux",
        "linux/",
        "linux\x00",
        "..",
        "android",
    ],
)
def test_nothing_else_names_a_build(slug: str) -> None:
    assert build_for_slug(slug) is None


@pytest.mark.parametrize(
    ("size", "german", "english"),
    [
        (0, "0 Bytes", "0 bytes"),
        (999, "999 Bytes", "999 bytes"),
        (1024, "1,0 KB", "1.0 KB"),
        (1536, "1,5 KB", "1.5 KB"),
        (1024 * 1024, "1,0 MB", "1.0 MB"),
        (51_064_832, "48,7 MB", "48.7 MB"),
    ],
)
def test_sizes_read_in_each_language(size: int, german: str, english: str) -> None:
    assert size_text(size, "de") == german
    assert size_text(size, "en") == english


def test_exact_sizes_group_thousands_in_each_language() -> None:
    assert bytes_text(51_064_832, "de") == "51.064.832 Bytes"
    assert bytes_text(51_064_832, "en") == "51,064,832 bytes"
    assert bytes_text(7, "de") == "7 Bytes"
