"""Timeline marks: session events from published states, chat and file events as they are."""

from __future__ import annotations

import json

from supportdesk.recording import Record, RecordKind
from supportdesk.recording.timeline import Mark, MarkKind, timeline


def control(at_us: int, **message: object) -> Record:
    return Record(at_us, RecordKind.CONTROL, 0, json.dumps(message).encode())


def state(at_us: int, name: str, *capabilities: str) -> Record:
    return control(at_us, type="state", state=name, capabilities=list(capabilities))


def test_state_changes_become_consent_capability_pause_resume_and_end_marks() -> None:
    records = [
        state(0, "awaiting_consent"),
        state(1_000, "active", "view"),
        state(1_500, "active", "view"),  # a repeat (a watcher joined): no mark
        control(1_700, type="keyframe", channel=1),  # not a session event
        state(2_000, "active", "control", "view"),
        state(3_000, "paused", "control", "view"),
        state(4_000, "active", "control", "view"),
        Record(4_500, RecordKind.CHAT, 0, b'{"from":"agent","name":"Anna","text":"Hallo"}'),
        Record(4_700, RecordKind.FILE_EVENT, 0, b'{"type":"offer","name":"log.txt"}'),
        state(5_000, "ended", "control", "view"),
    ]
    assert timeline(records) == [
        Mark(1_000, MarkKind.CONSENT, "view"),
        Mark(2_000, MarkKind.CAPABILITIES, "control, view"),
        Mark(3_000, MarkKind.PAUSE, "control, view"),
        Mark(4_000, MarkKind.RESUME, "control, view"),
        Mark(4_500, MarkKind.CHAT, "Hallo", "Anna"),
        Mark(4_700, MarkKind.FILE, "offer log.txt"),
        Mark(5_000, MarkKind.END, "control, view"),
    ]


def test_unreadable_payloads_are_skipped_not_fatal() -> None:
    records = [
        Record(1, RecordKind.CONTROL, 0, b"\xff not json"),
        Record(2, RecordKind.CHAT, 0, b"[1, 2]"),
    ]
    assert timeline(records) == [Mark(2, MarkKind.CHAT, "", "")]


def test_a_recording_hold_is_marked_as_a_pause_with_its_notice_and_its_end() -> None:
    notice = "Aufzeichnung nicht möglich – Sitzung pausiert"
    held = {"type": "state", "state": "active", "capabilities": ["view"], "held": True}
    records = [
        state(1_000, "active", "view"),
        control(2_000, **held, notice=notice),
        control(2_500, **held, notice=notice),  # still held: no second mark
        control(3_000, **{**held, "held": False}),
    ]
    assert timeline(records) == [
        Mark(1_000, MarkKind.CONSENT, "view"),
        Mark(2_000, MarkKind.PAUSE, notice),
        Mark(3_000, MarkKind.RESUME, ""),
    ]
