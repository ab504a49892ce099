"""``supportdesk recordings``: list, verify, export, hold and purge session recordings
(everything but the list is audited)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.cli.common import cli_actor, settings_of, with_store

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


EXIT_DAMAGED = 1
EXIT_USAGE = 2
EXIT_WRONG_KEY = 3


def cmd_recordings(args: argparse.Namespace) -> int:
    from supportdesk.recording import RecordingError, WrongMasterKey
    from supportdesk.recording_archive import Check, RecordingArchive, RecordingGone
    from supportdesk.store.audit_log import AuditLog
    from supportdesk.store.database import session_factory
    from supportdesk.store.recordings import UnknownRecording

    settings = settings_of(args)
    actor = f"cli:{args.actor}" if getattr(args, "actor", None) else cli_actor()
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
        return asyncio.run(with_store(settings, run))
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


def add_recordings_commands(commands: Any) -> None:
    """The ``recordings`` command and its actions, on the main parser's subcommands."""
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
