"""`supportdesk recordings` as an operator runs it: list, verify, export, hold, purge.

The recordings are synthetic sessions recorded with the real RFB engine; the
register and the audit trail are filled the way the relay fills them at a
session's end (a `recording_finished` entry carrying the final hash).
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.recordings import Recordings
from tests.recording.session import SyntheticSession, record_session
from tests.recording.video_session import VideoRecording, record_video
from tests.test_cli import run_cli

NOW = datetime.now(UTC)


@dataclass
class Desk:
    """A data folder with a migrated database, recordings and the key to read them."""

    folder: Path
    key: bytes
    sessions: dict[str, SyntheticSession | VideoRecording]

    @property
    def recordings(self) -> Path:
        return self.folder / "var" / "recordings"

    def run(self, *args: str, key: bytes | None = None) -> tuple[int, str, str]:
        used = self.key if key is None else key
        result = run_cli(
            self.folder, "recordings", *args, SUPPORTDESK_RECORDING_MASTER_KEY=used.hex()
        )
        return result.returncode, result.stdout, result.stderr

    def audit_trail(self) -> list[dict[str, object]]:
        exported = run_cli(self.folder, "audit", "export")
        return [json.loads(line) for line in exported.stdout.splitlines()]

    def record(
        self,
        number: str,
        ended_days_ago: float | None,
        *,
        audited: bool = True,
        video: str | None = None,
    ) -> None:
        """Record a session (a browser share in codec ``video``) and register it."""
        path = self.recordings / f"{number}.sdrec"
        session: SyntheticSession | VideoRecording
        if video is None:
            session = record_session(path, self.key, seconds=6, number=number)
        else:
            session = record_video(path, self.key, number, family=video, seconds=6)
        self.sessions[number] = session
        ended = None if ended_days_ago is None else NOW - timedelta(days=ended_days_ago)
        size = path.stat().st_size
        asyncio.run(self._register(number, path.name, size, session.final_hash, ended, audited))

    async def _register(
        self,
        number: str,
        file_name: str,
        size: int,
        final_hash: str,
        ended: datetime | None,
        audited: bool,
    ) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{self.folder / 'var' / 'supportdesk.db'}")
        try:
            audit = AuditLog(session_factory(engine))
            started = (ended or NOW) - timedelta(minutes=5)
            async with audit.work() as work:
                await Recordings(work.session).register(number, file_name, started)
                if ended is not None:
                    await Recordings(work.session).finish(number, final_hash, ended, size)
                    if audited:
                        await work.record(
                            AuditRecord(
                                ended,
                                "recording_finished",
                                "system:relay",
                                number,
                                {"final_hash": final_hash, "file": file_name, "size": size},
                            )
                        )
        finally:
            await engine.dispose()


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    (tmp_path / "var" / "recordings").mkdir()
    return Desk(tmp_path, secrets.token_bytes(32), {})


def chunk_offsets(desk: Desk, number: str) -> list[int]:
    from supportdesk.recording import RecordingReader

    with RecordingReader(desk.recordings / f"{number}.sdrec", desk.key) as reader:
        return [entry.offset for entry in reader.index.entries]


def events_for(desk: Desk, number: str) -> list[tuple[object, dict[str, object]]]:
    return [
        (e["event_type"], e["data"])  # type: ignore[misc]
        for e in desk.audit_trail()
        if e["subject"] == number
    ]


def test_list_shows_every_recording_with_its_state(desk: Desk) -> None:
    desk.record("BN-1001", ended_days_ago=1)
    desk.record("BN-1002", ended_days_ago=None)
    code, out, _ = desk.run("list")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()}
    assert lines["BN-1001"].endswith("finished")
    assert "KiB" in lines["BN-1001"]
    assert lines["BN-1002"].endswith("recording")


def test_an_intact_recording_verifies_against_the_audited_hash(desk: Desk) -> None:
    desk.record("BN-2001", ended_days_ago=1)
    code, out, _ = desk.run("verify", "BN-2001", "--actor", "revision-mueller")
    assert code == 0
    assert out.startswith("BN-2001: intact.")
    verified = events_for(desk, "BN-2001")[-1]
    assert verified[0] == "recording_verified"
    assert verified[1]["result"] == "intact"
    actors = [e["actor"] for e in desk.audit_trail() if e["event_type"] == "recording_verified"]
    assert actors == ["cli:revision-mueller"]


def test_a_tampered_chunk_is_named_and_fails(desk: Desk) -> None:
    desk.record("BN-3001", ended_days_ago=1)
    path = desk.recordings / "BN-3001.sdrec"
    offset = chunk_offsets(desk, "BN-3001")[2] + 80 + 10  # inside chunk 2's body
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))
    code, _, err = desk.run("verify", "BN-3001")
    assert code == 1
    assert "BN-3001: damaged. authentication tag mismatch at chunk 2" in err
    assert events_for(desk, "BN-3001")[-1][1]["first_bad_chunk"] == 2


def test_a_truncated_file_fails_even_when_cut_at_a_chunk_boundary(desk: Desk) -> None:
    desk.record("BN-4001", ended_days_ago=1)
    desk.record("BN-4002", ended_days_ago=1)
    mid_chunk = desk.recordings / "BN-4001.sdrec"
    mid_chunk.write_bytes(mid_chunk.read_bytes()[: chunk_offsets(desk, "BN-4001")[3] + 100])
    at_boundary = desk.recordings / "BN-4002.sdrec"
    at_boundary.write_bytes(at_boundary.read_bytes()[: chunk_offsets(desk, "BN-4002")[3]])

    code, _, err = desk.run("verify", "BN-4001")
    assert code == 1 and "BN-4001: damaged. truncated at chunk 3" in err
    code, _, err = desk.run("verify", "BN-4002")
    assert code == 1 and "final hash differs from the audit trail" in err


def test_a_recording_whose_server_died_verifies_as_unfinished(desk: Desk) -> None:
    desk.record("BN-4101", ended_days_ago=None)
    path = desk.recordings / "BN-4101.sdrec"
    path.write_bytes(path.read_bytes()[:-7])  # the partial last chunk a SIGKILL leaves
    code, out, _ = desk.run("verify", "BN-4101")
    assert code == 0
    assert "BN-4101: intact so far, not finished" in out


def test_the_register_and_the_audit_trail_must_agree(desk: Desk) -> None:
    desk.record("BN-5001", ended_days_ago=1)
    desk.record("BN-5002", ended_days_ago=1, audited=False)
    import sqlite3

    database = sqlite3.connect(desk.folder / "var" / "supportdesk.db")
    with database:
        database.execute(
            "UPDATE recordings SET final_hash = ? WHERE consultation_number = 'BN-5001'",
            ("00" * 32,),
        )
    database.close()
    code, _, err = desk.run("verify", "--all")
    assert code == 1
    assert "BN-5001: the register's final hash differs from the audit trail" in err
    assert "BN-5002: no final hash in the audit trail" in err


def test_a_wrong_master_key_and_an_unknown_number_have_their_own_exit_codes(
    desk: Desk,
) -> None:
    desk.record("BN-6001", ended_days_ago=1)
    code, _, err = desk.run("verify", "BN-6001", key=secrets.token_bytes(32))
    assert code == 3 and "BN-6001: wrong master key" in err
    code, _, err = desk.run("export", "BN-6001", "--mp4", "out.mp4", key=secrets.token_bytes(32))
    assert code == 3 and "WrongMasterKey" in err
    code, _, err = desk.run("verify", "BN-0000")
    assert code == 2 and "no recording for consultation number BN-0000" in err
    bad = run_cli(desk.folder, "recordings", "list", SUPPORTDESK_RECORDING_MASTER_KEY="abc")
    assert bad.returncode == 2 and "recording.master_key" in bad.stderr
    assert "abc" not in bad.stderr  # a secret is never echoed


def test_export_renders_the_session_to_h264_with_a_progress_bar(desk: Desk) -> None:
    desk.record("BN-7001", ended_days_ago=1)
    code, out, err = desk.run("export", "BN-7001", "--mp4", "session.mp4", "--channel", "1")
    assert code == 0, err
    assert "100%" in err and "[" + "#" * 30 + "]" in err
    assert "-> session.mp4" in out
    with av.open(str(desk.folder / "session.mp4")) as video:
        stream = video.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (160, 96)
        assert sum(1 for _ in video.decode(stream)) >= 25  # 6 s at 5 fps
    exported = events_for(desk, "BN-7001")[-1]
    assert exported == (
        "recording_exported",
        {"channel": 1, "file": "session.mp4", "frames": 30, "method": "rendered"},
    )


def test_a_browser_share_verifies_and_exports_as_remuxed_h264(desk: Desk) -> None:
    desk.record("BN-7101", ended_days_ago=1, video="h264")
    desk.record("BN-7102", ended_days_ago=1, video="h264")
    desk.record("BN-7103", ended_days_ago=1, video="vp8")
    code, out, _ = desk.run("verify", "BN-7101")
    assert code == 0 and out.startswith("BN-7101: intact.")
    video = desk.sessions["BN-7101"]
    assert isinstance(video, VideoRecording)

    code, out, err = desk.run("export", "BN-7101", "--mp4", "share.mp4")
    assert code == 0, err
    assert "100%" in err
    assert f"60 frames, 320x192, 6.0 s ({video.codec} remuxed, not re-encoded)" in out
    with av.open(str(desk.folder / "share.mp4")) as mp4:
        stream = mp4.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.extradata[0] == 1
        keys = [p.is_keyframe for p in mp4.demux(stream) if p.size]
    assert keys == [c.key for c in video.chunks]  # one sample per recorded chunk
    assert events_for(desk, "BN-7101")[-1] == (
        "recording_exported",
        {"channel": 1, "file": "share.mp4", "frames": 60, "method": "remuxed"},
    )
    code, out, err = desk.run("export", "BN-7103", "--mp4", "vp8.mp4")
    assert code == 0 and "(vp8 re-encoded to H.264: MP4 cannot hold it)" in out, err

    # A changed video chunk: verify names it, export refuses to write what it cannot trust.
    offsets = chunk_offsets(desk, "BN-7102")
    path = desk.recordings / "BN-7102.sdrec"
    data = bytearray(path.read_bytes())
    data[offsets[4] + 80 + 40] ^= 0x08  # inside chunk 4's body: video chunks
    path.write_bytes(bytes(data))
    code, _, err = desk.run("verify", "BN-7102")
    assert code == 1 and "BN-7102: damaged. authentication tag mismatch at chunk 4" in err
    code, _, err = desk.run("export", "BN-7102", "--mp4", "broken.mp4")
    assert code != 0 and "chunk 4" in err


def test_purge_destroys_expired_recordings_and_a_legal_hold_keeps_one(desk: Desk) -> None:
    desk.record("BN-8001", ended_days_ago=91)  # expired
    desk.record("BN-8002", ended_days_ago=200)  # expired, but on hold
    desk.record("BN-8003", ended_days_ago=30)  # within the 90 days
    desk.record("BN-8004", ended_days_ago=None)  # still live
    code, out, _ = desk.run("hold", "BN-8002", "--on")
    assert code == 0 and "legal hold on" in out

    code, out, _ = desk.run("purge")
    assert code == 0
    assert "BN-8001: purged" in out
    assert "BN-8002: kept (legal hold)" in out
    assert "BN-8003: kept (within retention period)" in out
    assert "BN-8004: kept (session not ended)" in out
    assert "1 purged, 3 kept, 0 failed (retention 90 days)" in out
    assert not (desk.recordings / "BN-8001.sdrec").exists()
    assert (desk.recordings / "BN-8002.sdrec").exists()

    _, listed, _ = desk.run("list")
    assert any(
        line.startswith("BN-8001") and line.endswith("purged") for line in listed.split("\n")
    )
    assert "hold" in next(line for line in listed.splitlines() if line.startswith("BN-8002"))
    purged = events_for(desk, "BN-8001")[-1]
    assert purged[0] == "recording_purged" and purged[1]["retention_days"] == 90
    assert events_for(desk, "BN-8002")[-1] == ("recording_hold", {"hold": True})

    code, out, _ = desk.run("verify", "BN-8001")
    assert code == 0 and "purged" in out
    code, _, err = desk.run("export", "BN-8001", "--mp4", "x.mp4")
    assert code == 1 and "was purged" in err

    assert desk.run("hold", "BN-8002", "--off")[0] == 0
    code, out, _ = desk.run("purge")
    assert "BN-8002: purged" in out and "BN-8001" not in out
    code, _, err = desk.run("hold", "BN-0404", "--on")
    assert code == 2 and "BN-0404" in err
