"""Building the ASGI application from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from supportdesk import __version__
from supportdesk.bus import connect as connect_bus
from supportdesk.config import Settings
from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.customer_link import LinkPolicy
from supportdesk.domain.support_key import SupportKeyPolicy
from supportdesk.domain.support_session import SupportSession
from supportdesk.passwords import PasswordHashing
from supportdesk.recording_archive import RecordingArchive
from supportdesk.secret_keys import ServerKeys
from supportdesk.server import api, api_docs, daily_purge, dashboard_socket, health
from supportdesk.server.agents.auth import LoginRequired
from supportdesk.server.agents.presence import AgentPresence
from supportdesk.server.agents.socket_register import AgentSockets
from supportdesk.server.audit.batching import RefusalAudit
from supportdesk.server.cluster.session_changes import SessionChanges
from supportdesk.server.holiday_calendar import HolidayCalendar
from supportdesk.server.metrics import endpoint as metrics_endpoint
from supportdesk.server.metrics.catalogue import ServerMetrics
from supportdesk.server.metrics.http import RequestMetricsMiddleware
from supportdesk.server.pages import (
    admin,
    audit_trail,
    branding,
    browser_share,
    console,
    console_errors,
    dashboard,
    login,
    portal,
    program_download,
    reports,
)
from supportdesk.server.public_address import insecure_public_address
from supportdesk.server.recordings import page as recordings_page
from supportdesk.server.recordings import player_socket
from supportdesk.server.recordings import retention as recording_retention
from supportdesk.server.recordings.place import RecordingPlace, recording_limits, seek_point_rule
from supportdesk.server.relay import endpoints as relay_endpoints
from supportdesk.server.relay import file_endpoints as session_file_endpoints
from supportdesk.server.relay.hub import Node, RelayHub
from supportdesk.server.relay.session_files import FilesSetup
from supportdesk.server.relay.session_info import SessionInfo
from supportdesk.server.relay.socket_tickets import SocketTickets
from supportdesk.server.remote_support import REDEMPTION_FAILED, RemoteSupport
from supportdesk.server.rendering import PageRenderer
from supportdesk.server.security_headers import (
    SecurityHeadersMiddleware,
    mark_https,
    public_https,
)
from supportdesk.server.session_handover import router as session_handover_router
from supportdesk.server.state import Clock, Desk, desk_of, utc_now
from supportdesk.server.survey import api as survey_api
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.failure_counters import FailureCounters
from supportdesk.store.service_requests import ServiceRequestStore

log = logging.getLogger(__name__)
EXPIRY_SWEEP_SECONDS = 5.0
NOVNC_PACKAGE = Path("node_modules") / "@novnc" / "novnc"


def novnc_directory() -> Path | None:
    """noVNC as npm installed it: beside the checkout (src layout) or the working folder."""
    checkout = Path(__file__).resolve().parents[3]
    for base in (checkout, Path.cwd()):
        if (base / NOVNC_PACKAGE / "core" / "rfb.js").exists():
            return base / NOVNC_PACKAGE
    log.warning("noVNC not found (run `make setup`); the console's live view is unavailable")
    return None


async def _sweep_expired(desk: Desk) -> None:
    """Expire keys and redemptions whose time ran out, every few seconds."""
    while True:
        await asyncio.sleep(EXPIRY_SWEEP_SECONDS)
        try:
            await desk.remote.expire_due(desk.clock())
            await desk.relay.end_orphans(desk.clock())
            await desk.remote.refusals.flush_due(desk.clock())
            await desk.remote.surveys.refusals.flush_due(desk.clock())
        except Exception:  # keep sweeping; one bad round must not stop expiry
            log.exception("expiry sweep failed")


async def _announce_relaxed_totp(audit: AuditLog, now: datetime) -> None:
    """An operator let agents sign in without TOTP: say so in the log and the trail."""
    log.warning(
        "security.agents_without_totp is set: accounts of the agent role may sign in"
        " with a password alone, although they see and control customers' PCs"
    )
    try:
        await audit.record(
            AuditRecord(now, "security.totp_relaxed", "system", "role:agent", {"setting": True})
        )
    except Exception:  # the database may be down or unmigrated; /readyz says so
        log.warning("could not audit the relaxed TOTP setting", exc_info=True)


async def _announce_insecure_address(audit: AuditLog, warning: str, now: datetime) -> None:
    """Customers are sent to an http:// address elsewhere than loopback: the log and
    the trail say so at every start (``supportdesk serve`` also told the terminal)."""
    log.warning(warning)
    try:
        await audit.record(
            AuditRecord(
                now, "security.public_address_insecure", "system", "server", {"warning": warning}
            )
        )
    except Exception:  # the database may be down or unmigrated; /readyz says so
        log.warning("could not audit the insecure public address", exc_info=True)


def create_app(settings: Settings, clock: Clock = utc_now) -> FastAPI:
    """The whole web application. The database schema must be current."""
    given_clock: Clock = clock

    def utc_clock() -> datetime:
        # The domain works in UTC; a test clock may be set in any zone.
        return given_clock().astimezone(UTC)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database.url)
        sessions = session_factory(engine)
        keys = ServerKeys.from_settings(settings)
        audit = AuditLog(sessions)
        audit.observers.append(metrics.observe_audit)
        counters = FailureCounters(sessions)
        security = settings.security
        bus = app.state.bus = connect_bus(
            settings.bus.redis_url or None, namespace=settings.bus.namespace
        )
        if not await bus.ping():
            log.warning("bus at %s unreachable: key redemptions are refused", bus.where)
        remote = RemoteSupport(
            audit,
            keys,
            counters,
            SupportKeyPolicy(lifetime=timedelta(minutes=security.support_key_minutes)),
            join_token_lifetime=timedelta(minutes=security.join_token_minutes),
            answer_time=timedelta(milliseconds=security.redemption_answer_ms),
            session_time_limit=timedelta(minutes=security.session_max_minutes),
            guesses=bus.buckets,
            events=bus.events,
            node=settings.node_id,
        )
        remote.refusals = RefusalAudit(
            audit,
            REDEMPTION_FAILED,
            timedelta(seconds=settings.audit.refusal_window_seconds),
            settings.audit.refusal_window_clients,
        )
        bank_domain = urlsplit(settings.server.base_url).hostname or ""

        async def session_info(session: SupportSession) -> SessionInfo:
            username = session.agent_id.removeprefix("agent:")
            async with sessions() as db:
                agent = await AgentAccounts(db).by_username(username)
            name = agent.display_name if agent else username
            return SessionInfo(
                settings.portal.bank_name,
                bank_domain,
                name,
                FilesSetup.from_settings(settings),
                settings.clipboard.max_text,
                LinkPolicy(
                    grace=timedelta(seconds=settings.session.reconnect_grace_seconds),
                    reconsent_after=timedelta(seconds=settings.session.reconsent_after_seconds),
                ),
                settings.session.link_timeout_seconds,
                settings.masking.rules,
            )

        desk = app.state.desk = Desk(
            settings=settings,
            engine=engine,
            sessions=sessions,
            directory=settings.directory(),
            calendar=HolidayCalendar(settings.portal),
            pages=PageRenderer(settings),
            service_requests=ServiceRequestStore(sessions),
            keys=keys,
            audit=audit,
            counters=counters,
            remote=remote,
            relay=RelayHub(
                remote,
                session_info,
                utc_clock,
                RecordingPlace(
                    settings.recording.directory,
                    settings.recording.master_key_bytes(create=True),
                    audit,
                    utc_clock,
                    limits=recording_limits(settings.recording),
                    seek_points=seek_point_rule(settings.recording),
                    recorded=metrics.recording_bytes,
                ),
                leases=bus.leases,
                node=Node(settings.node_id, settings.node_url, settings.cluster.lease_seconds),
                traffic=metrics.traffic,
            ),
            tickets=SocketTickets(bus.tickets),
            hashing=PasswordHashing(security.password_hash_workers, security.password_hash_queue),
            agent_sockets=AgentSockets(
                sessions,
                bus.events,
                utc_clock,
                timedelta(hours=security.login_absolute_hours),
                security.socket_check_seconds,
            ),
            session_changes=SessionChanges(bus.events),
            clock=utc_clock,
        )
        desk.presence = AgentPresence(bus.events, settings.node_id, desk.agent_sockets.agent_ids)
        metrics.watch(remote, desk.relay)
        if security.agents_without_totp:
            await _announce_relaxed_totp(audit, utc_clock())
        insecure = insecure_public_address(settings.server)
        if insecure is not None:
            await _announce_insecure_address(audit, insecure, utc_clock())
        try:
            await remote.abandon_unfinished(utc_clock())
        except Exception:  # the database may be down or unmigrated; /readyz says so
            log.warning("could not close sessions left open by an earlier run", exc_info=True)
        sweeper = asyncio.create_task(_sweep_expired(desk))
        follower = asyncio.create_task(remote.sessions.follow(remote.tell_listeners))
        archive = RecordingArchive.from_settings(settings, sessions, audit)

        async def purge_recordings(now: datetime) -> object:
            return await recording_retention.purge_expired(archive, now)

        login_follower = asyncio.create_task(desk.agent_sockets.follow())
        dashboard_waker = asyncio.create_task(desk.session_changes.follow())
        login_watcher = asyncio.create_task(desk.agent_sockets.watch())
        presence_tasks = (
            asyncio.create_task(desk.presence.announce()),
            asyncio.create_task(desk.presence.follow()),
        )
        purger = asyncio.create_task(
            daily_purge.run_daily(
                [
                    ("recording purge", purge_recordings),
                    (
                        "service-request purge",
                        daily_purge.request_purge(
                            audit, timedelta(days=settings.portal.request_retention_days)
                        ),
                    ),
                    (
                        "survey comment purge",
                        daily_purge.survey_comment_purge(
                            audit, timedelta(days=settings.portal.request_retention_days)
                        ),
                    ),
                ],
                utc_clock,
                settings.recording.purge_hour,
            )
        )
        try:
            yield
        finally:
            for task in (
                sweeper,
                purger,
                follower,
                login_follower,
                login_watcher,
                dashboard_waker,
                *presence_tasks,
            ):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # The sessions served here go on: their sides reconnect to another node, or
            # to this one after a restart, within the grace.
            await desk.relay.hand_over_all()
            try:  # the counts of the current window, before the database goes
                await remote.refusals.flush(utc_clock())
            except Exception:
                log.warning("could not write the last refusal counts", exc_info=True)
            desk.hashing.close()
            await engine.dispose()
            await bus.close()

    app = FastAPI(
        title="supportdesk",
        version=__version__,
        lifespan=lifespan,
        # The docs and the OpenAPI document are served by api_docs.py, to whom the
        # configuration allows ([server] api_docs): not FastAPI's public routes.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    mark_https(app, settings.server)
    app.add_middleware(SecurityHeadersMiddleware, hsts=public_https(settings.server))
    # Outermost of ours, so the time counted includes the headers' middleware.
    metrics = app.state.metrics = ServerMetrics(settings.node_id)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    static = resources.files("supportdesk.server").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(health.router)
    app.include_router(metrics_endpoint.router)
    app.include_router(api.router)
    app.include_router(survey_api.router)
    app.include_router(api_docs.router)
    app.include_router(portal.router)
    app.include_router(branding.router)
    app.include_router(browser_share.router)
    app.include_router(program_download.router)
    app.include_router(login.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_socket.router)
    app.include_router(console.router)
    app.include_router(admin.router)
    app.include_router(audit_trail.router)
    app.include_router(reports.router)
    app.include_router(relay_endpoints.router)
    app.include_router(session_handover_router)
    app.include_router(recordings_page.router)
    app.include_router(player_socket.router)
    app.include_router(session_file_endpoints.router)
    novnc = novnc_directory()
    if novnc is not None:
        app.mount("/novnc", StaticFiles(directory=str(novnc)), name="novnc")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(exc.target, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def error_page(request: Request, exc: StarletteHTTPException) -> Response:
        if console_errors.wants_page(request, exc.status_code):
            return await console_errors.console_error_page(request, exc.status_code)
        if (
            request.url.path.startswith("/api/")
            or request.url.path.startswith("/console/")
            or exc.status_code != 404
        ):
            from fastapi.exception_handlers import http_exception_handler

            return await http_exception_handler(request, exc)
        return desk_of(request).pages.render(request, "not_found.html", 404)

    return app
