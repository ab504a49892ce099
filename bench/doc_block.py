"""Writes a bench's generated table into docs/benchmarks.md between its two markers,
keeping the notes around it (or adds the section at the end the first time)."""

from __future__ import annotations

from pathlib import Path


def write_block(path: Path, section: str, name: str, table: str) -> None:
    """Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->``."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{table}{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
