"""The support program's command line: join a session, then leave the receipt.

``supportdesk-join`` (and ``python -m supportdesk.applet``) is the program on its own,
with nothing of the server installed; ``supportdesk join`` is the same through the
server's command line. Exit codes: 0 the session ran (receipt written), 1 the
customer declined, 2 the session could not be joined.
"""

from __future__ import annotations

import argparse
import ssl
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The program's options, on its own parser or the server CLI's ``join``."""
    parser.add_argument("--server", required=True, help="https:// address of the bank's server")
    parser.add_argument(
        "--token",
        help="join token from the portal; without it, a window (or, with --text, the "
        "terminal) asks for name and support key",
    )
    parser.add_argument(
        "--text", action="store_true", help="consent and controls on this terminal (no window)"
    )
    parser.add_argument("--ca-file", help="also trust this CA certificate (a private PKI)")
    parser.add_argument("--screen", type=int, default=0, help="monitor to share (0: all)")
    parser.add_argument(
        "--language",
        choices=["de", "en"],
        default="de",
        help="language of the support program: de (default) or en",
    )


def run(args: argparse.Namespace, program: str = "supportdesk-join") -> int:
    """Join (asking name and key when no token is given) and leave the receipt."""
    from supportdesk.applet.join import ask_name_and_key, redeem_by_hand, run_join, ssl_context
    from supportdesk.applet.link_client import LinkError

    token = args.token
    try:
        if not token:
            context = ssl_context(args.ca_file)
            if args.text:
                name, key = ask_name_and_key(args.language)
                token = redeem_by_hand(args.server, name, key, context, args.language)["token"]
            else:
                answer = _ask_in_a_window(args.server, context, args.language)
                if answer is None:
                    return 1  # the customer closed the first window: nothing joined
                token = answer["token"]
        # The receipt is written as soon as the session is over here, even while an
        # "end" still waits for the link to come back.
        codes: list[int] = []
        facts = run_join(
            args.server,
            token,
            text_mode=args.text,
            ca_file=args.ca_file,
            monitor=args.screen,
            language=args.language,
            on_over=lambda facts: codes.append(_finish(facts)),
        )
    except LinkError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return codes[0] if codes else _finish(facts)


def _ask_in_a_window(server: str, context: ssl.SSLContext, language: str) -> dict[str, Any] | None:
    """The first window: name and key, exchanged for a join token (None: closed)."""
    from supportdesk.applet.join import redeem_by_hand
    from supportdesk.applet.join_tk import JoinWindow

    def redeem(name: str, key: str) -> dict[str, Any]:
        return redeem_by_hand(server, name, key, context, language)

    return JoinWindow(redeem, language=language).run()


def _finish(facts: object) -> int:
    """Leave the receipt of a session that ran; exit 1 if the customer declined."""
    from supportdesk.applet.link_client import SessionFacts
    from supportdesk.applet.receipt import (
        CapabilityChange,
        Receipt,
        TransferredFile,
        saved_notice,
        write_receipt,
    )
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
        files=[TransferredFile(f.at, f.name, f.size, f.to_agent, f.sha256) for f in facts.files],
        language=facts.language,
        end_reason=facts.end_reason,
    )
    path = write_receipt(receipt)
    print(saved_notice(path, facts.language), flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="supportdesk-join",
        description="The bank's support program: join a remote-support session "
        "(Fernwartung) with the support key your adviser gives you on the phone.",
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
