"""Name sanitisation as a table, including traversal and Unicode tricks, and names that
never overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.transfer.names import (
    MAX_NAME_BYTES,
    NameProblem,
    UnsafeName,
    free_name,
    numbered_name,
    sanitise_name,
)

ACCEPTED = [
    ("Kontoauszug.pdf", "Kontoauszug.pdf"),
    ("C:\\Windows\\x", "x"),
    ("C:\\Users\\Anna\\Brief an die Bank.docx", "Brief an die Bank.docx"),
    ("/home/anna/Überweisung.csv", "Überweisung.csv"),
    ("D:Daten.txt", "Daten.txt"),
    ("\\\\server\\share\\Vertrag.pdf", "Vertrag.pdf"),
    ("Auszug: März?.pdf", "Auszug_ März_.pdf"),
    ('a<b>c"d|e*.txt', "a_b_c_d_e_.txt"),
    ("U\u0308bersicht.txt", "Übersicht.txt"),  # NFD in, NFC out
    ("console.txt", "console.txt"),  # only the exact device stems are reserved
    ("COM10.txt", "COM10.txt"),
    ("x..y.txt", "x..y.txt"),  # dots inside a name are not a path
    (" leading space.txt", " leading space.txt"),
]

REFUSED = [
    ("../../etc/passwd", NameProblem.TRAVERSAL),
    ("..\\..\\Windows\\system32\\evil.dll", NameProblem.TRAVERSAL),
    ("docs/../../x.txt", NameProblem.TRAVERSAL),
    ("..", NameProblem.TRAVERSAL),
    ("", NameProblem.EMPTY),
    ("/", NameProblem.EMPTY),
    ("C:\\Windows\\", NameProblem.EMPTY),
    ("C:", NameProblem.EMPTY),
    (".", NameProblem.EMPTY),
    ("...", NameProblem.EMPTY),
    ("con.txt", NameProblem.RESERVED),
    ("CON", NameProblem.RESERVED),
    ("nul.tar.gz", NameProblem.RESERVED),
    ("Com1.log", NameProblem.RESERVED),
    ("LPT9", NameProblem.RESERVED),
    ("aux .txt", NameProblem.RESERVED),
    ("COM¹.txt", NameProblem.RESERVED),
    ("CONOUT$", NameProblem.RESERVED),
    ("bericht.pdf.", NameProblem.TRAILING_DOT_OR_SPACE),
    ("bericht.pdf ", NameProblem.TRAILING_DOT_OR_SPACE),
    ("Rechnung\u202efdp.exe", NameProblem.INVISIBLE_CHARACTER),  # shows as "Rechnungexe.pdf"
    ("a\u200bb.txt", NameProblem.INVISIBLE_CHARACTER),
    ("line\nbreak.txt", NameProblem.INVISIBLE_CHARACTER),
    ("nul\x00byte.txt", NameProblem.INVISIBLE_CHARACTER),
    ("tab\t.txt", NameProblem.INVISIBLE_CHARACTER),
    ("\ufeffbom.txt", NameProblem.INVISIBLE_CHARACTER),
    ("a\u2028b.txt", NameProblem.INVISIBLE_CHARACTER),
    ("lone\ud800.txt", NameProblem.INVISIBLE_CHARACTER),
    (".bashrc", NameProblem.HIDDEN),
    ("/tmp/.hidden", NameProblem.HIDDEN),
]


@pytest.mark.parametrize(("offered", "stored"), ACCEPTED)
def test_accepted_names(offered: str, stored: str) -> None:
    assert sanitise_name(offered) == stored


@pytest.mark.parametrize(("offered", "problem"), REFUSED)
def test_refused_names(offered: str, problem: NameProblem) -> None:
    with pytest.raises(UnsafeName) as caught:
        sanitise_name(offered)
    assert caught.value.problem is problem


def test_overlong_names_keep_their_extension() -> None:
    name = sanitise_name("ä" * 300 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.startswith("ä")


def test_overlong_name_without_extension() -> None:
    assert len(sanitise_name("x" * 1000).encode("utf-8")) == MAX_NAME_BYTES


def test_overlong_suffix_is_not_an_extension() -> None:
    name = sanitise_name("a" * 150 + "." + "b" * 150)
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


@given(st.text(max_size=400))
def test_any_name_is_safe_or_refused(offered: str) -> None:
    try:
        name = sanitise_name(offered)
    except UnsafeName:
        return
    assert "/" not in name and "\\" not in name
    assert name not in ("", ".", "..")
    assert not name.startswith(".")
    assert name[-1] not in ". "
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert sanitise_name(name) == name  # stable: a stored name passes again


def test_free_name_counts_up(tmp_path: Path) -> None:
    assert free_name(tmp_path, "Brief.pdf") == "Brief.pdf"
    (tmp_path / "Brief.pdf").write_bytes(b"1")
    assert free_name(tmp_path, "Brief.pdf") == "Brief (2).pdf"
    (tmp_path / "Brief (2).pdf").write_bytes(b"2")
    assert free_name(tmp_path, "Brief.pdf") == "Brief (3).pdf"
    (tmp_path / "README").write_bytes(b"3")
    assert free_name(tmp_path, "README") == "README (2)"


def test_free_name_sees_dangling_symlinks(tmp_path: Path) -> None:
    (tmp_path / "x.txt").symlink_to(tmp_path / "missing")
    assert free_name(tmp_path, "x.txt") == "x (2).txt"


def test_numbered_name_stays_within_the_cap() -> None:
    long = sanitise_name("n" * 400 + ".txt")
    numbered = numbered_name(long, 12)
    assert numbered.endswith(" (12).txt")
    assert len(numbered.encode("utf-8")) <= MAX_NAME_BYTES
