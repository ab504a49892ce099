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


def team(at_us: int, owner: str, *helpers: tuple[str, bool], source: str = "relay") -> Record:
    """The relay's state to the customer's side, with the team by name."""
    agents = [{"name": owner, "owner": True, "control": True}]
    agents += [{"name": n, "owner": False, "control": c} for n, c in helpers]
    return control(at_us, **{"from": source}, type="state", state="active", agents=agents)


def test_hand_overs_and_helpers_are_marked_from_the_team_in_the_state() -> None:
    records = [
        team(1_000, "Anna"),
        team(1_500, "Anna"),  # a repeat: no mark
        team(2_000, "Anna", ("Carla", False)),
        team(3_000, "Anna", ("Carla", True)),
        control(3_500, **{"from": "applet"}, type="refuse_control", notice="n1"),
        control(3_600, **{"from": "relay"}, type="control_refused", agent_name="Carla"),
        team(3_600, "Anna", ("Carla", False)),  # the refusal's state: no second mark
        team(3_700, "Anna", ("Carla", True)),
        team(3_800, "Anna", ("Carla", False)),  # published before the refusal's record:
        control(3_810, **{"from": "relay"}, type="control_refused", agent_name="Carla"),
        team(4_000, "Anna"),
        team(5_000, "Bernd", ("Anna", False)),  # handed over, Anna watching on
        team(6_000, "Anna"),  # handed back to a helper: she did not leave, Bernd did not stay
    ]
    marks = [m for m in timeline(records) if m.kind is not MarkKind.CONSENT]
    assert marks == [
        Mark(2_000, MarkKind.HELPER_JOINED, "view", "Carla"),
        Mark(3_000, MarkKind.HELPER_CHANGED, "control", "Carla"),
        Mark(3_600, MarkKind.CONTROL_REFUSED, "", "Carla"),
        Mark(3_700, MarkKind.HELPER_CHANGED, "control", "Carla"),
        Mark(3_800, MarkKind.CONTROL_REFUSED, "", "Carla"),  # one mark, at the state's time
        Mark(4_000, MarkKind.HELPER_LEFT, "", "Carla"),
        Mark(5_000, MarkKind.HAND_OVER, "Anna", "Bernd"),
        Mark(5_000, MarkKind.HELPER_JOINED, "view", "Anna"),
        Mark(6_000, MarkKind.HAND_OVER, "Bernd", "Anna"),
    ]


def test_team_marks_come_only_from_what_the_relay_wrote() -> None:
    # The customer's program could send anything on its link: it is recorded, but a
    # "state" or "control_refused" from it puts no team mark on the timeline.
    records = [
        team(1_000, "Anna"),
        team(2_000, "Mallory", source="applet"),
        control(2_500, **{"from": "applet"}, type="control_refused", agent_name="Anna"),
        team(3_000, "Anna", source="console"),
    ]
    assert [m for m in timeline(records) if m.kind is not MarkKind.CONSENT] == []


def test_the_consoles_state_the_recording_starts_with_gives_the_team_too() -> None:
    first = {
        "from": "relay",
        "type": "state",
        "state": "active",
        "owner": {"actor": "agent:anna", "name": "Anna"},
        "helpers": [{"actor": "agent:carla", "name": "Carla", "control": True}],
        "controllers": ["agent:anna"],  # Carla's control refused before
    }
    records = [control(1_000, **first), team(2_000, "Bernd", ("Carla", False))]
    assert [m for m in timeline(records) if m.kind is not MarkKind.CONSENT] == [
        Mark(2_000, MarkKind.HAND_OVER, "Anna", "Bernd")
    ]


def masking(at_us: int, *kinds: str, source: str = "relay") -> Record:
    """The relay's state with the kinds of mask on the customer's picture."""
    return control(at_us, **{"from": source}, type="state", state="active", masking=list(kinds))


def test_masking_starts_and_stops_are_marked_with_their_kinds_from_the_relays_state() -> None:
    records = [
        masking(1_000),
        masking(2_000, "secret_input"),
        masking(2_500, "secret_input"),  # a repeat: no mark
        masking(3_000, "privacy", "secret_input"),
        masking(4_000, "window_rule"),  # two stop and one starts at once
        control(4_500, **{"from": "applet"}, type="masking", kinds=["privacy"]),  # not the relay's
        masking(4_600, "privacy", source="applet"),
        control(4_700, **{"from": "relay"}, type="masking_notice", masking=["privacy"]),
        masking(5_000),
    ]
    marks = [m for m in timeline(records) if m.kind is not MarkKind.CONSENT]
    assert marks == [
        Mark(2_000, MarkKind.MASKING_STARTED, "secret_input"),
        Mark(3_000, MarkKind.MASKING_STARTED, "privacy"),
        Mark(4_000, MarkKind.MASKING_STARTED, "window_rule"),
        Mark(4_000, MarkKind.MASKING_STOPPED, "privacy, secret_input"),
        Mark(5_000, MarkKind.MASKING_STOPPED, "window_rule"),
    ]
