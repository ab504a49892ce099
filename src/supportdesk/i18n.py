"""Translations of customer-facing text: German first, English available.

Message ids are English; the German catalogue lives in ``locale/de`` as a .po file
(``make messages`` writes it with Babel) and is read at start-up by
:func:`read_catalogue`, so there is no build step to forget, and the support program
needs nothing but the standard library to speak German.
"""

from __future__ import annotations

import ast
import gettext
from functools import cache
from importlib import resources

LANGUAGES = ("de", "en")
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``make messages``); translate it where it is shown."""
    return message


class Catalogue(gettext.NullTranslations):
    """Translations from a ``msgid -> msgstr`` table; anything missing stays English."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue for a language; English is the message ids themselves."""
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "en":
        return gettext.NullTranslations()
    po_file = resources.files("supportdesk").joinpath(f"locale/{language}/LC_MESSAGES/{DOMAIN}.po")
    return Catalogue(read_catalogue(po_file.read_text(encoding="utf-8")))


def read_catalogue(text: str) -> dict[str, str]:
    """``msgid -> msgstr`` of a .po file as ``make messages`` writes it. Like ``msgfmt``,
    it leaves out the header, untranslated entries and those marked fuzzy. Plural forms
    and contexts are not used here: a file with them is refused, not half read."""
    messages: dict[str, str] = {}
    fields: dict[str, list[str]] = {}
    current: str | None = None
    fuzzy = False

    def flush() -> None:
        nonlocal fuzzy, current
        if "msgid" in fields and "msgstr" in fields:
            msgid, msgstr = "".join(fields["msgid"]), "".join(fields["msgstr"])
            if msgid and msgstr and not fuzzy:
                messages[msgid] = msgstr
        fields.clear()
        fuzzy, current = False, None

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if "msgstr" in fields:
                flush()
            if line.startswith("#,") and "fuzzy" in line[2:].replace(",", " ").split():
                fuzzy = True
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            keyword, rest = "", line
        elif keyword in ("msgid", "msgstr"):
            if keyword == "msgid" and "msgstr" in fields:
                flush()
            current = keyword
            fields[current] = []
        else:
            raise ValueError(f"line {number}: {keyword!r} is not supported in this catalogue")
        if current is None or not (rest.startswith('"') and rest.endswith('"')):
            raise ValueError(f"line {number}: expected a quoted string")
        fields[current].append(_unquote(rest, number))
    flush()
    return messages


def _unquote(quoted: str, number: int) -> str:
    try:
        value = ast.literal_eval(quoted)
    except (SyntaxError, ValueError):
        raise ValueError(f"line {number}: {quoted[:40]!r} is not a valid string") from None
    if not isinstance(value, str):
        raise ValueError(f"line {number}: expected a quoted string")
    return value
