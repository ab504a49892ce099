"""A tour of every page of the portal and the console, each reached with real state on
a real server: the stops that the accessibility audit and the screenshot tests visit.

``desk_with_state`` starts ``supportdesk serve`` and builds what the pages need once: one
account per console role (signed in, TOTP enrolled), an active session (a fake program
consented to "view"), an issued session that is not live, a recorded session, a filed
service request. ``open_rooms`` opens one browser context per visitor (the customer,
each role) in a language at a viewport; a :class:`Stop` is one page in one state,
reached from those contexts the way a person would (forms are filled and sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.agent_login import sign_in_page
from tests.browser.test_player_browser import KEY, register
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer, live_server
from tests.recording.colour_session import record_colours
from tests.server.relay_parties import PASSWORD, FakeApplet, join_token

RECORDED = "BN-2026-4242-4242-4"
ROLES = {"agent": "anna", "supervisor": "sven", "auditor": "rita", "admin": "root-admin"}
CODE_ONLY = "tom"  # TOTP enrolled: the second step asks for a code
LOCK_TARGET = "kai"
NEWCOMERS = 4  # accounts never signed in, one per tour: the second step shows enrolment
WRONG_KEY = "123 456 789 012"
_tour_numbers = itertools.count(1)


@dataclass
class Desk:
    """The running server and the state made once for every tour."""

    server: LiveServer
    logins: dict[str, dict[str, object]]  # role -> Playwright storage state
    live_number: str
    idle_number: str
    request_reference: str


@dataclass
class Rooms:
    """One tour's browser contexts and pages, and what its stops hand on to later ones."""

    desk: Desk
    language: str
    pages: dict[str, Page]
    tour: int
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.desk.server.url

    async def goto(self, role: str, path: str) -> Page:
        page = self.pages[role]
        await page.goto(self.url + path)
        return page


Visit = Callable[[Rooms], Awaitable[Page]]


@dataclass(frozen=True)
class Stop:
    """One page in one state: its name in the report, and how a visitor gets there;
    ``routed`` is False only for the page of an address no route serves (the 404)."""

    name: str
    visit: Visit
    routed: bool = True


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """One headless Debian chromium for a whole test module."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.contextmanager
def running_server(folder: Path) -> Iterator[LiveServer]:
    """The server trusting 127.0.0.1 as a proxy, so that each tour's customer has an
    address of its own (X-Forwarded-For) and one tour's wrong key never throttles the
    next tour's right one."""
    with live_server(
        folder,
        SUPPORTDESK_RECORDING_MASTER_KEY=KEY.hex(),
        SUPPORTDESK_SERVER_TRUSTED_PROXIES="127.0.0.1",
    ) as server:
        accounts = [(name, role) for role, name in ROLES.items()]
        accounts += [(CODE_ONLY, "agent"), (LOCK_TARGET, "agent")]
        accounts += [(f"neu-{n}", "agent") for n in range(1, NEWCOMERS + 1)]
        add_agents(server, accounts)
        yield server


def add_agents(server: LiveServer, accounts: list[tuple[str, str]]) -> None:
    """``supportdesk agents add`` for each (name, role), all at once: each is mostly a
    Python start-up and a password hash. The operator (the audit trail's actor, from
    getpass) is the same on every machine: the audit page's screenshot shows it."""
    environ = {**os.environ, "LOGNAME": "operator", "USER": "operator"}
    running = []
    for name, role in accounts:
        command = [sys.executable, "-m", "supportdesk", "agents", "add", name]
        command += ["--name", name.title(), "--role", role, "--password-stdin"]
        running.append(
            subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=server.workdir,
                env=environ,
                text=True,
            )
        )
    for process in running:
        _, errors = process.communicate(PASSWORD + "\n", timeout=120)
        assert process.returncode == 0, errors


async def desk_with_state(server: LiveServer, browser: Browser) -> AsyncIterator[Desk]:
    """Sign every role in once, start an active session and keep its program connected
    (answering the relay) for as long as the tours run."""
    directory = server.workdir / "var" / "recordings"
    directory.mkdir(parents=True, exist_ok=True)
    recording = record_colours(directory / f"{RECORDED}.sdrec", KEY, RECORDED, seconds=3)
    await register(server.workdir, recording)
    logins: dict[str, dict[str, object]] = {}
    for role, name in [*ROLES.items(), ("code-only", CODE_ONLY)]:
        context = await browser.new_context()
        await sign_in_page(await context.new_page(), server.url, name, PASSWORD, fresh=True)
        logins[role] = dict(await context.storage_state())
        if role == "agent":
            agent = context.pages[0]
            live_key, live_number = await issue_key(agent, server.url)
            _, idle_number = await issue_key(agent, server.url)
        await context.close()
    applet = await FakeApplet.connect(server, await join_token(server, live_key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    listening = asyncio.create_task(_keep_reading(applet))
    async with httpx.AsyncClient(base_url=server.url) as customer:
        filed = await customer.post(
            "/api/v1/service-requests",
            json={
                "topic": "online-banking",
                "description": "Die Anmeldung meldet einen Fehler.",
                "contact_kind": "phone",
                "contact_value": "0941 123456",
            },
        )
    assert filed.status_code == 201, filed.text
    try:
        yield Desk(server, logins, live_number, idle_number, filed.json()["reference"])
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        await applet.socket.close()


async def _keep_reading(applet: FakeApplet) -> None:
    """Read what the relay sends, so the link's queue never fills and pings are answered."""
    async for _ in applet.socket:
        pass


async def issue_key(page: Page, url: str) -> tuple[str, str]:
    """The agent presses "New remote support": the key and the consultation number."""
    await page.goto(url + "/console/")
    await page.locator("form[action='/console/sessions'] button").click()
    await page.wait_for_url("**/key")
    key = await page.locator("[data-support-key]").inner_text()
    number = await page.locator("[data-consultation-number]").inner_text()
    return key.strip(), number.strip()


@contextlib.asynccontextmanager
async def open_rooms(
    browser: Browser, desk: Desk, language: str, viewport: dict[str, int], **options: object
) -> AsyncIterator[Rooms]:
    """A tour's contexts: the customer (an address of its own) and one per role."""
    tour = next(_tour_numbers)
    contexts: list[BrowserContext] = []
    pages: dict[str, Page] = {}
    visitors: list[tuple[str, dict[str, object] | None]] = [("customer", None)]
    visitors += [(role, desk.logins[role]) for role in ROLES]
    try:
        for role, state in visitors:
            headers = {"X-Forwarded-For": f"203.0.113.{tour}"} if state is None else {}
            context = await browser.new_context(
                viewport=viewport,  # type: ignore[arg-type]
                storage_state=state,  # type: ignore[arg-type]
                extra_http_headers=headers,
                **options,  # type: ignore[arg-type]
            )
            contexts.append(context)
            await context.add_cookies(
                [{"name": "sd_lang", "value": language, "url": desk.server.url}]
            )
            pages[role] = await context.new_page()
        yield Rooms(desk, language, pages, tour)
    finally:
        for context in contexts:
            await context.close()


async def submit(page: Page, form: str) -> Page:
    """Send ``form`` (a CSS selector) with its submit button, and wait for the answer."""
    async with page.expect_navigation():
        await page.locator(f"{form} [type=submit]").first.click()
    return page


# --- the customer's portal --------------------------------------------------------


async def join_errors(rooms: Rooms) -> Page:
    page = await rooms.goto("customer", "/fernwartung/start")
    return await submit(page, "form.join")


async def wrong_key(rooms: Rooms) -> Page:
    page = await rooms.goto("customer", "/fernwartung")
    await page.locator("#name").fill("Erika Müller")
    await page.locator("#support_key").fill(WRONG_KEY)
    return await submit(page, "form.join")


async def choice(rooms: Rooms) -> Page:
    """The choice page after a good key: a key issued now by the agent of this tour."""
    key, number = await issue_key(rooms.pages["agent"], rooms.url)
    rooms.notes["redeemed"] = number
    page = await rooms.goto("customer", "/fernwartung")
    await page.locator("#name").fill("Erika Müller")
    await page.locator("#support_key").fill(key)
    return await submit(page, "form.join")


async def browser_share(rooms: Rooms) -> Page:
    """Continues from the choice page (the stop before): "share in the browser"."""
    return await submit(rooms.pages["customer"], "form[action='/fernwartung/browser']")


async def request_errors(rooms: Rooms) -> Page:
    page = await rooms.goto("customer", "/serviceauftrag")
    return await submit(page, "form[action='/serviceauftrag']")


async def receipt(rooms: Rooms) -> Page:
    page = await rooms.goto("customer", "/serviceauftrag")
    await page.locator("#topic").select_option("online-banking")
    await page.locator("#description").fill("Die VR-NetKey-Anmeldung meldet einen Fehler.")
    await page.locator("input[name=contact_kind][value=phone]").check()
    await page.locator("#contact_value").fill("0941 123456")
    await submit(page, "form[action='/serviceauftrag']")
    await page.wait_for_url("**/serviceauftrag/eingegangen")
    rooms.notes["reference"] = (await page.locator("[data-reference]").inner_text()).strip()
    rooms.notes["secret"] = (await page.locator("[data-secret]").inner_text()).strip()
    return page


async def request_status(rooms: Rooms) -> Page:
    """Continues from the receipt (a stop before): the status of that request."""
    page = await rooms.goto("customer", "/serviceauftrag/status")
    await page.locator("#reference").fill(rooms.notes["reference"])
    await page.locator("#secret").fill(rooms.notes["secret"])
    return await submit(page, "form[action='/serviceauftrag/status']")


# --- signing in ---------------------------------------------------------------------


async def login_failed(rooms: Rooms) -> Page:
    page = await rooms.goto("customer", "/console/login")
    await page.locator("#username").fill("niemand")
    await page.locator("#password").fill("falsches passwort 123")
    return await submit(page, "form[action='/console/login']")


async def _password_step(rooms: Rooms, username: str) -> Page:
    page = await rooms.goto("customer", "/console/login")
    await page.locator("#username").fill(username)
    await page.locator("#password").fill(PASSWORD)
    await submit(page, "form[action='/console/login']")
    await page.wait_for_url("**/console/login/totp")
    return page


async def totp_enrolment(rooms: Rooms) -> Page:
    return await _password_step(rooms, f"neu-{(rooms.tour - 1) % NEWCOMERS + 1}")


async def totp_code(rooms: Rooms) -> Page:
    page = await _password_step(rooms, CODE_ONLY)
    await page.context.clear_cookies()  # leave the half-done login; the next stops sign in anew
    await page.context.add_cookies([{"name": "sd_lang", "value": rooms.language, "url": rooms.url}])
    return page


# --- the console ----------------------------------------------------------------------


async def key_page(rooms: Rooms) -> Page:
    _, number = await issue_key(rooms.pages["agent"], rooms.url)
    rooms.notes["issued"] = number
    return rooms.pages["agent"]


async def end_confirmation(rooms: Rooms) -> Page:
    page = await rooms.goto("agent", f"/console/sessions/{rooms.notes['issued']}")
    return await submit(page, "form[action$='/end']")


async def live(rooms: Rooms, role: str) -> Page:
    page = await rooms.goto(role, f"/console/sessions/{rooms.desk.live_number}/live")
    await page.locator("[data-live][data-state='active']").wait_for()
    return page


async def player(rooms: Rooms) -> Page:
    page = await rooms.goto("auditor", "/console/recordings")
    row = page.locator(f"[data-recording='{RECORDED}']")
    await row.locator("input[name=reason]").fill("Prüfung der Barrierefreiheit der Seiten")
    await submit(page, f"[data-recording='{RECORDED}'] form")
    await page.wait_for_url(f"**/console/recordings/{RECORDED}/player")
    return page


async def lock_confirmation(rooms: Rooms) -> Page:
    page = await rooms.goto("admin", "/console/admin/agents")
    row = page.locator(f"tr[data-agent='{LOCK_TARGET}']")
    async with page.expect_navigation():
        await row.locator("button[value=disable]").click()
    return page


async def audit_verified(rooms: Rooms) -> Page:
    page = await rooms.goto("admin", "/console/audit")
    return await submit(page, "form.verify-audit")


def at(role: str, path: str | Callable[[Rooms], str]) -> Visit:
    """A plain visit: ``role`` opens ``path``."""

    async def visit(rooms: Rooms) -> Page:
        return await rooms.goto(role, path if isinstance(path, str) else path(rooms))

    return visit


def _live_as(role: str) -> Visit:
    async def visit(rooms: Rooms) -> Page:
        return await live(rooms, role)

    return visit


def _session(note: str) -> Callable[[Rooms], str]:
    return lambda r: f"/console/sessions/{r.notes[note]}"


def _live_session(r: Rooms) -> str:
    return f"/console/sessions/{r.desk.live_number}"


def _idle_live(r: Rooms) -> str:
    return f"/console/sessions/{r.desk.idle_number}/live"


def _request(r: Rooms) -> str:
    return f"/console/requests/{r.desk.request_reference}"


STOPS: list[Stop] = [
    Stop("portal: home", at("customer", "/")),
    Stop("portal: remote support (form first)", at("customer", "/fernwartung")),
    Stop("portal: join form", at("customer", "/fernwartung/start")),
    Stop("portal: join form, empty fields", join_errors),
    Stop("portal: wrong key, the key kept", wrong_key),
    Stop("portal: choice page after a good key", choice),
    Stop("portal: sharing in the browser", browser_share),
    Stop("portal: program download", at("customer", "/fernwartung/programm")),
    Stop("portal: program not built", at("customer", "/fernwartung/programm/windows")),
    Stop("portal: service request", at("customer", "/serviceauftrag")),
    Stop("portal: service request, errors", request_errors),
    Stop("portal: service request receipt", receipt),
    Stop("portal: request status form", at("customer", "/serviceauftrag/status")),
    Stop("portal: request status found", request_status),
    Stop("portal: 404", at("customer", "/gibt-es-nicht"), routed=False),
    Stop("console: login", at("customer", "/console/login")),
    Stop("console: login refused", login_failed),
    Stop("console: TOTP enrolment", totp_enrolment),
    Stop("console: TOTP code", totp_code),
    Stop("agent: dashboard", at("agent", "/console/")),
    Stop("agent: new key", key_page),
    Stop("agent: session", at("agent", _session("issued"))),
    Stop("agent: end session?", end_confirmation),
    Stop("agent: redeemed session", at("agent", _session("redeemed"))),
    Stop("agent: live view", _live_as("agent")),
    Stop("agent: live view of a session not live", at("agent", _idle_live)),
    Stop("agent: service request", at("agent", _request)),
    Stop("agent: 403", at("agent", "/console/admin/agents")),
    Stop("agent: 404", at("agent", "/console/sessions/BN-2026-0000-0000-0")),
    Stop("supervisor: dashboard", at("supervisor", "/console/")),
    Stop("supervisor: another agent's session", at("supervisor", _live_session)),
    Stop("supervisor: watching a live session", _live_as("supervisor")),
    Stop("supervisor: reports", at("supervisor", "/console/reports")),
    Stop("auditor: dashboard", at("auditor", "/console/")),
    Stop("auditor: audit trail", at("auditor", "/console/audit")),
    Stop("auditor: recordings", at("auditor", "/console/recordings")),
    Stop("auditor: player", player),
    Stop("auditor: reports (counts only)", at("auditor", "/console/reports")),
    Stop("admin: start page", at("admin", "/console/")),
    Stop("admin: agents", at("admin", "/console/admin/agents")),
    Stop("admin: lock an account?", lock_confirmation),
    Stop("admin: audit trail verified", audit_verified),
]
