"""Safe names for files that arrive from the other side, and names that overwrite nothing.

The offered name is the sender's wish, never a path: :func:`sanitise_name` keeps only
its last component and refuses what could hide the real name from the customer or
misbehave on the customer's disk (Windows above all, where most customers are).
Refusals raise :class:`UnsafeName` with a :class:`NameProblem`, so the sender can be
told why in a word and the customer never sees a rewritten surprise.
"""

from __future__ import annotations

import os
import re
import unicodedata
from enum import Enum
from pathlib import Path

MAX_NAME_BYTES = 200
"""Cap of a final name in UTF-8 bytes: below every common file system's 255, with room
for the `` (12)`` of :func:`free_name` and the ``.part-…`` of the temporary file."""
MAX_EXTENSION_BYTES = 20
MAX_FREE_NAME_TRIES = 10_000

# Windows opens the device, not a file, for these stems whatever the extension.
_RESERVED_STEMS = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
# Printable characters Windows refuses in names: replaced, since they are harmless
# in meaning ("Auszug: März.pdf") and a refusal would only annoy.
_WINDOWS_FORBIDDEN = str.maketrans(dict.fromkeys('<>:"|?*', "_"))
# Control, format (bidi overrides like U+202E, zero-width characters), surrogates and
# line/paragraph separators: they hide or reorder what the customer reads.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_DRIVE = re.compile(r"^[A-Za-z]:")


class NameProblem(Enum):
    EMPTY = "empty"
    TRAVERSAL = "traversal"
    INVISIBLE_CHARACTER = "invisible_character"
    RESERVED = "reserved"
    TRAILING_DOT_OR_SPACE = "trailing_dot_or_space"
    HIDDEN = "hidden"


class UnsafeName(ValueError):
    """An offered name that is refused rather than repaired."""

    def __init__(self, problem: NameProblem, detail: str) -> None:
        super().__init__(f"{problem.value}: {detail}")
        self.problem = problem


def sanitise_name(offered: str) -> str:
    """The name to store ``offered`` under, or :class:`UnsafeName`.

    NFC-normalised; directories and drive letters dropped; ``..`` anywhere, invisible
    characters, Windows device names, trailing dots or spaces and hidden (dot) names
    refused; ``<>:"|?*`` replaced by ``_``; capped to :data:`MAX_NAME_BYTES` bytes of
    UTF-8 keeping the extension.
    """
    name = unicodedata.normalize("NFC", offered)
    for character in name:
        if unicodedata.category(character) in _INVISIBLE_CATEGORIES:
            raise UnsafeName(NameProblem.INVISIBLE_CHARACTER, f"U+{ord(character):04X} in the name")
    parts = re.split(r"[/\\]", name)
    # A sender's own full path ("C:\Users\x\Brief.pdf") is fine, its last part is the
    # name; but ".." anywhere is an attempt to climb, and is refused outright.
    if any(part.strip() == ".." for part in parts):
        raise UnsafeName(NameProblem.TRAVERSAL, "'..' in the name")
    name = _DRIVE.sub("", parts[-1]).translate(_WINDOWS_FORBIDDEN)
    if not name or name.strip(" .") == "":
        raise UnsafeName(NameProblem.EMPTY, "no name left")
    if name.startswith("."):
        # Hidden on Linux and macOS: the customer would not see what arrived.
        raise UnsafeName(NameProblem.HIDDEN, "the name starts with a dot")
    if name[-1] in ". ":
        # Windows drops them, so "a.exe." would land as "a.exe".
        raise UnsafeName(NameProblem.TRAILING_DOT_OR_SPACE, "the name ends in a dot or space")
    name = _cap(name, MAX_NAME_BYTES)
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_STEMS:
        raise UnsafeName(NameProblem.RESERVED, "a Windows device name")
    return name


def split_extension(name: str) -> tuple[str, str]:
    """``("Brief", ".pdf")``; no extension for dot-less names or over-long suffixes."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(("." + extension).encode("utf-8")) > MAX_EXTENSION_BYTES:
        return name, ""
    return stem, "." + extension


def _cap(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, extension = split_extension(name)
    room = limit - len(extension.encode("utf-8"))
    # Cut by characters, so no UTF-8 sequence is split; then drop what Windows would.
    while len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    stem = stem.rstrip(" .") or "_"
    return stem + extension


def numbered_name(name: str, number: int) -> str:
    """``"Brief (2).pdf"`` for ``("Brief.pdf", 2)``, still within the byte cap."""
    stem, extension = split_extension(name)
    suffix = f" ({number}){extension}"
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    while len(stem.encode("utf-8")) > room:
        stem = stem[:-1]
    return (stem.rstrip(" .") or "_") + suffix


def free_name(folder: Path, name: str) -> str:
    """``name`` if nothing in ``folder`` has it, else the first free ``"name (n).ext"``.

    A check, not a reservation: the receiver places files without overwriting, and
    asks again if the name is taken by the time the file is ready.
    """
    if not os.path.lexists(folder / name):
        return name
    for number in range(2, MAX_FREE_NAME_TRIES):
        candidate = numbered_name(name, number)
        if not os.path.lexists(folder / candidate):
            return candidate
    raise FileExistsError(f"no free name for {name!r} after {MAX_FREE_NAME_TRIES} tries")
