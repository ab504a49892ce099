"""TLS that accepts the bank's server only: its certificate must be valid for the bank's domain.

A built program carries the bank's certificate domain (``applet/bank_config.py``).
Ordinary verification checks the certificate against the address dialled; this adds,
right after every handshake (the join request's and every link's, first and resumed),
that the certificate is valid for the bank's domain as well, by the same rules
(subjectAltName DNS names, a wildcard only as the whole left-most label). A server
anywhere else — a changed ``--server``, a hijacked name with some other valid
certificate — is refused before a byte of the session is sent, with words for the
customer. :func:`names_cover` is the pure rule; :class:`BankTLSContext` plugs it into
both kinds of TLS the program uses (``ssl.SSLSocket`` for urllib, ``ssl.SSLObject``
for asyncio).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

from supportdesk.applet.texts import N_, gettext_for, language_of
from supportdesk.domain.consent import DEFAULT_LANGUAGE, Language

__all__ = ["BankTLSContext", "DomainRefused", "certificate_names", "names_cover"]

NOT_THE_BANK = N_(
    "The server is not {domain}: its certificate is for {names}. The program does not "
    "connect to it. Please call your bank on the number you know."
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


class BankTLSContext(ssl.SSLContext):
    """Verified TLS (the system's roots, plus a private CA if given) that refuses any
    server whose certificate is not valid for ``domain``. ``refused`` keeps the last
    refusal, so a caller that only sees a wrapped error can still say why."""

    domain: str
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
    ) -> None:
        super().__init__()  # PROTOCOL_TLS_CLIENT (__new__): hostname check, CERT_REQUIRED
        self.load_default_certs(ssl.Purpose.SERVER_AUTH)
        if ca_pem:
            self.load_verify_locations(cadata=ca_pem)
        if ca_file:
            self.load_verify_locations(cafile=ca_file)
        self.domain = domain.lower().rstrip(".")
        self.language = language_of(language)
        self.refused = None

    def check(self, certificate: dict[str, Any]) -> None:
        """Raise :class:`DomainRefused` unless ``certificate`` is valid for the domain."""
        names = certificate_names(certificate)
        if names_cover(names, self.domain):
            return
        _ = gettext_for(self.language)
        self.refused = DomainRefused(
            _(NOT_THE_BANK).format(domain=self.domain, names=", ".join(names) or _(NO_NAMES))
        )
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
