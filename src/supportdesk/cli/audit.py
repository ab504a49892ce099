"""``supportdesk audit``: verify and export the hash-chained audit trail."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from supportdesk.cli.common import cli_actor, parse_since, settings_of, with_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def cmd_audit(args: argparse.Namespace) -> int:
    from supportdesk.domain.audit_chain import AuditRecord
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory

    settings = settings_of(args)
    output = getattr(args, "output", None)

    async def run(engine: AsyncEngine) -> int:
        audit = AuditLog(session_factory(engine))
        now = datetime.now(UTC)
        if args.audit_command == "verify":
            result = await audit.verify()
            await audit.record(
                AuditRecord(now, "audit.verified", cli_actor(), "audit", {"ok": result.ok})
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
        since = parse_since(args.since)
        count = 0
        async for entry in audit.entries(since):
            out.write(json.dumps(entry.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
        await audit.record(
            AuditRecord(
                now,
                "audit.exported",
                cli_actor(),
                "audit",
                {"since": args.since, "entries": count},
            )
        )
        print(f"exported {count} entries", file=sys.stderr)
        return 0

    out = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
    try:
        return asyncio.run(with_store(settings, run))
    except ValueError as exc:
        print(f"supportdesk audit: {exc}", file=sys.stderr)
        return 2
    finally:
        if out is not sys.stdout:
            out.close()


# Exit codes of `supportdesk recordings`; documented in its --help.
