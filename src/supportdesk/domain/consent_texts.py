"""The published consent texts, and finding the one a customer's side says it showed.

Each text is data, one constant per version and language (:class:`ConsentText`), and a
published one is never edited, only superseded: audit entries cite a text by version and
by the SHA-256 of exactly what was shown (:func:`cited_text`). The history of the
versions, and what each added, is in :mod:`supportdesk.domain.consent`.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations
from types import MappingProxyType

from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability
from supportdesk.domain.consent import (
    BROWSER_CONSENT_VERSION,
    CURRENT_CONSENT_VERSION,
    DEFAULT_LANGUAGE,
    AutomaticMasking,
    ConsentText,
    Language,
    RenderedConsent,
    UnknownConsentText,
)

__all__ = ["CONSENT_TEXTS", "cited_text", "consent_text"]


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
