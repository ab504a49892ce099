"""The ``supportdesk`` command line: serve, database migrations, agents, audit, recordings,
service requests, and the customer's program (``join``). One module per command under ``cli/``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from supportdesk import __version__
from supportdesk.cli.agents import cmd_agents
from supportdesk.cli.audit import cmd_audit
from supportdesk.cli.recordings import add_recordings_commands
from supportdesk.cli.serve import cmd_db_status, cmd_db_upgrade, cmd_serve
from supportdesk.cli.service_requests import add_service_request_commands
from supportdesk.config import ConfigError

__all__ = ["build_parser", "main"]


def cmd_join(args: argparse.Namespace) -> int:
    from supportdesk.applet.program import run

    return run(args, program="supportdesk join")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return port


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

    serve = commands.add_parser(
        "serve",
        help="run the web server (portal, console, API)",
        description="Run the web server: the portal, the console, the API and /metrics."
        " --host and --port beat [server] host and port of the configuration file and"
        " SUPPORTDESK_SERVER_HOST and SUPPORTDESK_SERVER_PORT.",
    )
    serve.add_argument(
        "--host",
        help="address to listen on, e.g. 0.0.0.0 or :: (default: [server] host, 127.0.0.1)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        help="port to listen on, 1-65535 (default: [server] port, 8080)",
    )
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
    set_role = agent_commands.add_parser(
        "set-role", help="give an account another role and end its logins at once"
    )
    set_role.add_argument("username")
    set_role.add_argument("role", choices=["agent", "supervisor", "auditor", "admin"])
    set_role.set_defaults(handler=cmd_agents)

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

    add_recordings_commands(commands)
    add_service_request_commands(commands)
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
