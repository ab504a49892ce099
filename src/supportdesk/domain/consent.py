"""Consent: the versioned text a customer agrees to, and the record of the answer.

The texts are data, keyed by version and language; a published version is never
edited, only superseded, because audit entries refer to it by version and by the
SHA-256 of the exact text shown. German is the language of record; English is offered.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from itertools import combinations
from types import MappingProxyType
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


_DE_2026_11_1 = ConsentText(
    version="2026-11-1",
    language=Language.DE,
    body=(
        '"{agent}" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
        'Wenn Sie teilnehmen, kann "{agent}" Ihren Bildschirm sehen, Ihre Maus steuern, '
        "Daten übertragen und Diagnoseinformationen für die Sitzung abfragen. "
        "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
    ),
    warning=(
        "Wichtig: Ihre Bank fragt Sie niemals nach Ihrer PIN oder einer TAN – "
        "weder am Telefon noch in dieser Sitzung. Geben Sie PIN und TAN niemals weiter."
    ),
)

_EN_2026_11_1 = ConsentText(
    version="2026-11-1",
    language=Language.EN,
    body=(
        '"{agent}" has invited you to join a support session. '
        'If you join, "{agent}" can see your screen, control your mouse, '
        "transfer data and request diagnostic information for the session. "
        "This session will be recorded. Do you want to join the session?"
    ),
    warning=(
        "Important: your bank will never ask you for your PIN or a TAN – "
        "not on the phone and not in this session. Never give your PIN or TAN to anyone."
    ),
)

# Since 2026-12-1 the text names only what the customer allows (the ticked boxes).
_DE_2026_12_1 = ConsentText(
    version="2026-12-1",
    language=Language.DE,
    body=(
        '"{agent}" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
        'Wenn Sie teilnehmen, kann "{agent}" {grants}. '
        "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
    ),
    warning=_DE_2026_11_1.warning,
    grants=(
        (Capability.VIEW, "Ihren Bildschirm sehen"),
        (Capability.CONTROL, "Ihre Maus und Tastatur steuern"),
        (Capability.FILE_TRANSFER, "Dateien mit Ihnen austauschen"),
        (Capability.DIAGNOSTICS, "Diagnoseinformationen Ihres Computers abfragen"),
    ),
    conjunction="und",
)

_EN_2026_12_1 = ConsentText(
    version="2026-12-1",
    language=Language.EN,
    body=(
        '"{agent}" has invited you to join a support session. '
        'If you join, "{agent}" can {grants}. '
        "This session will be recorded. Do you want to join the session?"
    ),
    warning=_EN_2026_11_1.warning,
    grants=(
        (Capability.VIEW, "see your screen"),
        (Capability.CONTROL, "control your mouse and keyboard"),
        (Capability.FILE_TRANSFER, "exchange files with you"),
        (Capability.DIAGNOSTICS, "request diagnostic information about your computer"),
    ),
    conjunction="and",
)

# Since 2026-12-2 the program's text says how secret input is masked ({masking}).
_DE_2026_12_2 = ConsentText(
    version="2026-12-2",
    language=Language.DE,
    body=(
        '"{agent}" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
        'Wenn Sie teilnehmen, kann "{agent}" {grants}. {masking} '
        "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
    ),
    warning=_DE_2026_11_1.warning,
    grants=_DE_2026_12_1.grants,
    conjunction="und",
    masking=(
        "Passwortfelder blendet das Programm automatisch aus, bevor Ihr Bild übertragen "
        "wird; dazu schaltet es für diese Sitzung die Barrierefreiheit-Schnittstelle Ihres "
        "Computers ein. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild aus.",
        "Die automatische Ausblendung von Passwortfeldern ist in dieser Sitzung nicht "
        "verfügbar. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild aus.",
    ),
)

_EN_2026_12_2 = ConsentText(
    version="2026-12-2",
    language=Language.EN,
    body=(
        '"{agent}" has invited you to join a support session. '
        'If you join, "{agent}" can {grants}. {masking} '
        "This session will be recorded. Do you want to join the session?"
    ),
    warning=_EN_2026_11_1.warning,
    grants=_EN_2026_12_1.grants,
    conjunction="and",
    masking=(
        "The program hides password fields automatically before your picture is sent; "
        "for this it turns on your computer's accessibility interface for this session. "
        "With “Privacy screen” you can hide the whole picture at any time.",
        "Automatic hiding of password fields is not available in this session. "
        "With “Privacy screen” you can hide the whole picture at any time.",
    ),
)

# Since 2026-12-3 "on" says what the program does: switch the interface on (Linux) or
# ask the one that is always on (Windows, macOS).
_DE_2026_12_3 = ConsentText(
    version="2026-12-3",
    language=Language.DE,
    body=_DE_2026_12_2.body,
    warning=_DE_2026_12_2.warning,
    grants=_DE_2026_12_2.grants,
    conjunction="und",
    masking=(
        *_DE_2026_12_2.masking,
        "Passwortfelder blendet das Programm automatisch aus, bevor Ihr Bild übertragen "
        "wird; dazu fragt es die Barrierefreiheit-Schnittstelle Ihres Computers, wo sich "
        "ein Passwortfeld befindet. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild "
        "aus.",
    ),
)

_EN_2026_12_3 = ConsentText(
    version="2026-12-3",
    language=Language.EN,
    body=_EN_2026_12_2.body,
    warning=_EN_2026_12_2.warning,
    grants=_EN_2026_12_2.grants,
    conjunction="and",
    masking=(
        *_EN_2026_12_2.masking,
        "The program hides password fields automatically before your picture is sent; "
        "for this it asks your computer's accessibility interface where a password field "
        "is. With “Privacy screen” you can hide the whole picture at any time.",
    ),
)

_DE_2026_12_BROWSER_1 = ConsentText(
    version=BROWSER_CONSENT_VERSION,
    language=Language.DE,
    body=(
        '"{agent}" hat Sie eingeladen, Ihren Bildschirm im Browser freizugeben. '
        'Wenn Sie zustimmen, sieht "{agent}" den Bildschirm, das Fenster oder den Tab, '
        "den Sie im nächsten Schritt auswählen, kann mit Ihnen chatten und mit einem Zeiger "
        "auf Ihr Bild zeigen; den Zeiger sehen Sie auf dieser Seite. "
        '"{agent}" kann Ihre Maus und Ihre Tastatur nicht steuern. '
        "Diese Sitzung wird aufgezeichnet. Sie können die Freigabe jederzeit pausieren "
        "oder beenden. Möchten Sie Ihren Bildschirm freigeben?"
    ),
    warning=_DE_2026_11_1.warning,
)

_EN_2026_12_BROWSER_1 = ConsentText(
    version=BROWSER_CONSENT_VERSION,
    language=Language.EN,
    body=(
        '"{agent}" has invited you to share your screen in the browser. '
        'If you agree, "{agent}" sees the screen, window or tab you choose in the next '
        "step, can chat with you and can point at your picture with a pointer that you "
        'see on this page. "{agent}" cannot control your mouse or your keyboard. '
        "This session will be recorded. You can pause or end sharing at any time. "
        "Do you want to share your screen?"
    ),
    warning=_EN_2026_11_1.warning,
)

CONSENT_TEXTS: Mapping[tuple[str, Language], ConsentText] = MappingProxyType(
    {
        (t.version, t.language): t
        for t in (
            _DE_2026_11_1,
            _EN_2026_11_1,
            _DE_2026_12_1,
            _EN_2026_12_1,
            _DE_2026_12_2,
            _EN_2026_12_2,
            _DE_2026_12_3,
            _EN_2026_12_3,
            _DE_2026_12_BROWSER_1,
            _EN_2026_12_BROWSER_1,
        )
    }
)


def consent_text(
    version: str = CURRENT_CONSENT_VERSION, language: Language = DEFAULT_LANGUAGE
) -> ConsentText:
    """The published text for ``version`` in ``language``."""
    try:
        return CONSENT_TEXTS[(version, language)]
    except KeyError:
        raise UnknownConsentText(
            f"no consent text version {version!r} in {language.value!r}"
        ) from None


def cited_text(
    version: str,
    agent_name: str,
    offered: frozenset[Capability],
    sha256: object,
    *,
    language: object = None,
    granted: frozenset[Capability] | None = None,
) -> RenderedConsent | None:
    """The known text a customer's side says it showed, or None.

    The known texts are ``version`` in every language, for every choice the dialog
    allowed (VIEW plus any of the other ``offered`` capabilities). ``granted`` (a "Ja")
    must be exactly the choice the text names; without it (a "Nein") any choice
    counts. ``language``, when given, must be the text's. Only a text whose SHA-256 is
    ``sha256`` is returned: the audit cites what the customer read, or nothing.
    """
    if not isinstance(sha256, str):
        return None
    languages = [t for t in Language if language is None or t.value == language]
    optional = sorted(offered - REQUIRED_CAPABILITIES, key=lambda c: list(Capability).index(c))
    choices = (
        [granted]
        if granted is not None
        else [
            frozenset(extra)
            for size in range(len(optional) + 1)
            for extra in combinations(optional, size)
        ]
    )
    for lang in languages:
        try:
            text = consent_text(version, lang)
        except UnknownConsentText:
            return None
        for choice in choices if text.follows_choices else [REQUIRED_CAPABILITIES]:
            if not choice <= offered | REQUIRED_CAPABILITIES:
                continue
            for automatic in text.masking_variants or (AutomaticMasking.SWITCHED_ON,):
                shown = text.render(agent_name, choice, automatic)
                if shown.sha256 == sha256:
                    return shown
    return None


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
