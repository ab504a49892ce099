"""Session recordings: an encrypted, hash-chained, seekable tee of every live session.

Write with :class:`RecordingWriter` (or :class:`SessionRecorder` from the relay),
read with :class:`RecordingReader`, check with :func:`verify`, play a channel from
any time with :class:`PlayerFeed`, render it with :func:`export_mp4`, and purge by
:func:`retention.decide` + :func:`retention.purge`. The file format is described
in ``docs/recording-format.md``.
"""

from supportdesk.link.keyframe import Keyframe, encode_keyframe, parse_keyframe

from .erasure import destroy
from .errors import (
    ChunkInvalid,
    PlaybackError,
    RecordingDestroyed,
    RecordingError,
    RecordingInvalid,
    RecordingUnavailable,
    WrongMasterKey,
)
from .format import Record, RecordKind
from .player_feed import FeedMessage, PlayerFeed
from .reader import Problem, RecordingReader, VerificationReport, verify
from .session_tee import SessionRecorder
from .writer import RecordingWriter

__all__ = [
    "ChunkInvalid",
    "FeedMessage",
    "Keyframe",
    "PlaybackError",
    "PlayerFeed",
    "Problem",
    "Record",
    "RecordKind",
    "RecordingDestroyed",
    "RecordingError",
    "RecordingInvalid",
    "RecordingReader",
    "RecordingUnavailable",
    "RecordingWriter",
    "SessionRecorder",
    "VerificationReport",
    "WrongMasterKey",
    "destroy",
    "encode_keyframe",
    "parse_keyframe",
    "verify",
]
