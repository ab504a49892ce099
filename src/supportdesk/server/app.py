"""Building the ASGI application from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportdesk import __version__
from supportdesk.config import Settings
from supportdesk.server import api, health, portal
from supportdesk.server.holiday_calendar import HolidayCalendar
from supportdesk.server.rendering import PageRenderer
from supportdesk.server.security_headers import SecurityHeadersMiddleware
from supportdesk.server.state import Clock, Desk, desk_of, utc_now
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.service_requests import ServiceRequestStore


def create_app(settings: Settings, clock: Clock = utc_now) -> FastAPI:
    """The whole web application. The database schema must be current."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database.url)
        sessions = session_factory(engine)
        app.state.desk = Desk(
            settings=settings,
            engine=engine,
            sessions=sessions,
            directory=settings.directory(),
            calendar=HolidayCalendar(settings.portal),
            pages=PageRenderer(settings),
            service_requests=ServiceRequestStore(sessions),
            clock=clock,
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="supportdesk",
        version=__version__,
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.add_middleware(SecurityHeadersMiddleware)
    static = resources.files("supportdesk.server").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(portal.router)

    @app.exception_handler(StarletteHTTPException)
    async def not_found_page(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or exc.status_code != 404:
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        return desk_of(request).pages.render(request, "not_found.html", 404)

    return app
