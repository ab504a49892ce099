"""Every customer-facing text has a German translation, and placeholders survive it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from supportdesk.i18n import translations

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
