"""The consent dialog as data: what the customer is shown, and the record made of the answer.

Pure (no Tk, no I/O), so the Tk window and the text mode show exactly the same thing
and tests can check it. The consent text itself, with the fixed PIN/TAN warning, comes
from :mod:`supportdesk.domain.consent` (versioned, hashed for the audit log); this
module adds the identity lines the customer checks against what the agent says on the
phone (bank and verified domain, agent, consultation number, verification code) and one
separate choice per capability, VIEW being required, all in the dialog's language from
the gettext catalogue (:mod:`supportdesk.applet.texts`).

The consent text follows the ticks: a dialog is built for the capabilities ticked
(:meth:`ConsentDialog.ticked`), and the record of "Ja" cites the text shown with the
ticks of that moment, in the language shown then (the link reports its version,
language and SHA-256; the server accepts only a text it knows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from supportdesk.applet import texts
from supportdesk.applet.texts import N_
from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability
from supportdesk.domain.consent import (
    CURRENT_CONSENT_VERSION,
    DEFAULT_LANGUAGE,
    AutomaticMasking,
    ConsentDecision,
    ConsentRecord,
    Language,
    RenderedConsent,
    clean_agent_name,
)
from supportdesk.domain.consent_texts import consent_text

# Order in which the choices are shown: from least to most intrusive.
CAPABILITY_ORDER: tuple[Capability, ...] = (
    Capability.VIEW,
    Capability.CONTROL,
    Capability.FILE_TRANSFER,
    Capability.DIAGNOSTICS,
)

# The dialog's own words (message ids; translated by build_dialog).
_LABELS: Mapping[str, str] = {
    "title": N_("Remote support – consent"),
    "bank": texts.BANK,
    "domain": N_("verified address"),
    "agent": texts.AGENT,
    "consultation": texts.CONSULTATION_NUMBER,
    "code": texts.VERIFICATION_CODE,
    "code_hint": N_("The verification code must match the one your agent reads out to you."),
    "choices": N_("You allow:"),
    "yes": N_("Yes"),
    "no": N_("No"),
}


def capability_label(capability: Capability, language: Language = DEFAULT_LANGUAGE) -> str:
    """The choice's text: "Maus und Tastatur steuern", "Bildschirm ansehen (erforderlich)"."""
    _ = texts.gettext_for(language)
    name = texts.capability_name(capability, _)
    if capability in REQUIRED_CAPABILITIES:
        return _(texts.REQUIRED).format(capability=name)
    return name


@dataclass(frozen=True)
class ConsentRequest:
    """What the server tells the applet about the session it asks consent for."""

    bank_name: str
    bank_domain: str  # the domain of the pinned, verified server certificate
    agent_name: str
    consultation_number: str
    verification_code: str
    requested: frozenset[Capability] = frozenset(Capability)
    consent_version: str = CURRENT_CONSENT_VERSION
    # Which sentence says how password fields are masked (True/False: switched on / off).
    automatic_masking: bool | AutomaticMasking = True

    def __post_init__(self) -> None:
        clean_agent_name(self.agent_name)  # raises InvalidAgentName for unsafe names
        # VIEW is always part of the request: there is no session without it.
        object.__setattr__(self, "requested", self.requested | REQUIRED_CAPABILITIES)


@dataclass(frozen=True)
class CapabilityChoice:
    """One line with a tick box: ``required`` ones are ticked and cannot be unticked."""

    capability: Capability
    label: str
    required: bool


@dataclass(frozen=True)
class ConsentDialog:
    """Everything one language's dialog shows, in display order."""

    request: ConsentRequest
    language: Language
    rendered: RenderedConsent  # body + PIN/TAN warning, hashed into the ConsentRecord
    ticks: frozenset[Capability]  # what the text names: VIEW and the ticked choices
    body: str
    warning: str
    recording_notice: str
    choices: tuple[CapabilityChoice, ...]
    labels: Mapping[str, str]

    @property
    def title(self) -> str:
        """Window title."""
        return self.labels["title"]

    def identity_lines(self) -> list[tuple[str, str]]:
        """(label, value) pairs the customer compares with what the agent says."""
        r, lab = self.request, self.labels
        return [
            (lab["bank"], r.bank_name),
            (lab["domain"], r.bank_domain),
            (lab["agent"], clean_agent_name(r.agent_name)),
            (lab["consultation"], r.consultation_number),
            (lab["code"], r.verification_code),
        ]

    def as_text(self) -> str:
        """The whole dialog as plain text (text mode, and tests)."""
        width = max(len(label) for label, _ in self.identity_lines())
        lines = [self.title, "=" * len(self.title), ""]
        lines += [f"{label + ':':<{width + 1}} {value}" for label, value in self.identity_lines()]
        lines += ["", self.labels["code_hint"], "", self.body, "", self.labels["choices"]]
        lines += [f"  [{'x' if c.required else ' '}] {c.label}" for c in self.choices]
        lines += ["", self.recording_notice, "", self.warning]
        return "\n".join(lines)

    def ticked(self, chosen: Iterable[Capability]) -> ConsentDialog:
        """The same dialog with ``chosen`` ticked: its text names them (and only the
        requested ones). A window shows this one whenever a tick changes."""
        ticks = _ticks(self.request, chosen)
        if ticks == self.ticks:
            return self
        return build_dialog(self.request, self.language, ticks)

    def decide(self, accepted: bool, chosen: Iterable[Capability], at: datetime) -> ConsentRecord:
        """The record of the customer's answer with ``chosen`` ticked, citing the text
        shown with those ticks; chosen capabilities outside the request are ignored,
        and required ones are added."""
        shown = self.ticked(chosen)
        if not accepted:
            return ConsentRecord.of(shown.rendered, ConsentDecision.DECLINED, frozenset(), at)
        return ConsentRecord.of(shown.rendered, ConsentDecision.GIVEN, shown.ticks, at)


def _ticks(request: ConsentRequest, chosen: Iterable[Capability]) -> frozenset[Capability]:
    return (frozenset(chosen) & request.requested) | REQUIRED_CAPABILITIES


def build_dialog(
    request: ConsentRequest,
    language: Language = DEFAULT_LANGUAGE,
    chosen: Iterable[Capability] = (),
) -> ConsentDialog:
    """The dialog for ``request`` in ``language`` (German by default) with ``chosen``
    ticked (nothing but VIEW at first)."""
    _ = texts.gettext_for(language)
    text = consent_text(request.consent_version, language)
    ticks = _ticks(request, chosen)
    rendered = text.render(request.agent_name, ticks, request.automatic_masking)
    choices = tuple(
        CapabilityChoice(c, capability_label(c, language), c in REQUIRED_CAPABILITIES)
        for c in CAPABILITY_ORDER
        if c in request.requested
    )
    return ConsentDialog(
        request=request,
        language=language,
        rendered=rendered,
        ticks=ticks,
        body=text.shown_body(request.agent_name, ticks, request.automatic_masking),
        warning=text.warning,
        recording_notice=_(texts.RECORDING_NOTICE),
        choices=choices,
        labels={key: _(message) for key, message in _LABELS.items()}
        | {"other_language": texts.ENDONYMS[texts.other_language(language)]},
    )


def declined(record: ConsentRecord) -> bool:
    """True if the record says no (then nothing may be captured)."""
    return record.decision is ConsentDecision.DECLINED
