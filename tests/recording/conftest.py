"""Fixtures for the recording tests: master keys and a recorded synthetic session."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from .session import SyntheticSession, record_session


@pytest.fixture(scope="session")
def master_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory, master_key: bytes) -> SyntheticSession:
    """A 30-second session with keyframes every 10 s, recorded once for several tests."""
    path: Path = tmp_path_factory.mktemp("recorded") / "session.sdrec"
    return record_session(path, master_key)
