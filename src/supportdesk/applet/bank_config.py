"""A bank's build-time configuration of the support program: its server and certificate domain.

Each bank builds its own program (``make applet CONFIG=bank.toml``) from a small TOML
file (``deploy/applet-bank.toml.example``)::

    name = "Volksbank Musterstadt eG"          # optional: shown instead of the server's word
    server = "https://fernwartung.volksbank-musterstadt.de"
    domain = "fernwartung.volksbank-musterstadt.de"
    ca_file = "bank-ca.pem"                    # optional: a private CA, beside this file

The build checks it here (:func:`parse_bank_config`, every mistake named with its key)
and bakes it into the program as ``supportdesk/applet/bank.toml``
(:func:`baked_toml`: the CA inlined as ``ca_pem``), where :func:`load_baked` finds it
at run time. A program with a baked configuration goes to the bank's server and no
other: the server's certificate must be valid for ``domain`` (``applet/bank_tls.py``).
Parsing and validation are pure; only :func:`load_bank_config` and :func:`load_baked`
read files.
"""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "BAKED_NAME",
    "BankConfig",
    "BankConfigError",
    "baked_toml",
    "load_baked",
    "load_bank_config",
    "parse_bank_config",
]

BAKED_NAME = "bank.toml"  # beside this module in a built program, never in a checkout
KEYS = ("name", "server", "domain", "ca_file", "ca_pem")
MAX_NAME = 80
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class BankConfigError(ValueError):
    """The configuration is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class BankConfig:
    """Where the program connects, and whose certificate it accepts there."""

    server: str  # https://host[:port], no path
    domain: str  # the server's certificate must be valid for this name (lower case)
    name: str = ""  # the bank's display name; empty: the server's word is shown
    ca_pem: str = ""  # a private CA's certificate(s), PEM; empty: the system's roots only

    @property
    def server_host(self) -> str:
        return (urlsplit(self.server).hostname or "").lower()


def parse_bank_config(
    text: str,
    *,
    origin: str = "bank config",
    read_ca: Callable[[str], str] | None = None,
) -> BankConfig:
    """Parse and check a bank config (TOML text); ``read_ca`` reads ``ca_file`` (a path as
    written in the file) and is needed only when the file names one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BankConfigError(f"{origin}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise BankConfigError(
            f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})"
        ) from None

    def string(key: str, required: bool = False) -> str:
        value = data.get(key, "")
        if not isinstance(value, str):
            raise BankConfigError(f"{origin}: {key} must be a string, not {value!r}")
        if required and not value.strip():
            raise BankConfigError(f"{origin}: {key} is required ({_REQUIRED_WHY[key]})")
        return value.strip()

    server = _check_server(string("server", required=True), origin)
    domain = _check_domain(string("domain", required=True), origin)
    host = (urlsplit(server).hostname or "").lower()
    if host != domain and not host.endswith("." + domain):
        raise BankConfigError(
            f"{origin}: server {server!r} is not at domain {domain!r} (its host must be the "
            "domain or a name under it)"
        )
    name = string("name")
    if len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise BankConfigError(
            f"{origin}: name must be at most {MAX_NAME} printable characters on one line"
        )
    ca_file, ca_pem = string("ca_file"), string("ca_pem")
    if ca_file and ca_pem:
        raise BankConfigError(f"{origin}: give either ca_file or ca_pem, not both")
    if ca_file:
        if read_ca is None:
            raise BankConfigError(f"{origin}: ca_file cannot be read here")
        try:
            ca_pem = read_ca(ca_file).strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise BankConfigError(f"{origin}: ca_file {ca_file!r} cannot be read: {exc}") from None
    if ca_pem:
        _check_ca(ca_pem, origin)
    return BankConfig(server=server, domain=domain, name=name, ca_pem=ca_pem)


_REQUIRED_WHY = {
    "server": "the address of the bank's remote-support server, https://…",
    "domain": "the name the server's certificate must be valid for",
}


def _check_server(server: str, origin: str) -> str:
    parts = urlsplit(server)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BankConfigError(f"{origin}: server {server!r} has an invalid port") from None
    if parts.scheme != "https" or not parts.hostname:
        raise BankConfigError(f"{origin}: server must be an https:// address, not {server!r}")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise BankConfigError(f"{origin}: server must be just https://host[:port]: {server!r}")
    if parts.path not in ("", "/"):
        raise BankConfigError(f"{origin}: server must have no path: {server!r}")
    return f"https://{parts.netloc}"


def _check_domain(domain: str, origin: str) -> str:
    name = domain.lower().rstrip(".")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        raise BankConfigError(f"{origin}: domain must be a DNS name, not an address: {domain!r}")
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise BankConfigError(
            f"{origin}: domain {domain!r} is not a host name (letters, digits and hyphens; "
            "write a name with umlauts in its xn-- form; no wildcard)"
        )
    return name


def _check_ca(pem: str, origin: str) -> None:
    if "-----BEGIN CERTIFICATE-----" not in pem:
        raise BankConfigError(f"{origin}: the CA certificate is not PEM (BEGIN CERTIFICATE)")
    try:
        ssl.create_default_context().load_verify_locations(cadata=pem)
    except ssl.SSLError as exc:
        raise BankConfigError(f"{origin}: the CA certificate cannot be read: {exc}") from None


def baked_toml(config: BankConfig) -> str:
    """The config as the build bakes it into the program (the CA inline)."""

    def quoted(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string

    lines = [
        "# Baked into the support program by scripts/build_applet.py: do not edit.",
        f"server = {quoted(config.server)}",
        f"domain = {quoted(config.domain)}",
        f"name = {quoted(config.name)}",
    ]
    if config.ca_pem:
        lines.append(f"ca_pem = {quoted(config.ca_pem)}")
    return "\n".join(lines) + "\n"


def load_bank_config(path: Path) -> BankConfig:
    """Read and check a bank's config file; ``ca_file`` is relative to the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankConfigError(f"{path}: cannot be read: {exc}") from None
    return parse_bank_config(
        text, origin=str(path), read_ca=lambda name: (path.parent / name).read_text("utf-8")
    )


def load_baked() -> BankConfig | None:
    """The configuration baked into this program, or None (a checkout, a pip install)."""
    baked = resources.files(__package__ or "supportdesk.applet").joinpath(BAKED_NAME)
    if not baked.is_file():
        return None
    return parse_bank_config(baked.read_text(encoding="utf-8"), origin=f"built-in {BAKED_NAME}")
