"""TLS that accepts the bank's server only: its certificate must be valid for the bank's domain.

A built program carries the bank's certificate domain (``applet/bank_config.py``).
Ordinary verification checks the certificate against the address dialled; this adds,
right after every handshake (the join request's and every link's, first and resumed),
that the certificate is valid for the bank's domain as well, by the same rules
(subjectAltName DNS names, a wildcard only as the whole left-most label). A server
anywhere else — a changed ``--server``, a hijacked name with some other valid
certificate — is refused before a byte of the session is sent, with words for the
customer, naming the bank. :func:`names_cover` is the pure rule; :class:`BankTLSContext`
plugs it into both kinds of TLS the program uses (``ssl.SSLSocket`` for urllib,
``ssl.SSLObject`` for asyncio), and accepts TLS 1.3 only.

:func:`certified_name` is what the consent dialog shows as the verified address, in
every mode: the name in the certificate the link verified that covers the bank's
domain (a built program) or the address dialled (``--server``), never the server's
word.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from supportdesk.applet.texts import N_, gettext_for, language_of
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

__all__ = [
    "BankTLSContext",
    "DomainRefused",
    "certificate_names",
    "certified_name",
    "expected_name",
    "names_cover",
    "require_tls13",
]

NOT_THE_BANK = N_(
    "The server is not {domain}: its certificate is for {names}. The program does not "
    "connect to it. Please call your bank on the number you know."
)
NOT_TO_THE_BANK = N_(
    "This connection does not lead to {bank} ({domain}): the server's certificate is for "
    "{names}. The program does not connect to it and shares nothing. Please call your bank "
    "on the number you know."
)
NO_NAMES = N_("no name")


class DomainRefused(ssl.SSLCertVerificationError):
    """The certificate verified, but it is not the bank's: the message is the customer's."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "certificate refused"


def certificate_names(certificate: dict[str, Any]) -> list[str]:
    """The DNS names of a certificate as :meth:`ssl.SSLSocket.getpeercert` gives it."""
    return [str(value) for kind, value in certificate.get("subjectAltName", ()) if kind == "DNS"]


def names_cover(names: Iterable[str], domain: str) -> bool:
    """True if one of the certificate's DNS ``names`` is valid for ``domain``: the same
    name, or ``*.rest`` where ``domain`` is one label followed by ``.rest`` (and
    ``rest`` has a dot of its own, so ``*.de`` covers nothing)."""
    domain = domain.lower().rstrip(".")
    for raw in names:
        name = raw.lower().rstrip(".")
        if name == domain:
            return True
        if name.startswith("*.") and "." in name[2:]:
            label, _, rest = domain.partition(".")
            if label and rest == name[2:]:
                return True
    return False


def certified_name(certificate: dict[str, Any] | None, expected: str) -> str | None:
    """The name the verified ``certificate`` vouches for that covers ``expected`` (the
    bank's domain, or the host dialled): the matching subjectAltName itself, or, for a
    wildcard, the one name under it that was checked; an address only by an IP entry.
    None: the certificate says nothing for ``expected``."""
    if not certificate:
        return None
    wanted = expected.lower().rstrip(".").strip("[]")
    try:
        address = ipaddress.ip_address(wanted)
    except ValueError:
        names = certificate_names(certificate)
        exact = [n.lower().rstrip(".") for n in names if n.lower().rstrip(".") == wanted]
        if exact:
            return exact[0]
        return wanted if names_cover(names, wanted) else None
    for kind, value in certificate.get("subjectAltName", ()):
        if kind == "IP Address":
            try:
                if ipaddress.ip_address(str(value).strip()) == address:
                    return address.compressed
            except ValueError:
                continue
    return None


def expected_name(context: ssl.SSLContext, server: str) -> str:
    """The name the link's certificate must cover: a built program's bank domain, else
    the host of the address dialled."""
    if isinstance(context, BankTLSContext):
        return context.domain
    return (urlsplit(server).hostname or "").lower()


def require_tls13(context: ssl.SSLContext) -> ssl.SSLContext:
    """``context``, accepting TLS 1.3 only (the applet's link and join request)."""
    if context.minimum_version < ssl.TLSVersion.TLSv1_3:
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


class BankTLSContext(ssl.SSLContext):
    """Verified TLS (the system's roots, plus a private CA if given) that refuses any
    server whose certificate is not valid for ``domain``. ``refused`` keeps the last
    refusal, so a caller that only sees a wrapped error can still say why."""

    domain: str
    bank_name: str
    language: Language
    refused: DomainRefused | None

    def __new__(cls, *args: Any, **kwargs: Any) -> BankTLSContext:
        return super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)

    def __init__(
        self,
        domain: str,
        *,
        ca_pem: str = "",
        ca_file: str | None = None,
        language: str | Language = DEFAULT_LANGUAGE,
        bank_name: str = "",
    ) -> None:
        super().__init__()  # PROTOCOL_TLS_CLIENT (__new__): hostname check, CERT_REQUIRED
        require_tls13(self)
        self.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if ca_pem:
            self.load_verify_locations(cadata=ca_pem)
        if ca_file:
            self.load_verify_locations(cafile=ca_file)
        self.domain = domain.lower().rstrip(".")
        self.bank_name = bank_name
        self.language = language_of(language)
        self.refused = None

    def check(self, certificate: dict[str, Any]) -> None:
        """Raise :class:`DomainRefused` unless ``certificate`` is valid for the domain."""
        names = certificate_names(certificate)
        if names_cover(names, self.domain):
            return
        _ = gettext_for(self.language)
        listed = ", ".join(names) or _(NO_NAMES)
        if self.bank_name:
            words = _(NOT_TO_THE_BANK).format(bank=self.bank_name, domain=self.domain, names=listed)
        else:
            words = _(NOT_THE_BANK).format(domain=self.domain, names=listed)
        self.refused = DomainRefused(words)
        raise self.refused


class _BankSocket(ssl.SSLSocket):
    """urllib's TLS (the join request): checked as soon as the handshake is done."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        _check(self.context, self.getpeercert())


class _BankObject(ssl.SSLObject):
    """asyncio's TLS (the link, websockets): the same check."""

    def do_handshake(self) -> None:
        super().do_handshake()
        _check(self.context, self.getpeercert())


def _check(context: ssl.SSLContext, certificate: dict[str, Any] | None) -> None:
    if isinstance(context, BankTLSContext):
        context.check(certificate or {})


BankTLSContext.sslsocket_class = _BankSocket
BankTLSContext.sslobject_class = _BankObject
