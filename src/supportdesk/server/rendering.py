"""Rendering pages: Jinja2 templates with the visitor's language and a CSRF token."""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2.ext import _make_new_gettext, _make_new_ngettext
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse

from supportdesk.config import Settings
from supportdesk.domain.agent_accounts import Permission
from supportdesk.i18n import LANGUAGES, translations
from supportdesk.server import csrf
from supportdesk.server.brand_assets import BrandAssets
from supportdesk.server.messages import (
    CAPABILITIES,
    DECLINE_REASONS,
    END_REASONS,
    FIELD_ERRORS,
    REQUEST_STATUSES,
    ROLES,
    SESSION_STATES,
    TRANSFER_STOPS,
)

LANGUAGE_COOKIE = "sd_lang"


def language_of(request: HTTPConnection, settings: Settings) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else settings.portal.default_language


class PageRenderer:
    """Turns a template and its data into a response in the visitor's language."""

    def __init__(self, settings: Settings) -> None:
        folder = resources.files("supportdesk.server").joinpath("templates")
        self.environment = Environment(
            loader=FileSystemLoader(str(folder)),
            autoescape=select_autoescape(default=True),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        # New-style gettext: keyword placeholders and autoescaped arguments.
        self.environment.newstyle_gettext = True  # type: ignore[attr-defined]
        self.settings = settings
        # Read once: a logo that went missing since start-up cannot break a page.
        self.brand = BrandAssets.from_settings(settings)

    def gettext_for(self, request: Request) -> Any:
        return translations(language_of(request, self.settings)).gettext

    def render(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        html = self.render_text(request, template, **context)
        response = HTMLResponse(html, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        csrf.attach_cookie(request, response)
        return response

    def render_text(self, request: HTTPConnection, template: str, **context: Any) -> str:
        """The template as text, in the visitor's language: a page, or a part of one that
        a socket sends (the dashboard's tables)."""
        language = language_of(request, self.settings)
        catalogue = translations(language)
        gettext = _make_new_gettext(catalogue.gettext)
        return self.environment.get_template(template).render(
            request=request,
            language=language,
            gettext=gettext,
            ngettext=_make_new_ngettext(catalogue.ngettext),
            _=gettext,
            error_text=lambda code: catalogue.gettext(FIELD_ERRORS[code]),
            status_text=lambda code: catalogue.gettext(REQUEST_STATUSES[code]),
            request_status_text=lambda code: catalogue.gettext(REQUEST_STATUSES[code]),
            role_text=lambda code: catalogue.gettext(ROLES[code]),
            state_text=lambda code: catalogue.gettext(SESSION_STATES[code]),
            # A session that never ran keeps its final state as the reason ("expired").
            end_reason_text=lambda code: catalogue.gettext(
                END_REASONS.get(code) or SESSION_STATES.get(code) or code
            ),
            decline_reason_text=lambda code: catalogue.gettext(DECLINE_REASONS[code]),
            capability_text=lambda code: catalogue.gettext(CAPABILITIES[code]),
            transfer_stops=TRANSFER_STOPS,
            local_time=lambda moment: moment.astimezone(self.settings.zone).strftime(
                "%d.%m.%Y %H:%M:%S"
            ),
            permissions=Permission,
            csrf_token=csrf.csrf_token(request),
            portal=self.settings.portal,
            brand=self.brand,
            # The English pages give numbers as a caller abroad dials them (+49 ...).
            phone_text=lambda phone: phone.international if language == "en" else phone.number,
            portal_zone=self.settings.zone,
            **context,
        )
