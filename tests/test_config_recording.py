"""The [recording] settings: paths under data_dir, the master key from env or file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from supportdesk.config import ConfigError, Settings, load_settings

KEY = "ab" * 32


def settings(tmp_path: Path, **environ: str) -> Settings:
    config = tmp_path / "supportdesk.toml"
    config.touch()
    return load_settings(config, {"SUPPORTDESK_DATA_DIR": str(tmp_path / "var"), **environ})


def test_paths_resolve_under_data_dir_unless_set(tmp_path: Path) -> None:
    recording = settings(tmp_path).recording
    assert recording.directory == tmp_path / "var" / "recordings"
    assert recording.master_key_file == tmp_path / "var" / "recording-master.key"
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


def test_the_session_limits_default_to_an_hour_of_full_hd_and_are_bounded(tmp_path: Path) -> None:
    from supportdesk.recording.budget import MIB
    from supportdesk.server.recordings.session_recording import recording_limits

    limits = recording_limits(settings(tmp_path).recording)
    assert limits.quota_bytes == 6144 * MIB  # > 4.8 GB, an hour of the benchmark workload
    assert (limits.rate_bytes, limits.burst_bytes) == (8 * MIB, 32 * MIB)
    quick = settings(tmp_path, SUPPORTDESK_RECORDING_MAX_MB_PER_SECOND="2.5").recording
    assert recording_limits(quick).rate_bytes == 2.5 * MIB
    with pytest.raises(ConfigError, match="max_mb_per_second"):
        settings(tmp_path, SUPPORTDESK_RECORDING_MAX_MB_PER_SECOND="1")
    with pytest.raises(ConfigError, match="session_quota_mb"):
        settings(tmp_path, SUPPORTDESK_RECORDING_SESSION_QUOTA_MB="0")
