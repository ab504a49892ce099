"""What the applet knows of a session at its end: the facts its receipt states."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from supportdesk.applet.files import DoneFile
from supportdesk.domain.consent import DEFAULT_LANGUAGE, ConsentRecord, Language
from supportdesk.domain.exit_survey import SurveyAnswer


@dataclass
class SessionFacts:
    """What the receipt needs to know at the end."""

    consultation_number: str = ""
    bank_name: str = ""
    bank_domain: str = ""  # the name from the certificate the link verified
    agent_name: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""
    grants: list[tuple[datetime, str, str]] = field(default_factory=list)
    capabilities: frozenset[str] = frozenset()
    consent: ConsentRecord | None = None
    files: list[DoneFile] = field(default_factory=list)
    language: Language = DEFAULT_LANGUAGE  # the customer's, for the receipt
    survey_token: str | None = None  # the exit survey's, from the relay's "end" (not receipted)
    survey_answer: SurveyAnswer | None = None  # text mode's answer, asked at the end

    def follow(self, capabilities: frozenset[str], state: str, now: datetime) -> None:
        """A ``state`` message: note what was granted or withdrawn since the last."""
        for gained in sorted(capabilities - self.capabilities):
            self.grants.append((now, "granted", gained))
        if state in ("active", "paused"):
            for lost in sorted(self.capabilities - capabilities):
                self.grants.append((now, "revoked", lost))
            self.capabilities = capabilities
