"""Running a local tool for a probe: no shell, a timeout, the first lines of text out."""

from __future__ import annotations

import shutil
import subprocess

MAX_OUTPUT = 4000


def command_output(args: list[str], timeout: float = 3.0) -> str | None:
    """The tool's standard output, stripped; None if it is missing, fails or hangs."""
    executable = shutil.which(args[0])
    if executable is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument lists, no shell
            [executable, *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip()[:MAX_OUTPUT]
