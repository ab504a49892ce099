"""The exceptions of the recording package: what went wrong, and whose fault it is.

``RecordingUnavailable`` is the writer's one failure (the disk, not the data): the
relay pauses the session on it and resumes after :meth:`RecordingWriter.probe`
succeeds. Everything a reader finds wrong with a file derives from
``RecordingInvalid``; key problems are told apart from damage so an operator knows
whether to look for another master key or for a tampered file.
"""

from __future__ import annotations

__all__ = [
    "ChunkInvalid",
    "PlaybackError",
    "RecordingDestroyed",
    "RecordingError",
    "RecordingInvalid",
    "RecordingUnavailable",
    "WrongMasterKey",
]


class RecordingError(Exception):
    """Base of every error raised by :mod:`supportdesk.recording`."""


class RecordingUnavailable(RecordingError):
    """The recording cannot be written (disk full, permissions, I/O error): fail closed."""


class RecordingInvalid(RecordingError):
    """The file is not a readable recording (bad magic, unknown version, damaged header)."""


class WrongMasterKey(RecordingInvalid):
    """The master key given is not the one the data key was wrapped with."""


class RecordingDestroyed(RecordingInvalid):
    """The recording's data key was destroyed; its content is gone for good."""


class ChunkInvalid(RecordingInvalid):
    """One chunk failed its check (GCM tag, hash chain, layout); ``sequence`` names it."""

    def __init__(self, sequence: int, problem: str) -> None:
        super().__init__(f"chunk {sequence}: {problem}")
        self.sequence = sequence
        self.problem = problem


class PlaybackError(RecordingError):
    """The recorded RFB stream cannot be played from the requested point."""
