"""Probe: which web browsers are installed, and their versions where readable.

Looks in the known places per system: executables on PATH (Linux), the program
folders (Windows), ``/Applications`` (macOS). Reports names and versions only, no
paths: on Windows they run through the user's profile folder.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
from pathlib import Path

from supportdesk.diagnostics.commands import command_output
from supportdesk.diagnostics.probe import Finding, JSONValue, Label, ProbeContext, ProbeResult

LINUX = {
    "Firefox": ("firefox", "firefox-esr"),
    "Chromium": ("chromium", "chromium-browser"),
    "Google Chrome": ("google-chrome", "google-chrome-stable"),
    "Microsoft Edge": ("microsoft-edge", "microsoft-edge-stable"),
    "Opera": ("opera",),
    "Vivaldi": ("vivaldi", "vivaldi-stable"),
    "Brave": ("brave-browser", "brave"),
}
WINDOWS = {
    "Google Chrome": r"Google\Chrome\Application\chrome.exe",
    "Microsoft Edge": r"Microsoft\Edge\Application\msedge.exe",
    "Firefox": r"Mozilla Firefox\firefox.exe",
    "Brave": r"BraveSoftware\Brave-Browser\Application\brave.exe",
    "Vivaldi": r"Vivaldi\Application\vivaldi.exe",
    "Opera": r"Opera\opera.exe",
}
MACOS = {
    "Safari": "Safari.app",
    "Firefox": "Firefox.app",
    "Google Chrome": "Google Chrome.app",
    "Microsoft Edge": "Microsoft Edge.app",
    "Chromium": "Chromium.app",
    "Brave": "Brave Browser.app",
    "Opera": "Opera.app",
    "Vivaldi": "Vivaldi.app",
}
_VERSION = re.compile(r"\d+(?:\.\d+){1,3}")


class BrowsersProbe:
    name = "browsers"
    label = Label("Installierte Browser", "Installed browsers")
    timeout = 15.0

    def run(self, context: ProbeContext) -> ProbeResult:
        if context.platform.startswith("linux"):
            found = _linux()
        elif context.platform == "win32":
            found = _windows()
        elif context.platform == "darwin":
            found = _macos()
        else:
            return ProbeResult.unavailable(
                Label(
                    f"nicht unterstützt auf {context.platform}",
                    f"unsupported on {context.platform}",
                )
            )
        browsers: list[JSONValue] = [{"name": n, "version": v} for n, v in found]
        if not browsers:
            return ProbeResult.ok(
                {"browsers": []},
                Finding(
                    "no_browser", Label("Kein bekannter Browser gefunden", "No known browser found")
                ),
            )
        return ProbeResult.ok({"browsers": browsers})


def _linux() -> list[tuple[str, str | None]]:
    found = []
    for name, commands in LINUX.items():
        for command in commands:
            if shutil.which(command):
                output = command_output([command, "--version"], timeout=4)
                match = _VERSION.search(output or "")
                found.append((name, match.group(0) if match else None))
                break
    return found


def _windows() -> list[tuple[str, str | None]]:
    roots = [
        os.environ.get(variable)
        for variable in ("ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA")
    ]
    found = []
    for name, relative in WINDOWS.items():
        for root in filter(None, roots):
            executable = Path(root) / relative
            if executable.is_file():
                found.append((name, _windows_version(executable)))
                break
    return found


def _windows_version(executable: Path) -> str | None:
    # Chromium-based browsers keep one folder per installed version beside the exe;
    # Firefox writes its version into application.ini. Neither needs running it.
    versions = sorted(
        (entry.name for entry in executable.parent.iterdir() if _VERSION.fullmatch(entry.name)),
        key=lambda v: tuple(int(p) for p in v.split(".")),
    )
    if versions:
        return versions[-1]
    ini = executable.parent / "application.ini"
    if ini.is_file():
        match = re.search(r"^Version=(\S+)", ini.read_text(errors="replace"), re.M)
        return match.group(1) if match else None
    return None


def _macos() -> list[tuple[str, str | None]]:
    found = []
    for name, bundle in MACOS.items():
        info = Path("/Applications") / bundle / "Contents" / "Info.plist"
        if info.is_file():
            try:
                version = plistlib.loads(info.read_bytes()).get("CFBundleShortVersionString")
            except (OSError, plistlib.InvalidFileException):
                version = None
            found.append((name, str(version) if version else None))
    return found
