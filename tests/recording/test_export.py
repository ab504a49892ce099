"""Export to MP4: a playable H.264 video of the channel, with progress reports."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from supportdesk.recording import PlaybackError, RecordingReader
from supportdesk.recording.export import export_mp4
from tests.rfb.viewer import psnr

from .session import CHANNEL, SyntheticSession


def test_export_writes_a_playable_mp4(
    recorded: SyntheticSession, master_key: bytes, tmp_path: Path
) -> None:
    out = tmp_path / "session.mp4"
    progress: list[tuple[int, int]] = []
    with RecordingReader(recorded.path, master_key) as reader:
        result = export_mp4(
            reader, CHANNEL, out, fps=5, progress=lambda d, t: progress.append((d, t))
        )
        duration = reader.duration_us
    assert result.frames == pytest.approx(duration / 1e6 * 5, abs=2)
    assert (result.width, result.height) == (recorded.width, recorded.height)
    assert progress[-1][0] == progress[-1][1] == duration
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(frames) == result.frames
    # Frame k shows the picture at k/5 s (H.264 is lossy: compare by PSNR).
    for k in (1, 50, 51, len(frames) - 1):
        expected = recorded.frame_at(k * 200_000)
        steps = (-1, 1) if k < len(frames) - 1 else (-1,)
        neighbours = [recorded.frame_at((k + d) * 200_000) for d in steps]
        score = psnr(frames[k], expected)
        assert score > 25, f"frame {k}: {score:.1f} dB"
        assert all(score > psnr(frames[k], other) for other in neighbours), f"frame {k}"
    assert not np.array_equal(frames[10], frames[100])


def test_export_of_a_range_and_a_missing_channel(
    recorded: SyntheticSession, master_key: bytes, tmp_path: Path
) -> None:
    with RecordingReader(recorded.path, master_key) as reader:
        result = export_mp4(
            reader, CHANNEL, tmp_path / "part.mp4", fps=10, start_us=12_000_000, end_us=14_000_000
        )
        assert result.frames == 21
        with pytest.raises(PlaybackError):
            export_mp4(reader, 9, tmp_path / "none.mp4")
