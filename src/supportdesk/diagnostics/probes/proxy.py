"""Probe: the proxy settings the applet and the browsers may go through.

From the environment (``HTTPS_PROXY`` and friends), from the system as Python's
``urllib`` reads it (Windows registry, macOS settings), and on Linux from GNOME's
gsettings where present. Credentials in proxy addresses are masked.
"""

from __future__ import annotations

import os
import re
import urllib.request
from urllib.parse import urlsplit, urlunsplit

from supportdesk.diagnostics.commands import command_output
from supportdesk.diagnostics.probe import JSONValue, Label, ProbeContext, ProbeResult

VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
GNOME_SCHEMA = "org.gnome.system.proxy"


class ProxyProbe:
    name = "proxy"
    label = Label("Proxy-Einstellungen", "Proxy settings")
    timeout = 8.0

    def run(self, context: ProbeContext) -> ProbeResult:
        environment: dict[str, JSONValue] = {}
        for variable in VARIABLES:
            for name in (variable, variable.lower()):
                value = os.environ.get(name)
                if value:
                    environment[name] = mask_credentials(value)
        system = {
            scheme: mask_credentials(address)
            for scheme, address in urllib.request.getproxies().items()
        }
        data: dict[str, JSONValue] = {"environment": environment, "system": dict(system)}
        if context.platform.startswith("linux"):
            data["gnome"] = _gnome()
        return ProbeResult.ok(data)


def mask_credentials(address: str) -> str:
    """``http://user:secret@proxy:3128`` -> ``http://***@proxy:3128``."""
    parts = urlsplit(address)
    if parts.scheme and "@" in parts.netloc:
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, ""))
    return re.sub(r"^[^@/\s]+@", "***@", address)


def _gnome() -> JSONValue:
    mode = command_output(["gsettings", "get", GNOME_SCHEMA, "mode"], timeout=2)
    if mode is None:
        return None  # no gsettings, or no GNOME settings in this session
    result: dict[str, JSONValue] = {"mode": mode.strip("'")}
    if result["mode"] == "auto":
        url = command_output(["gsettings", "get", GNOME_SCHEMA, "autoconfig-url"], timeout=2)
        result["autoconfig_url"] = mask_credentials((url or "").strip("'")) or None
    elif result["mode"] == "manual":
        for scheme in ("http", "https"):
            host = command_output(["gsettings", "get", f"{GNOME_SCHEMA}.{scheme}", "host"], 2)
            port = command_output(["gsettings", "get", f"{GNOME_SCHEMA}.{scheme}", "port"], 2)
            result[scheme] = f"{(host or '').strip(chr(39))}:{port or ''}"
        ignore = command_output(["gsettings", "get", GNOME_SCHEMA, "ignore-hosts"], timeout=2)
        result["ignore_hosts"] = ignore
    return result
