"""The support program's downloads as the portal names them: one fixed file per
operating system, which system a visitor runs (from the request's headers), and how a
file's size reads in German or English. Pure: no files, no requests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class ProgramSystem(Enum):
    """A system the support program is built for; the value is the download's slug."""

    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"


@dataclass(frozen=True)
class ProgramBuild:
    """The file a build for one system produces (``make applet``), under the name the
    operator puts it into the download folder with."""

    system: ProgramSystem
    file_name: str
    media_type: str
    label: str  # the system's name as the page shows it (the same in every language)


BUILDS: MappingProxyType[ProgramSystem, ProgramBuild] = MappingProxyType(
    {
        ProgramSystem.WINDOWS: ProgramBuild(
            ProgramSystem.WINDOWS,
            "supportdesk-join-windows.exe",
            # IANA's type for PE executables; the download is an attachment either way.
            "application/vnd.microsoft.portable-executable",
            "Windows",
        ),
        ProgramSystem.MACOS: ProgramBuild(
            ProgramSystem.MACOS, "supportdesk-join-macos.zip", "application/zip", "macOS"
        ),
        ProgramSystem.LINUX: ProgramBuild(
            ProgramSystem.LINUX, "supportdesk-join-linux", "application/octet-stream", "Linux"
        ),
    }
)
"""Every build, in the order the page lists them."""


def build_for_slug(slug: str) -> ProgramBuild | None:
    """The build a download address names (``/fernwartung/programm/<slug>``); None for
    anything else, so no part of the address ever becomes part of a path."""
    for system, build in BUILDS.items():
        if system.value == slug:
            return build
    return None


# Sec-CH-UA-Platform (Chromium-based browsers send it on every secure request): a
# quoted string. Android, Chrome OS, iOS and the like have no build.
_PLATFORM_HINTS = {
    "windows": ProgramSystem.WINDOWS,
    "macos": ProgramSystem.MACOS,
    "linux": ProgramSystem.LINUX,
}
_NO_BUILD_HINTS = frozenset({"android", "chrome os", "chromium os", "ios", "fuchsia"})

# User-Agent: checked in this order, because phones and Chromebooks name the desktop
# system they derive from ("Linux; Android", "X11; CrOS", "like Mac OS X").
_USER_AGENT_RULES: tuple[tuple[re.Pattern[str], ProgramSystem | None], ...] = (
    (re.compile(r"iPhone|iPad|iPod|Android|CrOS|Windows Phone|Mobile", re.I), None),
    (re.compile(r"Windows", re.I), ProgramSystem.WINDOWS),
    (re.compile(r"Macintosh|Mac OS X", re.I), ProgramSystem.MACOS),
    (re.compile(r"Linux", re.I), ProgramSystem.LINUX),
)
_MAX_HEADER = 1024  # longer values are not a real browser's: read no further


def system_of(headers: Mapping[str, str]) -> ProgramSystem | None:
    """The visitor's system: from ``Sec-CH-UA-Platform`` when the browser sends a
    telling one, else from the ``User-Agent``; None when neither names a system the
    program is built for (a phone, a tablet, a Chromebook, or nothing known)."""
    hint = headers.get("sec-ch-ua-platform", "")[:_MAX_HEADER].strip().strip('"').lower()
    if hint in _PLATFORM_HINTS:
        return _PLATFORM_HINTS[hint]
    if hint in _NO_BUILD_HINTS:
        return None
    agent = headers.get("user-agent", "")[:_MAX_HEADER]
    for pattern, system in _USER_AGENT_RULES:
        if pattern.search(agent):
            return system
    return None


_UNITS = (("MB", 1024 * 1024), ("KB", 1024))


def size_text(size: int, language: str) -> str:
    """A file size as the visitor reads it: "48,7 MB" in German, "48.7 MB" in English.

    Counted in 1024s, as Windows Explorer shows the downloaded file; the exact byte
    count (:func:`bytes_text`) stands beside it, so nothing is ambiguous.
    """
    for unit, scale in _UNITS:
        if size >= scale:
            number = f"{size / scale:.1f}"
            return f"{number.replace('.', ',') if language == 'de' else number} {unit}"
    return bytes_text(size, language)


def bytes_text(size: int, language: str) -> str:
    """The exact size with thousands grouped: "51.064.832 Bytes" / "51,064,832 bytes"."""
    grouped = f"{size:,}"
    if language == "de":
        return f"{grouped.replace(',', '.')} Bytes"
    return f"{grouped} bytes"
