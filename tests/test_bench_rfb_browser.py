"""The pure parts of the end-to-end RFB bench: the probe's samples decoded into latencies,
the console's noVNC settings as the x0vncserver lane copies them, the files its page may be
served, and the medians and ratios of the rounds."""

from __future__ import annotations

import math

import pytest
from bench.agent_page import latencies_and_frames, probe_script
from bench.novnc_page import NOVNC, STATIC, VIEWER_PAGE, console_settings, static_file
from bench.rfb_browser import LANES, PICTURE_SOCKETS, Result, medians, ratio, render
from bench.workload import clock_bits

CONSOLE_LIVE = (STATIC / "console-live.js").read_text(encoding="utf-8")


def sample(seen_at: int, painted: int) -> list[int]:
    """What the probe records: the page's time and the 40 block centres' RGB."""
    pixels = []
    for bit in clock_bits(painted):
        pixels += [255 * bit] * 3
    return [seen_at, *pixels]


def test_latency_is_the_page_time_minus_the_painted_time_once_per_value() -> None:
    torn = sample(1_040, 1_000)
    torn[1:4] = [255 - v for v in torn[1:4]]  # one block flipped: the check byte rejects it
    samples = [sample(1_030, 1_000), sample(1_045, 1_000), torn, sample(1_070, 1_020)]
    assert latencies_and_frames(samples) == ([30.0, 50.0], 2)


def test_latency_across_the_32_bit_wrap() -> None:
    assert latencies_and_frames([sample(2**32 + 5, 2**32 - 10)]) == ([15.0], 1)


def test_the_probe_counts_the_sockets_it_is_given() -> None:
    script = probe_script(PICTURE_SOCKETS)
    assert '"sockets": "^/ws/viewer/|^/websockify$"' in script
    assert "__GEOMETRY__" not in script and "__CANVAS__" not in script


def test_the_x0vncserver_lane_uses_the_consoles_novnc_settings() -> None:
    assert console_settings(CONSOLE_LIVE) == {"quality": 8, "compression": 2}
    for line in (
        'wsProtocols: ["binary"], shared: true',
        "rfb.scaleViewport = true;",
        "rfb.resizeSession = false;",
        'import "/static/novnc-zlib-reset.js";',
        'import RFB from "/novnc/core/rfb.js";',
    ):
        assert line in CONSOLE_LIVE
        assert line in VIEWER_PAGE


def test_console_settings_must_be_there() -> None:
    with pytest.raises(ValueError):
        console_settings("rfb.qualityLevel = 8;")


def test_static_files_are_novnc_and_the_consoles_only() -> None:
    assert static_file("/novnc/core/rfb.js") == (NOVNC / "core" / "rfb.js").resolve()
    assert static_file("/static/novnc-zlib-reset.js") == (STATIC / "novnc-zlib-reset.js").resolve()
    assert static_file("/novnc/../package.json") is None
    assert static_file("/static/../app.py") is None
    assert static_file("/novnc/core/no-such.js") is None
    assert static_file("/etc/passwd") is None


def result(p50: float, cpu: float, psnr: float = math.inf) -> Result:
    return Result(
        latency_p50=p50, latency_p95=2 * p50, frames_per_s=30.0, mbit_per_s=5.0,
        screen_psnr=psnr, customer_cpu=cpu, screen_server_cpu=cpu, hop_cpu=1.0,
        agent_cpu=40.0, load=5.0,
    )  # fmt: skip


def test_medians_over_rounds_skip_rounds_without_a_value() -> None:
    med = medians({"supportdesk": [result(50, 20), result(30, 40), result(math.nan, 30)]})
    assert med["supportdesk"]["latency_p50"] == 40.0
    assert med["supportdesk"]["customer_cpu"] == 30.0
    assert math.isnan(medians({"x": [result(math.nan, 1)]})["x"]["latency_p50"])


def test_ratio_only_where_it_means_something() -> None:
    assert ratio(30, 20) == "1.50"
    assert ratio(30, 0) == "–"
    assert ratio(math.inf, 40) == "–"
    assert ratio(math.nan, 40) == "–"


def test_render_has_the_medians_ratios_and_every_round() -> None:
    results = {
        "supportdesk": [result(60, 30), result(40, 20), result(50, 25)],
        "x0vncserver": [result(20, 10, 45.0), result(25, 15, 46.0), result(30, 20, 47.0)],
    }
    assert tuple(results) == LANES
    table = render(results)
    assert "| latency p50 (ms) | 50 | 25 | 2.00 |" in table
    assert "| customer side CPU (% of a core) | 25 | 15 | 1.67 |" in table
    assert "| PSNR of the settled canvas (dB) | inf | 46.0 | – |" in table
    assert sum(line.startswith(("| 1 |", "| 2 |", "| 3 |")) for line in table.splitlines()) == 6


def test_render_puts_every_lane_against_x0vncserver() -> None:
    results = {
        "supportdesk": [result(60, 30)],
        "x0vncserver": [result(20, 10, 45.0)],
        "engine": [result(30, 20)],
    }
    table = render(results)
    assert "| supportdesk / x0vncserver | engine / x0vncserver |" in table.splitlines()[0]
    assert "| latency p50 (ms) | 60 | 20 | 30 | 3.00 | 1.50 |" in table
