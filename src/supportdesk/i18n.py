"""Translations of customer-facing text: German first, English available.

Message ids are English; the German catalogue lives in ``locale/de`` as a .po
file and is compiled in memory at start-up, so there is no build step to forget.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("de", "en")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``make messages``); translate it where it is shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for a language; English is the message ids themselves."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "en":
        return gettext.NullTranslations()
    po_file = resources.files("supportdesk").joinpath(f"locale/{language}/LC_MESSAGES/{DOMAIN}.po")
    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)
