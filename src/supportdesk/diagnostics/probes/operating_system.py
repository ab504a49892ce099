"""Probe: the operating system, its version and architecture (not the machine's name)."""

from __future__ import annotations

import platform

from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult


class OperatingSystemProbe:
    name = "operating_system"
    label = Label("Betriebssystem", "Operating system")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        data: dict[str, JSONValue] = {
            "system": platform.system(),
            "release": platform.release(),
            "version": platform.version(),
            "architecture": platform.machine(),
        }
        if context.platform.startswith("linux"):
            try:
                release = platform.freedesktop_os_release()
            except OSError:
                release = {}
            if "PRETTY_NAME" in release:
                data["distribution"] = release["PRETTY_NAME"]
        elif context.platform == "win32":
            data["edition"] = platform.win32_edition() or None
            data["windows"] = platform.win32_ver()[0]
        elif context.platform == "darwin":
            data["macos"] = platform.mac_ver()[0]
        return ProbeResult.ok(data)
