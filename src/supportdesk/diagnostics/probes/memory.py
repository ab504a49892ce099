"""Probe: installed and available memory; little free memory is a finding."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

from supportdesk.diagnostics.commands import command_output
from supportdesk.diagnostics.probe import Finding, Label, ProbeContext, ProbeResult

MEMINFO = Path("/proc/meminfo")
LOW_AVAILABLE = 512 * 1024 * 1024


class MemoryProbe:
    name = "memory"
    label = Label("Arbeitsspeicher", "Memory")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        if context.platform.startswith("linux"):
            total, available = _linux()
        elif context.platform == "win32":
            total, available = _windows()
        elif context.platform == "darwin":
            output = command_output(["sysctl", "-n", "hw.memsize"])
            total, available = (int(output) if output and output.isdigit() else None), None
        else:
            total = available = None
        if total is None:
            return ProbeResult.unavailable(
                Label("Arbeitsspeicher nicht ermittelbar", "memory size not readable")
            )
        findings = []
        if available is not None and available < LOW_AVAILABLE:
            findings.append(
                Finding(
                    "low_memory",
                    Label(
                        "Wenig freier Arbeitsspeicher (unter 512 MiB)",
                        "Little free memory (below 512 MiB)",
                    ),
                )
            )
        return ProbeResult.ok({"total_bytes": total, "available_bytes": available}, *findings)


def _linux() -> tuple[int | None, int | None]:
    values: dict[str, int] = {}
    try:
        text = MEMINFO.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None, None
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024  # /proc/meminfo counts kB
    return values.get("MemTotal"), values.get("MemAvailable")


class _MemoryStatusEx(ctypes.Structure):
    _fields_ = (
        ("dwLength", ctypes.c_uint32),
        ("dwMemoryLoad", ctypes.c_uint32),
        ("ullTotalPhys", ctypes.c_uint64),
        ("ullAvailPhys", ctypes.c_uint64),
        ("ullTotalPageFile", ctypes.c_uint64),
        ("ullAvailPageFile", ctypes.c_uint64),
        ("ullTotalVirtual", ctypes.c_uint64),
        ("ullAvailVirtual", ctypes.c_uint64),
        ("ullAvailExtendedVirtual", ctypes.c_uint64),
    )


def _windows() -> tuple[int | None, int | None]:
    if sys.platform != "win32":
        return None, None
    status = _MemoryStatusEx()
    status.dwLength = ctypes.sizeof(_MemoryStatusEx)
    if not ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
        return None, None
    return int(status.ullTotalPhys), int(status.ullAvailPhys)
