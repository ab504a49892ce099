"""Counting HTTP requests and timing them, for ``/metrics``: a plain ASGI middleware.

Plain ASGI rather than Starlette's ``BaseHTTPMiddleware``, so streamed answers and the
relay's WebSockets pass untouched; WebSockets are not counted (they are the relay's,
counted there). A request is timed from its arrival to the last byte of its answer;
one whose client went away before an answer counts as a 5xx only if the application
raised.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportdesk.server.metrics.catalogue import ServerMetrics


def status_class(status: int) -> str:
    """``404`` -> ``"4xx"``; anything outside 100..599 -> ``"other"``."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None
        finished = False

        async def counting_send(message: Message) -> None:
            nonlocal status, finished
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)
            if finished:
                self._count(status, started)

        try:
            await self.app(scope, receive, counting_send)
        except BaseException:
            if not finished:
                self._count(status if status is not None else 500, started)
                finished = True
            raise
        if not finished and status is not None:
            self._count(status, started)  # an answer ended without a final body message

    def _count(self, status: int | None, started: float) -> None:
        if status is None:
            return
        self.metrics.http_requests.labels(code=status_class(status)).inc()
        self.metrics.http_duration.observe(time.perf_counter() - started)
