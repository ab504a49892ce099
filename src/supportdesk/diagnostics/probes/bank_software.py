"""Probe: VR-NetWorld Software and Profi cash, installed or not, and which version.

Both exist for Windows only; there the uninstall entries in the registry name them
with their versions, and the program folders are a fallback. Elsewhere the probe is
unavailable and says so.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult

PRODUCTS = {
    "vr_networld": ("VR-NetWorld", ("VR-NetWorld", "VR-NetWorld Software")),
    "profi_cash": ("Profi cash", ("Profi cash", "ProfiCash")),
}
"""key -> (the name in uninstall entries, folder names under Program Files)"""


class BankSoftwareProbe:
    name = "bank_software"
    label = Label("Banking-Software (VR-NetWorld, Profi cash)", "Banking software")
    timeout = 10.0

    def run(self, context: ProbeContext) -> ProbeResult:
        if context.platform != "win32":
            return ProbeResult.unavailable(
                Label(
                    "nicht unterstützt: VR-NetWorld Software und Profi cash "
                    "gibt es nur für Windows",
                    "not supported: VR-NetWorld Software and Profi cash exist for Windows only",
                )
            )
        installed = _uninstall_entries()
        data: dict[str, JSONValue] = {}
        for key, (display, folders) in PRODUCTS.items():
            match = next((e for e in installed if display.casefold() in e[0].casefold()), None)
            if match is not None:
                data[key] = {"installed": True, "version": match[1]}
            else:
                data[key] = {"installed": _in_program_files(folders), "version": None}
        return ProbeResult.ok(data)


def _in_program_files(folders: tuple[str, ...]) -> bool:
    roots = filter(None, (os.environ.get(v) for v in ("ProgramFiles", "ProgramFiles(x86)")))
    return any((Path(root) / folder).is_dir() for root in roots for folder in folders)


if sys.platform == "win32":
    import winreg

    _UNINSTALL = (
        (winreg.HKEY_LOCAL_MACHINE, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
        (
            winreg.HKEY_LOCAL_MACHINE,
            r"SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
        ),
        (winreg.HKEY_CURRENT_USER, r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"),
    )

    def _uninstall_entries() -> list[tuple[str, str | None]]:
        entries: list[tuple[str, str | None]] = []
        for hive, path in _UNINSTALL:
            try:
                root = winreg.OpenKey(hive, path)
            except OSError:
                continue
            with root:
                for index in range(winreg.QueryInfoKey(root)[0]):
                    try:
                        with winreg.OpenKey(root, winreg.EnumKey(root, index)) as key:
                            name = str(winreg.QueryValueEx(key, "DisplayName")[0])
                            try:
                                version: str | None = str(
                                    winreg.QueryValueEx(key, "DisplayVersion")[0]
                                )
                            except OSError:
                                version = None
                    except OSError:
                        continue
                    entries.append((name, version))
        return entries

else:

    def _uninstall_entries() -> list[tuple[str, str | None]]:
        return []
