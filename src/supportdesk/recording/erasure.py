"""Destroying a recording: overwrite its wrapped data key, then delete the file.

Crypto-erasure: once the wrapped key is gone, every copy of the chunks (a backup
of the volume, a stray export of the raw file made *after* this) is noise. A copy
of the whole file made *before* still holds the wrapped key; the master key's
rotation is what retires those. Overwriting in place is also not a guarantee on
copy-on-write file systems or SSDs, which is why the key is small and the master
key lives elsewhere: see "Deletion" in ``docs/recording-format.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from .errors import RecordingInvalid
from .format import MAX_FILE_HEADER_SIZE, FileFlags, FileHeader

__all__ = ["destroy"]


def destroy(path: str | os.PathLike[str]) -> bool:
    """Destroy the recording at ``path``; False if there was no such file. Idempotent."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        head = os.pread(fd, MAX_FILE_HEADER_SIZE, 0)
        try:
            header = FileHeader.parse(head)
            blank = dataclasses.replace(
                header, wrapped_key=b"", flags=header.flags | FileFlags.DESTROYED
            ).pack()
            # (a version 1 header is shorter: the bytes after it are chunk 0's, kept)
        except RecordingInvalid:
            blank = bytes(len(head))  # not ours to parse: wipe the head all the same
        os.pwrite(fd, blank, 0)
        os.fsync(fd)
    finally:
        os.close(fd)
    target.unlink()
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return True
