"""The ``supportdesk`` command line: serve, database migrations, agents, audit."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from supportdesk import __version__
from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.logs import configure_logging

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")


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
    if not asyncio.run(_with_store(settings, _has_agents)):
        print(
            "  no agent accounts yet: create the first administrator with\n"
            "  supportdesk agents add USERNAME --name 'Full Name' --role admin",
            flush=True,
        )
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


async def _with_store(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from supportdesk.store.database import create_engine

    engine = create_engine(settings.database.url)
    try:
        return await action(engine)
    finally:
        await engine.dispose()


async def _has_agents(engine: AsyncEngine) -> bool:
    from supportdesk.store.agents import AgentAccounts
    from supportdesk.store.database import session_factory

    async with session_factory(engine)() as session:
        return await AgentAccounts(session).count() > 0


def _cli_actor() -> str:
    return f"cli:{getpass.getuser()}"


def cmd_agents(args: argparse.Namespace) -> int:
    from supportdesk.accounts import AccountAdmin
    from supportdesk.domain.agent_accounts import InvalidAccount, Role
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory

    settings = _settings(args)
    now = datetime.now(UTC)

    async def run(engine: AsyncEngine) -> int:
        admin = AccountAdmin(AuditLog(session_factory(engine)))
        if args.agents_command == "list":
            for agent in await admin.list():
                state = "disabled" if agent.disabled else "active"
                factor = "totp" if agent.totp_secret else "-"
                columns = (agent.username.ljust(24), agent.role.value.ljust(10), state.ljust(8))
                print(*columns, factor.ljust(4), agent.display_name)
            return 0
        if args.agents_command == "add":
            password = None
            if args.password_stdin:
                password = sys.stdin.readline().rstrip("\n")
            agent, generated = await admin.add(
                args.username, args.name, Role(args.role), password, _cli_actor(), now
            )
            print(f"created {agent.username} ({agent.role.value})")
            if generated:
                print(f"initial password (shown once, hand it over in person): {generated}")
            return 0
        if args.agents_command in ("disable", "enable"):
            await admin.set_disabled(
                args.username, args.agents_command == "disable", _cli_actor(), now
            )
            print(f"{args.username}: {args.agents_command}d")
            return 0
        if args.agents_command == "reset-password":
            password = await admin.reset_password(args.username, _cli_actor(), now)
            print(f"new initial password for {args.username} (shown once): {password}")
            print("the second factor was reset and is enrolled again at the next login")
            return 0
        raise AssertionError(args.agents_command)

    try:
        return asyncio.run(_with_store(settings, run))
    except InvalidAccount as exc:
        print(f"supportdesk agents: {exc}", file=sys.stderr)
        return 2


def cmd_audit(args: argparse.Namespace) -> int:
    from supportdesk.domain.audit_chain import AuditRecord
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory

    settings = _settings(args)
    output = getattr(args, "output", None)

    async def run(engine: AsyncEngine) -> int:
        audit = AuditLog(session_factory(engine))
        now = datetime.now(UTC)
        if args.audit_command == "verify":
            result = await audit.verify()
            await audit.record(
                AuditRecord(now, "audit.verified", _cli_actor(), "audit", {"ok": result.ok})
            )
            if result.ok:
                print(
                    f"audit chain intact: {result.entries_checked} entries, head {result.head_hash}"
                )
                return 0
            problem = result.problem.value if result.problem else "unknown"
            print(
                f"audit chain BROKEN at entry {result.sequence}: {problem}. {result.detail}",
                file=sys.stderr,
            )
            return 1
        since = _parse_since(args.since)
        count = 0
        async for entry in audit.entries(since):
            out.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        await audit.record(
            AuditRecord(
                now,
                "audit.exported",
                _cli_actor(),
                "audit",
                {"since": args.since, "entries": count},
            )
        )
        print(f"exported {count} entries", file=sys.stderr)
        return 0

    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        return asyncio.run(_with_store(settings, run))
    except ValueError as exc:
        print(f"supportdesk audit: {exc}", file=sys.stderr)
        return 2
    finally:
        if out is not sys.stdout:
            out.close()


def _parse_since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since {text!r} is not an ISO date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def cmd_join(args: argparse.Namespace) -> int:
    from supportdesk.applet.join import redeem_by_hand, run_join, ssl_context
    from supportdesk.applet.link_client import LinkError

    token = args.token
    try:
        if not token:
            name = input("Ihr Name / your name: ").strip()
            key = input("Support-Schlüssel / support key: ").strip()
            token = redeem_by_hand(args.server, name, key, ssl_context(args.ca_file))["token"]
        facts = run_join(
            args.server,
            token,
            text_mode=args.text,
            ca_file=args.ca_file,
            monitor=args.screen,
            language=args.language,
        )
    except LinkError as exc:
        print(f"supportdesk join: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return _finish_join(facts)


def _finish_join(facts: object) -> int:
    """Leave the receipt of a session that ran; exit 1 if the customer declined."""
    from supportdesk.applet.link_client import SessionFacts
    from supportdesk.applet.receipt import CapabilityChange, Receipt, write_receipt
    from supportdesk.domain.capabilities import Capability

    assert isinstance(facts, SessionFacts)
    if facts.started_at is None:
        return 1 if facts.end_reason == "declined" else 2
    receipt = Receipt(
        consultation_number=facts.consultation_number,
        bank_name=facts.bank_name,
        agent_name=facts.agent_name,
        started_at=facts.started_at,
        ended_at=facts.ended_at or datetime.now(UTC),
        capabilities=[
            CapabilityChange(at, Capability(name), change == "granted")
            for at, change, name in facts.grants
        ],
    )
    path = write_receipt(receipt)
    print(f"Quittung gespeichert / receipt saved: {path}", flush=True)
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

    agents = commands.add_parser("agents", help="agent accounts (every change is audited)")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    agent_commands.add_parser("list", help="list accounts").set_defaults(handler=cmd_agents)
    add = agent_commands.add_parser(
        "add", help="create an account; prints a one-time password unless --password-stdin"
    )
    add.add_argument("username")
    add.add_argument("--name", required=True, help="display name shown to customers")
    add.add_argument("--role", choices=["agent", "supervisor", "auditor", "admin"], default="agent")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.set_defaults(handler=cmd_agents)
    for action, text in (
        ("disable", "disable an account and end its logins at once"),
        ("enable", "enable a disabled account"),
        ("reset-password", "set a one-time password and reset the second factor"),
    ):
        sub = agent_commands.add_parser(action, help=text)
        sub.add_argument("username")
        sub.set_defaults(handler=cmd_agents)

    join = commands.add_parser(
        "join", help="the customer's support program: join a remote-support session"
    )
    join.add_argument("--server", required=True, help="https:// address of the bank's server")
    join.add_argument(
        "--token", help="join token from the portal; without it, name and key are asked"
    )
    join.add_argument(
        "--text", action="store_true", help="consent and controls on this terminal (no window)"
    )
    join.add_argument("--ca-file", help="also trust this CA certificate (a private PKI)")
    join.add_argument("--screen", type=int, default=0, help="monitor to share (0: all)")
    join.add_argument("--language", choices=["de", "en"], default="de")
    join.set_defaults(handler=cmd_join)

    audit = commands.add_parser("audit", help="the hash-chained audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_commands.add_parser(
        "verify", help="check the whole chain; names the first changed, removed or inserted entry"
    ).set_defaults(handler=cmd_audit)
    export = audit_commands.add_parser("export", help="write entries as JSON lines")
    export.add_argument("--since", help="ISO date or date-time (UTC unless an offset is given)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(handler=cmd_audit)
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
