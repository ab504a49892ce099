"""One node of the two-process budget test: take from a shared Redis bucket as fast as
it can during a time window, and print how many takes were granted.

    python -m tests.bus.hammer URL NAMESPACE BUCKET RATE BURST START DURATION
"""

from __future__ import annotations

import asyncio
import sys
import time

from supportdesk.bus import connect

TASKS = 4


async def hammer(
    url: str, namespace: str, bucket: str, rate: float, burst: int, start: float, duration: float
) -> int:
    bus = connect(url, namespace=namespace)
    granted = 0

    async def worker() -> None:
        nonlocal granted
        while time.time() < start + duration:
            got = await bus.buckets.take(bucket, rate, burst)
            granted += got  # not `granted += await ...`: that loses other tasks' counts

    try:
        await bus.ping()  # connect before the window opens
        await asyncio.sleep(max(0.0, start - time.time()))
        await asyncio.gather(*(worker() for _ in range(TASKS)))
    finally:
        await bus.close()
    return granted


if __name__ == "__main__":
    url, space, name, rate, burst, start, duration = sys.argv[1:8]
    print(
        asyncio.run(
            hammer(url, space, name, float(rate), int(burst), float(start), float(duration))
        )
    )
