"""The life of one transfer: the transition table is the only way, and the docs show it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from supportdesk.transfer.lifecycle import (
    TERMINAL_STATES,
    TRANSITIONS,
    IllegalTransition,
    Step,
    TransferLifecycle,
    TransferState,
    state_diagram,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "file-transfer.md"


@pytest.mark.parametrize("state", list(TransferState))
@pytest.mark.parametrize("step", list(Step))
def test_transition_table_is_the_only_way(state: TransferState, step: Step) -> None:
    lifecycle = TransferLifecycle()
    lifecycle.state = state
    target = TRANSITIONS.get((state, step))
    if target is None:
        with pytest.raises(IllegalTransition):
            lifecycle.apply(step)
        assert lifecycle.state is state
    else:
        assert lifecycle.apply(step) is target


def test_terminal_states_have_no_way_out() -> None:
    assert not [key for key in TRANSITIONS if key[0] in TERMINAL_STATES]


def test_every_state_is_reachable() -> None:
    reached = {TransferState.OFFERED}
    reached |= set(TRANSITIONS.values())
    assert reached == set(TransferState)


def test_docs_show_the_diagram_of_the_table() -> None:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```mermaid\n(.*?)\n```", text, re.S)
    assert state_diagram() in blocks
