"""The consent dialog in text mode (``join --text``): print it, read the answers from a stream.

In the dialog's language: first one yes/no question per optional capability, then the
final "Ja"/"Nein" ("Yes"/"No"). Both languages take both languages' answers: "j", "ja",
"y", "yes" to a capability question, "Ja" or "Yes" to the final one. Only that explicit
"Ja"/"Yes" consents; end of input or any other answer to the final question declines.
An unclear answer to a capability question grants nothing (it is asked once, not
repeated, so piped input cannot get out of step). When the answers change what the
consent text names, the text for them is printed again before the final question:
the record cites the text shown last.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TextIO

from supportdesk.applet.consent import ConsentDialog
from supportdesk.applet.texts import N_, gettext_for
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentRecord

_YES = frozenset({"j", "ja", "y", "yes"})  # either language's word, in either language
_FINAL_YES = frozenset({"ja", "yes"})

CAPABILITY_QUESTION = N_("Allow: {label}? (y/n):")
FINAL_QUESTION = N_('Join the session? Please type "Yes" or "No":')
DECLINED = N_("Declined. Nothing was shared.")
ACCEPTED = N_("Consent given.")


class Lines(Protocol):
    """Where the answers come from: standard input, or the text mode's reader."""

    def readline(self) -> str: ...


def ask_consent_text(
    dialog: ConsentDialog,
    stdin: Lines,
    stdout: TextIO,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConsentRecord:
    """Show ``dialog`` on ``stdout``, read the answers from ``stdin``, return the record."""
    _ = gettext_for(dialog.language)
    stdout.write(dialog.as_text() + "\n\n")
    chosen: set[Capability] = set()
    for choice in dialog.choices:
        if choice.required:
            continue
        answer = _ask(stdin, stdout, _(CAPABILITY_QUESTION).format(label=choice.label) + " ")
        if answer is None:  # declined on the text shown so far (the first one)
            return _finish(dialog, False, set(), clock, stdout)
        if answer in _YES:
            chosen.add(choice.capability)
    final = dialog.ticked(chosen)
    if final.rendered != dialog.rendered:  # the text now names what was allowed
        stdout.write("\n" + final.body + "\n\n" + final.warning + "\n\n")
    answer = _ask(stdin, stdout, _(FINAL_QUESTION) + " ")
    # "Ja" in German, "Yes" in English; both dialogs take either word, because a German
    # customer on the English dialog may still type "Ja".
    accepted = answer in _FINAL_YES
    return _finish(dialog, accepted, chosen, clock, stdout)


def _ask(stdin: Lines, stdout: TextIO, prompt: str) -> str | None:
    stdout.write(prompt)
    stdout.flush()
    line = stdin.readline()
    if not line:  # end of input: the customer did not answer
        stdout.write("\n")
        return None
    return line.strip().casefold()


def _finish(
    dialog: ConsentDialog,
    accepted: bool,
    chosen: set[Capability],
    clock: Callable[[], datetime],
    stdout: TextIO,
) -> ConsentRecord:
    record = dialog.decide(accepted, chosen, clock())
    _ = gettext_for(dialog.language)
    stdout.write(_(ACCEPTED if accepted else DECLINED) + "\n")
    stdout.flush()
    return record
