"""The player feed: a recorded channel as the RFB byte stream a fresh viewer can render from t.

For playback at time ``t`` the feed yields, in order: the handshake (RFB 3.8,
security None, ServerInit with the recorded desktop name and the keyframe's size
and pixel format), the last keyframe at or before ``t``, every update between the
keyframe and ``t`` (all three stamped ``t``: send them at once), then each later
update stamped with its recorded time. Only FramebufferUpdate (and colour-map)
messages are passed on: fences, clipboard and bell belong to the live session, not
to an auditor's browser.

Finding the start costs index lookups and reading O(1) chunks: the channel's first
chunk (the recorded handshake), the keyframe's chunk and the chunks up to ``t``
(at most one keyframe interval). Every chunk read is authenticated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from supportdesk.link.keyframe import KeyframeInvalid, parse_keyframe
from supportdesk.rfb.handshake import (
    SERVER_VERSION,
    encode_security_result,
    encode_security_types,
    encode_server_init,
)
from supportdesk.rfb.pixel_format import PixelFormat

from .errors import PlaybackError, RecordingInvalid
from .format import RFB_KINDS, Record, RecordKind
from .reader import RecordingReader
from .rfb_decoder import (
    ClientStreamTracker,
    ServerInit,
    ServerMessageKind,
    ServerStreamDecoder,
)

__all__ = ["FeedMessage", "PlayerFeed"]

_PASSED_ON = {ServerMessageKind.FRAMEBUFFER_UPDATE, ServerMessageKind.COLOUR_MAP}


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """What to send to the viewer when playback reaches ``at_us`` (µs since the start).

    Bytes go as a binary message; a string (the video feed's JSON) as a text message.
    """

    at_us: int
    data: bytes | str


class PlayerFeed:
    """Playback of one RFB channel from ``start_us``; iterate :meth:`messages`."""

    def __init__(self, reader: RecordingReader, channel: int, start_us: int = 0) -> None:
        start = reader.index.channel_starts.get(channel)
        if start is None:
            raise PlaybackError(f"the recording has no RFB channel {channel}")
        self.reader = reader
        self.channel = channel
        self.start_us = max(0, start_us)
        self._channel_start = start
        self.recorded_init = self._recorded_server_init()
        self._keyframe_chunk = reader.index.keyframe_at_or_before(channel, self.start_us)
        if self._keyframe_chunk is not None and self._keyframe_chunk < start:
            self._keyframe_chunk = None
        self.keyframe_at_us: int | None = None
        self.server_init = self.recorded_init
        if self._keyframe_chunk is not None:
            first = reader.read_chunk(self._keyframe_chunk)[0]
            if first.kind is not RecordKind.KEYFRAME or first.channel != channel:
                raise PlaybackError("the indexed keyframe chunk does not start with a keyframe")
            try:
                self._keyframe = parse_keyframe(first.payload)
            except KeyframeInvalid as exc:
                raise RecordingInvalid(f"keyframe chunk {self._keyframe_chunk}: {exc}") from None
            self.keyframe_at_us = first.at_us
            self.server_init = ServerInit(
                self._keyframe.width,
                self._keyframe.height,
                self._keyframe.pixel_format,
                self.recorded_init.name,
            )

    @property
    def pixel_format(self) -> PixelFormat:
        """The pixel format of the updates sent; the playing viewer must ask for the same."""
        return self.server_init.pixel_format

    def handshake(self) -> bytes:
        """Server side of an RFB 3.8 handshake with security None, then ServerInit."""
        init = self.server_init
        return (
            SERVER_VERSION.value
            + encode_security_types()
            + encode_security_result(True)
            + encode_server_init(init.width, init.height, init.pixel_format, init.name)
        )

    def messages(self) -> Iterator[FeedMessage]:
        """Handshake, the picture at ``start_us``, then the updates that follow, in time order."""
        yield FeedMessage(self.start_us, self.handshake())
        if self._keyframe_chunk is not None:
            yield FeedMessage(self.start_us, self._keyframe.update)
            decoder = ServerStreamDecoder(decode_pixels=False, server_init=self.server_init)
            decoder.force_zlib_reset()
            first = self._keyframe_chunk  # its keyframe record is not an RFB record
        else:
            decoder = ServerStreamDecoder(decode_pixels=False)
            first = self._channel_start
        client = ClientStreamTracker() if self._keyframe_chunk is None else None
        catch_up = bytearray()
        for record in self._channel_records(first):
            if record.kind is RecordKind.RFB_CLIENT_TO_SERVER:
                if client is not None:
                    client.follow(record.payload, decoder)
                continue
            data = b"".join(m.raw for m in decoder.feed(record.payload) if m.kind in _PASSED_ON)
            if not data:
                continue
            if record.at_us <= self.start_us:
                catch_up += data
            else:
                if catch_up:
                    yield FeedMessage(self.start_us, bytes(catch_up))
                    catch_up.clear()
                yield FeedMessage(record.at_us, data)
        if catch_up:
            yield FeedMessage(self.start_us, bytes(catch_up))

    def _channel_records(self, first_chunk: int) -> Iterator[Record]:
        for record in self.reader.records(from_chunk=first_chunk, kinds=RFB_KINDS):
            if record.channel == self.channel:
                yield record

    def _recorded_server_init(self) -> ServerInit:
        """The recorded ServerInit, with the pixel format the viewer then asked for."""
        decoder = ServerStreamDecoder(decode_pixels=False)
        client = ClientStreamTracker()
        for record in self._channel_records(self._channel_start):
            if record.kind is RecordKind.RFB_CLIENT_TO_SERVER:
                client.follow(record.payload, decoder)
                continue
            for server_message in decoder.feed(record.payload):
                if server_message.kind is ServerMessageKind.FRAMEBUFFER_UPDATE:
                    break
            else:
                continue
            break
        init = decoder.server_init
        if init is None or decoder.pixel_format is None:
            raise PlaybackError(f"channel {self.channel} ends before its RFB handshake")
        return ServerInit(init.width, init.height, decoder.pixel_format, init.name)
