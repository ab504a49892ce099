"""The receipt files: German text, JSON twin, into an injected folder."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from supportdesk.applet.receipt import (
    Receipt,
    SessionTimeline,
    TransferredFile,
    documents_folder,
    write_receipt,
)
from supportdesk.domain.capabilities import Capability

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def receipt(**overrides: object) -> Receipt:
    times = iter([START, START + timedelta(minutes=3), START + timedelta(minutes=5)])
    timeline = SessionTimeline(clock=lambda: next(times))
    timeline.grant(Capability.VIEW)
    timeline.grant(Capability.CONTROL)
    timeline.revoke(Capability.CONTROL)
    fields: dict[str, object] = dict(
        consultation_number="BN-2026-4821-7730-8",
        bank_name="Volksbank Musterstadt eG",
        bank_domain="support.volksbank-musterstadt.de",
        agent_name="Anna Schmidt",
        started_at=START,
        ended_at=START + timedelta(minutes=12, seconds=7),
        capabilities=timeline.changes,
    )
    fields.update(overrides)
    return Receipt(**fields)  # type: ignore[arg-type]


def test_writes_text_and_json_twin(tmp_path: Path) -> None:
    path = write_receipt(receipt(), tmp_path / "Dokumente")
    assert path == tmp_path / "Dokumente" / "Fernwartung-BN-2026-4821-7730-8.txt"
    text = path.read_text(encoding="utf-8")
    for needle in (
        "Beratungsnummer: BN-2026-4821-7730-8",
        "Volksbank Musterstadt eG (support.volksbank-musterstadt.de)",
        "Anna Schmidt",
        "Beginn:          30.11.2026, 10:00:00 Uhr",  # Europe/Berlin
        "Ende:            30.11.2026, 10:12:07 Uhr",
        "Dauer:           0:12:07",
        "30.11.2026, 10:03:00 Uhr  Maus und Tastatur steuern: erteilt",
        "30.11.2026, 10:05:00 Uhr  Maus und Tastatur steuern: entzogen",
        "Übertragene Dateien:\n  (keine)",
        "wird aufgezeichnet",
    ):
        assert needle in text, needle
    data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["consultation_number"] == "BN-2026-4821-7730-8"
    assert data["duration_seconds"] == 727
    assert data["started_at"] == "2026-11-30T09:00:00Z"
    assert [c["granted"] for c in data["capabilities"]] == [True, True, False]
    assert data["files"] == []
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "Fernwartung-BN-2026-4821-7730-8.json",
        "Fernwartung-BN-2026-4821-7730-8.txt",
    ]


def test_files_are_listed(tmp_path: Path) -> None:
    sent = TransferredFile(START, "kontoauszug.pdf", 1234, to_agent=True, sha256="ab" * 32)
    path = write_receipt(receipt(files=[sent]), tmp_path)
    assert "kontoauszug.pdf (1234 Bytes, an die Bank)" in path.read_text(encoding="utf-8")
    data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert data["files"][0]["direction"] == "to_bank"


def test_a_hostile_number_cannot_escape_the_folder(tmp_path: Path) -> None:
    path = write_receipt(receipt(consultation_number="../../etc/passwd"), tmp_path)
    assert path.parent == tmp_path and path.name == "Fernwartung-etcpasswd.txt"


def test_default_folder_is_the_documents_folder() -> None:
    import platformdirs

    assert documents_folder() == Path(platformdirs.user_documents_dir())
