"""The receiving shell on a real folder: temporary files, placing without overwriting,
overwriting only when asked, and clean-up after crashes and write errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from supportdesk.transfer.endpoint import Side, TransferEndpoint
from supportdesk.transfer.messages import Direction, ErrorCode, FileChunk, FileError, FileOffer
from supportdesk.transfer.receiver import DownloadFolder, PartFile


def receive(folder: DownloadFolder, name: str, data: bytes, *, overwrite: bool = False) -> str:
    """One complete transfer of ``data`` into ``folder``; returns the stored name."""
    customer = TransferEndpoint(Side.CUSTOMER)
    digest = hashlib.sha256(data).hexdigest()
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, name, len(data), digest).to_json())
    customer.accept("t1", folder.open_part(name, overwrite=overwrite))
    customer.receive(FileChunk("t1", 0, data).to_json())
    (done,) = [e for e in customer.events() if e.final_name]
    assert done.final_name is not None
    return done.final_name


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    (tmp_path / "Brief.pdf").write_bytes(b"old")
    assert folder.taken("Brief.pdf")
    assert folder.free_name("Brief.pdf") == "Brief (2).pdf"
    assert receive(folder, "Brief.pdf", b"new") == "Brief (2).pdf"
    assert (tmp_path / "Brief.pdf").read_bytes() == b"old"
    assert (tmp_path / "Brief (2).pdf").read_bytes() == b"new"


def test_overwrite_only_when_the_customer_said_so(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    (tmp_path / "Brief.pdf").write_bytes(b"old")
    assert receive(folder, "Brief.pdf", b"new", overwrite=True) == "Brief.pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Brief.pdf"]
    assert (tmp_path / "Brief.pdf").read_bytes() == b"new"


def test_a_name_taken_during_the_transfer_keeps_both(tmp_path: Path) -> None:
    part = DownloadFolder(tmp_path).open_part("x.txt")
    part.write(b"ours")
    (tmp_path / "x.txt").write_bytes(b"theirs")  # e.g. a browser download meanwhile
    assert part.commit() == "x (2).txt"
    assert (tmp_path / "x.txt").read_bytes() == b"theirs"
    assert (tmp_path / "x (2).txt").read_bytes() == b"ours"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x (2).txt", "x.txt"]


def test_the_folder_is_created_on_first_use(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path / "Downloads" / "Fernwartung")
    assert receive(folder, "a.txt", b"a") == "a.txt"
    assert (folder.path / "a.txt").read_bytes() == b"a"


def test_discard_is_idempotent_and_leaves_nothing(tmp_path: Path) -> None:
    part = PartFile(tmp_path, "y.bin")
    part.write(b"partial")
    assert [p.name.startswith(".y.bin.part-") for p in tmp_path.iterdir()] == [True]
    part.discard()
    part.discard()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(OSError):
        part.commit()


def test_stale_parts_from_a_crash_are_removed(tmp_path: Path) -> None:
    folder = DownloadFolder(tmp_path)
    PartFile(tmp_path, "crash.bin").write(b"left behind")  # never committed nor discarded
    (tmp_path / "keep.txt").write_bytes(b"k")
    (tmp_path / ".keep-hidden").write_bytes(b"h")
    assert folder.remove_stale_parts() == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".keep-hidden", "keep.txt"]
    assert DownloadFolder(tmp_path / "missing").remove_stale_parts() == 0


class FullDisk:
    def write(self, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    def commit(self) -> str:
        raise AssertionError("never committed")

    def discard(self) -> None:
        self.discarded = True


def test_a_write_error_fails_the_transfer_and_discards() -> None:
    customer = TransferEndpoint(Side.CUSTOMER)
    customer.receive(FileOffer("t1", Direction.TO_CUSTOMER, "a", 1, "0" * 64).to_json())
    sink = FullDisk()
    customer.accept("t1", sink)
    (error,) = customer.receive(FileChunk("t1", 0, b"a").to_json())
    assert error == FileError("t1", ErrorCode.WRITE_FAILED, "OSError")
    assert sink.discarded
