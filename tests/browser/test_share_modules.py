"""The screen-sharing page's pure ES modules (static/share/*.js), run in Chromium: link
framing and credit, codec choice and size, the bitrate, frame-rate and sharp-refresh
policies, the pointer's place, the
consent check, the receipt, heartbeats and back-off, and the session's link across
sockets on a fake clock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from supportdesk.domain.consent import BROWSER_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("share-modules")) as running:
        yield running


async def page_on(browser: Browser, server: LiveServer) -> Page:
    page = await browser.new_page()
    await page.goto(server.url + "/fernwartung")  # same origin: the modules import from here
    return page


async def run(page: Page, body: str) -> Any:
    """Evaluate ``body`` (an async function body) with the modules imported as m.<name>."""
    script = f"""async () => {{
        const m = {{}};
        for (const name of ["link", "codecs", "bitrate", "frame-rate", "refresh", "pointer",
                            "receipt",
                            "consent", "heartbeat", "backoff", "session-link"]) {{
            m[name] = await import(`/static/share/${{name}}.js`);
        }}
        {body}
    }}"""
    return await page.evaluate(script)


async def test_link_framing_and_credit(server: LiveServer, browser: Browser) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const { encodeFrame, decodeFrame, encodeControl, decodeControl, videoPayload,
                CreditWindow, linkUrl, linkProtocols, VIDEO_HEADER } = m.link;
        const frame = encodeFrame(1, new Uint8Array([7, 8, 9]));
        const back = decodeFrame(frame.buffer);
        const control = decodeFrame(encodeControl({ type: "chat", text: "Grüße" }));
        const payload = videoPayload(true, 1234567890123, 3);
        payload.set([1, 2, 3], VIDEO_HEADER);
        const credit = new CreditWindow();
        credit.spend(1000000);
        const before = credit.allows(48576), over = credit.allows(48577);
        credit.returned(262144);
        let refused = null;
        try { decodeControl(new TextEncoder().encode("[1]")); } catch (e) { refused = e.name; }
        let short = null;
        try { decodeFrame(new Uint8Array([0])); } catch (e) { short = e.name; }
        return {
            frame: Array.from(frame), channel: back.channel, payload: Array.from(back.payload),
            controlChannel: control.channel, control: decodeControl(control.payload),
            video: Array.from(payload), available: credit.available, before, over,
            refused, short,
            wss: linkUrl(new URL("https://bank.example/fernwartung/browser"), "/ws/browser"),
            ws: linkUrl(new URL("http://127.0.0.1:8000/x"), "/ws/browser"),
            protocols: linkProtocols("abc_-1", "en"),
        };
        """,
    )
    assert result["frame"] == [0, 1, 7, 8, 9]
    assert result["channel"] == 1 and result["payload"] == [7, 8, 9]
    assert result["controlChannel"] == 0
    assert result["control"] == {"type": "chat", "text": "Grüße"}
    timestamp = (1234567890123).to_bytes(8, "big")
    assert result["video"] == [1, *timestamp, 1, 2, 3]
    assert result["before"] is True and result["over"] is False
    assert result["available"] == 1024 * 1024 - 1000000 + 262144
    assert result["refused"] == "TypeError" and result["short"] == "RangeError"
    assert result["wss"] == "wss://bank.example/ws/browser"
    assert result["ws"] == "ws://127.0.0.1:8000/ws/browser"
    assert result["protocols"] == ["supportdesk.link.v1", "token.abc_-1", "lang.en"]


async def test_codec_choice_size_and_bitrate(server: LiveServer, browser: Browser) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const c = m.codecs;
        const yes = async () => ({ supported: true });
        const onlyVp8 = async (config) => ({ supported: config.codec === "vp8" });
        const pick = async (w, h, list, check = yes) =>
            (await c.pickCodec(w, h, 3e6, list, check))?.codec ?? null;
        const chosen = await c.pickCodec(1920, 1080, 3e6, null, yes);
        return {
            sizes: [c.cappedSize(1920, 1080), c.cappedSize(2560, 1440), c.cappedSize(3840, 1600),
                    c.cappedSize(1366, 768), c.cappedSize(1023, 767)],
            levels: [c.h264For(1920, 1080), c.h264For(1920, 1200), c.h264For(1280, 720)],
            noList: await pick(1920, 1080, null),
            vp9Only: await pick(1920, 1080, ["vp09.00.10.08", "vp8"]),
            higherLevel: await pick(1920, 1080, ["avc1.640033"]),
            lowerLevel: await pick(1920, 1200, ["avc1.640028", "vp8"]),
            otherProfile: await pick(1920, 1080, ["avc1.42001f"]),
            nothing: await pick(1920, 1080, ["av01.0.04M.08"]),
            browserLimit: await pick(1920, 1080, null, onlyVp8),
            config: chosen.config,
            vp8Config: c.encoderConfig("vp8", 640, 480, 5e5),
            bitrates: [c.startBitrate(1920, 1080), c.startBitrate(1366, 768),
                       c.startBitrate(320, 200), c.startBitrate(3840, 2160)],
            real: await c.pickCodec(1280, 720, 1e6, null,
                                    (config) => VideoEncoder.isConfigSupported(config)),
        };
        """,
    )
    assert result["sizes"] == [
        {"width": 1920, "height": 1080},
        {"width": 1920, "height": 1080},
        {"width": 1920, "height": 800},
        {"width": 1366, "height": 768},
        {"width": 1022, "height": 766},
    ]
    assert result["levels"] == ["avc1.640028", "avc1.640033", "avc1.640028"]
    assert result["noList"] == "avc1.640028"
    assert result["vp9Only"] == "vp09.00.10.08"
    assert result["higherLevel"] == "avc1.640028"  # a level 5.1 decoder decodes 4.0
    assert result["lowerLevel"] == "vp8"  # 1920x1200 needs more than level 4.0
    assert result["otherProfile"] is None and result["nothing"] is None
    assert result["browserLimit"] == "vp8"
    assert result["config"] == {
        "codec": "avc1.640028",
        "width": 1920,
        "height": 1080,
        "bitrate": 3000000,
        "framerate": 30,
        "latencyMode": "realtime",
        "avc": {"format": "annexb"},
    }
    assert "avc" not in result["vp8Config"]
    assert result["bitrates"] == [3000000, 1517778, 300000, 3000000]
    assert result["real"] is not None, "Debian chromium encodes at least one of the codecs"


FRAME_RATE_FEED = """
        const FR = m["frame-rate"];
        const policy = new FR.FrameRatePolicy(1920 * 1080);
        const log = [];
        const feed = (from, to, every, bytes, key = false) => {
          for (let t = from; t < to; t += every) policy.chunk(bytes, key, t);
          log.push([to, policy.rate, Math.round(policy.intervalUs)]);
        };
"""
"""A 1080p frame-rate policy and ``feed``: chunks of ``bytes`` every ``every`` ms from
``from`` to ``to``, then the rate (and interval in us) logged."""


async def test_frame_rate_falls_while_text_scrolls_and_rises_on_motion_or_tiny_changes(
    server: LiveServer, browser: Browser
) -> None:
    """1080p (2.07 megapixels): a second of middling delta chunks brings the low rate;
    two big delta chunks in a row (not one: a jump of the scrolling text) or a second of
    tiny ones the full rate."""
    page = await page_on(browser, server)
    steps = await run(
        page,
        FRAME_RATE_FEED
        + """
        feed(0, 900, 33, 1400);          // scrolling text at 30/s: not yet a second of it
        feed(900, 1500, 33, 1400);       // a second of middling chunks: down
        feed(1500, 5000, 500, 3400);     // text at 2/s, bigger chunks: stays down
        feed(5000, 5001, 1, 5700);       // one step catches a jump of the text: stays down
        feed(5500, 6000, 500, 3400);     // the text scrolls on
        feed(6000, 6200, 100, 6000);     // a moving picture: up on its second big chunk
        feed(6200, 12000, 33, 2600);     // moving at 30/s: stays up
        feed(12000, 13500, 33, 300);     // the pointer alone: tiny, stays up
        for (let t = 13500; t < 15100; t += 99) {  // motion in every third frame only
          policy.chunk(4300, false, t); policy.chunk(100, false, t + 33);
          policy.chunk(100, false, t + 66);
        }
        log.push([15100, policy.rate, Math.round(policy.intervalUs)]);
        feed(15100, 16200, 33, 1400);    // text scrolls again: down
        feed(16200, 17000, 500, 300);    // only the pointer at 2/s: the text still in the window
        feed(17000, 18300, 100, 300);    // a second of tiny chunks: up
        return log;
        """,
    )
    assert steps == [
        [900, 30, 33333],
        [1500, 2, 500000],
        [5000, 2, 500000],
        [5001, 2, 500000],
        [6000, 2, 500000],
        [6200, 30, 33333],
        [12000, 30, 33333],
        [13500, 30, 33333],
        [15100, 30, 33333],
        [16200, 2, 500000],
        [17000, 2, 500000],
        [18300, 30, 33333],
    ]


async def test_frame_rate_does_not_count_the_second_after_a_key_chunk(
    server: LiveServer, browser: Browser
) -> None:
    """1080p: the big deltas that refine a key chunk (a seek point's while text scrolls at
    the low rate) keep the low rate; motion after that second brings the full rate at
    once; and the second is cut out of the policy's time, so motion seen before a key
    chunk still counts after it."""
    page = await page_on(browser, server)
    steps = await run(
        page,
        FRAME_RATE_FEED
        + """
        // motion in every third frame, scrolling text in the others (the whole workload);
        // logs the lowest rate on the way, as a step down would be undone by the next big chunk
        const workload = (from, to) => {
          let lowest = policy.rate;
          for (let t = from; t < to; t += 99) {
            for (const [dt, bytes] of [[0, 1400], [33, 1400], [66, 4300]]) {
              policy.chunk(bytes, false, t + dt);
              lowest = Math.min(lowest, policy.rate);
            }
          }
          log.push([to, lowest]);
        };
        feed(0, 1, 1, 200000, true);     // the first key chunk
        feed(33, 1000, 33, 30000);       // its refining deltas: not counted
        feed(1000, 2000, 33, 1400);      // text scrolls: a second of it counted, not yet
        feed(2000, 2300, 33, 1400);      // down
        feed(2500, 5000, 500, 3400);     // text at 2/s
        feed(5000, 5001, 1, 200000, true);  // a seek point's key chunk
        feed(5500, 6000, 500, 20000);    // its refining delta, big with nothing moving
        feed(6000, 9000, 500, 3400);     // the text scrolls on: stays down
        feed(9000, 9001, 1, 8400);       // an animation after the second: up at once
        workload(9033, 12000);           // motion: stays up
        feed(12000, 12001, 1, 200000, true);  // a key chunk
        feed(12033, 13000, 33, 30000);   // refining
        workload(13000, 14000);          // the motion before the key chunk still counts
        feed(14000, 15500, 33, 1400);    // text alone: down
        return log;
        """,
    )
    assert [step[:2] for step in steps] == [
        [1, 30],
        [1000, 30],
        [2000, 30],
        [2300, 2],
        [5000, 2],
        [5001, 2],
        [6000, 2],
        [9000, 2],
        [9001, 30],
        [12000, 30],
        [12001, 30],
        [13000, 30],
        [14000, 30],
        [15500, 2],
    ]


async def test_sharp_refresh_once_still_and_back_on_motion_or_drops(
    server: LiveServer, browser: Browser
) -> None:
    """1080p: after a key chunk or anything that is not tiny, 300 ms of tiny delta chunks
    ask for the sharp configuration; in it, a key chunk asked for and a second of refining
    deltas after each are not motion, a typed character is not, a big delta is; a drop goes back
    at once and
    keeps the sharp configuration away for 5 s; H.264 only."""
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const R = m.refresh;
        const refresh = new R.SharpRefresh(1920 * 1080);
        const log = [];
        const chunk = (t, bytes, key = false) => {
          const turn = refresh.chunk(bytes, key, t);
          if (turn !== null) log.push([t, turn]);
        };
        const feed = (from, to, every, bytes) => {
          for (let t = from; t < to; t += every) chunk(t, bytes);
        };
        chunk(0, 200000, true);          // the first key chunk: blurred
        feed(33, 340, 33, 300);          // tiny deltas: sharp once 300 ms still (at 330)
        refresh.keyAsked();
        chunk(360, 250000, true);        // the sharp configuration's key chunk
        feed(400, 1300, 33, 30000);      // its refining deltas, big, within the second
        feed(1300, 1600, 33, 300);
        chunk(1600, 3000);               // a typed character: stays sharp
        refresh.keyAsked();
        chunk(1650, 250000, true);       // a key chunk asked for (a seek point): refined anew
        chunk(1700, 10000);              // big, but within its second: stays sharp
        chunk(2600, 250000, true);       // one the encoder made by itself (a scene change)
        chunk(2700, 10000);              // a big delta after the second: back (soft)
        chunk(2750, 200000, true);       // the screen configuration's key chunk
        feed(3000, 4000, 500, 3400);     // scrolling text at 2/s
        feed(4000, 4400, 100, 300);      // tiny: 500 ms after the last line, sharp
        log.push(["drop", refresh.dropped(4500)]);  // sharp: back at once
        feed(4533, 9600, 33, 300);       // still, but no sharp picture until 9500
        log.push(["drop", refresh.dropped(10000)]);  // sharp again: back
        log.push(["drop", refresh.dropped(10100)]);  // not sharp: nothing to undo
        return { log, h264: R.sharpens("avc1.640028"), vp9: R.sharpens("vp09.00.10.08"),
                 vp8: R.sharpens("vp8"), bitrate: R.sharpBitrate(1920, 1080, 3000000),
                 small: R.sharpBitrate(640, 360, 333333), floor: R.sharpBitrate(320, 180, 300000) };
        """,
    )
    assert result["log"] == [
        [330, "sharp"],
        [2700, "soft"],
        [4000, "sharp"],
        ["drop", "soft"],
        [9516, "sharp"],
        ["drop", "soft"],
        ["drop", None],
    ]
    assert [result["h264"], result["vp9"], result["vp8"]] == [True, False, False]
    assert result["bitrate"] == 12_000_000
    assert result["small"] == 1_333_333
    assert result["floor"] == 333_333


async def test_bitrate_falls_on_drops_and_recovers_after_quiet(
    server: LiveServer, browser: Browser
) -> None:
    page = await page_on(browser, server)
    steps = await run(
        page,
        """
        const policy = new m.bitrate.BitratePolicy(3000000);
        policy.applied(3000000, 0);
        const log = [];
        const at = (t) => { const b = policy.due(t); if (b !== null) policy.applied(b, t);
                            log.push([t, b]); };
        policy.dropped(100); at(100);    // within 2 s of the configure: wait
        at(2000);                        // now: 3 M x 0.7
        policy.dropped(2100); policy.dropped(2200); at(2300);  // lowered twice, too soon
        at(4000);                        // 2.1 M x 0.7 x 0.7
        for (let i = 0; i < 40; i++) policy.dropped(4100 + i);  // floor
        at(6100);
        at(9000);                        // quiet for < 5 s: nothing
        at(9200);                        // 5 s quiet: x 1.2
        at(12000);                       // the last raise < 5 s ago
        at(14200);                       // x 1.2 again
        return log;
        """,
    )
    assert steps == [
        [100, None],
        [2000, 2100000],
        [2300, None],
        [4000, 1029000],
        [6100, 300000],
        [9000, None],
        [9200, 360000],
        [12000, None],
        [14200, 432000],
    ]


async def test_pointer_place_and_consent_check(server: LiveServer, browser: Browser) -> None:
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.DE).render("Anna Berger")
    page = await page_on(browser, server)
    result = await run(
        page,
        f"""
        const p = m.pointer.pointerPlace;
        const shown = {{ version: "{shown.version}", sha256: "{shown.sha256}" }};
        const text = {shown.text!r};
        const ok = (request) => m.consent.consentMatches(request, shown);
        const base = {{ type: "consent_request", mode: "browser",
                        consent_version: shown.version }};
        return {{
            places: [p({{ x: 0.25, y: 0.5 }}), p({{ x: 1.5, y: -1 }}), p({{ x: null, y: 0.5 }}),
                     p({{ x: NaN, y: 0 }}), p(null)],
            sha: await m.consent.sha256Hex(text),
            both: await ok({{ ...base, consent_sha256: shown.sha256, consent_text: text }}),
            textOnly: await ok({{ ...base, consent_text: text }}),
            otherText: await ok({{ ...base, consent_sha256: shown.sha256,
                                   consent_text: text + " " }}),
            otherVersion: await ok({{ ...base, consent_version: "2026-11-1",
                                      consent_sha256: shown.sha256 }}),
            appletMode: await ok({{ ...base, mode: "applet", consent_sha256: shown.sha256 }}),
            neither: await ok(base),
            yes: m.consent.consentAnswer(shown, "yes"),
            no: m.consent.consentAnswer(shown, "no", "picker_cancelled"),
        }};
        """,
    )
    assert result["places"] == [
        {"left": "25.00%", "top": "50.00%"},
        {"left": "100.00%", "top": "0.00%"},
        None,
        None,
        None,
    ]
    assert result["sha"] == hashlib.sha256(shown.text.encode()).hexdigest()
    assert result["both"] is True and result["textOnly"] is True
    for refused in ("otherText", "otherVersion", "appletMode", "neither"):
        assert result[refused] is False, refused
    assert result["yes"] == {
        "type": "consent",
        "decision": "yes",
        "consent_version": BROWSER_CONSENT_VERSION,
        "consent_sha256": shown.sha256,
    }
    assert result["no"]["decision"] == "no" and result["no"]["reason"] == "picker_cancelled"


async def test_receipt_mirrors_the_programs(server: LiveServer, browser: Browser) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const r = m.receipt;
        const de = { consultation_number: "Beratungsnummer", bank: "Bank",
                     agent_name: "Berater/in", start: "Beginn", end: "Ende",
                     duration: "Dauer", shared: "Freigegeben",
                     shared_items: "Bildschirm (Ansicht), Chat, Zeiger",
                     receipt_title: "Quittung Fernwartung",
                     recording_notice: "Die Sitzung wird aufgezeichnet.",
                     quote_number: "Bitte nennen Sie bei Rückfragen die Beratungsnummer." };
        const word = (key) => de[key] ?? key;
        const receipt = { consultationNumber: "2026-1206-0042", bank: "LIGA Bank eG",
                          bankDomain: "fernwartung.ligabank.de", agentName: "Anna Berger",
                          startedAt: new Date("2026-12-06T09:15:02Z"),
                          endedAt: new Date("2026-12-06T10:17:05.400Z"), language: "de" };
        return {
            stem: r.receiptFileStem("2026/1206 0042"),
            durations: [r.formatDuration(0), r.formatDuration(3723400), r.formatDuration(-5)],
            de: r.formatLocal(new Date("2026-07-01T10:00:00Z"), "de"),
            en: r.formatLocal(new Date("2026-12-06T09:15:02Z"), "en"),
            text: r.receiptText(receipt, word),
            json: r.receiptJson(receipt, word),
            names: Object.values(r.receiptFiles(receipt, word)).map((f) => f.name),
        };
        """,
    )
    assert result["stem"] == "Fernwartung-202612060042"
    assert result["durations"] == ["0:00:00 (h:mm:ss)", "1:02:03 (h:mm:ss)", "0:00:00 (h:mm:ss)"]
    assert result["de"] == "01.07.2026, 12:00:00 Uhr"
    assert result["en"] == "2026-12-06, 10:15:02 CET"
    assert result["text"] == (
        "Quittung Fernwartung\n"
        "====================\n"
        "\n"
        "Beratungsnummer: 2026-1206-0042\n"
        "Bank:            LIGA Bank eG (fernwartung.ligabank.de)\n"
        "Berater/in:      Anna Berger\n"
        "Beginn:          06.12.2026, 10:15:02 Uhr\n"
        "Ende:            06.12.2026, 11:17:05 Uhr\n"
        "Dauer:           1:02:03 (h:mm:ss)\n"
        "Freigegeben:     Bildschirm (Ansicht), Chat, Zeiger\n"
        "\n"
        "Die Sitzung wird aufgezeichnet.\n"
        "\n"
        "Bitte nennen Sie bei Rückfragen die Beratungsnummer.\n"
    )
    assert result["json"] == {
        "consultation_number": "2026-1206-0042",
        "bank": "LIGA Bank eG",
        "bank_domain": "fernwartung.ligabank.de",
        "agent_name": "Anna Berger",
        "started_at": "2026-12-06T09:15:02Z",
        "ended_at": "2026-12-06T10:17:05Z",
        "duration_seconds": 3723,
        "capabilities": [{"at": "2026-12-06T09:15:02Z", "capability": "view", "granted": True}],
        "files": [],
        "shared": ["screen_view", "chat", "pointer"],
        "way": "browser",
        "recording_notice": "Die Sitzung wird aufgezeichnet.",
        "language": "de",
    }
    assert result["names"] == ["Fernwartung-2026-1206-0042.txt", "Fernwartung-2026-1206-0042.json"]


# A fake link for ScreenSender: what it sends goes into `sent` (video chunks as their kind
# and size), within a credit window of 1 MiB that a video chunk must fit in.
SENDER_LINK = """
    const sent = [];
    const link = {
        credit: new m.link.CreditWindow(1024 * 1024), bufferedAmount: 0,
        send(message) { sent.push(message); return true; },
        sendVideo(payload) {
            if (!this.credit.allows(payload.byteLength)) return false;
            this.credit.spend(payload.byteLength);
            sent.push({ chunk: payload[0] & 1 ? "key" : "delta", bytes: payload.byteLength });
            return true;
        },
    };
"""

# The real ScreenSender on SENDER_LINK with a page clock the test moves, fed VideoFrames
# of a 640x360 canvas (frame n painted by the test's own feed).
SENDER_ON_A_CANVAS = (
    SENDER_LINK
    + """
    const { ScreenSender } = await import("/static/share/sender.js");
    let clock = 0;
    const sender = new ScreenSender(link, { onProblem: () => {} }, () => clock);
    const canvas = new OffscreenCanvas(640, 360);
    const paint = canvas.getContext("2d");
    let n = 0;
"""
)


async def test_sender_configures_keys_and_drops_under_back_pressure(
    server: LiveServer, browser: Browser
) -> None:
    """The real VideoEncoder behind ScreenSender, fed painted frames, sending to a fake link
    whose credit window is small: video_config first, key chunks after every configure,
    drop and relay keyframe request, and a re-pick when the relay's codecs exclude ours."""
    page = await page_on(browser, server)
    result = await run(
        page,
        SENDER_LINK
        + """
        const { ScreenSender } = await import("/static/share/sender.js");
        const problems = [];
        let clock = 0;
        const sender = new ScreenSender(link, { onProblem: (p) => problems.push(p) }, () => clock);
        const canvas = new OffscreenCanvas(640, 360);
        const paint = canvas.getContext("2d");
        let n = 0;
        const feed = async (count) => {
            for (let i = 0; i < count; i++, n++) {
                paint.fillStyle = `hsl(${(n * 37) % 360} 80% 50%)`;
                paint.fillRect(0, 0, 640, 360);
                paint.fillStyle = "#000";
                paint.fillText(String(n), 10 + (n % 50) * 10, 50);
                sender.frame(new VideoFrame(canvas, { timestamp: n * 40000 }));
                clock += 40;
                await new Promise((r) => setTimeout(r, 15));
            }
            await sender.encoder?.flush();
        };
        await feed(1);                 // the first frame configures
        await new Promise((r) => setTimeout(r, 300));
        await feed(8);
        const first = sent.slice();
        sent.length = 0;
        sender.keyframe();
        await feed(2);
        const afterKeyframe = sent.slice();
        sent.length = 0;
        link.credit.spend(link.credit.available - 200);   // the window is all but used up
        await feed(4);
        const squeezed = { sent: sent.slice(), dropped: sender.stats.dropped,
                           target: sender.policy.target };
        link.credit.returned(1024 * 1024);
        sent.length = 0;
        await feed(3);
        const recovered = sent.slice();
        sent.length = 0;
        const before = sender.current.codec;
        sender.setRelayCodecs(["vp8"]);
        await feed(1);
        await new Promise((r) => setTimeout(r, 300));
        await feed(3);
        const repicked = sent.slice();
        sender.stop();
        return { first, afterKeyframe, squeezed, recovered, before, repicked, problems };
        """,
    )
    first = result["first"]
    assert first[0]["type"] == "video_config" and first[0]["width"] == 640
    assert first[0]["height"] == 360 and first[1]["chunk"] == "key"
    assert [m for m in first[2:] if "chunk" not in m] == []
    assert result["afterKeyframe"][0]["chunk"] == "key"
    squeezed = result["squeezed"]
    assert squeezed["dropped"] >= 1 and squeezed["sent"] == []
    assert squeezed["target"] == 300_000  # 333 kbit/s x 0.7, held at the floor
    recovered = [m for m in result["recovered"] if "chunk" in m]
    assert recovered and recovered[0]["chunk"] == "key", "after a drop the next chunk is key"
    repicked = result["repicked"]
    assert result["before"] != "vp8"
    assert repicked[0] == {"type": "video_config", "codec": "vp8", "width": 640, "height": 360}
    assert repicked[1]["chunk"] == "key"
    assert result["problems"] == []


async def test_sender_skips_frames_and_changes_bitrate_without_a_key_chunk(
    server: LiveServer, browser: Browser
) -> None:
    """The real VideoEncoder behind ScreenSender: a frame skipped before encoding (the
    socket full) breaks no chain, and the lower bitrate that follows is a change of the
    encoder's bitrate alone: neither asks for a key chunk (some 185 KB at 1080p) nor sends
    a video_config (which makes the agent's decoder start afresh)."""
    page = await page_on(browser, server)
    result = await run(
        page,
        SENDER_ON_A_CANVAS
        + """
        const feed = async (count) => {
            for (let i = 0; i < count; i++, n++) {
                paint.fillStyle = "#fff";   // a line of text changes, as typing does
                paint.fillRect(0, 0, 640, 360);
                paint.fillStyle = "#000";
                paint.fillText(`Kontostand ${n}`, 10 + (n % 50) * 10, 50);
                sender.frame(new VideoFrame(canvas, { timestamp: n * 40000 }));
                clock += 40;
                await new Promise((r) => setTimeout(r, 15));
            }
            await sender.encoder?.flush();
        };
        await feed(1);                 // the first frame configures
        await new Promise((r) => setTimeout(r, 300));
        await feed(6);
        sent.length = 0;
        link.bufferedAmount = 300 * 1024;   // the socket holds too much: frames are skipped
        await feed(3);
        const skipped = { sent: sent.slice(), dropped: sender.stats.dropped };
        link.bufferedAmount = 0;
        await feed(3);
        const after = sent.slice();
        sent.length = 0;
        clock += 2000;                 // the bitrate policy may reconfigure now
        await feed(6);
        const lowered = { sent: sent.slice(), bitrate: sender.current.config.bitrate,
                          hint: sender.current.config.contentHint ?? null };
        sender.stop();
        return { skipped, after, lowered, codec: sender.current.codec };
        """,
    )
    assert result["skipped"]["sent"] == [] and result["skipped"]["dropped"] >= 1
    assert result["after"] and all(m.get("chunk") == "delta" for m in result["after"])
    lowered = result["lowered"]
    assert lowered["bitrate"] < 333_333, "the policy lowered the bitrate after the skip"
    assert lowered["hint"] == "text"
    assert lowered["sent"] and all(m.get("chunk") == "delta" for m in lowered["sent"]), (
        result["codec"],
        lowered["sent"],
    )


async def test_sender_sharpens_a_still_picture_and_goes_back_when_it_moves(
    server: LiveServer, browser: Browser
) -> None:
    """The real VideoEncoder behind ScreenSender: once an H.264 picture stays still, a new
    video_config and a key chunk of the sharp configuration (no content hint, the sharp
    bitrate); when the picture moves again, the screen-content configuration again."""
    page = await page_on(browser, server)
    result = await run(
        page,
        SENDER_ON_A_CANVAS
        + """
        const feed = async (count, moving) => {
            for (let i = 0; i < count; i++, n++) {
                if (moving || n === 0) {
                    paint.fillStyle = `hsl(${(n * 37) % 360} 80% 50%)`;
                    paint.fillRect(0, 0, 640, 360);
                    paint.fillStyle = "#000";
                    paint.fillText(`Kontostand ${n}`, 10 + (n % 50) * 10, 50);
                }
                sender.frame(new VideoFrame(canvas, { timestamp: n * 40000 }));
                clock += 40;
                await new Promise((r) => setTimeout(r, 15));
            }
            await sender.encoder?.flush();
        };
        const state = () => ({ sharp: sender.sharp, hint: sender.current.config.contentHint ?? null,
                               bitrate: sender.current.config.bitrate });
        await feed(1, true);           // the first frame configures
        await new Promise((r) => setTimeout(r, 300));
        await feed(6, true);
        const moving = state();
        sent.length = 0;
        await feed(20, false);         // 800 ms still
        const still = { ...state(), sent: sent.slice() };
        sent.length = 0;
        await feed(40, true);          // moving again, past the sharp key chunk's second
        const again = { ...state(), sent: sent.slice() };
        sender.stop();
        return { codec: sender.current.codec, moving, still, again };
        """,
    )
    if not result["codec"].startswith("avc1."):
        pytest.skip("this Chromium encodes no H.264: nothing to sharpen")
    assert result["moving"] == {"sharp": False, "hint": "text", "bitrate": 333_333}
    still = result["still"]
    assert {k: still[k] for k in ("sharp", "hint", "bitrate")} == {
        "sharp": True,
        "hint": None,
        "bitrate": 1_333_333,  # 12 Mbit/s at 1080p, by pixel count
    }
    configs = [i for i, m in enumerate(still["sent"]) if m.get("type") == "video_config"]
    assert len(configs) == 1, "one switch to the sharp configuration"
    assert still["sent"][configs[0] + 1]["chunk"] == "key"
    again = result["again"]
    assert {k: again[k] for k in ("sharp", "hint", "bitrate")} == {
        "sharp": False,
        "hint": "text",
        "bitrate": 333_333,
    }
    configs = [i for i, m in enumerate(again["sent"]) if m.get("type") == "video_config"]
    assert configs and again["sent"][configs[-1] + 1]["chunk"] == "key"


async def test_heartbeats_every_second_and_silence_of_four_seconds_is_a_lost_link(
    server: LiveServer, browser: Browser
) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const { LinkWatch, heartbeat } = m.heartbeat;
        const watch = new LinkWatch(1000);
        const beats = [];
        for (let t = 1000; t <= 4600; t += 250) if (watch.heartbeatDue(t)) beats.push(t);
        const late = new LinkWatch(0);
        const lateBeats = [0, 1700, 2000, 2600, 5900, 6000].filter((t) => late.heartbeatDue(t));
        const silence = new LinkWatch(0);
        silence.heard(2500);
        silence.heard(1000);  // out of order: the latest counts
        // The link's ticks come from a worker (a hidden tab throttles the page's timers).
        let ticks = 0;
        const stop = m["session-link"].workerTicks(() => { ticks += 1; });
        await new Promise((r) => setTimeout(r, 1100));
        stop();
        const stopped = ticks;
        await new Promise((r) => setTimeout(r, 600));
        return {
            ticks: stopped, ticksAfterStop: ticks - stopped,
            message: heartbeat(), beats, lateBeats,
            at6499: silence.lost(6499), at6500: silence.lost(6500),
            silent: silence.silentFor(6000), before: silence.silentFor(2000),
        };
        """,
    )
    assert 3 <= result["ticks"] <= 5 and result["ticksAfterStop"] == 0
    assert result["message"] == {"type": "heartbeat"}
    assert result["beats"] == [1000, 2000, 3000, 4000]  # one a second, the first at once
    assert result["lateBeats"] == [0, 1700, 2600, 5900]  # no catching up after a stall
    assert result["at6499"] is False and result["at6500"] is True
    assert result["silent"] == 3500 and result["before"] == 0


async def test_backoff_doubles_with_jitter_and_never_waits_more_than_two_seconds(
    server: LiveServer, browser: Browser
) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const { Backoff, MAX_DELAY_MS } = m.backoff;
        const series = (share) => {
            const b = new Backoff({ random: () => share });
            return Array.from({ length: 8 }, () => b.next());
        };
        const b = new Backoff({ random: () => 1 });
        b.next(); b.next(); b.next();
        b.reset();
        const real = new Backoff();
        const many = Array.from({ length: 200 }, () => real.next());
        return { low: series(0), high: series(1), mid: series(0.5), afterReset: b.next(),
                 max: MAX_DELAY_MS, worst: Math.max(...many), least: Math.min(...many),
                 spread: new Set(many.slice(10)).size };
        """,
    )
    assert result["high"] == [250, 500, 1000, 2000, 2000, 2000, 2000, 2000]
    assert result["low"] == [125, 250, 500, 1000, 1000, 1000, 1000, 1000]
    assert result["mid"] == [188, 375, 750, 1500, 1500, 1500, 1500, 1500]
    assert result["afterReset"] == 250
    assert result["max"] == 2000 and result["worst"] <= 2000 and result["least"] >= 125
    assert result["spread"] > 20, "jitter: pages that lost the link together spread out"


# A fake clock and timers, and fake sockets the session link opens, for session-link.js.
FAKE_WORLD = """
    const world = { now: 0, timers: new Map(), nextId: 1, links: [], log: [] };
    const later = (fn, ms, every) => {
        const id = world.nextId++;
        world.timers.set(id, { at: world.now + ms, fn, every });
        return id;
    };
    const timers = {
        setTimeout: (fn, ms) => later(fn, ms, null),
        setInterval: (fn, ms) => later(fn, ms, ms),
        clearTimeout: (id) => world.timers.delete(id),
        clearInterval: (id) => world.timers.delete(id),
    };
    world.advance = (ms) => {
        const until = world.now + ms;
        for (;;) {
            let next = null;
            for (const [id, t] of world.timers) {
                if (t.at <= until && (!next || t.at < next[1].at)) next = [id, t];
            }
            if (!next) break;
            const [id, t] = next;
            world.now = t.at;
            if (t.every) t.at += t.every; else world.timers.delete(id);
            t.fn();
        }
        world.now = until;
    };
    class FakeLink {
        constructor(url, protocols, handlers) {
            Object.assign(this, { url, protocols, handlers, opened: false, closed: null,
                                  sent: [], credit: new m.link.CreditWindow() });
            world.links.push(this);
        }
        get isOpen() { return this.opened && this.closed === null; }
        get bufferedAmount() { return 0; }
        send(message) { if (!this.isOpen) return false; this.sent.push(message); return true; }
        sendVideo() { return this.isOpen; }
        close() { this.closed ??= "closed"; }
        abandon() { this.closed ??= "abandoned"; }
        // the relay's side
        open() { this.opened = true; this.handlers.onOpen(); }
        receive(message) { this.handlers.onHeard(); this.handlers.onControl(message); }
        drop(code) { this.closed ??= "dropped"; this.handlers.onClose(this.opened, code); }
    }
    const sessionLink = (options = {}) => new m["session-link"].SessionLink({
        url: "wss://bank.example/ws/browser", token: "tok", number: "BN-1", language: "de",
        clock: () => world.now, timers, openLink: (u, p, h) => new FakeLink(u, p, h),
        backoff: new m.backoff.Backoff({ random: () => 1 }),
        handlers: {
            onControl: (msg) => world.log.push(["control", msg.type]),
            onLost: () => world.log.push(["lost", world.now]),
            onRelinked: () => world.log.push(["relinked", world.now]),
            onGone: (opened) => world.log.push(["gone", opened, world.now]),
        },
        ...options,
    });
    const beats = (link) => link.sent.filter((s) => s.type === "heartbeat").length;
"""


async def test_session_link_heartbeats_reconnects_with_the_secret_and_gives_up_after_grace(
    server: LiveServer, browser: Browser
) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        FAKE_WORLD
        + """
        const out = {};
        const s = sessionLink();
        const first = world.links[0];
        out.firstProtocols = first.protocols;
        first.open();
        world.advance(3100);
        out.beats = beats(first);
        first.receive({ type: "heartbeat" });       // swallowed: not for the page
        first.receive({ type: "resume", secret: "s1", grace_seconds: 10 });
        out.secretKept = s.secret;
        // The relay falls silent: lost 4 s after the last thing heard (at 3100), on
        // the first tick (every 250 ms) that sees it.
        world.advance(3800);
        out.openAt6900 = first.closed;
        world.advance(400);
        out.first = first.closed;
        out.lostAt = world.log.find((e) => e[0] === "lost")?.[1];
        // Tries after 250, 500, 1000 ms (with this jitter), each given up after 4 s
        // unanswered (a black hole), until the grace (10 s from the loss) is over.
        world.advance(12000);
        out.tries = world.links.slice(1).map((l) => [l.protocols, l.closed]);
        out.gone = world.log.find((e) => e[0] === "gone");
        out.triesAfter = world.links.length;
        world.advance(10000);
        out.triesLater = world.links.length;
        out.log = world.log.map((e) => e[0]);
        return out;
        """,
    )
    assert result["firstProtocols"] == ["supportdesk.link.v1", "token.tok", "lang.de"]
    assert result["beats"] == 4  # at 0, 1000, 2000, 3000
    assert result["secretKept"] == "s1"
    assert result["openAt6900"] is None and result["first"] == "abandoned"
    assert result["lostAt"] == 7250  # heard at 3100, + 4000, on the next tick
    tries = result["tries"]
    assert len(tries) == 3  # at 7500, 12000 (7500 + 4000 + 500), 17000
    assert all(t[0] == ["supportdesk.link.v1", "resume.BN-1.s1", "lang.de"] for t in tries)
    assert all(t[1] == "abandoned" for t in tries)
    assert result["gone"] == ["gone", True, 17250]
    assert result["triesLater"] == result["triesAfter"], "no tries after the grace"
    assert result["log"].count("lost") == 1 and "relinked" not in result["log"]


async def test_session_link_resumes_and_delivers_end_and_gives_up_without_a_secret(
    server: LiveServer, browser: Browser
) -> None:
    page = await page_on(browser, server)
    result = await run(
        page,
        FAKE_WORLD
        + """
        const out = {};
        // Before consent there is no secret: a lost link is gone at once.
        const early = sessionLink();
        world.links[0].open();
        world.links[0].drop(1006);
        out.early = world.log.slice();
        world.log.length = 0;
        world.links.length = 0;

        // A dropped link comes back: relinked, fresh credit, the new secret next time.
        const s = sessionLink();
        const first = world.links[0];
        first.open();
        first.receive({ type: "resume", secret: "s1", grace_seconds: 120 });
        first.credit.spend(5000);
        first.drop(1006);
        world.advance(250);
        const second = world.links[1];
        out.secondProtocols = second.protocols;
        second.open();
        out.freshCredit = s.credit.available;
        second.receive({ type: "resume", secret: "s2", grace_seconds: 120 });
        out.relinked = world.log.map((e) => e[0]);
        out.beatsAtOnce = beats(second);

        // Ending while the link is down: `end` goes over the resumed link, no relink.
        second.drop(1006);
        s.endSession();
        s.finish();
        world.advance(250);
        const third = world.links[2];
        out.thirdProtocols = third.protocols;
        third.open();
        out.thirdSent = third.sent.map((m) => m.type);
        third.receive({ type: "end", reason: "customer" });
        third.drop(1000);
        world.advance(20000);
        out.after = world.links.length;
        out.log = world.log.map((e) => e[0]);

        // A refused resume (the session is over): gone, no more tries.
        world.log.length = 0;
        world.links.length = 0;
        const r = sessionLink();
        world.links[0].open();
        world.links[0].receive({ type: "resume", secret: "x", grace_seconds: 120 });
        world.links[0].drop(1006);
        world.advance(250);
        world.links[1].open();
        world.links[1].drop(4401);
        world.advance(5000);
        out.refused = world.log.map((e) => e[0]);
        out.refusedTries = world.links.length;
        return out;
        """,
    )
    assert result["early"] == [["gone", True, 0]]
    assert result["secondProtocols"] == ["supportdesk.link.v1", "resume.BN-1.s1", "lang.de"]
    assert result["freshCredit"] == 1024 * 1024
    assert result["relinked"] == ["control", "lost", "relinked", "control"]
    assert result["beatsAtOnce"] == 1
    assert result["thirdProtocols"] == ["supportdesk.link.v1", "resume.BN-1.s2", "lang.de"]
    assert result["thirdSent"] == ["heartbeat", "end"]
    assert result["after"] == 3, "after the relay's end, no more tries"
    assert "relinked" not in result["log"][4:] and "gone" not in result["log"]
    assert result["refused"] == ["control", "lost", "relinked", "gone"]
    assert result["refusedTries"] == 2


async def test_the_encoder_trial_configures_what_the_sender_does(
    server: LiveServer, browser: Browser
) -> None:
    """bench/share_encoder.py's baseline stands for the page's encoder at 1080p: the codec
    pick, bitrate and options of codecs.js plus the sender's content hint."""
    from bench.share_encoder import H264

    page = await page_on(browser, server)
    result = await run(
        page,
        """
        const sender = await import("/static/share/sender.js");
        const c = m.codecs;
        const chosen = await c.pickCodec(1920, 1080, c.startBitrate(1920, 1080), null,
                                         async () => ({ supported: true }));
        return { ...chosen.config, contentHint: sender.CONTENT_HINT };
        """,
    )
    assert result == H264
