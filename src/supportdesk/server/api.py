"""The public JSON API under /api/v1 (documented by FastAPI's OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from supportdesk.domain.service_requests import (
    ReferenceNumber,
    ServiceRequestDraft,
    validate_request,
)
from supportdesk.i18n import translations
from supportdesk.server.client_address import client_address_of
from supportdesk.server.hotline_status import status_of, status_sentence
from supportdesk.server.pages.join_form import validate_join
from supportdesk.server.rendering import language_of
from supportdesk.server.state import desk_of

router = APIRouter(prefix="/api/v1", tags=["portal"])


class PhoneOut(BaseModel):
    number: str
    menu_choice: int | None
    label: str | None
    tel_uri: str


class HotlineOut(BaseModel):
    id: str
    name: str
    topics: list[str]
    phones: list[PhoneOut]
    round_the_clock: list[str]
    open_now: bool | None = Field(description="None when the line publishes no hours")
    next_change: datetime | None = Field(description="When open_now flips, with UTC offset")
    status_text: str


class HotlinesOut(BaseModel):
    timezone: str
    now: datetime
    email: str | None
    hotlines: list[HotlineOut]


@router.get("/hotlines", response_model=HotlinesOut)
async def list_hotlines(request: Request) -> HotlinesOut:
    """Every hotline with its live status in the bank's time zone."""
    desk = desk_of(request)
    language = language_of(request, desk.settings)
    _ = translations(language).gettext
    zone = desk.settings.zone
    now = desk.clock().astimezone(zone)
    lines = []
    for hotline in desk.directory.hotlines:
        status = status_of(hotline, now, zone, desk.calendar)
        lines.append(
            HotlineOut(
                id=hotline.id,
                name=hotline.name.in_language(language),
                topics=[t.in_language(language) for t in hotline.topics],
                phones=[
                    PhoneOut(
                        number=p.number,
                        menu_choice=p.menu_choice,
                        label=p.label.in_language(language) if p.label else None,
                        tel_uri=p.tel_uri,
                    )
                    for p in hotline.phones
                ],
                round_the_clock=[t.in_language(language) for t in hotline.round_the_clock],
                open_now=status.open_now,
                next_change=status.next_change,
                status_text=status_sentence(status, now, zone, language, _),
            )
        )
    return HotlinesOut(
        timezone=desk.settings.portal.timezone, now=now, email=desk.directory.email, hotlines=lines
    )


class ServiceRequestIn(BaseModel):
    topic: str = Field(max_length=64)
    description: str = Field(max_length=8000)
    contact_kind: str = Field(max_length=16, description="phone or email")
    contact_value: str = Field(max_length=254)


class ServiceRequestFiled(BaseModel):
    reference: str
    secret: str = Field(description="Shown once; needed with the reference to look up the status")


class ServiceRequestStatusIn(BaseModel):
    reference: str = Field(max_length=32)
    secret: str = Field(max_length=64)


class ServiceRequestStatusOut(BaseModel):
    reference: str
    topic: str
    status: str
    created_at: datetime
    updated_at: datetime


@router.post("/service-requests", response_model=ServiceRequestFiled, status_code=201)
async def file_service_request(request: Request, body: ServiceRequestIn) -> ServiceRequestFiled:
    """File a service request; answers with its reference number and a one-time secret."""
    desk = desk_of(request)
    topics = frozenset(line.id for line in desk.directory.request_topics)
    result = validate_request(
        body.topic, body.description, body.contact_kind, body.contact_value, topics
    )
    if not isinstance(result, ServiceRequestDraft):
        raise HTTPException(422, detail={"errors": result})
    filed = await desk.service_requests.file(result, desk.clock())
    return ServiceRequestFiled(reference=str(filed.reference), secret=filed.secret)


@router.post("/service-requests/status", response_model=ServiceRequestStatusOut)
async def service_request_status(
    request: Request, body: ServiceRequestStatusIn
) -> ServiceRequestStatusOut:
    """Status of a request, given its reference number and secret."""
    desk = desk_of(request)
    try:
        reference = ReferenceNumber.parse(body.reference)
    except ValueError:
        raise HTTPException(404, detail="no request with that reference and secret") from None
    found = await desk.service_requests.look_up(reference, body.secret)
    if found is None:
        raise HTTPException(404, detail="no request with that reference and secret")
    return ServiceRequestStatusOut(
        reference=found.reference,
        topic=found.topic,
        status=found.status.value,
        created_at=found.created_at,
        updated_at=found.updated_at,
    )


class JoinIn(BaseModel):
    name: str = Field(max_length=200)
    support_key: str = Field(max_length=64)


class JoinOut(BaseModel):
    token: str = Field(description="One-time join token for the support program")
    consultation_number: str
    verification_code: str
    expires_at: datetime


@router.post("/join", response_model=JoinOut, tags=["remote support"])
async def join(request: Request, body: JoinIn) -> JoinOut:
    """Redeem a support key for a join token (what the support program does when started
    by hand). Every refusal is the same 404 after the same time."""
    desk = desk_of(request)
    result = validate_join(body.name, body.support_key)
    ticket = None
    if not isinstance(result, dict):
        address = client_address_of(request)
        ticket = await desk.remote.redeem(result.name, result.support_key, address, desk.clock())
    if ticket is None:
        raise HTTPException(404, detail="no remote-support session for this name and key")
    return JoinOut(
        token=ticket.token,
        consultation_number=ticket.consultation_number,
        verification_code=ticket.verification_code,
        expires_at=ticket.expires_at,
    )
