"""The support program's command line: join a session, then leave the receipt.

``supportdesk-join`` (and ``python -m supportdesk.applet``) is the program on its own,
with nothing of the server installed; ``supportdesk join`` is the same through the
server's command line. Exit codes: 0 the session ran (receipt written), 1 the
customer declined, 2 the session could not be joined.

A program built for a bank (``make applet``) carries the bank's config
(``applet/bank_config.py``): started with no arguments it goes to the name + key
window for the bank's server, and accepts no server whose certificate is not valid for
the bank's domain (``applet/bank_tls.py``), whatever ``--server`` says. ``--server``
and ``--ca-file`` stay for development and override the built-in address and CA.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportdesk.applet.texts import N_, gettext_for, language_of

if TYPE_CHECKING:
    from supportdesk.applet.bank_config import BankConfig

__all__ = ["Target", "add_arguments", "main", "run", "target"]

NO_SERVER = N_(
    "This program does not know the bank's server: start it with --server https://… "
    "(a program built for a bank knows its server)."
)
BROKEN_BUILD = N_("This program's built-in configuration is damaged: {error}")
STOPPED_TITLE = N_("Remote support not possible")
ENDED_TITLE = N_("Remote support ended")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The program's options, on its own parser or the server CLI's ``join``."""
    parser.add_argument(
        "--server",
        help="https:// address of the bank's server (default: the one built into the program)",
    )
    parser.add_argument(
        "--token",
        help="join token from the portal; without it, a window (or, with --text, the "
        "terminal) asks for name and support key",
    )
    parser.add_argument(
        "--text", action="store_true", help="consent and controls on this terminal (no window)"
    )
    parser.add_argument(
        "--ca-file",
        help="also trust this CA certificate (a private PKI); replaces a built-in CA",
    )
    parser.add_argument("--screen", type=int, default=0, help="monitor to share (0: all)")
    parser.add_argument(
        "--language",
        choices=["de", "en"],
        default="de",
        help="language of the support program: de (default) or en",
    )


@dataclass(frozen=True)
class Target:
    """Where this run connects, and how it checks the server."""

    server: str
    ca_file: str | None  # --ca-file, if given
    bank: BankConfig | None  # the built-in config: its domain is enforced, its CA trusted

    def tls(self, language: str) -> ssl.SSLContext:
        """The TLS context for the join request and every link of this run."""
        if self.bank is None:
            from supportdesk.applet.join import ssl_context

            return ssl_context(self.ca_file)
        from supportdesk.applet.bank_tls import BankTLSContext

        ca_pem = "" if self.ca_file else self.bank.ca_pem  # --ca-file replaces the built-in CA
        return BankTLSContext(
            self.bank.domain,
            ca_pem=ca_pem,
            ca_file=self.ca_file,
            language=language,
            bank_name=self.bank.name,
        )


def target(server: str | None, ca_file: str | None, bank: BankConfig | None) -> Target | None:
    """The server of ``--server``, else the built-in one (None: there is none)."""
    chosen = server or (bank.server if bank else None)
    return Target(chosen, ca_file, bank) if chosen else None


def run(args: argparse.Namespace, program: str = "supportdesk-join") -> int:
    """Join (asking name and key when no token is given) and leave the receipt."""
    from supportdesk.applet.bank_config import BankConfigError, load_baked
    from supportdesk.applet.join import ask_name_and_key, run_join
    from supportdesk.applet.link.client import LinkError
    from supportdesk.applet.platform_notice import RefusalShown, refuse_unsupported

    _ = gettext_for(language_of(args.language))
    try:
        where = target(args.server, args.ca_file, load_baked())
    except BankConfigError as exc:
        return _stop(program, _(BROKEN_BUILD).format(error=exc), args)
    if where is None:
        return _stop(program, _(NO_SERVER), args)
    token = args.token
    try:
        context = where.tls(args.language)
        if not token:
            refuse_unsupported(where.server, language_of(args.language), text_mode=args.text)
            if args.text:
                name, key = ask_name_and_key(args.language)
                token = _redeem(where.server, name, key, context, args.language)["token"]
            else:
                answer = _ask_in_a_window(where.server, context, args.language)
                if answer is None:
                    return 1  # the customer closed the first window: nothing joined
                token = answer["token"]
        # The receipt is written as soon as the session is over here, even while an
        # "end" still waits for the link to come back.
        codes: list[int] = []
        saved: list[Path] = []  # where the receipt went
        facts = run_join(
            where.server,
            token,
            text_mode=args.text,
            ca_file=args.ca_file,
            monitor=args.screen,
            language=args.language,
            on_over=lambda facts: codes.append(_finish(facts, where.bank, saved)),
            tls=context,
            bank=where.bank,
        )
    except RefusalShown as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 2
    except LinkError as exc:
        return _stop(program, str(exc), args)
    except KeyboardInterrupt:
        return 130
    code = codes[0] if codes else _finish(facts, where.bank, saved)
    _exit_survey(where.server, facts, context, args.text)
    if saved and not args.text and without_console():
        from supportdesk.applet.receipt import saved_notice
        from supportdesk.applet.tk.platform_notice import show_notice

        lang = language_of(facts.language)
        show_notice(gettext_for(lang)(ENDED_TITLE), saved_notice(saved[0], lang), lang)
    if not args.text:
        _end_now(code)
    return code


def _end_now(code: int) -> None:
    """End the windowed program here, without the interpreter's teardown. Its windows
    were Tk interpreters of several threads (join, consent, the active window, the
    survey); the teardown's last garbage collection deletes them in this thread, and
    Tcl aborts the program for it ("async handler deleted by the wrong thread"), so
    a customer who answered everything would see a crash. Everything is written by now
    (the receipt, the survey's answer): only the output buffers are left to flush."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    os._exit(code)


def _exit_survey(server: str, facts: object, context: ssl.SSLContext, text_mode: bool) -> None:
    """After a session that ran and whose end carried a survey token: ask (text mode
    asked already, in ``run_join``) and send the answer; a skip sends nothing."""
    from supportdesk.applet.exit_survey import NOT_SENT, THANKS, send_answer
    from supportdesk.applet.link.client import SessionFacts

    assert isinstance(facts, SessionFacts)
    if not facts.survey_token or facts.started_at is None:
        return
    if text_mode:
        answer = facts.survey_answer
    else:
        import gc

        from supportdesk.applet.tk.exit_survey import ask_survey_tk

        # The session's windows were Tk interpreters of other threads; a garbage
        # collection in this one would delete them here, and Tcl aborts the program
        # ("async handler deleted by the wrong thread"). The program ends after this
        # window (``_end_now``): nothing is collected from now on.
        gc.disable()
        answer = ask_survey_tk(facts.language)
    if answer is None:
        return
    sent = send_answer(server, facts.survey_token, answer, context)
    print(gettext_for(facts.language)(THANKS if sent else NOT_SENT), flush=True)


def without_console() -> bool:
    """True where nothing the program prints can be read: a windowed build (Windows,
    macOS) started by a double click has no standard output or error at all."""
    return sys.stdout is None or sys.stderr is None


def _stop(program: str, text: str, args: argparse.Namespace) -> int:
    """The program cannot go on: say why on standard error and, where nobody would read
    that, in a window; exit 2."""
    print(f"{program}: {text}", file=sys.stderr)
    if not args.text and without_console():
        from supportdesk.applet.tk.platform_notice import show_notice

        lang = language_of(args.language)
        show_notice(gettext_for(lang)(STOPPED_TITLE), text, lang)
    return 2


def _redeem(
    server: str, name: str, key: str, context: ssl.SSLContext, language: str
) -> dict[str, Any]:
    """``redeem_by_hand``, saying plainly when the server was not the bank's (urllib
    reports a refused certificate as an unreachable server)."""
    from supportdesk.applet.bank_tls import BankTLSContext
    from supportdesk.applet.join import redeem_by_hand
    from supportdesk.applet.link.client import LinkError

    try:
        return redeem_by_hand(server, name, key, context, language)
    except LinkError:
        if isinstance(context, BankTLSContext) and context.refused is not None:
            raise LinkError(str(context.refused)) from None
        raise


def _ask_in_a_window(server: str, context: ssl.SSLContext, language: str) -> dict[str, Any] | None:
    """The first window: name and key, exchanged for a join token (None: closed)."""
    from supportdesk.applet.tk.join import JoinWindow

    def redeem(name: str, key: str) -> dict[str, Any]:
        return _redeem(server, name, key, context, language)

    return JoinWindow(redeem, language=language).run()


def _finish(facts: object, bank: BankConfig | None, saved: list[Path]) -> int:
    """Leave the receipt of a session that ran (its path added to ``saved``); exit 1 if
    the customer declined."""
    from supportdesk.applet.link.client import SessionFacts
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
        # A built program names the bank as built; the domain is the certificate's.
        bank_name=(bank.name if bank else "") or facts.bank_name,
        bank_domain=facts.bank_domain or (bank.domain if bank else ""),
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
    saved.append(path)
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
