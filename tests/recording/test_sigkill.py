"""Durability: a writer SIGKILLed mid-session leaves a readable recording missing at most ~1 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from supportdesk.recording import RecordingReader, verify

CHILD = r"""
import os, random, sys, time
from datetime import UTC, datetime, timedelta
from supportdesk.recording import RecordingWriter, RecordKind

path, key = sys.argv[1], bytes.fromhex(sys.argv[2])
smallest, largest, pause = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
start = datetime.now(UTC)
writer = RecordingWriter.create(path, "BN-2026-4821-7730-8", key, start)
rng = random.Random(1)
i = 0
while True:
    now = datetime.now(UTC)
    payload = i.to_bytes(8, "big") + os.urandom(rng.randrange(smallest, largest))
    writer.record(RecordKind.RFB_SERVER_TO_CLIENT, 1, payload, now)
    print(i, (now - start) // timedelta(microseconds=1), flush=True)
    if writer.flush_due(now):
        writer.tick(now)
    i += 1
    time.sleep(pause)
"""


@pytest.mark.parametrize(
    "sizes",
    [
        # Incompressible 1-20 kB payloads: chunks fill up and are written mid-second.
        ("1000", "20000", "0.001"),
        # A quiet session (small input events): only the timer flushes.
        ("10", "100", "0.02"),
    ],
    ids=["busy", "quiet"],
)
def test_sigkill_loses_at_most_about_a_second(
    tmp_path: Path, master_key: bytes, sizes: tuple[str, str, str]
) -> None:
    path = tmp_path / "killed.sdrec"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), master_key.hex(), *sizes],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    reported: list[tuple[int, int]] = []
    began = time.monotonic()
    while time.monotonic() - began < 2.5:
        line = child.stdout.readline()
        assert line, "the child died"
        reported.append(tuple(map(int, line.split())))  # type: ignore[arg-type]
    os.kill(child.pid, signal.SIGKILL)
    rest, _ = child.communicate()
    for line in rest.splitlines():
        parts = line.split()
        if len(parts) == 2:
            reported.append((int(parts[0]), int(parts[1])))
    assert child.returncode == -signal.SIGKILL
    last_index, last_at = reported[-1]

    with RecordingReader(path, master_key) as reader:
        records = list(reader.records())
        assert not reader.closed_cleanly
    indices = [int.from_bytes(r.payload[:8], "big") for r in records]
    assert indices == list(range(len(indices))), "records lost or reordered before the tail"
    kept_at = records[-1].at_us
    lost_us = last_at - kept_at
    assert 0 <= lost_us <= 1_000_000, (
        f"lost {lost_us / 1e6:.3f} s ({last_index - indices[-1]} records)"
    )
    report = verify(path, master_key)
    assert report.ok or report.truncated, report.detail
    assert report.records == len(records)
