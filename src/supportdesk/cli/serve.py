"""``supportdesk serve`` and ``supportdesk db``: the web server and its schema."""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
from collections.abc import Callable
from pathlib import Path

from supportdesk.cli.common import has_agents, settings_of, with_store
from supportdesk.cli.serve_banner import own_command, start_banner
from supportdesk.config import Settings, load_settings
from supportdesk.logs import configure_logging


async def _db_upgrade(settings: Settings) -> str:
    from supportdesk.store.database import create_engine
    from supportdesk.store.migrate import current_revision, upgrade

    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
        return await current_revision(engine) or "none"
    finally:
        await engine.dispose()


async def _db_status(settings: Settings) -> tuple[str | None, str]:
    from supportdesk.store.database import create_engine
    from supportdesk.store.migrate import current_revision, head_revision

    engine = create_engine(settings.database.url)
    try:
        return await current_revision(engine), head_revision()
    finally:
        await engine.dispose()


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    revision = asyncio.run(_db_upgrade(settings))
    print(f"database at revision {revision}")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    current, head = asyncio.run(_db_status(settings_of(args)))
    print(f"current revision: {current or 'none'}; newest: {head}")
    return 0 if current == head else 1


def tls13_only(config: object, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's TLS context for the configured certificate, refusing anything older
    than TLS 1.3 (the support program insists on it too; every current browser has it)."""
    context = default()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


def serve_settings(args: argparse.Namespace) -> Settings:
    """The configuration, with ``--host`` and ``--port`` above the file and the
    environment (given as the environment's own keys, so they are validated alike)."""
    environ = dict(os.environ)
    if args.host is not None:
        environ["SUPPORTDESK_SERVER_HOST"] = args.host
    if args.port is not None:
        environ["SUPPORTDESK_SERVER_PORT"] = str(args.port)
    return load_settings(args.config, environ)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from supportdesk.server.app import create_app
    from supportdesk.server.public_address import insecure_public_address
    from supportdesk.server.relay.direct_websocket import DirectWebSocketProtocol

    settings = serve_settings(args)
    # The checks run before logging is set up, and the banner is written at once: the
    # person who started the server reads the next steps before the first log line.
    current, head = asyncio.run(_db_status(settings))
    if current != head:
        print(
            f"the database is at revision {current or 'none'}, the code needs {head}: "
            "run `supportdesk db upgrade` first",
            file=sys.stderr,
        )
        return 2
    banner = start_banner(
        settings,
        has_agents=asyncio.run(with_store(settings, has_agents)),
        command=own_command(),
        config=args.config,
        workdir=Path.cwd(),
        warning=insecure_public_address(settings.server),
    )
    sys.stderr.write(banner)
    sys.stderr.flush()
    configure_logging(settings.logging.level, settings.logging.format)
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        ssl_certfile=str(settings.server.tls_cert) if settings.server.tls_cert else None,
        ssl_keyfile=str(settings.server.tls_key) if settings.server.tls_key else None,
        ssl_context_factory=tls13_only if settings.server.tls_cert else None,
        proxy_headers=False,
        # RFB is compressed already (Tight: zlib and JPEG); deflating it again per
        # WebSocket message costs the relay most of its CPU and gains nothing.
        ws_per_message_deflate=False,
        ws=DirectWebSocketProtocol,  # the relay's screen updates skip the ASGI queue
    )
    return 0
