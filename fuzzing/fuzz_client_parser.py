"""Fuzz the RFB client-message parser and the server connection with one invariant.

Every input is either accepted (events come out) or rejected with
``RemoteProtocolError``; nothing else may escape, the parser's buffer never
exceeds its documented bound, and feeding the input whole, split in two, or
byte by byte gives the same outcome.

Run by hand, with atheris if it is installed (``pip install atheris``)::

    .venv/bin/python fuzzing/fuzz_client_parser.py -max_total_time=60

and without atheris it falls back to a long Hypothesis run::

    .venv/bin/python fuzzing/fuzz_client_parser.py --hypothesis 20000
"""

from __future__ import annotations

import sys

import numpy as np

from supportdesk.rfb import ClientMessageParser, RemoteProtocolError, RFBServerConnection

MAX_CUT_TEXT = 4096
MAX_ENCODINGS = 64
LIMITS = {"max_cut_text": MAX_CUT_TEXT, "max_encodings": MAX_ENCODINGS}
HANDSHAKE = b"RFB 003.008\n\x01\x01"
# SetEncodings announcing the Extended Clipboard (0xC0A1E5CE), so its messages are reachable.
EXTENDED_CLIPBOARD = b"\x02\x00\x00\x01\xc0\xa1\xe5\xce"


def _outcome(chunks: list[bytes]) -> list[object]:
    parser = ClientMessageParser(**LIMITS)
    out: list[object] = []
    try:
        for chunk in chunks:
            parser.receive_data(chunk)
            assert parser.buffered <= parser.max_buffered, "parser buffer exceeded its bound"
            out.extend(p.message for p in parser.messages_received())
    except RemoteProtocolError:
        out.extend(p.message for p in parser.messages_received())
        out.append("rejected")
    return out


def _server_outcome(data: bytes, prefix: bytes = b"") -> None:
    conn = RFBServerConnection(64, 48, max_cut_text=MAX_CUT_TEXT, max_encodings=MAX_ENCODINGS)
    try:
        conn.receive_data(HANDSHAKE + prefix + data)
        conn.events_received()
        if conn.update_requested:
            conn.send_framebuffer_update(np.zeros((conn.height, conn.width, 3), dtype=np.uint8))
        conn.data_to_send()
    except RemoteProtocolError:
        pass


def check(data: bytes) -> None:
    """The invariant, for one input."""
    whole = _outcome([data])
    half = len(data) // 2
    assert _outcome([data[:half], data[half:]]) == whole
    assert _outcome([data[i : i + 1] for i in range(len(data))]) == whole
    _server_outcome(data)
    _server_outcome(data, EXTENDED_CLIPBOARD)


def _run_hypothesis(examples: int) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.binary(max_size=512))
    def fuzz(data: bytes) -> None:
        check(data)

    fuzz()
    print(f"ok: {examples} examples")


def main() -> None:
    if "--hypothesis" in sys.argv:
        index = sys.argv.index("--hypothesis")
        examples = int(sys.argv[index + 1]) if len(sys.argv) > index + 1 else 10000
        _run_hypothesis(examples)
        return
    try:
        import atheris
    except ImportError:
        print("atheris is not installed; running Hypothesis instead", file=sys.stderr)
        _run_hypothesis(10000)
        return
    atheris.instrument_all()
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
