"""The ``supportdesk`` command line: serve, database migrations, agents, audit, recordings."""

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
    from supportdesk.server.relay.direct_websocket import DirectWebSocketProtocol

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
        # RFB is compressed already (Tight: zlib and JPEG); deflating it again per
        # WebSocket message costs the relay most of its CPU and gains nothing.
        ws_per_message_deflate=False,
        ws=DirectWebSocketProtocol,  # the relay's screen updates skip the ASGI queue
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


# Exit codes of `supportdesk recordings`; documented in its --help.
EXIT_DAMAGED = 1
EXIT_USAGE = 2
EXIT_WRONG_KEY = 3


def cmd_recordings(args: argparse.Namespace) -> int:
    from supportdesk.recording import RecordingError, WrongMasterKey
    from supportdesk.recording_archive import Check, RecordingArchive, RecordingGone
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory
    from supportdesk.store.recordings import UnknownRecording

    settings = _settings(args)
    actor = f"cli:{args.actor}" if getattr(args, "actor", None) else _cli_actor()
    action = args.recordings_command

    async def run(engine: AsyncEngine) -> int:
        sessions = session_factory(engine)
        archive = RecordingArchive.from_settings(settings, sessions, AuditLog(sessions))
        now = datetime.now(UTC)
        if action == "list":
            for entry in await archive.list():
                print(
                    entry.consultation_number.ljust(24),
                    _local(entry.started_at).ljust(16),
                    (_local(entry.ended_at) if entry.ended_at else "-").ljust(16),
                    _size(entry.size).rjust(9),
                    ("hold" if entry.legal_hold else "-").ljust(4),
                    entry.state.value,
                )
            return 0
        if action == "verify":
            numbers = (
                [e.consultation_number for e in await archive.list()] if args.all else [args.number]
            )
            worst = 0
            for number in numbers:
                outcome = await archive.verify(number, actor, now)
                stream = sys.stdout if outcome.check.ok else sys.stderr
                print(f"{number}: {outcome.check.value}. {outcome.detail}", file=stream)
                if outcome.check is Check.WRONG_MASTER_KEY:
                    worst = max(worst, EXIT_WRONG_KEY)
                elif not outcome.check.ok:
                    worst = max(worst, EXIT_DAMAGED)
            return worst
        if action == "export":
            result = await archive.export(
                args.number,
                args.mp4,
                actor,
                now,
                channel=args.channel,
                progress=_progress_bar(args.number),
            )
            print(file=sys.stderr)
            how = {
                "remuxed": f" ({result.source_codec} remuxed, not re-encoded)",
                "re-encoded": f" ({result.source_codec} re-encoded to H.264: MP4 cannot hold it)",
            }.get(result.method, "")
            print(
                f"{args.number}: {result.frames} frames, {result.width}x{result.height}, "
                f"{result.duration_us / 1e6:.1f} s{how} -> {result.path}"
            )
            return 0
        if action == "purge":
            outcomes = await archive.purge(actor, now)
            purged = [o for o in outcomes if o.error is None and o.verdict.name == "PURGE"]
            failed = [o for o in outcomes if o.error is not None]
            for each in outcomes:
                if each.verdict.name == "PURGE":
                    state = f"FAILED: {each.error}" if each.error else "purged"
                else:
                    state = f"kept ({each.verdict.value})"
                print(f"{each.consultation_number}: {state}")
            print(
                f"{len(purged)} purged, {len(outcomes) - len(purged) - len(failed)} kept, "
                f"{len(failed)} failed (retention {archive.retention.days} days)"
            )
            return EXIT_DAMAGED if failed else 0
        if action == "hold":
            await archive.set_hold(args.number, args.on, actor, now)
            print(f"{args.number}: legal hold {'on' if args.on else 'off'}")
            return 0
        raise AssertionError(action)

    try:
        return asyncio.run(_with_store(settings, run))
    except UnknownRecording as exc:
        print(f"supportdesk recordings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RecordingGone as exc:
        print(f"supportdesk recordings: {exc}", file=sys.stderr)
        return EXIT_DAMAGED
    except RecordingError as exc:
        # WrongMasterKey, ChunkInvalid, PlaybackError ...: the class name says which.
        print(f"\nsupportdesk recordings: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_WRONG_KEY if isinstance(exc, WrongMasterKey) else EXIT_DAMAGED


def _local(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    amount = size / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            break
        amount /= 1024
    return f"{amount:.1f} {unit}"


def _progress_bar(label: str, width: int = 30) -> Callable[[int, int], None]:
    """A one-line progress bar on standard error, redrawn in place."""

    def show(done_us: int, total_us: int) -> None:
        share = done_us / total_us if total_us > 0 else 1.0
        filled = int(share * width)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(
            f"\r{label} [{bar}] {share:4.0%} {done_us / 1e6:7.1f}/{total_us / 1e6:.1f} s"
        )
        sys.stderr.flush()

    return show


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
    from supportdesk.applet.program import run

    return run(args, program="supportdesk join")


def build_parser() -> argparse.ArgumentParser:
    from supportdesk.applet.program import add_arguments as add_join_arguments

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
    add_join_arguments(join)
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

    recordings = commands.add_parser(
        "recordings",
        help="session recordings (verify, export, hold and purge are audited)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "exit codes: 0 ok; 1 a recording is damaged, tampered with, truncated, missing,\n"
            "differs from the audited final hash, or a purge failed; 2 unknown consultation\n"
            "number or bad configuration; 3 wrong master key"
        ),
    )
    recording_commands = recordings.add_subparsers(
        dest="recordings_command", required=True, metavar="ACTION"
    )
    recording_commands.add_parser(
        "list", help="number, start, end (UTC), size, legal hold, state"
    ).set_defaults(handler=cmd_recordings)
    verify = recording_commands.add_parser(
        "verify", help="check every chunk, the hash chain and the final hash in the audit trail"
    )
    target = verify.add_mutually_exclusive_group(required=True)
    target.add_argument("number", nargs="?", help="consultation number")
    target.add_argument("--all", action="store_true", help="every registered recording")
    export_video = recording_commands.add_parser(
        "export",
        help="render a session to H.264 video (a browser's shared screen: remuxed), "
        "with a progress bar on stderr",
    )
    export_video.add_argument("number", help="consultation number")
    export_video.add_argument("--mp4", type=Path, required=True, help="video file to write")
    export_video.add_argument(
        "--channel", type=int, default=None, help="screen channel (default: the first)"
    )
    recording_commands.add_parser(
        "purge", help="destroy recordings past retention (recording.retention_days), not on hold"
    ).set_defaults(handler=cmd_recordings)
    hold = recording_commands.add_parser("hold", help="put a legal hold on or off a recording")
    hold.add_argument("number", help="consultation number")
    switch = hold.add_mutually_exclusive_group(required=True)
    switch.add_argument("--on", dest="on", action="store_true", help="keep it past retention")
    switch.add_argument("--off", dest="on", action="store_false", help="release the hold")
    for sub in (verify, export_video, hold):
        sub.set_defaults(handler=cmd_recordings)
    for name, sub in recording_commands.choices.items():
        if name == "list":
            continue  # reading the register is not audited
        sub.add_argument(
            "--actor", help="name for the audit trail (default: the operating-system user)"
        )
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
