"""``POST /api/v1/survey``: the customer's exit-survey answer, from the browser page and
the support program, with the token the relay's "end" message carried
(server/survey/answers.py). No cookie and no name: the token is the only credential."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field, StrictInt

from supportdesk.domain.audit_chain import pseudonymise
from supportdesk.server.client_address import client_address_of
from supportdesk.server.remote_support import normalise_address
from supportdesk.server.state import desk_of
from supportdesk.server.survey.answers import SurveyResult

router = APIRouter(prefix="/api/v1", tags=["remote support"])


class SurveyIn(BaseModel):
    token: str = Field(max_length=100, description="From the relay's end message")
    stars: StrictInt | None = Field(None, ge=1, le=5, description="1 (poor) to 5 (very good)")
    solved: Literal["yes", "partly", "no"] | None = None
    # The domain allows 500 characters after normalisation (CRLF counts as one).
    comment: str | None = Field(None, max_length=1000)


@router.post(
    "/survey",
    status_code=204,
    responses={
        404: {"description": "Unknown, used or expired token"},
        422: {"description": "The answer breaks a rule"},
        429: {"description": "Too many answers just now; try again later"},
    },
)
async def answer_survey(request: Request, body: SurveyIn) -> Response:
    """Answer the exit survey once per session; an answer without any part is a skip
    and stores nothing. Answers carry no name, only the consultation number."""
    desk = desk_of(request)
    client = pseudonymise(
        normalise_address(client_address_of(request)),
        desk.keys.pseudonym_key,
        purpose="client-address",
    )
    outcome = await desk.remote.surveys.answer(
        body.token, body.model_dump(exclude={"token"}), desk.clock(), client
    )
    match outcome.result:
        case SurveyResult.STORED | SurveyResult.SKIPPED:
            return Response(status_code=204)
        case SurveyResult.INVALID:
            raise HTTPException(422, detail=outcome.detail)
        case SurveyResult.BUSY:
            busy = "too many answers just now"
            raise HTTPException(429, detail=busy, headers={"Retry-After": "10"})
        case _:
            raise HTTPException(404, detail="no survey for this token")
