"""The public service portal: hotlines, remote-support information and join form,
service requests. Every page works without JavaScript."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from supportdesk.bus import BusUnavailable
from supportdesk.domain.hotlines import Hotline, PhoneLine
from supportdesk.domain.service_requests import (
    DESCRIPTION_MAX,
    ContactKind,
    ReferenceNumber,
    ServiceRequestDraft,
    validate_request,
)
from supportdesk.i18n import LANGUAGES
from supportdesk.server import csrf
from supportdesk.server.client_address import client_address_of
from supportdesk.server.hotline_status import (
    round_the_clock_sentence,
    round_the_clock_services,
    status_of,
    status_sentence,
    weekly_table,
)
from supportdesk.server.pages import receipt_flash
from supportdesk.server.pages.field_wording import worded
from supportdesk.server.pages.join_form import validate_join
from supportdesk.server.rendering import LANGUAGE_COOKIE, language_of
from supportdesk.server.security_headers import served_over_https
from supportdesk.server.state import desk_of

router = APIRouter(include_in_schema=False)

OptionalField = Annotated[str, Form()]


def _hotline_views(request: Request) -> list[dict[str, object]]:
    desk = desk_of(request)
    language = language_of(request, desk.settings)
    _ = desk.pages.gettext_for(request)
    zone = desk.settings.zone
    now = desk.clock()
    views = []
    for hotline in desk.directory.hotlines:
        status = status_of(hotline, now, zone, desk.calendar)
        views.append(
            {
                "line": hotline,
                "name": hotline.name.in_language(language),
                "topics": [t.in_language(language) for t in hotline.topics],
                "phones": _phones(hotline, language),
                "open_now": status.open_now,
                "status_text": status_sentence(status, now, zone, language, _),
                "next_change": status.next_change,
                "hours": weekly_table(hotline, language, _),
            }
        )
    return views


def _phones(hotline: Hotline, language: str) -> list[tuple[PhoneLine, str | None]]:
    return [(p, p.label.in_language(language) if p.label else None) for p in hotline.phones]


def _round_the_clock_views(request: Request) -> list[dict[str, object]]:
    """The services open at any hour, each on a line of its own with its numbers."""
    desk = desk_of(request)
    language = language_of(request, desk.settings)
    return [
        {
            "name": service.name.in_language(language),
            "line": service.hotline,
            "phones": _phones(service.hotline, language),
        }
        for service in round_the_clock_services(desk.directory.hotlines)
    ]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    desk = desk_of(request)
    return desk.pages.render(
        request,
        "index.html",
        hotlines=_hotline_views(request),
        round_the_clock=_round_the_clock_views(request),
        round_the_clock_text=round_the_clock_sentence(desk.pages.gettext_for(request)),
    )


@router.get("/fernwartung", response_class=HTMLResponse)
async def remote_support(request: Request) -> Response:
    desk = desk_of(request)
    main_line = desk.directory.hotlines[0] if desk.directory.hotlines else None
    return desk.pages.render(
        request, "remote_support.html", main_line=main_line, values={}, errors={}
    )


@router.get("/fernwartung/start", response_class=HTMLResponse)
async def join_form(request: Request) -> Response:
    return desk_of(request).pages.render(request, "join.html", values={}, errors={})


@router.post("/fernwartung/start", response_class=HTMLResponse)
async def join_submit(
    request: Request,
    name: OptionalField = "",
    support_key: OptionalField = "",
    csrf_token: OptionalField = "",
) -> Response:
    desk = desk_of(request)
    values = {"name": name, "support_key": support_key}
    if not csrf.csrf_valid(request, csrf_token):
        return desk.pages.render(request, "join.html", 400, values=values, errors={"form": "csrf"})
    result = validate_join(name, support_key)
    if isinstance(result, dict):
        return desk.pages.render(request, "join.html", 422, values=values, errors=worded(result))
    address = client_address_of(request)
    ticket = await desk.remote.redeem(result.name, result.support_key, address, desk.clock())
    if ticket is None:
        # Wrong, expired, used, unknown or throttled: one answer for all. The typed key
        # stays in the field: a typo is fixed by changing one digit, not retyping twelve.
        return desk.pages.render(
            request, "join.html", 404, values=values, errors={"support_key": "no_session"}
        )
    return desk.pages.render(
        request,
        "join_ready.html",
        ticket=ticket,
        server_url=desk.settings.server.base_url,
    )


def _topics(request: Request) -> list[tuple[str, str]]:
    desk = desk_of(request)
    language = language_of(request, desk.settings)
    return [(line.id, line.name.in_language(language)) for line in desk.directory.request_topics]


@router.get("/serviceauftrag", response_class=HTMLResponse)
async def service_request_form(request: Request) -> Response:
    desk = desk_of(request)
    return desk.pages.render(
        request,
        "service_request.html",
        topics=_topics(request),
        values={"topic": request.query_params.get("thema", "")},
        errors={},
        description_max=DESCRIPTION_MAX,
    )


@router.post("/serviceauftrag", response_class=HTMLResponse)
async def service_request_submit(
    request: Request,
    topic: OptionalField = "",
    description: OptionalField = "",
    contact_kind: OptionalField = "",
    contact_value: OptionalField = "",
    csrf_token: OptionalField = "",
) -> Response:
    desk = desk_of(request)
    values = {
        "topic": topic,
        "description": description,
        "contact_kind": contact_kind,
        "contact_value": contact_value,
    }
    topics = frozenset(line.id for line in desk.directory.request_topics)
    errors: dict[str, str] = {}
    if not csrf.csrf_valid(request, csrf_token):
        errors["form"] = "csrf"
    result = validate_request(topic, description, contact_kind, contact_value, topics)
    if isinstance(result, dict):
        errors.update(result)
    if errors or not isinstance(result, ServiceRequestDraft):
        return desk.pages.render(
            request,
            "service_request.html",
            400 if "form" in errors else 422,
            topics=_topics(request),
            values=values,
            errors=worded(errors),
            description_max=DESCRIPTION_MAX,
        )
    now = desk.clock()
    filed = await desk.service_requests.file(result, now)
    receipt = receipt_flash.Receipt(
        str(filed.reference),
        filed.secret,
        result.contact_kind is ContactKind.PHONE,
        now + receipt_flash.RECEIPT_LIFETIME,
    )
    try:
        ticket = await receipt_flash.keep(desk.tickets.store, receipt, now)
    except BusUnavailable:
        ticket = None
    if ticket is None:
        # The request is filed; without the bus to carry the receipt over the redirect,
        # show it in this answer rather than lose the access code.
        return _receipt_page(request, receipt, 201)
    # Post/redirect/get: a reload of the receipt must never file the request again.
    response = RedirectResponse(receipt_flash.RECEIPT_PATH, status_code=303)
    _set_receipt_cookie(request, response, ticket)
    return response


def _set_receipt_cookie(request: Request, response: Response, ticket: str) -> None:
    response.set_cookie(
        receipt_flash.RECEIPT_COOKIE,
        ticket,
        max_age=int(receipt_flash.RECEIPT_LIFETIME.total_seconds()),
        path=receipt_flash.RECEIPT_PATH,
        samesite="strict",
        httponly=True,
        secure=served_over_https(request),
    )


def _receipt_page(
    request: Request, receipt: receipt_flash.Receipt | None, status_code: int = 200
) -> Response:
    return desk_of(request).pages.render(
        request, "service_request_filed.html", status_code, receipt=receipt
    )


@router.get(receipt_flash.RECEIPT_PATH, response_class=HTMLResponse)
async def service_request_receipt(request: Request) -> Response:
    """The receipt of the request this browser just filed; a reload shows it again
    while it lasts, and then a page that says it is no longer shown."""
    desk = desk_of(request)
    now = desk.clock()
    held = request.cookies.get(receipt_flash.RECEIPT_COOKIE, "")
    receipt = await receipt_flash.take(desk.tickets.store, held, now)
    try:
        ticket = await receipt_flash.keep(desk.tickets.store, receipt, now) if receipt else None
    except BusUnavailable:
        ticket = None
    response = _receipt_page(request, receipt)
    if ticket:
        _set_receipt_cookie(request, response, ticket)
    else:
        response.delete_cookie(receipt_flash.RECEIPT_COOKIE, path=receipt_flash.RECEIPT_PATH)
    return response


@router.get("/serviceauftrag/status", response_class=HTMLResponse)
async def service_request_lookup_form(request: Request) -> Response:
    desk = desk_of(request)
    return desk.pages.render(
        request, "service_request_status.html", values={}, errors={}, found=None
    )


@router.post("/serviceauftrag/status", response_class=HTMLResponse)
async def service_request_lookup(
    request: Request,
    reference: OptionalField = "",
    secret: OptionalField = "",
    csrf_token: OptionalField = "",
) -> Response:
    desk = desk_of(request)
    values = {"reference": reference}
    errors: dict[str, str] = {}
    if not csrf.csrf_valid(request, csrf_token):
        errors["form"] = "csrf"
    if not reference.strip():
        errors["reference"] = "required"
    if not secret.strip():
        errors["secret"] = "required"  # noqa: S105 - an error code
    parsed: ReferenceNumber | None = None
    if "reference" not in errors:
        try:
            parsed = ReferenceNumber.parse(reference)
        except ValueError:
            errors["reference"] = "invalid_reference"
    errors = worded(errors)
    found = None
    if not errors and parsed is not None:
        found = await desk.service_requests.look_up(parsed, secret)
        if found is None:
            errors["form"] = "not_found"
    return desk.pages.render(
        request,
        "service_request_status.html",
        200 if found else (404 if errors.get("form") == "not_found" else 422),
        values=values,
        errors=errors,
        found=found,
        topic_names=dict(_topics(request)),
    )


@router.get("/sprache/{language}")
async def choose_language(request: Request, language: str, next: str = "/") -> Response:
    """Remember the visitor's language and go back to the page they came from."""
    target = urlsplit(next)
    # Only same-site paths: an open redirect would help phishing.
    safe = next if not target.scheme and not target.netloc and next.startswith("/") else "/"
    if safe.startswith("//"):
        safe = "/"
    response = RedirectResponse(safe, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 24 * 3600,
            samesite="lax",
            httponly=True,
            secure=served_over_https(request),
        )
    return response
