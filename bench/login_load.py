"""``python -m bench.login_load``: does a login storm stall the node?

Starts one real ``supportdesk serve`` (SQLite, in-process bus), then measures the latency of ``GET
/healthz`` — one event loop turn, no database — first on a quiet server, then while
``--loops`` clients (4 by default) each post wrong passwords for an unknown account to
``/console/login`` as fast as answers come back, every attempt from a new address (the
server trusts this process as its proxy and believes its ``X-Forwarded-For``), so no
throttle refuses them and every attempt costs a hash. Prints healthz p50/p95 in both
phases, logins/s, and how the login answers split (401 refused or failed, 503 pool
full). Not a test: the numbers depend on the machine and what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import itertools
import re
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from tests.live_server import live_server

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def healthz_latencies(url: str, seconds: float) -> list[float]:
    samples = []
    async with httpx.AsyncClient(base_url=url) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            (await client.get("/healthz")).raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    return samples


counter = itertools.count(1)


async def login_loop(url: str, account: str, stop: asyncio.Event, answers: Counter[int]) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        form = await client.get("/console/login")
        token = TOKEN.search(form.text)
        assert token
        while not stop.is_set():
            address = str(ipaddress.IPv4Address(0x0A000000 + next(counter)))
            answer = await client.post(
                "/console/login",
                data={"username": account, "password": "x" * 16, "csrf_token": token.group(1)},
                headers={"X-Forwarded-For": address},
            )
            answers[answer.status_code] += 1


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms ({len(ordered)} samples)"


async def measure(url: str, loops: int, seconds: float) -> None:
    print("quiet:  healthz", summary(await healthz_latencies(url, seconds)))
    stop, answers = asyncio.Event(), Counter[int]()
    clients = [
        asyncio.create_task(login_loop(url, f"niemand{n}", stop, answers)) for n in range(loops)
    ]
    started = time.monotonic()
    busy = await healthz_latencies(url, seconds)
    stop.set()
    await asyncio.gather(*clients)
    elapsed = time.monotonic() - started
    print(f"{loops} login loops: healthz", summary(busy))
    print(
        f"logins/s {sum(answers.values()) / elapsed:.1f}; answers {dict(sorted(answers.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loops", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as folder,
        live_server(Path(folder), SUPPORTDESK_SERVER_TRUSTED_PROXIES="127.0.0.1") as server,
    ):
        asyncio.run(measure(server.url, args.loops, args.seconds))


if __name__ == "__main__":
    main()
