"""The ``supportdesk`` command line: serve, database migrations, and (later) agents,
join, recordings, audit."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from supportdesk import __version__
from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.logs import configure_logging


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


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
    settings = _settings(args)
    revision = asyncio.run(_db_upgrade(settings))
    print(f"database at revision {revision}")
    return 0


def cmd_db_status(args: argparse.Namespace) -> int:
    current, head = asyncio.run(_db_status(_settings(args)))
    print(f"current revision: {current or 'none'}; newest: {head}")
    return 0 if current == head else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from supportdesk.server.app import create_app

    settings = _settings(args)
    configure_logging(settings.logging.level, settings.logging.format)
    current, head = asyncio.run(_db_status(settings))
    if current != head:
        print(
            f"the database is at revision {current or 'none'}, the code needs {head}: "
            "run `supportdesk db upgrade` first",
            file=sys.stderr,
        )
        return 2
    base = settings.server.base_url
    print(f"supportdesk {__version__}", flush=True)
    print(f"  portal:  {base}/", flush=True)
    print(f"  console: {base}/console/", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_config=None,
        ssl_certfile=str(settings.server.tls_cert) if settings.server.tls_cert else None,
        ssl_keyfile=str(settings.server.tls_key) if settings.server.tls_key else None,
        proxy_headers=False,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supportdesk",
        description="Remote-support desk for a bank's online-banking hotline.",
    )
    parser.add_argument("--version", action="version", version=f"supportdesk {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML configuration file (default: $SUPPORTDESK_CONFIG or ./supportdesk.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web server (portal, console, API)")
    serve.set_defaults(handler=cmd_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply all pending migrations").set_defaults(
        handler=cmd_db_upgrade
    )
    db_commands.add_parser(
        "status", help="show the schema revision; exit 1 if migrations are pending"
    ).set_defaults(handler=cmd_db_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"supportdesk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
