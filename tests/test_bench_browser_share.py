"""The browser-sharing bench's own parts: the customer probe (its stages, its read of a
captured frame in Chromium) and the cost of
scrolling text with key chunks at the seek-point spacing."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest
from bench.browser_share import (
    BEFORE,
    Result,
    chunk_timeline,
    override_agent,
    render,
    steady_mbit,
)
from bench.share_stages import CUSTOMER_PROBE, stages_of
from bench.workload import clock_bits, clock_geometry
from playwright.async_api import Browser, Route

from supportdesk.server.recordings.seek_points import MAX_CHUNKS, MAX_SECONDS


def frame(timestamp: int, at: int, painted: int, encode_at: int | None = None) -> list[int]:
    """What the customer probe records per frame: its timestamp, the page's time when it
    came and when it went into the encoder, the clock."""
    pixels = []
    for bit in clock_bits(painted):
        pixels += [255 * bit] * 3
    return [timestamp, at, at if encode_at is None else encode_at, *pixels]


def test_stages_are_the_clock_to_encode_and_encode_to_chunk() -> None:
    got = {
        "frames": [
            frame(0, 1_012, 1_000),
            frame(33_000, 1_050, 1_040),
            frame(66_000, 1_090, 1_070),
        ],
        "out": {"0": 1_030, "33000": 1_072},  # the third frame's chunk came after the window
    }
    stages = stages_of(got)
    assert stages is not None
    assert stages.to_encoder_p50 == 12.0  # of 12, 10, 20
    assert stages.encoding_p50 in (18.0, 22.0)
    assert stages.frames == 3


def test_the_probes_own_read_is_not_encoding_time() -> None:
    # The frame came at 1012, the probe read its clock until 1020, the chunk came at 1030.
    got = {"frames": [frame(0, 1_012, 1_000, encode_at=1_020)], "out": {"0": 1_030}}
    stages = stages_of(got)
    assert stages is not None
    assert stages.to_encoder_p50 == 12.0
    assert stages.encoding_p50 == 10.0


@pytest.mark.browser
async def test_the_probe_reads_the_clock_from_a_4_2_0_frame(browser: Browser) -> None:
    """Chromium's X11 capture delivers I420: the probe reads the clock's luma."""
    page = await browser.new_page()
    await page.add_init_script(CUSTOMER_PROBE)
    # WebCodecs needs a secure context: localhost is one.
    await page.route("http://localhost/probe", lambda r: r.fulfill(body="<!doctype html>"))
    await page.goto("http://localhost/probe")
    g = clock_geometry()
    got = await page.evaluate(
        """async ([bits, g]) => {
        const width = 640, height = 32;
        const data = new Uint8Array(width * height * 3 / 2).fill(128);
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            data[y * width + x] = bits[Math.floor(x / g.block)] ? 235 : 16;
          }
        }
        const frame = new VideoFrame(data, {
          format: "I420", codedWidth: width, codedHeight: height, timestamp: 5000,
        });
        const encoder = new VideoEncoder({ output: () => {}, error: () => {} });
        encoder.configure({ codec: "vp8", width, height });
        window.__stages.running = true;
        encoder.encode(frame);
        frame.close();
        await encoder.flush();
        await new Promise((resolve) => setTimeout(resolve, 50));
        return window.__stages;
        }""",
        [clock_bits(123_456), g],
    )
    assert len(got["frames"]) == 1
    stamp, at, encode_at, *pixels = got["frames"][0]
    assert stamp == 5000 and encode_at >= at
    assert pixels[0::3] == [235 if bit else 16 for bit in clock_bits(123_456)]
    assert str(stamp) in got["out"]


def test_no_probe_no_stages() -> None:
    assert stages_of(None) is None
    empty = stages_of({"frames": [], "out": {}})
    assert empty is not None and math.isnan(empty.to_encoder_p50)


def test_the_probe_script_is_filled_in() -> None:
    assert "__GEOMETRY__" not in CUSTOMER_PROBE
    assert "window.VideoEncoder = Probed" in CUSTOMER_PROBE


def test_key_chunks_at_their_spacing() -> None:
    # 2 chunks a second: a key chunk every MAX_CHUNKS / 2 seconds.
    deltas, key = 62_500, 190_000  # bytes in 10 s; bytes of one key chunk
    got = steady_mbit(deltas, 20, 10.0, key)
    assert got == pytest.approx((6_250 + 2 / MAX_CHUNKS * key) * 8 / 1e6)
    # Hardly any chunks: the time rule's spacing.
    assert steady_mbit(100, 1, 10.0, key) == pytest.approx((10 + key / MAX_SECONDS) * 8 / 1e6)
    assert steady_mbit(0, 0, 10.0, key) == 0


def result(latency: float, text_psnr: float) -> Result:
    return Result(
        latency_p50=latency, latency_p95=latency * 2, frames_per_s=20.0, mbit_per_s=0.5,
        text_mbit_per_s=0.05, text_psnr=text_psnr, screen_psnr=36.0, cpu_percent=35.0,
        text_cpu_percent=10.0, agent_cpu_percent=40.0, text_key_share=0.0,
    )  # fmt: skip


def test_the_before_path_gets_its_own_column_and_rows() -> None:
    args = argparse.Namespace(
        rounds=1, warmup=4.0, seconds=20.0, text_seconds=10.0, settle=2.0, load=(1.0, 2.0),
        stages=False,
    )  # fmt: skip
    results = {
        "browser": [result(40, 41.0)],
        "applet": [result(24, math.inf)],
        BEFORE: [result(42, 30.2)],
    }
    table = render(results, args, 0.0)
    assert table.splitlines()[2].endswith("| browser / applet | browser before (`--before`) |")
    assert "| PSNR of the frozen text (dB) | 41.0 | inf | – | 30.2 |" in table
    assert "| 1 | before | 42 |" in table
    plain = render({k: v for k, v in results.items() if k != BEFORE}, args, 0.0)
    assert "`--before`" not in plain and "| before |" not in plain


def test_chunk_timeline_counts_the_window_second_by_second_and_places_its_key_chunks() -> None:
    trace = [[900, 10, 0], [1000, 9000, 1], [1100, 10, 0], [1500, 10, 0], [2600, 9000, 1]]
    trace += [[3000, 10, 0], [11000, 10, 0]]  # the last one after the window
    assert chunk_timeline(trace, 1000, 10.002) == (
        "per second 3 1 1 0 0 0 0 0 0 0; key chunks at 0.0, 1.6 s"
    )
    assert chunk_timeline([[1000, 10, 0]], 1000, 2) == "per second 1 0"


@pytest.mark.browser
async def test_a_before_module_is_served_only_while_its_path_runs(
    browser: Browser, tmp_path: Path
) -> None:
    """The agent's page gets ``--before``'s module only in the before path's rounds."""
    replacement = tmp_path / "video-canvas.js"
    replacement.write_text("export const which = 'before';", encoding="utf-8")
    args = argparse.Namespace(override=[], before=[("video-canvas.js", replacement)])
    context = await browser.new_context()

    async def the_tree(route: Route) -> None:  # the server, as far as this test goes
        if route.request.url.endswith(".js"):
            await route.fulfill(body="export const which = 'tree';", content_type="text/javascript")
        else:
            await route.fulfill(body="<!doctype html>", content_type="text/html")

    await context.route("http://localhost/**", the_tree)
    await override_agent(context, args)  # registered later: asked first, falls back
    page = await context.new_page()
    shown = []
    for path in ("browser", BEFORE, "applet"):
        args.running = path
        await page.goto("http://localhost/page")
        shown.append(
            await page.evaluate("async () => (await import('/static/video-canvas.js')).which")
        )
    await context.close()
    assert shown == ["tree", "before", "tree"]
