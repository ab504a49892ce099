"""Every customer-facing text has a German translation, and placeholders survive it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from supportdesk.i18n import read_catalogue, translations

ROOT = Path(__file__).parent.parent
PLACEHOLDER = re.compile(r"\{\w+\}|%\(\w+\)s")


def extracted_messages() -> set[str]:
    method_map = [
        ("src/supportdesk/**.py", "python"),
        ("src/supportdesk/server/templates/**.html", "jinja2"),
    ]
    options = {"src/supportdesk/server/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_german_translation() -> None:
    with (ROOT / "src/supportdesk/locale/de/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    missing = [
        m for m in sorted(extracted_messages()) if not (catalog.get(m) and catalog.get(m).string)
    ]
    assert not missing, f"untranslated (run `make messages`): {missing}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy translations: {fuzzy}"


def test_placeholders_survive_translation() -> None:
    with (ROOT / "src/supportdesk/locale/de/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if message.id:
            assert set(PLACEHOLDER.findall(str(message.id))) == set(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_german_catalogue_loads_and_english_is_identity() -> None:
    assert translations("de").gettext("Continue >>") == "Weiter >>"
    assert translations("en").gettext("Continue >>") == "Continue >>"


def test_the_catalogue_reads_as_babel_reads_it() -> None:
    """read_catalogue (the standard library only, for the support program) gives what
    Babel gives for every translated, not fuzzy entry of the real catalogue."""
    path = ROOT / "src/supportdesk/locale/de/LC_MESSAGES/messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="de")
    babel = {str(m.id): str(m.string) for m in catalog if m.id and m.string and not m.fuzzy}
    assert read_catalogue(path.read_text("utf-8")) == babel
    assert len(babel) > 400


def test_the_catalogue_reader_keeps_what_msgfmt_keeps() -> None:
    text = r"""# a comment
#, fuzzy
msgid ""
msgstr ""
"Language: de\n"

#, python-format
msgid "Line one\n"
"and \"two\" – %(n)s €"
msgstr "Zeile eins\n"
"und „zwei“ – %(n)s €"

#, fuzzy
msgid "Guessed"
msgstr "Geraten"

msgid "Untranslated"
msgstr ""
#~ msgid "Old"
#~ msgstr "Alt"
"""
    assert read_catalogue(text) == {
        'Line one\nand "two" – %(n)s €': "Zeile eins\nund „zwei“ – %(n)s €"
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('msgid "a"\nmsgid_plural "as"\nmsgstr[0] "b"\n', "'msgid_plural' is not supported"),
        ('msgctxt "x"\nmsgid "a"\nmsgstr "b"\n', "'msgctxt' is not supported"),
        ('msgid "a\nmsgstr "b"\n', "line 1: expected a quoted string"),
        ('msgid "a" "b"x\nmsgstr "b"\n', "line 1"),
    ],
)
def test_the_catalogue_reader_refuses_what_it_does_not_understand(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        read_catalogue(text)
