"""Sender and receiver cores joined in memory: files cross intact in both directions,
within the window, and nothing half-written ever carries a final name."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportdesk.transfer.endpoint import (
    FileTooLarge,
    Side,
    TransferEndpoint,
    TransferLimits,
    UnknownTransfer,
)
from supportdesk.transfer.errors import InvalidMessage, LocalTransferError
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import (
    CancelReason,
    Direction,
    ErrorCode,
    FileCancel,
    FileChunk,
    FileError,
    FileOffer,
)
from supportdesk.transfer.receiver import DownloadFolder, IncomingTransfer
from supportdesk.transfer.sender import OutgoingTransfer

from .link_pair import LinkPair, MemorySource, final_states


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def offer_bytes(
    pair: LinkPair, side: Side, data: bytes, name: str = "Datei.bin", digest: str | None = None
) -> str:
    """``side`` offers ``data``; the offer crosses; returns the transfer id."""
    messages = pair.endpoint(side).offer(name, len(data), digest or sha(data), MemorySource(data))
    pair.deliver(side, messages)
    return messages[0].id


def files_in(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=300_000),
    chunk_size=st.sampled_from([1000, 4096, 65536]),
    window=st.integers(1, 6),
    direction=st.sampled_from(list(Side)),
)
def test_random_files_cross_intact(
    data: bytes, chunk_size: int, window: int, direction: Side
) -> None:
    pair = LinkPair.make(TransferLimits(window=window, chunk_size=chunk_size))
    receiver_side = Side.CUSTOMER if direction is Side.AGENT else Side.AGENT
    with tempfile.TemporaryDirectory() as temp:
        folder = DownloadFolder(Path(temp) / "Fernwartung")
        transfer_id = offer_bytes(pair, direction, data, "Kontoauszug März.pdf")
        receiver = pair.endpoint(receiver_side)
        (offered,) = receiver.events()
        assert offered.state is TransferState.OFFERED
        assert offered.name == "Kontoauszug März.pdf"
        pair.deliver(receiver_side, receiver.accept(transfer_id, folder.open_part(offered.name)))
        assert files_in(folder.path) == {"Kontoauszug März.pdf": data}
        receiver_states = final_states(receiver.events())
        sender_states = final_states(pair.endpoint(direction).events())
    expected = (
        ["accepted", "verifying", "done"]
        if not data
        else ["accepted", "transferring", "verifying", "done"]
    )
    assert receiver_states == expected
    assert sender_states[0] == "offered" and sender_states[-1] == "done"
    assert not pair.agent.transfers and not pair.customer.transfers
    # Flow control: never more chunks unacknowledged than the receiver's window.
    in_flight, most = 0, 0
    for _, message in pair.wire:
        if message["type"] == "file_chunk":
            in_flight += 1
            most = max(most, in_flight)
        elif message["type"] == "file_ack":
            in_flight -= 1
    assert most <= window


def test_the_receiver_gets_the_hash_and_the_sender_hears_complete(tmp_path: Path) -> None:
    pair = LinkPair.make()
    data = b"Hallo Welt\n" * 10_000
    transfer_id = offer_bytes(pair, Side.AGENT, data, "gruss.txt")
    pair.customer.events()
    pair.deliver(
        Side.CUSTOMER,
        pair.customer.accept(transfer_id, DownloadFolder(tmp_path).open_part("gruss.txt")),
    )
    (done,) = [e for e in pair.agent.events() if e.state is TransferState.DONE]
    assert done.sha256 == sha(data)
    assert done.bytes_done == len(data)
    assert done.audit_data() == {
        "transfer_id": transfer_id,
        "direction": "to_customer",
        "name": "gruss.txt",
        "size": len(data),
        "sha256": sha(data),
        "state": "done",
        "outcome": None,
    }
    (received,) = [e for e in pair.customer.events() if e.state is TransferState.DONE]
    assert received.final_name == "gruss.txt"
    assert pair.types()[-1] == "file_complete"


def test_hash_mismatch_leaves_nothing(tmp_path: Path) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    data = b"A" * 100_000
    offer = FileOffer("t1", Direction.TO_CUSTOMER, "x.bin", len(data), sha(b"something else"))
    assert customer.receive(offer.to_json()) == []
    customer.accept("t1", DownloadFolder(tmp_path).open_part("x.bin"))
    out = customer.receive(FileChunk("t1", 0, data[:65536]).to_json())
    assert files_in(tmp_path)  # the part file exists while bytes arrive
    out = customer.receive(FileChunk("t1", 1, data[65536:]).to_json())
    assert out[-1] == FileError("t1", ErrorCode.HASH_MISMATCH, "content does not match the offer")
    assert files_in(tmp_path) == {}
    assert customer.events()[-1].outcome == "hash_mismatch"


def test_a_file_changed_after_its_offer_is_stopped_by_the_sender(tmp_path: Path) -> None:
    pair = LinkPair.make()
    data = b"B" * 200_000
    messages = pair.agent.offer("b.bin", len(data), sha(data), MemorySource(b"C" * len(data)))
    pair.deliver(Side.AGENT, messages)
    pair.deliver(
        Side.CUSTOMER,
        pair.customer.accept(messages[0].id, DownloadFolder(tmp_path).open_part("b.bin")),
    )
    assert files_in(tmp_path) == {}
    assert final_states(pair.customer.events())[-1] == "failed"
    assert pair.agent.events()[-1].outcome == "source_changed"


def test_a_shrunken_file_is_stopped_by_the_sender(tmp_path: Path) -> None:
    pair = LinkPair.make()
    data = b"D" * 100_000
    source = MemorySource(data[:50_000])
    messages = pair.agent.offer("d.bin", len(data), sha(data), source)
    pair.deliver(Side.AGENT, messages)
    pair.deliver(
        Side.CUSTOMER,
        pair.customer.accept(messages[0].id, DownloadFolder(tmp_path).open_part("d.bin")),
    )
    assert files_in(tmp_path) == {}
    assert pair.agent.events()[-1].outcome == "source_changed"
    assert source.closed


@pytest.mark.parametrize("who", list(Side))
def test_cancel_midway_removes_the_temporary_file(tmp_path: Path, who: Side) -> None:
    pair = LinkPair.make(TransferLimits(window=2))
    data = bytes(range(256)) * 2000  # 512000 bytes, 8 chunks
    source = MemorySource(data)
    messages = pair.agent.offer("p.bin", len(data), sha(data), source)
    pair.deliver(Side.AGENT, messages)
    transfer_id = messages[0].id
    pair.customer.accept(transfer_id, DownloadFolder(tmp_path).open_part("p.bin"))
    # Carry the accept and two chunks by hand, no further.
    pair.agent.receive({"type": "file_accept", "id": transfer_id, "window": 2})
    for chunk in pair.agent.pump():
        pair.customer.receive(chunk.to_json())
    assert len(files_in(tmp_path)) == 1  # only ".p.bin.part-…"
    (part,) = files_in(tmp_path)
    assert part.startswith(".p.bin.part-")
    pair.deliver(who, pair.endpoint(who).cancel(transfer_id, CancelReason(who.value)))
    assert files_in(tmp_path) == {}
    assert source.closed
    for side in Side:
        last = pair.endpoint(side).events()[-1]
        assert (last.state, last.outcome) == (TransferState.CANCELLED, who.value)
    # Acks still in flight after the cancel are dropped quietly.
    assert pair.agent.receive({"type": "file_ack", "id": transfer_id, "seq": 1}) == []


def test_session_end_cancels_everything(tmp_path: Path) -> None:
    pair = LinkPair.make()
    first = offer_bytes(pair, Side.AGENT, b"1" * 300_000, "a.bin")
    offer_bytes(pair, Side.AGENT, b"2" * 10, "b.bin")
    pair.customer.accept(first, DownloadFolder(tmp_path).open_part("a.bin"))
    out = pair.customer.cancel_all(CancelReason.SESSION_ENDED)
    assert sorted(type(m).__name__ for m in out) == ["FileCancel", "FileCancel"]
    assert files_in(tmp_path) == {}
    assert not pair.customer.transfers


def test_declined_transfer_leaves_nothing(tmp_path: Path) -> None:
    pair = LinkPair.make()
    source = MemorySource(b"x" * 1000)
    messages = pair.agent.offer("x.txt", 1000, sha(b"x" * 1000), source)
    pair.deliver(Side.AGENT, messages)
    pair.deliver(Side.CUSTOMER, pair.customer.decline(messages[0].id))
    assert files_in(tmp_path) == {}
    assert source.closed
    assert final_states(pair.agent.events()) == ["offered", "declined"]
    assert pair.types() == ["file_offer", "file_decline"]


def test_oversize_is_refused_at_the_offer() -> None:
    pair = LinkPair.make()
    pair.customer.limits = TransferLimits(max_size=1000)
    data = b"z" * 1001
    source = MemorySource(data)
    pair.deliver(Side.AGENT, pair.agent.offer("z.bin", len(data), sha(data), source))
    assert pair.types() == ["file_offer", "file_error"]
    assert pair.wire[-1][1]["code"] == "too_large"
    assert pair.agent.events()[-1].outcome == "too_large"
    assert source.closed
    (refused,) = pair.customer.events()[-1:]
    assert refused.state is TransferState.FAILED


def test_our_own_cap_refuses_before_offering() -> None:
    endpoint = TransferEndpoint(Side.CUSTOMER, TransferLimits(max_size=10))
    source = MemorySource(b"x" * 11)
    with pytest.raises(FileTooLarge):
        endpoint.offer("x", 11, sha(b"x" * 11), source)
    assert source.closed and not endpoint.transfers


def test_more_bytes_than_declared_are_refused(tmp_path: Path) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "s.bin", 10, sha(b"0" * 10)).to_json())
    customer.accept("t1", DownloadFolder(tmp_path).open_part("s.bin"))
    out = customer.receive(FileChunk("t1", 0, b"0" * 20).to_json())
    assert out == [FileError("t1", ErrorCode.SIZE_MISMATCH, "more bytes than offered")]
    assert files_in(tmp_path) == {}


def test_nothing_is_written_before_the_customer_approves(tmp_path: Path) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "s.bin", 2, sha(b"ab")).to_json())
    (error,) = customer.receive(FileChunk("t1", 0, b"ab").to_json())
    assert isinstance(error, FileError) and error.code is ErrorCode.PROTOCOL
    assert files_in(tmp_path) == {}
    with pytest.raises(UnknownTransfer):
        customer.accept("t1", DownloadFolder(tmp_path).open_part("s.bin"))
    assert files_in(tmp_path) == {}  # the sink made for the late click is discarded


def test_out_of_order_chunks_fail_the_transfer(tmp_path: Path) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "s.bin", 4, sha(b"abcd")).to_json())
    customer.accept("t1", DownloadFolder(tmp_path).open_part("s.bin"))
    (error,) = customer.receive(FileChunk("t1", 1, b"ab").to_json())
    assert isinstance(error, FileError) and error.code is ErrorCode.PROTOCOL
    assert files_in(tmp_path) == {}


def test_a_malformed_message_fails_its_transfer(tmp_path: Path) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "s.bin", 4, sha(b"abcd")).to_json())
    customer.accept("t1", DownloadFolder(tmp_path).open_part("s.bin"))
    (error,) = customer.receive({"type": "file_chunk", "id": "t1", "seq": 0, "data": "%%"})
    assert isinstance(error, FileError) and error.code is ErrorCode.PROTOCOL
    assert files_in(tmp_path) == {}
    with pytest.raises(InvalidMessage):
        customer.receive({"type": "file_chunk", "id": "nobody", "seq": 0, "data": "%%"})


def test_offers_in_the_wrong_direction_are_not_allowed() -> None:
    agent = TransferEndpoint(Side.AGENT)
    (error,) = agent.receive(FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")).to_json())
    assert isinstance(error, FileError) and error.code is ErrorCode.NOT_ALLOWED


@pytest.mark.parametrize("name", ["../../etc/passwd", "con.txt", "Rechnung\u202efdp.exe"])
def test_unsafe_names_are_refused_at_the_offer(name: str) -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    (error,) = customer.receive(
        FileOffer("t1", Direction.TO_CUSTOMER, name, 1, sha(b"a")).to_json()
    )
    assert isinstance(error, FileError) and error.code is ErrorCode.BAD_NAME
    (event,) = customer.events()[-1:]
    assert event.state is TransferState.FAILED
    assert event.name.isascii()  # shown escaped, the trick defused


def test_sanitised_name_is_what_the_customer_sees() -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(
        FileOffer(
            "t1", Direction.TO_CUSTOMER, "C:\\Users\\agent\\Anleitung.pdf", 1, sha(b"a")
        ).to_json()
    )
    (event,) = customer.events()
    assert event.name == "Anleitung.pdf"


def test_too_many_at_once_are_refused_busy() -> None:
    customer = TransferEndpoint(Side.CUSTOMER, TransferLimits(max_active=1))
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")).to_json())
    (error,) = customer.receive(FileOffer("t2", Direction.TO_CUSTOMER, "b", 1, sha(b"b")).to_json())
    assert isinstance(error, FileError) and error.code is ErrorCode.BUSY


def test_duplicate_ids_and_unknown_ids() -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    offer = FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")).to_json()
    customer.receive(offer)
    (error,) = customer.receive(offer)
    assert isinstance(error, FileError) and error.code is ErrorCode.PROTOCOL
    (error,) = customer.receive({"type": "file_ack", "id": "zz", "seq": 0})
    assert isinstance(error, FileError)
    # Answers are never answered, so two confused sides cannot ping-pong errors.
    assert customer.receive(FileError("zz", ErrorCode.PROTOCOL, "").to_json()) == []
    assert customer.receive(FileCancel("zz", CancelReason.AGENT).to_json()) == []


def test_the_sender_refuses_a_complete_with_another_hash() -> None:
    transfer = OutgoingTransfer(
        FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")), MemorySource(b"a")
    )
    transfer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")))
    assert transfer.state is TransferState.FAILED


def test_acks_out_of_order_fail_the_sender() -> None:
    pair = LinkPair.make()
    data = b"q" * 200_000
    transfer_id = offer_bytes(pair, Side.AGENT, data)
    pair.agent.receive({"type": "file_accept", "id": transfer_id, "window": 4})
    pair.agent.pump()
    (error,) = pair.agent.receive({"type": "file_ack", "id": transfer_id, "seq": 9})
    assert isinstance(error, FileError) and error.code is ErrorCode.PROTOCOL


def test_local_misuse_raises() -> None:
    transfer = IncomingTransfer(FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, sha(b"a")), "a")
    transfer.decline()
    with pytest.raises(LocalTransferError):
        transfer.decline()
    with pytest.raises(ValueError):
        OutgoingTransfer(transfer.offer, MemorySource(b"a"), chunk_size=70_000)


CONTENT = [b"", b"a", b"abc", b"abcdef"]
IDS = st.sampled_from(["a", "b"])
PEER_MESSAGES = st.one_of(
    st.builds(
        lambda i, d, content, honest: FileOffer(
            i, d, "f.txt", len(content), sha(content if honest else b"other")
        ),
        IDS,
        st.sampled_from(list(Direction)),
        st.sampled_from(CONTENT),
        st.booleans(),
    ),
    st.builds(FileChunk, IDS, st.integers(0, 3), st.sampled_from([b"a", b"bc", b"def", b"abc"])),
    st.builds(lambda i, s: {"type": "file_ack", "id": i, "seq": s}, IDS, st.integers(0, 3)),
    st.builds(FileCancel, IDS, st.sampled_from(list(CancelReason))),
    st.builds(FileError, IDS, st.sampled_from(list(ErrorCode))),
    st.builds(lambda i: {"type": "file_complete", "id": i, "sha256": sha(b"abc")}, IDS),
    st.builds(lambda i: {"type": "file_accept", "id": i, "window": 1}, IDS),
    st.builds(lambda i: {"type": "file_decline", "id": i}, IDS),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(PEER_MESSAGES, max_size=12))
def test_any_message_sequence_leaves_only_verified_files(messages: list[object]) -> None:
    """Whatever a peer sends, the customer side never raises beyond its documented
    errors, and every file under a final name is one whose hash was verified."""
    customer = TransferEndpoint(Side.CUSTOMER)
    verified: set[str] = set()
    with tempfile.TemporaryDirectory() as temp:
        folder = DownloadFolder(Path(temp))
        for message in messages:
            wire = message if isinstance(message, dict) else message.to_json()  # type: ignore[attr-defined]
            with contextlib.suppress(InvalidMessage):
                customer.receive(wire)
            while events := customer.events():
                for event in events:
                    if event.state is TransferState.OFFERED and customer.get(event.id):
                        part = folder.open_part(folder.free_name(event.name))
                        customer.accept(event.id, part)
                    if event.state is TransferState.DONE:
                        verified.add(event.sha256)
            for path in folder.path.iterdir():
                if not path.name.startswith("."):
                    assert sha(path.read_bytes()) in verified
        customer.cancel_all(CancelReason.SESSION_ENDED)
        assert not [p for p in folder.path.iterdir() if p.name.startswith(".")]
