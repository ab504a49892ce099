"""Signing a test agent in to a live server, second factor included, from a real
browser (Playwright) or from httpx: the password, then TOTP enrolment (the page shows
the secret once) or a fresh code from the secret enrolled earlier.

The server takes each TOTP step once per account, so a module whose tests each sign the
same agent in would wait for a new 30 s step every other login. Unless a test asks for
a ``fresh`` login, a login this module made earlier for the same server and agent is
used again while the server still accepts it (a test that signs out or disables the
account makes the next one sign in anew). Tests of the login itself ask for ``fresh``.
"""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Cookie, Page

from tests import totp_codes

TOTP_PATH = "/console/login/totp"
SECRET = re.compile(r"data-totp-secret>([A-Z2-7]+)<")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


_BROWSER_LOGINS: dict[tuple[str, str], list[Cookie]] = {}
_HTTP_LOGINS: dict[tuple[str, str], httpx.Cookies] = {}


async def sign_in_page(
    page: Page, url: str, username: str, password: str, fresh: bool = False
) -> None:
    """Log in in the browser page; returns on the page after the second factor."""
    earlier = None if fresh else _BROWSER_LOGINS.get((url, username))
    if earlier is not None:
        await page.context.add_cookies(earlier)  # type: ignore[arg-type]
        await page.goto(url + "/console/")
        if page.url.startswith(url + "/console/") and "/login" not in page.url:
            return
    await page.goto(url + "/console/login")
    await page.get_by_label("Benutzername").fill(username)
    await page.get_by_label("Passwort").fill(password)
    await page.get_by_role("button", name="Anmelden").click()
    await page.wait_for_load_state()
    if page.url.endswith(TOTP_PATH):
        await second_factor_page(page, username)
    _BROWSER_LOGINS[(url, username)] = await page.context.cookies(url)


async def second_factor_page(page: Page, username: str) -> None:
    shown = page.locator("[data-totp-secret]")
    if await shown.count():  # first login: enrolment shows the secret once
        totp_codes.remember(username, (await shown.inner_text()).strip())
    for secret in totp_codes.secrets_of(username):
        await page.get_by_label("Code").fill(await totp_codes.fresh_code(secret))
        await page.get_by_role("button", name="Bestätigen").click()
        await page.wait_for_load_state()
        if not page.url.endswith(TOTP_PATH):
            return
    raise AssertionError(f"no TOTP secret known for {username} was accepted")


async def second_factor_http(http: httpx.AsyncClient, username: str) -> httpx.Response:
    """The TOTP step over httpx, after the password was accepted."""
    page = await http.get(TOTP_PATH)
    shown = SECRET.search(page.text)
    if shown:
        totp_codes.remember(username, shown.group(1))
    answer = None
    for secret in totp_codes.secrets_of(username):
        token = TOKEN.search(page.text)
        assert token, page.text
        answer = await http.post(
            TOTP_PATH,
            data={"code": await totp_codes.fresh_code(secret), "csrf_token": token.group(1)},
        )
        if answer.status_code == 303:
            return answer
        page = answer
    raise AssertionError(f"no TOTP secret known for {username} was accepted: {answer}")


async def reuse_http_login(http: httpx.AsyncClient, url: str, username: str) -> bool:
    """Give ``http`` the login made earlier for ``username`` on ``url``, if the server
    still accepts it."""
    earlier = _HTTP_LOGINS.get((url, username))
    if earlier is None:
        return False
    http.cookies.update(earlier)
    answer = await http.get("/console/")
    if answer.status_code == 200:
        return True
    http.cookies.clear()
    return False


def remember_http_login(http: httpx.AsyncClient, url: str, username: str) -> None:
    _HTTP_LOGINS[(url, username)] = httpx.Cookies(http.cookies)
