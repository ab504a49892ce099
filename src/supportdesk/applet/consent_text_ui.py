"""The consent dialog in text mode (``join --text``): print it, read the answers from a stream.

First one yes/no question per optional capability, then the final "Ja"/"Nein". Only an
explicit "Ja" (or "Yes" in English) consents; end of input or any other answer to the
final question declines. An unclear answer to a capability question grants nothing
(it is asked once, not repeated, so piped input cannot get out of step).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO

from supportdesk.applet.consent import ConsentDialog
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentRecord, Language

_YES = frozenset({"j", "ja", "y", "yes"})
_PROMPTS = {
    Language.DE: {
        "capability": "{label} erlauben? (j/n): ",
        "final": 'An der Sitzung teilnehmen? Bitte "Ja" oder "Nein" eingeben: ',
        "final_yes": "ja",
        "declined": "Abgelehnt. Es wurde nichts übertragen.",
        "accepted": "Zugestimmt.",
    },
    Language.EN: {
        "capability": "Allow: {label}? (y/n): ",
        "final": 'Join the session? Please type "Yes" or "No": ',
        "final_yes": "yes",
        "declined": "Declined. Nothing was shared.",
        "accepted": "Consent given.",
    },
}


def ask_consent_text(
    dialog: ConsentDialog,
    stdin: TextIO,
    stdout: TextIO,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ConsentRecord:
    """Show ``dialog`` on ``stdout``, read the answers from ``stdin``, return the record."""
    prompts = _PROMPTS[dialog.language]
    stdout.write(dialog.as_text() + "\n\n")
    chosen: set[Capability] = set()
    for choice in dialog.choices:
        if choice.required:
            continue
        answer = _ask(stdin, stdout, prompts["capability"].format(label=choice.label))
        if answer is None:
            return _finish(dialog, False, chosen, clock, stdout)
        if answer in _YES:
            chosen.add(choice.capability)
    answer = _ask(stdin, stdout, prompts["final"])
    # "Ja" in German; the English dialog takes "Yes". Both accept the other language's word,
    # because a German customer on the English dialog may still type "Ja".
    accepted = answer in {"ja", "yes", prompts["final_yes"]}
    return _finish(dialog, accepted, chosen, clock, stdout)


def _ask(stdin: TextIO, stdout: TextIO, prompt: str) -> str | None:
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
    stdout.write(_PROMPTS[dialog.language]["accepted" if accepted else "declined"] + "\n")
    stdout.flush()
    return record
