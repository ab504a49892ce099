"""Export of a recording in several segments as one MP4, gaps marked.

One segment is exported as before (:func:`~.export.export_mp4`). For several, the
segments follow each other on the whole recording's timeline
(:class:`~.segmented.SegmentedRecording`): an RFB screen is rendered segment by
segment (each segment's channel is a stream of its own, with its own handshake:
a fresh decoder each), and every frame time inside a gap shows a flat grey
picture, so the gap is visible in the video; a browser's video is decoded and
re-encoded to H.264 (two segments are two encoder sessions, which one remuxed
track cannot hold), its timestamps placed on the whole timeline, the gap holding
the last picture. ``ExportResult.gaps`` lists the gaps (µs from the start).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

from .errors import PlaybackError
from .export import ExportResult, Progress, even, export_mp4
from .format import RFB_KINDS, RecordKind
from .rfb_decoder import ClientStreamTracker, ServerStreamDecoder
from .segmented import SegmentedRecording
from .video_export import MICROSECONDS, _Chunk, _chunks, _Reencoder

__all__ = ["GAP_GREY", "export_segments"]

GAP_GREY = 64
"""The value of every pixel of a frame inside a gap."""


def export_segments(
    recording: SegmentedRecording,
    channel: int,
    out_path: str | os.PathLike[str],
    *,
    fps: int = 5,
    progress: Progress | None = None,
    crf: int = 23,
) -> ExportResult:
    """Write ``channel`` of every segment, in order, as one MP4 (see the module docstring)."""
    video = recording.is_video(channel)
    if len(recording.readers) == 1:
        return export_mp4(recording.readers[0], channel, out_path, fps=fps, progress=progress,
                          crf=crf)  # fmt: skip
    if video:
        result = _export_video(recording, channel, Path(out_path), progress)
    else:
        result = _render(recording, channel, Path(out_path), fps, progress, crf)
    return dataclasses.replace(result, gaps=tuple(recording.gaps))


def _render(
    recording: SegmentedRecording,
    channel: int,
    target: Path,
    fps: int,
    progress: Progress | None,
    crf: int,
) -> ExportResult:
    if not 1 <= fps <= 60:
        raise ValueError("fps must be between 1 and 60")
    parts = [
        (reader, span, recording.channel_in(i, channel, False))
        for i, (reader, span) in enumerate(zip(recording.readers, recording.spans, strict=True))
    ]
    if all(c is None for _, _, c in parts):
        raise PlaybackError(f"the recording has no RFB channel {channel}")
    end = recording.duration_us
    step = 1_000_000 / fps
    frames = 0
    size: tuple[int, int] | None = None
    picture: np.ndarray | None = None

    with av.open(str(target), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast"}

        def emit_until(at_us: float) -> None:
            nonlocal frames
            while size is not None and picture is not None and frames * step < min(at_us, end + 1):
                frame = av.VideoFrame.from_ndarray(_fit(picture, size), format="rgb24")
                frame.pts = frames
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    container.mux(packet)
                frames += 1
                if progress is not None:
                    progress(min(int(frames * step), end), end)

        for reader, span, chosen in parts:
            if picture is not None:  # the gap before this segment: grey
                picture = np.full_like(picture, GAP_GREY)
                emit_until(span.offset_us)
            if chosen is None:
                continue
            decoder, client = ServerStreamDecoder(), ClientStreamTracker()
            first_chunk = reader.index.channel_starts[chosen]
            for record in reader.records(from_chunk=first_chunk, kinds=RFB_KINDS, channel=chosen):
                emit_until(record.at_us + span.offset_us)
                if record.kind is RecordKind.RFB_CLIENT_TO_SERVER:
                    client.follow(record.payload, decoder)
                    continue
                decoder.feed(record.payload)
                if size is None and decoder.server_init is not None:
                    size = (even(decoder.width), even(decoder.height))
                    stream.width, stream.height = size
                if decoder.framebuffer is not None:
                    picture = decoder.framebuffer
            emit_until(span.end_us + 1)
        if frames == 0 or size is None:
            raise PlaybackError("nothing to export: no picture in the recording")
        for packet in stream.encode():
            container.mux(packet)
    return ExportResult(target, frames, size[0], size[1], end)


def _export_video(
    recording: SegmentedRecording, channel: int, target: Path, progress: Progress | None
) -> ExportResult:
    chunks = list(_all_video_chunks(recording, channel))
    if not chunks:
        raise PlaybackError(f"the recording has no decodable video on channel {channel}")
    first = chunks[0].config
    total = max(1, recording.duration_us)
    with av.open(str(target), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264")
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = first.width, first.height
        stream.time_base = MICROSECONDS
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = MICROSECONDS
        stream.options = {"crf": "20", "preset": "veryfast", "bf": "0"}
        reencoder = _Reencoder(stream, container)
        for chunk, after in zip(chunks, [*chunks[1:], None], strict=True):
            duration = (after.pts - chunk.pts) if after is not None else 33_333
            reencoder.feed(chunk, duration)
            if progress is not None:
                progress(min(chunk.at_us, total), total)
        reencoder.finish()
    last = chunks[-1].pts + 33_333
    return ExportResult(
        target, len(chunks), first.width, first.height, last, "re-encoded", first.codec
    )


def _all_video_chunks(recording: SegmentedRecording, channel: int) -> Iterator[_Chunk]:
    """Every segment's decodable chunks, pts and times on the whole timeline (µs)."""
    origin: int | None = None
    last_pts = -1
    for i, (reader, span) in enumerate(zip(recording.readers, recording.spans, strict=True)):
        chosen = recording.channel_in(i, channel, True)
        if chosen is None:
            continue
        first_chunk = reader.index.first_keyframe(chosen)
        if first_chunk is None:
            continue
        shift: int | None = None
        for chunk in _chunks(reader, chosen, first_chunk):
            at = chunk.at_us + span.offset_us
            if origin is None:
                origin = at
            if shift is None:  # this segment's first chunk: where it lies on the timeline
                shift = max(at - origin, last_pts + 1) - chunk.pts
            chunk.at_us, chunk.pts = at, chunk.pts + shift
            last_pts = chunk.pts
            yield chunk


def _fit(framebuffer: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if framebuffer.shape[:2] == (height, width):
        return framebuffer
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    h = min(height, framebuffer.shape[0])
    w = min(width, framebuffer.shape[1])
    canvas[:h, :w] = framebuffer[:h, :w]
    return canvas
