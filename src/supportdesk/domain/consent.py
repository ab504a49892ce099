"""Consent: the versioned text a customer agrees to, and the record of the answer.

The texts are data, keyed by version and language (published in
:mod:`supportdesk.domain.consent_texts`); a published version is never edited, only
superseded, because audit entries refer to it by version and by the SHA-256 of the exact
text shown. German is the language of record; English is offered.

Two families: the support program's texts (``CURRENT_CONSENT_VERSION``: view, control,
files, diagnostics) and the browser's (``BROWSER_CONSENT_VERSION``: the screen the
customer picks, chat and the agent's pointer; never control).

Since ``2026-12-1`` the program's text says what the customer allows and nothing more:
its ``{grants}`` are the words of the capabilities ticked in the dialog, so the text,
and the SHA-256 the audit cites, follow the ticks. The customer's side reports the
version, language and hash of the text it showed at "Ja"; :func:`cited_text` finds
that text among the ones the server knows, or nothing. ``2026-11-1`` (one fixed text
naming every capability) stays published because audit entries cite it.

Since ``2026-12-2`` the program's text also says how secret input is masked: its
``{masking}`` sentence tells the customer that password fields are hidden automatically
and that the program turns on the computer's accessibility interface for it, or that
automatic masking is not available in this session; either way the "Sichtschutz"
button is named. ``2026-12-1`` stays published (audit entries cite it).

Since ``2026-12-3`` the automatic variant says what the program really does on the
customer's desktop (:class:`AutomaticMasking`): on Linux it switches the accessibility
interface on for the session (``SWITCHED_ON``); on Windows and macOS that interface is
always on and the program only asks it where a password field is (``ASKED``); or
automatic masking is not available (``OFF``). ``2026-12-2`` (on and off only) stays
published.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any

from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability, capability_names
from supportdesk.domain.utc import iso_utc, require_utc

CURRENT_CONSENT_VERSION = "2026-12-3"
BROWSER_CONSENT_VERSION = "2026-12-browser-1"
MAX_AGENT_NAME_LENGTH = 80


class Language(Enum):
    DE = "de"
    EN = "en"


DEFAULT_LANGUAGE = Language.DE


class AutomaticMasking(StrEnum):
    """Which ``{masking}`` sentence a text shows: its index in :attr:`ConsentText.masking`."""

    SWITCHED_ON = "switched_on"
    """Automatic, and the program switches the accessibility interface on (Linux)."""
    OFF = "off"
    """Not available in this session: only the Sichtschutz masks."""
    ASKED = "asked"
    """Automatic, asking the system's always-on accessibility interface (Windows, macOS)."""

    @classmethod
    def of(cls, automatic: bool | AutomaticMasking) -> AutomaticMasking:
        """``True``/``False`` as the texts before ``2026-12-3`` knew them, or the variant."""
        if isinstance(automatic, AutomaticMasking):
            return automatic
        return cls.SWITCHED_ON if automatic else cls.OFF


_MASKING_ORDER = (AutomaticMasking.SWITCHED_ON, AutomaticMasking.OFF, AutomaticMasking.ASKED)


class UnknownConsentText(LookupError):
    """No consent text exists for that version and language."""


class InvalidAgentName(ValueError):
    """An agent display name that cannot be shown safely in the consent text."""


class InvalidConsentRecord(ValueError):
    """A consent record that contradicts itself (e.g. given without VIEW)."""


@dataclass(frozen=True)
class ConsentText:
    """One published consent text: ``body`` with an ``{agent}`` placeholder, followed
    by the fixed PIN/TAN ``warning``.

    A body with a ``{grants}`` placeholder names what the customer allows there: the
    ``grants`` words of each granted capability, in the order of ``grants``, joined as
    a list ("a, b und c"). A body without it is the same for every choice.
    """

    version: str
    language: Language
    body: str
    warning: str
    grants: tuple[tuple[Capability, str], ...] = ()
    conjunction: str = ""  # the last joint of the grants list: "und", "and"
    masking: tuple[str, ...] = ("", "")  # the {masking} sentences in _MASKING_ORDER

    @property
    def follows_choices(self) -> bool:
        """Whether the text depends on the capabilities granted."""
        return "{grants}" in self.body

    @property
    def follows_masking(self) -> bool:
        """Whether the text says if secret input is masked automatically."""
        return "{masking}" in self.body

    @property
    def masking_variants(self) -> tuple[AutomaticMasking, ...]:
        """The :class:`AutomaticMasking` variants this text has a sentence for."""
        return _MASKING_ORDER[: len(self.masking)] if self.follows_masking else ()

    def masking_sentence(self, automatic_masking: bool | AutomaticMasking) -> str:
        """The ``{masking}`` sentence for the variant; a text without ``ASKED`` (before
        ``2026-12-3``) says ``SWITCHED_ON`` instead, the one sentence it had for "on"."""
        variant = AutomaticMasking.of(automatic_masking)
        if variant not in self.masking_variants:
            variant = AutomaticMasking.SWITCHED_ON
        return self.masking[_MASKING_ORDER.index(variant)]

    def shown_body(
        self,
        agent_name: str,
        capabilities: Iterable[Capability] = REQUIRED_CAPABILITIES,
        automatic_masking: bool | AutomaticMasking = True,
    ) -> str:
        """The body for ``agent_name`` as shown when ``capabilities`` are ticked (VIEW
        always: there is no session without it), saying whether password fields are
        masked automatically in this session."""
        name = clean_agent_name(agent_name)
        chosen = frozenset(capabilities) | REQUIRED_CAPABILITIES
        words = [text for capability, text in self.grants if capability in chosen]
        if len(words) > 1:
            listed = ", ".join(words[:-1]) + f" {self.conjunction} " + words[-1]
        else:
            listed = "".join(words)
        masking = self.masking_sentence(automatic_masking) if self.follows_masking else ""
        return self.body.format(agent=name, grants=listed, masking=masking)

    def render(
        self,
        agent_name: str,
        capabilities: Iterable[Capability] = REQUIRED_CAPABILITIES,
        automatic_masking: bool | AutomaticMasking = True,
    ) -> RenderedConsent:
        """The exact text the dialog shows for ``agent_name`` with ``capabilities`` ticked."""
        body = self.shown_body(agent_name, capabilities, automatic_masking)
        text = body + "\n\n" + self.warning
        return RenderedConsent(self.version, self.language, unicodedata.normalize("NFC", text))


@dataclass(frozen=True)
class RenderedConsent:
    """A consent text as shown, with the hash that audit entries cite."""

    version: str
    language: Language
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def clean_agent_name(name: str) -> str:
    """The agent's display name as it may appear inside the quoted consent text.

    Whitespace is collapsed and control and format characters rejected, so a name
    cannot break lines, reorder text (bidi overrides) or smuggle in a second
    quotation that changes what the customer reads.
    """
    collapsed = " ".join(name.split())
    if not collapsed:
        raise InvalidAgentName("the agent's display name is empty")
    if len(collapsed) > MAX_AGENT_NAME_LENGTH:
        raise InvalidAgentName(f"the agent's display name exceeds {MAX_AGENT_NAME_LENGTH}")
    for char in collapsed:
        if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} or char in '"{}':
            raise InvalidAgentName(f"the agent's display name contains {char!r}")
    return collapsed


class ConsentDecision(Enum):
    GIVEN = "given"
    DECLINED = "declined"


@dataclass(frozen=True)
class ConsentRecord:
    """What the customer decided, on which exact text, with which capabilities."""

    version: str
    language: Language
    text_sha256: str
    capabilities: frozenset[Capability]
    decision: ConsentDecision
    at: datetime

    def __post_init__(self) -> None:
        require_utc(self.at, "at")
        if self.decision is ConsentDecision.GIVEN and not (
            self.capabilities >= REQUIRED_CAPABILITIES
        ):
            raise InvalidConsentRecord("consent without VIEW is not consent to a session")
        if self.decision is ConsentDecision.DECLINED and self.capabilities:
            raise InvalidConsentRecord("a declined consent grants nothing")

    @classmethod
    def of(
        cls,
        shown: RenderedConsent,
        decision: ConsentDecision,
        capabilities: frozenset[Capability],
        at: datetime,
    ) -> ConsentRecord:
        return cls(shown.version, shown.language, shown.sha256, capabilities, decision, at)

    def audit_data(self) -> dict[str, Any]:
        """Audit-ready data: plain JSON values in a stable form."""
        return {
            "consent_version": self.version,
            "language": self.language.value,
            "text_sha256": self.text_sha256,
            "capabilities": capability_names(self.capabilities),
            "decision": self.decision.value,
            "at": iso_utc(self.at),
        }
