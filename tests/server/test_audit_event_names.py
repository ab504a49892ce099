"""Every audit event code the server writes has a name for the auditor, in German and
English: the codes are read from the source itself (tests/audit_codes.py), so a new
``AuditRecord(...)`` anywhere under src/ without a name in server/audit/names.py fails
here. Actors read once: "agent:agent:bernd" (written before the fix) is bernd."""

from __future__ import annotations

import textwrap
from pathlib import Path

from supportdesk.i18n import translations
from supportdesk.server.audit.names import EVENT_NAMES, Actor, event_name, stored_actors
from tests.audit_codes import EventCodes

SOURCE = Path(__file__).resolve().parents[2] / "src" / "supportdesk"


def test_every_event_code_written_in_the_source_has_a_name() -> None:
    found = EventCodes(SOURCE).scan()
    assert not found.unresolved, (
        "event codes the scan cannot follow (use a literal or a module constant): "
        f"{found.unresolved}"
    )
    # The scan follows codes through the functions that pass them on: these arrive
    # only that way (a constant, a classmethod's _record, a constructor's attribute).
    for indirect in ("support_key.redemption_failed", "support_key.issued", "session.chat"):
        assert indirect in found.codes, indirect
    assert "recording_purge_failed" in found.codes  # a local variable set by a condition
    unnamed = {code: found.codes[code] for code in found.codes if code not in EVENT_NAMES}
    assert not unnamed, f"event codes without a name in server/audit/names.py: {unnamed}"
    stale = set(EVENT_NAMES) - set(found.codes)
    assert not stale, f"names for codes nothing writes any more: {stale}"


def test_the_scan_reports_what_it_cannot_follow(tmp_path: Path) -> None:
    """The guard of the test above: a computed code, a new code in a helper, and a
    new code through a constant are each noticed."""
    package = tmp_path / "supportdesk"
    (package / "domain").mkdir(parents=True)
    (package / "domain" / "audit_chain.py").write_text("class AuditRecord: ...\n")
    (package / "feature.py").write_text(
        textwrap.dedent(
            """
            from supportdesk.domain.audit_chain import AuditRecord
            SHIPPED = "parcel.shipped"

            def computed(kind):
                return AuditRecord(now, "parcel." + kind, "system", "-")

            class Desk:
                def _note(self, at, event_type):
                    return AuditRecord(at, event_type, "system", "-")

                def act(self):
                    self._note(now, "parcel.noted")
                    self._note(now, SHIPPED)
            """
        )
    )
    found = EventCodes(package).scan()
    assert set(found.codes) == {"parcel.noted", "parcel.shipped"}
    assert [where.split(":")[0] for where in found.unresolved] == ["supportdesk/feature.py"]


def test_every_name_is_translated_to_german() -> None:
    german = translations("de").gettext
    untranslated = [code for code, name in EVENT_NAMES.items() if german(name) == name]
    assert not untranslated
    assert event_name("support_key.redemption_failed", german) == "Support-Schlüssel abgewiesen"
    assert event_name("support_key.redemption_failed", translations("en").gettext) == (
        "Support key refused"
    )
    assert event_name("something.new", german) == "something.new"  # shown as itself


def test_an_actor_reads_once_in_both_stored_forms() -> None:
    assert Actor.of("agent:bernd") == Actor("agent", "bernd")
    assert Actor.of("agent:agent:bernd") == Actor("agent", "bernd")
    assert Actor.of("client:203.0.113.7") == Actor("client", "203.0.113.7")
    assert Actor.of("cli:root") == Actor("cli", "root")
    assert Actor.of("customer") == Actor("customer", "")
    assert Actor.of("test") == Actor("", "test")
    assert Actor.of("odd:thing") == Actor("", "odd:thing")
    # A search for the agent finds both forms; "agent:bernd" means the same.
    assert {"agent:bernd", "agent:agent:bernd"} <= set(stored_actors(" Bernd "))
    assert set(stored_actors("agent:bernd")) == {"agent:bernd", "agent:agent:bernd"}
    assert stored_actors("Customer") == ("customer",)
    assert stored_actors("") == ()
