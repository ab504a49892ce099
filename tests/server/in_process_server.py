"""The real server in the test's own process and event loop, on a real port.

Like ``tests/live_server.py`` but in-process, so a test can reach the running app
(``app.state.desk``) and the writer's fault-injection seam: the relay's recording
tests fill the "disk" and empty it again while the session runs. The configuration
is a ``supportdesk.toml`` in the work folder, so the ``supportdesk`` commands the
helpers run there (adding agents) use the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import uvicorn
from fastapi import FastAPI

from supportdesk.config import load_settings
from supportdesk.server.app import create_app
from supportdesk.server.relay.direct_websocket import DirectWebSocketProtocol
from supportdesk.server.state import Desk
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.live_server import LiveServer, free_port


@contextlib.asynccontextmanager
async def in_process_server(
    workdir: Path, ws: type[asyncio.Protocol] | str = DirectWebSocketProtocol
) -> AsyncIterator[tuple[LiveServer, FastAPI]]:
    """The server as ``supportdesk serve`` runs it; ``ws`` may name another WebSocket
    protocol (uvicorn's own, to test the relay without the direct path)."""
    port = free_port()
    config = workdir / "supportdesk.toml"
    config.write_text(
        f'data_dir = "{workdir / "var"}"\n'
        f'[database]\nurl = "sqlite+aiosqlite:///{workdir / "supportdesk.db"}"\n'
        f"[server]\nport = {port}\n"
        '[logging]\nlevel = "WARNING"\n'
    )
    settings = load_settings(config, {})
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            ws=ws,
            ws_per_message_deflate=False,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", workdir, cast(Any, None)), app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


def desk(app: FastAPI) -> Desk:
    found: Desk = app.state.desk
    return found
