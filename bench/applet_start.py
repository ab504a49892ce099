"""``python -m bench.applet_start``: the one-file program's size and its start to the first window.

Starts the built Linux program (``make applet``; default ``dist/supportdesk-join-linux``)
as a customer does — no arguments, ``env -i`` with only ``DISPLAY``, ``HOME``, ``LANG``
and ``TMPDIR`` (a fresh folder, to watch PyInstaller's unpacking), a working directory
outside the repository — on a fresh Xvfb, ``--runs``
times one after another, and measures from the ``exec`` to the moment the name + key
window ("Jetzt Fernwartung starten") is mapped on the display (polled every 5 ms).
Every start is a cold start of the program: PyInstaller's bootloader unpacks the whole
archive into a new temporary folder each time and Python starts from scratch; the
disk's page cache is warm after the first run (the first start is reported apart).
Each window is then closed as a window manager would (WM_DELETE_WINDOW), and the
program's exit and the removal of its temporary folder are checked. Prints the numbers;
``--markdown FILE`` writes them into FILE's section "Support program download".
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.desktop import Desktop, xvfb

from bench.doc_block import write_block

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Jetzt Fernwartung starten"


def unpack_dirs(tmp: Path) -> set[Path]:
    return set(tmp.glob("_MEI*"))


def one_start(desk: Desktop, binary: Path, home: Path, cwd: Path, tmp: Path) -> float:
    """Seconds from exec to the first window; the program is closed again afterwards."""
    env = {"DISPLAY": desk.display, "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(binary)], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        while (window := desk.find_window(TITLE)) is None:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                raise RuntimeError(f"the program ended without a window: {output}")
            if time.perf_counter() - started > 60:
                raise RuntimeError("no window within 60 s")
            time.sleep(0.005)
        shown = time.perf_counter() - started
        desk.close_window(window)
        if process.wait(timeout=30) != 1:  # closed the first window: nothing joined
            raise RuntimeError(f"the program exited with {process.returncode}")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = unpack_dirs(tmp)
    if left:
        raise RuntimeError(f"the program left its unpacked files behind: {sorted(left)}")
    return shown


def measure(binary: Path, runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-applet-") as folder, xvfb(1280, 800) as desk:
        base = Path(folder)
        home, cwd, tmp = base / "home", base / "cwd", base / "tmp"
        for path in (home, cwd, tmp):
            path.mkdir()
        times = [one_start(desk, binary, home, cwd, tmp) for _ in range(runs)]
    return {
        "first": times[0],
        "median": statistics.median(times[1:] or times),
        "min": min(times),
        "max": max(times),
    }


def table(binary: Path, runs: int, numbers: dict[str, float]) -> str:
    size = binary.stat().st_size
    digest = hashlib.sha256(binary.read_bytes()).hexdigest()[:16]
    return (
        f"Measured {datetime.now(UTC):%Y-%m-%d} on this machine (2 cores), `{binary.name}` "
        f"(SHA-256 {digest}…), {runs} starts.\n\n"
        "| what | measured | target |\n|---|---|---|\n"
        f"| size of the one-file program | {size / 1e6:.1f} MB | < 60 MB |\n"
        f"| start to the first window, median of starts 2–{runs} | "
        f"{numbers['median']:.2f} s | < 3 s |\n"
        f"| first start after the build | {numbers['first']:.2f} s | |\n"
        f"| fastest / slowest start | {numbers['min']:.2f} s / {numbers['max']:.2f} s | |\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", type=Path, default=ROOT / "dist" / "supportdesk-join-linux")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--markdown", type=Path, help="write the numbers into this file")
    args = parser.parse_args()
    if not args.binary.is_file():
        raise SystemExit(f"{args.binary} is missing: build it with `make applet CONFIG=…`")
    numbers = measure(args.binary.resolve(), max(2, args.runs))
    block = table(args.binary, max(2, args.runs), numbers)
    print(block)
    if args.markdown:
        section = "## Support program download (`python -m bench.applet_start`)"
        write_block(args.markdown, section, "applet-start", block)


if __name__ == "__main__":
    main()
