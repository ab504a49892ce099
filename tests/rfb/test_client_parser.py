"""ClientMessageParser: every message whole and byte by byte, limits, hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.rfb import (
    ClientCutText,
    ClientFence,
    ClientMessageParser,
    EnableContinuousUpdates,
    FramebufferUpdateRequest,
    KeyEvent,
    PixelFormat,
    PointerEvent,
    RemoteProtocolError,
    Screen,
    SetDesktopSize,
    SetEncodings,
    SetPixelFormat,
)
from supportdesk.rfb.pixel_format import NATIVE_PIXEL_FORMAT

from . import viewer as v

RGB565 = PixelFormat(16, 16, True, True, 31, 63, 31, 11, 5, 0)

CASES = [
    (v.set_pixel_format(RGB565), SetPixelFormat(RGB565)),
    (v.set_encodings(7, 1, 0, -23, -239), SetEncodings((7, 1, 0, -23, -239))),
    (v.set_encodings(), SetEncodings(())),
    (v.update_request(True, 1, 2, 300, 400), FramebufferUpdateRequest(True, 1, 2, 300, 400)),
    (
        v.update_request(False, 0, 0, 65535, 65535),
        FramebufferUpdateRequest(False, 0, 0, 65535, 65535),
    ),
    (v.key_event(True, 0xFF0D), KeyEvent(True, 0xFF0D)),
    (v.key_event(False, 0x0101F642), KeyEvent(False, 0x0101F642)),
    (v.pointer_event(5, 639, 479), PointerEvent(5, 639, 479)),
    (v.client_cut_text("Grüße".encode("latin-1")), ClientCutText("Grüße")),
    (v.client_cut_text(b""), ClientCutText("")),
    (v.enable_continuous_updates(True, 0, 0, 64, 32), EnableContinuousUpdates(True, 0, 0, 64, 32)),
    (v.client_fence(0x80000003, b"abc"), ClientFence(0x80000003, b"abc")),
    (v.client_fence(0, b"x" * 64), ClientFence(0, b"x" * 64)),
    (
        v.set_desktop_size(800, 600, [(7, 0, 0, 800, 600, 0)]),
        SetDesktopSize(800, 600, (Screen(7, 0, 0, 800, 600, 0),)),
    ),
]

ALL_BYTES = b"".join(raw for raw, _ in CASES)
ALL_MESSAGES = [msg for _, msg in CASES]


def parse(data: bytes, chunks: list[int] | None = None, **limits: int) -> list[object]:
    parser = ClientMessageParser(**limits)
    if chunks is None:
        parser.receive_data(data)
    else:
        pos = 0
        for size in chunks:
            parser.receive_data(data[pos : pos + size])
            pos += size
        parser.receive_data(data[pos:])
    assert parser.buffered == 0
    return [p.message for p in parser.messages_received()]


@pytest.mark.parametrize(("raw", "message"), CASES)
def test_each_message_whole_and_byte_by_byte(raw: bytes, message: object) -> None:
    assert parse(raw) == [message]
    parser = ClientMessageParser()
    for i in range(len(raw)):
        assert parser.messages_received() == []
        parser.receive_data(raw[i : i + 1])
    parsed = parser.messages_received()
    assert [p.message for p in parsed] == [message]
    assert parsed[0].raw == raw


def test_stream_of_all_messages_byte_by_byte() -> None:
    assert parse(ALL_BYTES, [1] * len(ALL_BYTES)) == ALL_MESSAGES


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=30))
def test_stream_split_anywhere_parses_the_same(chunks: list[int]) -> None:
    assert parse(ALL_BYTES, chunks) == ALL_MESSAGES


def test_raw_bytes_let_a_relay_filter_input() -> None:
    parser = ClientMessageParser()
    parser.receive_data(ALL_BYTES)
    kept = b"".join(p.raw for p in parser.messages_received() if not p.is_input)
    again = parse(kept)
    assert again == [
        m for m in ALL_MESSAGES if not isinstance(m, KeyEvent | PointerEvent | ClientCutText)
    ]


def test_colour_map_format_is_refused() -> None:
    raw = b"\x00\x00\x00\x00" + bytes([8, 8, 0, 0]) + bytes(12)
    with pytest.raises(RemoteProtocolError, match="colour-map"):
        parse(raw)


@pytest.mark.parametrize(
    "fmt",
    [
        bytes([24, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]),  # 24 bpp
        bytes([16, 16, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]),  # overflow
        bytes([32, 24, 0, 1, 0, 100, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]),  # max not 2^n-1
        bytes([32, 40, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]),  # depth > bpp
    ],
)
def test_unusable_true_colour_formats_are_refused(fmt: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse(b"\x00\x00\x00\x00" + fmt)


def test_cut_text_of_2_32_minus_1_is_rejected_at_the_header() -> None:
    parser = ClientMessageParser()
    with pytest.raises(RemoteProtocolError, match=r"Extended Clipboard|exceeds"):
        parser.receive_data(b"\x06\x00\x00\x00\xff\xff\xff\xff")
    assert parser.buffered == 0
    with pytest.raises(RemoteProtocolError):
        parser.receive_data(b"")


def test_cut_text_limit_is_a_parameter() -> None:
    raw = v.client_cut_text(b"a" * 100)
    assert parse(raw, max_cut_text=100) == [ClientCutText("a" * 100)]
    with pytest.raises(RemoteProtocolError, match="exceeds the limit"):
        ClientMessageParser(max_cut_text=99).receive_data(raw[:8])


def test_set_encodings_with_65535_entries() -> None:
    header = b"\x02\x00\xff\xff"
    with pytest.raises(RemoteProtocolError, match="65535 entries"):
        ClientMessageParser().receive_data(header)
    raw = v.set_encodings(*([0] * 65535))
    assert parse(raw, max_encodings=65535) == [SetEncodings((0,) * 65535)]


@pytest.mark.parametrize("kind", [1, 7, 8, 100, 149, 151, 247, 249, 250, 252, 253, 254, 255])
def test_unknown_message_types_are_refused(kind: int) -> None:
    with pytest.raises(RemoteProtocolError, match="unknown client message type"):
        parse(bytes([kind]) + bytes(30))


def test_fence_payload_over_64_and_zero_screens_are_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="Fence"):
        parse(b"\xf8\x00\x00\x00\x00\x00\x00\x00\x41")
    with pytest.raises(RemoteProtocolError, match="zero screens"):
        parse(b"\xfb\x00\x03\x20\x02\x58\x00\x00")


def test_messages_before_an_error_are_kept() -> None:
    parser = ClientMessageParser()
    with pytest.raises(RemoteProtocolError):
        parser.receive_data(v.key_event(True, 65) + b"\x07")
    assert [p.message for p in parser.messages_received()] == [KeyEvent(True, 65)]


def test_native_format_round_trips_through_set_pixel_format() -> None:
    assert parse(v.set_pixel_format(NATIVE_PIXEL_FORMAT)) == [SetPixelFormat(NATIVE_PIXEL_FORMAT)]


# -- hostile input: accepted or RemoteProtocolError, and bounded ------------------------

SMALL_LIMITS = {"max_cut_text": 300, "max_encodings": 40}
# Messages the fuzzer likes to build on: real prefixes make deep paths reachable.
PREFIXES = st.sampled_from([raw for raw, _ in CASES] + [b"\x06\x00\x00\x00", b"\x02\x00", b""])
HOSTILE = st.lists(st.one_of(st.binary(max_size=64), PREFIXES), max_size=12).map(b"".join)


def feed_checked(parser: ClientMessageParser, chunks: list[bytes]) -> list[object]:
    out: list[object] = []
    try:
        for chunk in chunks:
            parser.receive_data(chunk)
            assert parser.buffered <= parser.max_buffered
            out.extend(p.message for p in parser.messages_received())
    except RemoteProtocolError:
        assert parser.buffered <= parser.max_buffered
        out.extend(p.message for p in parser.messages_received())
        out.append("error")
    return out


@settings(max_examples=300, deadline=None)
@given(HOSTILE, st.lists(st.integers(min_value=1, max_value=64), max_size=20))
def test_arbitrary_bytes_whole_or_split_give_same_outcome(data: bytes, cuts: list[int]) -> None:
    whole = feed_checked(ClientMessageParser(**SMALL_LIMITS), [data])
    chunks, pos = [], 0
    for size in cuts:
        chunks.append(data[pos : pos + size])
        pos += size
    chunks.append(data[pos:])
    split = feed_checked(ClientMessageParser(**SMALL_LIMITS), chunks)
    assert whole == split
    single = feed_checked(ClientMessageParser(**SMALL_LIMITS), [bytes([b]) for b in data])
    assert single == whole


def test_buffer_bound_is_tight_for_default_limits() -> None:
    parser = ClientMessageParser()
    assert parser.max_buffered == 8 + (1 << 20) - 1
    parser.receive_data(b"\x06\x00\x00\x00\x00\x10\x00\x00" + b"a" * ((1 << 20) - 1))
    assert parser.buffered == parser.max_buffered
    parser.receive_data(b"a")
    assert parser.buffered == 0
    assert parser.messages_received()[0].message == ClientCutText("a" * (1 << 20))
