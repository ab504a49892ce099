"""The console's "are you sure?" page, for a step that cannot be taken back.

Without script the page asks first (the browser's dialog is only a shortcut for
those with script: console-live.js); the step itself is a second POST from it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request
from fastapi.responses import Response

from supportdesk.server.agents.auth import SignedIn
from supportdesk.server.state import desk_of


def confirmation(
    request: Request,
    signed_in: SignedIn,
    *,
    title: str,
    question: str,
    action: str,
    yes: str,
    back: str,
    fields: Mapping[str, str] | None = None,
) -> Response:
    """Ask ``question`` under ``title``; "``yes``" posts ``fields`` to ``action``, the
    other way leads ``back``. The texts come translated."""
    return desk_of(request).pages.render(
        request,
        "console/confirm.html",
        signed_in=signed_in,
        title=title,
        question=question,
        action=action,
        fields=dict(fields or {}),
        yes=yes,
        back=back,
    )
