"""``supportdesk service-requests purge``: erase the personal data of service requests
closed longer than ``portal.request_retention_days`` ago, as the server's daily task
does (audited as ``service_request.purged`` with the count)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from supportdesk.cli.common import cli_actor, settings_of, with_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def cmd_service_requests(args: argparse.Namespace) -> int:
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory
    from supportdesk.store.service_requests import purge_closed_requests

    settings = settings_of(args)
    actor = f"cli:{args.actor}" if args.actor else cli_actor()
    days = settings.portal.request_retention_days

    async def run(engine: AsyncEngine) -> int:
        audit = AuditLog(session_factory(engine))
        return await purge_closed_requests(
            audit, timedelta(days=days), datetime.now(UTC), actor=actor
        )

    count = asyncio.run(with_store(settings, run))
    print(f"erased the personal data of {count} service requests closed more than {days} days ago")
    return 0


def add_service_request_commands(commands: Any) -> None:
    """The ``service-requests`` command, on the main parser's subcommands."""
    requests = commands.add_parser("service-requests", help="service requests from the portal")
    actions = requests.add_subparsers(
        dest="service_requests_command", required=True, metavar="ACTION"
    )
    purge = actions.add_parser(
        "purge",
        help="erase contact detail, description and notes of requests closed longer than "
        "portal.request_retention_days ago (audited)",
    )
    purge.add_argument(
        "--actor", help="name for the audit trail (default: the operating-system user)"
    )
    purge.set_defaults(handler=cmd_service_requests)
