"""Nothing hangs for ever: a stalled transfer and an unanswered offer are cancelled."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from supportdesk.transfer.endpoint import Side, TransferLimits
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import CancelReason
from supportdesk.transfer.receiver import DownloadFolder
from tests.transfer.link_pair import LinkPair, MemorySource

LIMITS = TransferLimits(window=2, chunk_size=1000, stall_seconds=60, answer_seconds=300)
DATA = bytes(range(256)) * 40  # ten chunks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def offered(pair: LinkPair) -> str:
    messages = pair.agent.offer(
        "Anleitung.pdf", len(DATA), hashlib.sha256(DATA).hexdigest(), MemorySource(DATA)
    )
    pair.deliver(Side.AGENT, messages)
    return messages[0].id


def test_an_unanswered_offer_is_cancelled_after_the_answer_time() -> None:
    clock = Clock()
    pair = LinkPair.make(LIMITS, clock)
    transfer_id = offered(pair)
    clock.now += 299
    assert pair.agent.expire() == [] and pair.customer.expire() == []
    clock.now += 1
    (cancel,) = pair.customer.expire()  # the customer never answered "Datei annehmen?"
    assert cancel.to_json() == {"type": "file_cancel", "id": transfer_id, "reason": "timeout"}
    pair.deliver(Side.CUSTOMER, [cancel])
    assert not pair.agent.transfers and not pair.customer.transfers
    (stopped,) = [e for e in pair.agent.events() if e.state is TransferState.CANCELLED]
    assert stopped.outcome == CancelReason.TIMEOUT.value


def test_a_transfer_that_stops_moving_is_cancelled_and_its_part_file_removed(
    tmp_path: Path,
) -> None:
    clock = Clock()
    pair = LinkPair.make(LIMITS, clock)
    transfer_id = offered(pair)
    pair.customer.events()
    folder = DownloadFolder(tmp_path)
    # The customer accepts; the first chunks arrive, then the agent's side goes quiet
    # (its answers are lost): the customer's side waits for chunks that never come.
    accept = pair.customer.accept(transfer_id, folder.open_part("Anleitung.pdf"))
    for chunk in pair.agent.receive(accept[0].to_json())[:1]:
        pair.customer.receive(chunk.to_json())
    clock.now += 59
    assert pair.customer.expire() == []
    clock.now += 1
    (cancel,) = pair.customer.expire()
    assert cancel.to_json()["reason"] == "timeout"
    assert list(tmp_path.iterdir()) == []  # the part file is gone
    assert not pair.customer.transfers


def test_a_slow_but_steady_transfer_never_expires(tmp_path: Path) -> None:
    clock = Clock()
    pair = LinkPair.make(LIMITS, clock)
    transfer_id = offered(pair)
    pair.customer.events()
    clock.now += 200  # the customer took a while to decide
    accept = pair.customer.accept(transfer_id, DownloadFolder(tmp_path).open_part("Anleitung.pdf"))
    # The link carries one message every 15 s, so with two chunks in flight each side
    # hears from the other every 45 s: slow, but under the 60 s stall limit.
    queue = [(Side.CUSTOMER, m) for m in accept]
    while queue:
        clock.now += 15
        assert pair.agent.expire() == [] and pair.customer.expire() == []
        sender, message = queue.pop(0)
        receiver = pair.customer if sender is Side.AGENT else pair.agent
        other = Side.CUSTOMER if sender is Side.AGENT else Side.AGENT
        queue += [(other, m) for m in receiver.receive(message.to_json())]
        queue += [(Side.AGENT, m) for m in pair.agent.pump()]
    assert (tmp_path / "Anleitung.pdf").read_bytes() == DATA
    assert not pair.agent.transfers and not pair.customer.transfers


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        TransferLimits(stall_seconds=0)
