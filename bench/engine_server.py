"""Serve our engine (RFBSession with mss capture) on a loopback port, for the benchmark only.

A separate process so that its CPU time can be read from /proc like the peers'. The
applet itself never listens; this harness stands in for the relay's channel. Like the
support program's, every session has a mask source (the session's masking without the
accessibility watcher: nothing masked, but the capture reads and paints masks as a
customer's does); ``--no-masks`` serves without one.
"""

from __future__ import annotations

import argparse
import asyncio

from supportdesk.applet.screen.masking import SessionMasking
from supportdesk.applet.screen.rfb_link import MAX_UPDATE_AREA, OFF_LOOP_AREA
from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.applet.screen.streams import AsyncioByteReader, AsyncioByteWriter
from supportdesk.capture.screen_source import MssScreenSource
from supportdesk.rfb.frame_clock import DEFAULT_FRAME_RATE, DEFAULT_LARGE_FRAME_RATE


async def main(
    display: str,
    port: int,
    max_fps: float,
    masks: bool,
    max_area: int,
    frame_rate: float,
    scroll: bool = True,
    large_frame_rate: float | None = DEFAULT_LARGE_FRAME_RATE,
    off_loop_area: int = OFF_LOOP_AREA,
    small_alone: bool = True,
) -> None:
    source = MssScreenSource(display)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        masking = SessionMasking(None) if masks else None
        session = RFBSession(
            source,
            None,
            monitor=0,
            max_fps=max_fps,
            masks=masking,
            max_update_area=max_area or None,
            frame_rate=frame_rate or None,
            detect_scroll=scroll,
            large_frame_rate=large_frame_rate,
            off_loop_area=off_loop_area,
            small_changes_alone=small_alone,
        )
        session.start()
        try:
            await session.serve(AsyncioByteReader(reader), AsyncioByteWriter(writer))
        finally:
            session.stop()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--display", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-fps", type=float, default=30.0)
    parser.add_argument("--no-masks", action="store_true")
    parser.add_argument("--max-update-area", type=int, default=MAX_UPDATE_AREA, help="0: no limit")
    parser.add_argument(
        "--frame-rate", type=float, default=DEFAULT_FRAME_RATE, help="0: no frame clock"
    )
    parser.add_argument("--no-scroll", action="store_true", help="no scroll detection")
    parser.add_argument(
        "--large-frame-rate", type=float, default=DEFAULT_LARGE_FRAME_RATE,
        help="frames a second after a large frame (0: the frame rate)",
    )  # fmt: skip
    parser.add_argument(
        "--off-loop-area", type=int, default=OFF_LOOP_AREA,
        help="updates of at least this many pixels are encoded in a worker thread",
    )  # fmt: skip
    parser.add_argument(
        "--hold-small", action="store_true",
        help="small changes wait with the large ones for the large frame rate's tick",
    )  # fmt: skip
    args = parser.parse_args()
    asyncio.run(
        main(
            args.display,
            args.port,
            args.max_fps,
            not args.no_masks,
            args.max_update_area,
            args.frame_rate,
            not args.no_scroll,
            args.large_frame_rate or None,
            args.off_loop_area,
            not args.hold_small,
        )
    )
