"""The chat's model without Tk: clean words, pending lines, the bounded history, and the
hand-over between the link's thread and the window's."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from supportdesk.applet.chat_lines import (
    CHAT_MAX,
    ChatHistory,
    LinkChat,
    Sender,
    clean_text,
    local_time,
    too_long,
)
from supportdesk.server.relay import session_relay
from supportdesk.server.relay.console_messages import CHAT_MAX as CONSOLE_CHAT_MAX

NOON = datetime(2026, 11, 30, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def history(limit: int = 200) -> ChatHistory:
    return ChatHistory(limit, now=lambda: NOON)


def agent(text: str, name: str | None = "Anna Berger", at: str | None = None) -> dict[str, Any]:
    return {"type": "chat", "from": "agent", "name": name, "text": text, "at": at}


def test_the_program_refuses_what_the_relay_would_cut() -> None:
    assert CHAT_MAX == session_relay.CHAT_MAX == CONSOLE_CHAT_MAX
    assert not too_long("ä" * CHAT_MAX)
    assert too_long("ä" * (CHAT_MAX + 1))


def test_control_characters_and_bidi_overrides_are_taken_out() -> None:
    assert clean_text("\x1b[31mrot\x1b[0m\x00\x07") == "[31mrot[0m"
    assert clean_text("Zeile 1\r\nZeile 2\rZeile 3\tEnde") == "Zeile 1\nZeile 2\nZeile 3 Ende"
    assert clean_text("Zeile 1\nZeile 2", newlines=False) == "Zeile 1 Zeile 2"
    # U+202E would show "moc.knab-ehcsltaf" reversed as a harmless-looking address.
    assert clean_text("\u202ebank\u2066x\u2069\u200f") == "bankx"
    assert clean_text("\ud800lone surrogate\x7f\x85") == "lone surrogate"
    assert clean_text("Grüße 👋 – „ok“") == "Grüße 👋 – „ok“"  # letters stay letters
    assert clean_text(None) == "None" and clean_text("  \x00  ") == ""


def test_the_relays_time_is_shown_on_the_customers_clock() -> None:
    said = local_time("2026-11-30T11:05:00+00:00", lambda: NOON)
    assert said == datetime(2026, 11, 30, 11, 5, tzinfo=UTC)
    assert said.utcoffset() == datetime.now().astimezone().utcoffset()
    for unreadable in (None, "", "gestern", "2026-11-30T11:05:00", 12):
        assert local_time(unreadable, lambda: NOON) == NOON


def test_an_agents_line_keeps_name_time_and_words() -> None:
    chat = history()
    change = chat.heard(agent("Hallo\x1b[2J Frau Müller", at="2026-11-30T11:05:00+00:00"))
    line = change.added
    assert line is not None and change.confirmed is None and change.dropped == []
    assert (line.sender, line.name) == (Sender.AGENT, "Anna Berger")
    assert line.text == "Hallo[2J Frau Müller"
    assert line.at == datetime(2026, 11, 30, 11, 5, tzinfo=UTC)
    assert chat.heard(agent("", name=None)).added is None  # nothing to show
    nameless = chat.heard(agent("Hallo", name=None)).added
    assert nameless is not None and nameless.name == ""


def test_own_lines_are_pending_until_the_relay_echoes_them() -> None:
    chat = history()
    first = chat.typed("Ja, sehe ich").added
    second = chat.typed("Ja, sehe ich").added
    assert first is not None and second is not None and first.pending and second.pending
    echo = {"type": "chat", "from": "customer", "name": None, "text": "Ja, sehe ich"}
    assert chat.heard(echo).confirmed is first  # the oldest first
    assert not first.pending and second.pending
    assert chat.heard(echo).confirmed is second
    # An echo with nothing pending (typed before a restart of the window) is a new line.
    extra = chat.heard(echo).added
    assert extra is not None and extra.sender is Sender.CUSTOMER and not extra.pending
    assert len(chat) == 3


def test_the_history_keeps_the_last_lines_only() -> None:
    chat = history(limit=3)
    lines = [chat.heard(agent(f"Zeile {n}")).added for n in range(5)]
    assert [line.text for line in chat] == ["Zeile 2", "Zeile 3", "Zeile 4"]
    dropped = chat.heard(agent("Zeile 5")).dropped
    assert dropped == [lines[2]]
    assert len({line.number for line in lines if line}) == 5  # numbers tell them apart


def test_the_link_hands_messages_to_the_window_in_order() -> None:
    sent: list[dict[str, Any]] = []
    link_chat = LinkChat(sent.append)
    writer = threading.Thread(target=lambda: [link_chat.put(agent(str(n))) for n in range(500)])
    writer.start()
    taken: list[dict[str, Any]] = []
    while len(taken) < 500:
        taken += link_chat.take()
    assert [m["text"] for m in taken] == [str(n) for n in range(500)]
    writer.join()
    assert link_chat.take() == []
    link_chat.send("Danke")
    assert sent == [{"type": "chat", "text": "Danke"}]
