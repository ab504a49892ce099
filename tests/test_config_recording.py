"""The [recording] settings: recordings under data_dir, the master key from env or from a
file in key_dir, apart from the data."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.secret_keys import load_or_create_secret

KEY = "ab" * 32


def settings(tmp_path: Path, **environ: str) -> Settings:
    config = tmp_path / "supportdesk.toml"
    config.touch()
    return load_settings(config, {"SUPPORTDESK_DATA_DIR": str(tmp_path / "var"), **environ})


def test_paths_resolve_under_data_dir_and_keys_apart_unless_set(tmp_path: Path) -> None:
    """The key once lay in data_dir beside the recordings and the database: a copy of
    the data carried the key that opens it."""
    loaded = settings(tmp_path)
    recording = loaded.recording
    assert recording.directory == tmp_path / "var" / "recordings"
    assert loaded.key_dir == tmp_path / "keys"
    assert recording.master_key_file == tmp_path / "keys" / "recording-master.key"
    assert loaded.security.secret_key_file == tmp_path / "keys" / "secret.key"
    for key_file in (recording.master_key_file, loaded.security.secret_key_file):
        assert not key_file.is_relative_to(loaded.data_dir)
    elsewhere = settings(tmp_path, SUPPORTDESK_KEY_DIR="/run/secrets/desk")
    assert elsewhere.recording.master_key_file == Path("/run/secrets/desk/recording-master.key")
    assert (recording.retention_days, recording.purge_hour) == (90, 3)
    moved = settings(tmp_path, SUPPORTDESK_RECORDING_DIRECTORY="/srv/recordings").recording
    assert moved.directory == Path("/srv/recordings")


def test_the_environment_key_wins_and_is_checked_without_being_echoed(tmp_path: Path) -> None:
    recording = settings(tmp_path, SUPPORTDESK_RECORDING_MASTER_KEY=KEY).recording
    assert recording.master_key_bytes() == bytes.fromhex(KEY)
    assert KEY not in repr(recording)
    with pytest.raises(ConfigError, match=r"recording\.master_key: must be 64 hex") as caught:
        settings(tmp_path, SUPPORTDESK_RECORDING_MASTER_KEY=KEY[:-2] + "zz")
    assert KEY[:20] not in str(caught.value)


def test_a_missing_key_file_is_created_only_when_asked(tmp_path: Path) -> None:
    recording = settings(tmp_path).recording
    with pytest.raises(ConfigError, match=r"recording\.master_key_file: .* does not exist"):
        recording.master_key_bytes()
    created = recording.master_key_bytes(create=True)
    assert len(created) == 32
    assert stat.S_IMODE(os.stat(recording.master_key_file).st_mode) == 0o600
    assert recording.master_key_bytes() == created  # read back, not made again


def test_a_damaged_key_file_names_the_setting(tmp_path: Path) -> None:
    recording = settings(tmp_path).recording
    recording.master_key_file.parent.mkdir(parents=True)
    recording.master_key_file.write_text("not a key\n")
    with pytest.raises(ConfigError, match=r"recording\.master_key_file: .*64 hex digits"):
        recording.master_key_bytes()


def test_an_older_install_keeps_its_keys_in_data_dir_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Recordings made before key_dir stay readable: the key found at the old default
    place is used (never a new one made beside it), and the operator is told to move it."""
    old = tmp_path / "var" / "recording-master.key"
    old.parent.mkdir(parents=True)
    old.write_text(KEY + "\n")
    (tmp_path / "var" / "secret.key").write_text("cd" * 32 + "\n")
    with caplog.at_level("WARNING", logger="supportdesk.keys"):
        loaded = settings(tmp_path)
    assert loaded.recording.master_key_file == old
    assert loaded.recording.master_key_bytes(create=True) == bytes.fromhex(KEY)
    assert loaded.security.secret_key_file == tmp_path / "var" / "secret.key"
    assert load_or_create_secret(loaded) == bytes.fromhex("cd" * 32)  # pseudonyms still match
    assert not (tmp_path / "keys").exists()
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert f"move it to {tmp_path / 'keys' / 'recording-master.key'}" in warned
    assert "secret.key" in warned
    # Once moved, the new place is used and nothing is said.
    (tmp_path / "keys").mkdir()
    old.rename(tmp_path / "keys" / "recording-master.key")
    caplog.clear()
    with caplog.at_level("WARNING", logger="supportdesk.keys"):
        moved = settings(tmp_path)
    assert moved.recording.master_key_bytes() == bytes.fromhex(KEY)
    assert "recording-master.key" not in " ".join(r.getMessage() for r in caplog.records)


def test_the_session_limits_default_to_an_hour_of_full_hd_and_are_bounded(tmp_path: Path) -> None:
    from supportdesk.recording.budget import MIB
    from supportdesk.server.recordings.place import recording_limits

    limits = recording_limits(settings(tmp_path).recording)
    assert limits.quota_bytes == 6144 * MIB  # > 4.8 GB, an hour of the benchmark workload
    assert (limits.rate_bytes, limits.burst_bytes) == (8 * MIB, 32 * MIB)
    quick = settings(tmp_path, SUPPORTDESK_RECORDING_MAX_MB_PER_SECOND="2.5").recording
    assert recording_limits(quick).rate_bytes == 2.5 * MIB
    with pytest.raises(ConfigError, match="max_mb_per_second"):
        settings(tmp_path, SUPPORTDESK_RECORDING_MAX_MB_PER_SECOND="1")
    with pytest.raises(ConfigError, match="session_quota_mb"):
        settings(tmp_path, SUPPORTDESK_RECORDING_SESSION_QUOTA_MB="0")
