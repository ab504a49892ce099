"""The session recordings: ``[recording]``, with the master key that seals them."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator

from .section import ConfigError, Section


class RecordingConfig(Section):
    # Where recordings live; by default <data_dir>/recordings.
    directory: Path = Path("var/recordings")
    # Hex-encoded 256-bit master key (64 hex digits) that wraps every recording's
    # data key; SUPPORTDESK_RECORDING_MASTER_KEY sets it. Empty: read master_key_file
    # (default <key_dir>/recording-master.key), created on first start.
    master_key: str = Field("", repr=False)
    master_key_file: Path = Path("var/recording-master.key")
    # Recordings of sessions that ended this long ago are purged (unless on hold).
    retention_days: int = Field(90, ge=1, le=36500)
    # The server's daily purge runs at this hour (UTC).
    purge_hour: int = Field(3, ge=0, le=23)
    # Limits of one session's recording, so one customer can neither fill the disk nor
    # take its bandwidth from the others. A session that reaches its quota (MiB of
    # recorded payload) ends with reason recording_limit; one that records faster than
    # max_mb_per_second (sustained, with burst_mb above it) has its link read slower.
    # An hour of the full-HD benchmark workload records 4.8 GB; a file transfer counts.
    # At least 2 MiB/s: the link's 4 MiB inbox must drain well within the link timeout,
    # or a throttled customer's heartbeats go unread and the link counts as lost.
    session_quota_mb: int = Field(6144, ge=1, le=1024 * 1024)
    max_mb_per_second: float = Field(8, ge=2, le=1024)
    burst_mb: float = Field(32, ge=1, le=4096)
    # Seek points of a browser share's recording (docs/browser-share.md, "Recording"):
    # the relay asks the browser for a key chunk once this many chunks came since the
    # last one (a seek decodes forward from it: 300 is 10 s at 30 frames/s), or this
    # many seconds after it if anything came at all.
    video_seek_chunks: int = Field(300, ge=10, le=3000)
    video_seek_seconds: float = Field(300, ge=1, le=3600)

    @field_validator("master_key")
    @classmethod
    def _hex_master_key(cls, value: str) -> str:
        if value:
            _master_key_bytes(value)
        return value

    def master_key_bytes(self, *, create: bool = False) -> bytes:
        """The 32-byte master key: from the setting, else from the key file.

        With ``create`` a missing key file is created (0600) with a fresh key, as
        the server does on first start; without, a missing file is a ConfigError.
        """
        if self.master_key:
            return _master_key_bytes(self.master_key)
        path = self.master_key_file
        if not path.exists():
            if not create:
                raise ConfigError(
                    f"recording.master_key_file: {path} does not exist "
                    "(set recording.master_key or SUPPORTDESK_RECORDING_MASTER_KEY)"
                )
            return _create_master_key_file(path)
        try:
            return _master_key_bytes(path.read_text("ascii").strip())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"recording.master_key_file: {path}: {exc}") from None


MASTER_KEY_BYTES = 32


def _master_key_bytes(text: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ValueError("must be 64 hex digits (a 256-bit key)") from None
    if len(raw) != MASTER_KEY_BYTES:
        raise ValueError("must be 64 hex digits (a 256-bit key)")
    return raw


def _create_master_key_file(path: Path) -> bytes:
    import logging
    import secrets

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = secrets.token_bytes(MASTER_KEY_BYTES)
    try:
        # Owner-only; O_EXCL so two starting nodes cannot race each other.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _master_key_bytes(path.read_text("ascii").strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(raw.hex() + "\n")
    logging.getLogger("supportdesk.recording").warning(
        "created a new recording master key in %s; back it up, recordings cannot be "
        "read without it",
        path,
    )
    return raw
