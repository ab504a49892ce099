"""The video player feed: a recorded browser screen as what a fresh VideoDecoder needs from t.

For playback at ``t`` the feed starts at the last key chunk at or before ``t``
(the seek point the writer made: its chunk holds the config, then the key chunk)
and yields, as :class:`FeedMessage` items:

1. ``{"type": "config", "codec", "width", "height"}`` (text), stamped ``t``;
2. ``{"type": "paint_from", "timestamp": ts}`` (text), stamped ``t``: the encoder
   timestamp of the chunk showing at ``t``; the page decodes the chunks before it
   without painting them;
3. every chunk from the key chunk to ``t`` (binary, exactly as on the link), stamped ``t``;
4. every later chunk, stamped with its recorded time, and a new ``config`` whenever
   the browser reconfigured its encoder.

The same text and binary messages as the live page's video socket
(``docs/browser-share.md``), so one page module decodes both. Before the channel's
first key chunk nothing can be decoded: the feed then starts at that key chunk,
stamped with its own time. Finding the start reads only the seek point's chunk and
those up to ``t`` (at most one key interval); the catch-up is held in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from .errors import PlaybackError
from .format import RecordKind
from .player_feed import FeedMessage
from .reader import RecordingReader
from .video_format import VideoConfig, parse_video_chunk, parse_video_config

__all__ = ["VideoFeed"]

_KINDS = {RecordKind.VIDEO, RecordKind.VIDEO_CONFIG}


def _text(message: dict[str, object]) -> str:
    return json.dumps(message, separators=(",", ":"))


class VideoFeed:
    """Playback of one video channel from ``start_us``; iterate :meth:`messages`."""

    def __init__(self, reader: RecordingReader, channel: int, start_us: int = 0) -> None:
        if not reader.index.is_video(channel):
            raise PlaybackError(f"the recording has no video channel {channel}")
        self.reader = reader
        self.channel = channel
        self.start_us = max(0, start_us)
        seek = reader.index.keyframe_at_or_before(channel, self.start_us)
        self.seek_chunk = reader.index.first_keyframe(channel) if seek is None else seek
        self.config: VideoConfig | None = None
        if self.seek_chunk is not None:
            first = reader.read_chunk(self.seek_chunk)[0]
            if first.kind is not RecordKind.VIDEO_CONFIG or first.channel != channel:
                raise PlaybackError("the indexed video seek point does not start with its config")
            self.config = _config(first.payload)

    @property
    def playable(self) -> bool:
        """False if the channel has no key chunk at all: nothing can be shown."""
        return self.seek_chunk is not None

    def messages(self) -> Iterator[FeedMessage]:
        """Config, paint_from and the catch-up at ``start_us``, then the later chunks."""
        if self.seek_chunk is None:
            return
        current: VideoConfig | None = None
        catch_up: list[FeedMessage] = []
        last_timestamp: int | None = None
        caught_up = False
        for record in self.reader.records(
            from_chunk=self.seek_chunk, kinds=_KINDS, channel=self.channel
        ):
            at = max(record.at_us, self.start_us)
            if record.kind is RecordKind.VIDEO_CONFIG:
                config = _config(record.payload)
                if config != current:
                    current = config
                    message = FeedMessage(at, _text({"type": "config", **config.as_message()}))
                    if caught_up:
                        yield message
                    else:
                        catch_up.append(message)
                continue
            if not caught_up and record.at_us > self.start_us:
                yield from self._flush(catch_up, last_timestamp)
                caught_up = True
            if not caught_up:
                last_timestamp = _chunk_timestamp(record.payload)
            chunk = FeedMessage(at, record.payload)
            if caught_up:
                yield chunk
            else:
                catch_up.append(chunk)
        if not caught_up:
            yield from self._flush(catch_up, last_timestamp)

    def _flush(self, catch_up: list[FeedMessage], last: int | None) -> Iterator[FeedMessage]:
        """The held catch-up, with ``paint_from`` after its config (if t is past the key)."""
        for i, message in enumerate(catch_up):
            yield message
            if i == 0 and last is not None:
                yield FeedMessage(self.start_us, _text({"type": "paint_from", "timestamp": last}))


def _config(payload: bytes) -> VideoConfig:
    try:
        return parse_video_config(payload)
    except ValueError as exc:
        raise PlaybackError(f"a recorded video_config is malformed: {exc}") from None


def _chunk_timestamp(payload: bytes) -> int:
    try:
        return parse_video_chunk(payload).timestamp_us
    except ValueError as exc:
        raise PlaybackError(f"a recorded video chunk is malformed: {exc}") from None
