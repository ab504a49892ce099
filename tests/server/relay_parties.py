"""Stand-ins for the three parties of a live session, speaking the real protocols over
real sockets to a real server: an agent's browser, the applet link, a viewer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.link.frames import decode_control, decode_frame, encode_control
from tests.agent_login import remember_http_login, reuse_http_login, second_factor_http
from tests.live_server import LiveServer

PASSWORD = "korrekt pferd batterie heftklammer"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_agent(server: LiveServer, username: str, role: str = "agent") -> None:
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", username,
         "--name", username.title(), "--role", role, "--password-stdin"],
        input=PASSWORD + "\n", cwd=server.workdir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@dataclass
class AgentBrowser:
    server: LiveServer
    http: httpx.AsyncClient

    @classmethod
    async def log_in(
        cls,
        server: LiveServer,
        username: str,
        http: httpx.AsyncClient | None = None,
        fresh: bool = False,
    ) -> AgentBrowser:
        """Sign in (enrolling TOTP on the first time) with ``http``, by default a new
        client for ``server``; unless ``fresh``, an earlier login of ``username`` that
        the server still accepts is used again (:mod:`tests.agent_login`)."""
        http = http or httpx.AsyncClient(base_url=server.url)
        if not fresh and await reuse_http_login(http, server.url, username):
            return cls(server, http)
        form = await http.get("/console/login")
        token = TOKEN.search(form.text)
        assert token
        answer = await http.post(
            "/console/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert answer.status_code == 303, answer.text
        if answer.headers["location"] == "/console/login/totp":
            done = await second_factor_http(http, username)
            assert done.headers["location"] == "/console/"
        remember_http_login(http, server.url, username)
        return cls(server, http)

    async def new_session(self) -> tuple[str, str]:
        dashboard = await self.http.get("/console/")
        token = TOKEN.search(dashboard.text)
        assert token
        page = await self.http.post(
            "/console/sessions", data={"csrf_token": token.group(1)}, follow_redirects=True
        )
        key = re.search(r"data-support-key>([^<]+)<", page.text)
        number = re.search(r"data-consultation-number>([^<]+)<", page.text)
        assert key and number
        return key.group(1), number.group(1)

    async def control_url(self, number: str) -> str:
        page = await self.http.get(f"/console/sessions/{number}/live")
        found = re.search(r'data-control-url="([^"]+)"', page.text)
        assert found, page.text
        return self.server.url.replace("http", "ws", 1) + found.group(1).replace("&amp;", "&")

    async def close(self) -> None:
        await self.http.aclose()


async def join_token(server: LiveServer, key: str) -> str:
    async with httpx.AsyncClient(base_url=server.url) as customer:
        answer = await customer.post("/api/v1/join", json={"name": "Erika", "support_key": key})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def consent_as_shown(request: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    """``answer`` (a ``consent`` message) citing the text the program's dialog shows for
    ``request`` (a ``consent_request``) with the answer's capabilities ticked, in the
    request's language unless the answer names one: what the real program sends."""
    if "consent_sha256" in answer or request.get("mode") == "browser":
        return answer
    language = Language(answer.get("language") or request.get("language") or "de")
    if "language" not in answer and request["consent_text"]:
        # The relay's request carries its first text: its language is the link's.
        for candidate in Language:
            text = consent_text(request["consent_version"], candidate)
            if text.render(request["agent_name"]).text == request["consent_text"]:
                language = candidate
    ticked = [Capability(c) for c in answer.get("capabilities", [])]
    shown = consent_text(request["consent_version"], language).render(request["agent_name"], ticked)
    return {
        **answer,
        "consent_version": shown.version,
        "language": shown.language.value,
        "consent_sha256": shown.sha256,
    }


class FakeApplet:
    """The applet's side of the link, recording what the relay sends. A ``consent``
    sent without ``consent_sha256`` cites the text the program would have shown
    (:func:`consent_as_shown`)."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.control: list[dict[str, Any]] = []
        self.data: dict[int, bytearray] = {}

    @classmethod
    async def connect(cls, server: LiveServer, token: str) -> FakeApplet:
        url = server.url.replace("http", "ws", 1) + "/ws/applet"
        socket = await connect(url, additional_headers={"Authorization": f"Bearer {token}"})
        return cls(socket)

    async def send(self, message: dict[str, Any]) -> None:
        requests = [m for m in self.control if m.get("type") == "consent_request"]
        if message.get("type") == "consent" and requests:
            message = consent_as_shown(requests[-1], message)
        await self.socket.send(encode_control(message))

    async def drain(self, seconds: float) -> None:
        """Collect whatever the relay sends for a while."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.next_control("(nothing)"), timeout=seconds)

    async def next_control(self, kind: str) -> dict[str, Any]:
        while True:
            frame = decode_frame(await self.socket.recv())  # type: ignore[arg-type]
            if frame.channel == 0:
                message = decode_control(frame.payload)
                self.control.append(message)
                if message["type"] == kind:
                    return message
            else:
                self.data.setdefault(frame.channel, bytearray()).extend(frame.payload)


async def control_socket(url: str, origin: str) -> ClientConnection:
    return await connect(url, additional_headers={"Origin": origin})


async def next_of(socket: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await socket.recv())
        if message.get("type") == kind and all(message.get(k) == v for k, v in match.items()):
            return dict(message)


async def open_viewer(
    server: LiveServer, number: str, control: ClientConnection, **options: Any
) -> ClientConnection:
    """A viewer socket, with a ticket asked for over the console's control socket."""
    await control.send('{"type": "viewer_ticket"}')
    ticket = (await next_of(control, "viewer_ticket"))["ticket"]
    return await connect(
        server.url.replace("http", "ws", 1) + f"/ws/viewer/{number}?ticket={ticket}",
        additional_headers={"Origin": server.url},
        **options,
    )


def audit_entries(server: LiveServer, number: str) -> list[dict[str, Any]]:
    """The session's audit entries, as `supportdesk audit export` gives them."""
    exported = subprocess.run(
        [sys.executable, "-m", "supportdesk", "audit", "export"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    return [e for e in entries if e["subject"] == number]
