"""What ``supportdesk serve`` tells the person who started it, before the logs begin:
the next steps (the first agent account, with the command's full path), where the
portal and the console are, and what will not work (an ``http://`` customer address).
"""

from __future__ import annotations

import os
import shlex
import sys
import textwrap
from pathlib import Path

from supportdesk import __version__
from supportdesk.config import Settings


def own_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """How to run this same ``supportdesk`` again from any folder: the script's full
    path (``/srv/supportdesk/.venv/bin/supportdesk``), or ``python -m supportdesk``
    with the full path of this interpreter when it was started that way."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    executable = sys.executable if executable is None else executable
    if Path(argv0).name in ("__main__.py", "-m", "-c", "") or argv0.endswith(".py"):
        return [executable, "-m", "supportdesk"]
    return [os.path.abspath(argv0)]


def start_banner(
    settings: Settings,
    *,
    has_agents: bool,
    command: list[str],
    config: Path | None,
    workdir: Path,
    warning: str | None,
) -> str:
    """The lines to print at start, ending in a blank line before the logs."""
    base = settings.server.base_url
    lines = [f"supportdesk {__version__} starting on {settings.server.host}:{settings.server.port}"]
    if not has_agents:
        config_args = ["--config", str(config)] if config is not None else []
        add = shlex.join(
            [*command, *config_args, "agents", "add", "USERNAME", "--name", "Full Name"]
        )
        lines += [
            "",
            "  Next step: there is no agent account yet. Create the first administrator",
            f"  (in another terminal, in {workdir}):",
            "",
            f"    {add} --role admin",
            "",
            "  It prints a one-time password; sign in to the console with it and set up",
            "  the second factor (TOTP) on the first login.",
        ]
    lines += [
        "",
        f"  Portal (customers):  {base}/",
        f"  Console (agents):    {base}/console/",
    ]
    if warning is not None:
        lines += [
            "",
            *textwrap.wrap(warning, 88, initial_indent="  WARNING: ", subsequent_indent="  "),
        ]
    log_format = "JSON lines" if settings.logging.format == "json" else "text"
    lines += ["", f"  Logs follow ({log_format} on standard error).", ""]
    return "\n".join(lines) + "\n"
