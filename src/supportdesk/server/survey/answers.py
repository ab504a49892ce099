"""The exit survey as the server runs it: a one-time token for the customer at the end of
a session that ran (the relay puts it into its "end" message), and the answer posted
with it (``POST /api/v1/survey``, from the browser page and the support program).

Thinking like an attacker: the token is 256 random bits, stored as a keyed digest, and
exists only for a session that really ran; it is spent by the first answer, and the
answers table holds one row per session. An answer is validated (domain/exit_survey.py)
before the token is touched, so a malformed post does not burn a customer's token.
All answers share one cluster-wide budget (the bus's token bucket), which bounds the
writes whatever the number of addresses. Refusals are counted in the audit trail per
minute (``survey.refused``), an answer is one entry without its content
(``survey.answered``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.exc import IntegrityError

from supportdesk.bus import TokenBuckets
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.exit_survey import (
    SURVEY_TOKEN_LIFETIME_SECONDS,
    InvalidAnswer,
    parse_answer,
)
from supportdesk.secret_keys import ServerKeys
from supportdesk.server.audit.batching import RefusalAudit
from supportdesk.store import exit_surveys
from supportdesk.store.audit_log import AuditLog

log = logging.getLogger(__name__)

SURVEY_REFUSED = "survey.refused"
SURVEY_BUCKET = "survey-answers"
SURVEY_RATE = 5.0
"""Answers a second, all nodes together: far above what a hotline's customers send."""
SURVEY_BURST = 50
TOKEN_MAX = 100
"""Characters of a token the server looks at (``token_urlsafe(32)`` has 43)."""


class SurveyResult(Enum):
    STORED = "stored"
    SKIPPED = "skipped"  # nothing answered: the token is spent, nothing stored
    INVALID = "invalid"  # the answer breaks a rule: 422, token untouched
    UNKNOWN = "unknown"  # unknown, spent or expired token: 404
    BUSY = "busy"  # over the shared budget: 429


@dataclass(frozen=True)
class SurveyOutcome:
    result: SurveyResult
    detail: str = ""


class ExitSurveys:
    """Hands out survey tokens and takes answers."""

    def __init__(
        self,
        audit: AuditLog,
        keys: ServerKeys,
        buckets: TokenBuckets,
        lifetime: timedelta = timedelta(seconds=SURVEY_TOKEN_LIFETIME_SECONDS),
    ) -> None:
        self.audit = audit
        self.keys = keys
        self.buckets = buckets
        self.lifetime = lifetime
        self.refusals = RefusalAudit(audit, SURVEY_REFUSED)

    def _digest(self, token: str) -> str:
        return self.keys.token_digest("survey:" + token)

    async def hand_out(self, number: str, now: datetime) -> str | None:
        """A fresh token for session ``number``, or None if it gets none (it never ran,
        has one, or was answered). Never raises: the session's end must go on."""
        token = secrets.token_urlsafe(32)
        try:
            async with self.audit.work() as work:
                issued = await exit_surveys.issue_token(
                    work.session, number, self._digest(token), now + self.lifetime
                )
        except Exception:
            log.warning("no survey token for the session", exc_info=True, extra={"session": number})
            return None
        return token if issued else None

    async def answer(
        self, token: str, data: dict[str, Any], now: datetime, client: str
    ) -> SurveyOutcome:
        """Store the answer in ``data`` for the session of ``token`` (see the module
        docstring for what is refused). ``client`` is the pseudonymised address the
        refusal counts name."""
        if not await self.buckets.take(SURVEY_BUCKET, SURVEY_RATE, SURVEY_BURST):
            await self.refusals.refused(f"client:{client}", "rate_limited", now)
            return SurveyOutcome(SurveyResult.BUSY)
        try:
            answer = parse_answer(data)
        except InvalidAnswer as exc:
            await self.refusals.refused(f"client:{client}", "invalid", now)
            return SurveyOutcome(SurveyResult.INVALID, str(exc))
        if not token or len(token) > TOKEN_MAX:
            await self.refusals.refused(f"client:{client}", "no_token", now)
            return SurveyOutcome(SurveyResult.UNKNOWN)
        try:
            async with self.audit.work() as work:
                number = await exit_surveys.take_token(work.session, self._digest(token), now)
                if number is not None and not answer.is_skip:
                    exit_surveys.add_answer(work.session, number, answer, now)
                    await work.record(
                        AuditRecord(
                            now,
                            "survey.answered",
                            "customer",
                            number,
                            # Which parts were answered; what was answered stays out.
                            {
                                "stars": answer.stars is not None,
                                "solved": answer.solved is not None,
                                "comment": answer.comment is not None,
                            },
                        )
                    )
        except IntegrityError:  # a second answer raced the first past the token
            number = None
        if number is None:
            await self.refusals.refused(f"client:{client}", "no_token", now)
            return SurveyOutcome(SurveyResult.UNKNOWN)
        return SurveyOutcome(SurveyResult.SKIPPED if answer.is_skip else SurveyResult.STORED)
