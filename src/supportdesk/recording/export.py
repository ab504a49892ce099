"""Export: render one recorded RFB channel to an H.264 MP4 video with PyAV.

A video channel (a browser's screen) is not rendered but remuxed: see
:mod:`.video_export`, to which :func:`export_mp4` hands it.

The channel's server-to-client stream is decoded from its start into a
framebuffer (:mod:`.rfb_decoder`, following the viewer's SetPixelFormat in the
client-to-server stream); at every frame time (``fps`` a second) the current
picture is encoded. The video has the size of the first ServerInit, rounded up to
even numbers as 4:2:0 H.264 needs; a later resize is cropped or padded into it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .errors import PlaybackError
from .format import RFB_KINDS, RecordKind
from .reader import RecordingReader
from .rfb_decoder import ClientStreamTracker, Frame, ServerStreamDecoder
from .video_export import export_video_mp4

__all__ = ["ExportResult", "Progress", "export_mp4"]

Progress = Callable[[int, int], None]
"""Called as ``progress(done_us, total_us)`` while frames are encoded."""


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    frames: int
    width: int
    height: int
    duration_us: int
    method: str = "rendered"
    """``rendered`` (RFB), ``remuxed`` (recorded video, not re-encoded) or ``re-encoded``."""
    source_codec: str = ""
    """For recorded video: the browser's WebCodecs codec string."""
    gaps: tuple[tuple[int, int], ...] = ()
    """(from, to) µs where nothing was recorded between two segments (a node's death)."""


def export_mp4(
    reader: RecordingReader,
    channel: int,
    out_path: str | os.PathLike[str],
    *,
    fps: int = 5,
    start_us: int = 0,
    end_us: int | None = None,
    progress: Progress | None = None,
    crf: int = 23,
) -> ExportResult:
    """Write ``channel`` from ``start_us`` to ``end_us`` (default: the end) as MP4.

    A video channel is exported whole (``fps``, ``start_us``, ``end_us`` and ``crf``
    do not apply): remuxed, or re-encoded where MP4 cannot hold the recorded codec.
    """
    if reader.index.is_video(channel):
        video = export_video_mp4(reader, channel, out_path, progress=progress)
        method = "re-encoded" if video.reencoded else "remuxed"
        return ExportResult(
            video.path,
            video.frames,
            video.width,
            video.height,
            video.duration_us,
            method,
            video.codec,
        )
    if not 1 <= fps <= 60:
        raise ValueError("fps must be between 1 and 60")
    first_chunk = reader.index.channel_starts.get(channel)
    if first_chunk is None:
        raise PlaybackError(f"the recording has no RFB channel {channel}")
    end = reader.duration_us if end_us is None else min(end_us, reader.duration_us)
    step = 1_000_000 / fps
    decoder = ServerStreamDecoder()
    client = ClientStreamTracker()
    target = Path(out_path)
    frames = 0
    next_at = float(start_us)
    size: tuple[int, int] | None = None

    with av.open(str(target), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}

        def emit_until(at_us: float) -> None:
            """Encode the current picture at every frame time before ``at_us``."""
            nonlocal next_at, frames
            if size is None or decoder.framebuffer is None:
                return
            while next_at < at_us and next_at <= end:
                canvas = _fit(decoder.framebuffer, size)
                frame = av.VideoFrame.from_ndarray(canvas, format="rgb24")
                frame.pts = frames
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    container.mux(packet)
                frames += 1
                next_at = start_us + frames * step
                if progress is not None:
                    progress(min(int(next_at), end) - start_us, end - start_us)

        for record in reader.records(from_chunk=first_chunk, kinds=RFB_KINDS, channel=channel):
            if record.at_us > end:
                break
            emit_until(record.at_us)
            if record.kind is RecordKind.RFB_CLIENT_TO_SERVER:
                client.follow(record.payload, decoder)
                continue
            decoder.feed(record.payload)
            if size is None and decoder.server_init is not None:
                size = (even(decoder.width), even(decoder.height))
                stream.width, stream.height = size
        emit_until(end + 1)
        if frames == 0:
            raise PlaybackError("nothing to export: no picture in the requested range")
        for packet in stream.encode():
            container.mux(packet)
    assert size is not None
    return ExportResult(target, frames, size[0], size[1], end - start_us)


def even(n: int) -> int:
    """``n`` rounded up to even: H.264 wants even sides."""
    return n + (n & 1)


def _fit(framebuffer: Frame, size: tuple[int, int]) -> Frame:
    width, height = size
    if framebuffer.shape[:2] == (height, width):
        return framebuffer
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    h = min(height, framebuffer.shape[0])
    w = min(width, framebuffer.shape[1])
    canvas[:h, :w] = framebuffer[:h, :w]
    return canvas
