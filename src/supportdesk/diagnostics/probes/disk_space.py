"""Probe: free space on the system drive and where received files land.

Reports sizes only, never the paths (they name the user on most machines).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from supportdesk.diagnostics.probe import Finding, JSONValue, Label, ProbeContext, ProbeResult

LOW_FREE = 1024 * 1024 * 1024


class DiskSpaceProbe:
    name = "disk_space"
    label = Label("Speicherplatz", "Disk space")
    timeout = 5.0

    def run(self, context: ProbeContext) -> ProbeResult:
        system = (
            Path(os.environ.get("SYSTEMDRIVE", "C:") + "\\")
            if context.platform == "win32"
            else Path("/")
        )
        places: dict[str, Path] = {"system": system}
        if context.download_folder is not None:
            places["download_folder"] = _existing(context.download_folder)
        data: dict[str, JSONValue] = {}
        findings = []
        for place, path in places.items():
            try:
                usage = shutil.disk_usage(path)
            except OSError as exc:
                data[place] = {"error": type(exc).__name__}
                continue
            data[place] = {"total_bytes": usage.total, "free_bytes": usage.free}
            if usage.free < LOW_FREE:
                findings.append(
                    Finding(
                        f"low_disk_{place}",
                        Label(
                            f"Wenig freier Speicherplatz ({place})", f"Little free space ({place})"
                        ),
                    )
                )
        if all("error" in value for value in data.values() if isinstance(value, dict)):
            return ProbeResult.failed(
                Label("Speicherplatz nicht lesbar", "disk space not readable"), data
            )
        return ProbeResult.ok(data, *findings)


def _existing(path: Path) -> Path:
    # The folder may not exist before the first transfer: measure the drive it will be on.
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path
