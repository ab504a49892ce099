"""Probe: the processor's model, its logical cores and (where known) the load."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path

from supportdesk.diagnostics.commands import command_output
from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult

CPUINFO = Path("/proc/cpuinfo")


class CpuProbe:
    name = "cpu"
    label = Label("Prozessor", "Processor")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        data: dict[str, JSONValue] = {
            "model": _model(context.platform) or platform.processor() or None,
            "logical_cores": os.cpu_count(),
            "architecture": platform.machine(),
        }
        if hasattr(os, "getloadavg"):
            with contextlib.suppress(OSError):
                data["load_1_min"] = round(os.getloadavg()[0], 2)
        return ProbeResult.ok(data)


def _model(target: str) -> str | None:
    if target.startswith("linux"):
        try:
            text = CPUINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
        return None
    if target == "darwin":
        return command_output(["sysctl", "-n", "machdep.cpu.brand_string"])
    if target == "win32":
        return _windows_model()
    return None


if sys.platform == "win32":
    import winreg

    def _windows_model() -> str | None:
        key_path = r"HARDWARE\DESCRIPTION\System\CentralProcessor\0"
        try:
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key_path) as key:
                value, _ = winreg.QueryValueEx(key, "ProcessorNameString")
        except OSError:
            return None
        return str(value).strip() or None

else:

    def _windows_model() -> str | None:
        return None
