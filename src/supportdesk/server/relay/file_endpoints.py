"""The console's file endpoints: the agent's upload to the customer, and the download
of a file the customer sent.

Only the session's own agent may use either. The upload is the file's bytes as the
request body (the live page's ``fetch``), with the name in ``X-File-Name``
(percent-encoded UTF-8) and the form token in ``X-CSRF-Token``; it streams into the
session's staging folder in the server's data directory, capped at the configured
size, hashed on the way, and is then offered to the customer. Received files are
served as attachments and deleted with the session's staging folder at its end.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from supportdesk.domain.agent_accounts import Permission
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.session_events import SessionState
from supportdesk.server.agents.auth import SignedIn, check_csrf
from supportdesk.server.pages.console import visible_session
from supportdesk.server.relay.session_files import FilesRefused
from supportdesk.server.relay.session_relay import SessionRelay
from supportdesk.server.state import desk_of
from supportdesk.transfer.names import UnsafeName, sanitise_name

router = APIRouter(prefix="/console/sessions", include_in_schema=False)


def _refused(status: int, error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status)


async def _own_relay(request: Request, number: str) -> tuple[SignedIn, SessionRelay]:
    """The live relay of a session the signed-in agent runs; 404 for anything else."""
    signed_in, _summary, own = await visible_session(
        request, number, Permission.SEE_ALL_LIVE_SESSIONS
    )
    relay = desk_of(request).relay.get(number)
    if not own or relay is None:
        raise HTTPException(404)
    return signed_in, relay


@router.post("/{number}/files")
async def upload(request: Request, number: str) -> Response:
    """Stream the agent's file into the staging folder and offer it to the customer."""
    signed_in, relay = await _own_relay(request, number)
    check_csrf(signed_in, request.headers.get("x-csrf-token", ""))
    if relay.session.state is not SessionState.ACTIVE:
        return _refused(409, "the session is not active")
    if Capability.FILE_TRANSFER not in relay.session.granted:
        return _refused(403, "the customer has not allowed file transfer")
    try:
        name = sanitise_name(unquote(request.headers.get("x-file-name", "")))
    except UnsafeName as exc:
        return _refused(400, f"unusable file name: {exc}")
    cap = relay.files.setup.limits.max_size
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > cap:
        return _refused(413, f"the file is larger than {cap // (1024 * 1024)} MiB")
    try:
        path = relay.files.upload_path()
    except FilesRefused as exc:
        return _refused(exc.status, str(exc))
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as file:
            async for block in request.stream():
                size += len(block)
                if size > cap:
                    raise FilesRefused(f"the file is larger than {cap // (1024 * 1024)} MiB", 413)
                digest.update(block)
                file.write(block)
        transfer_id, outbox = relay.files.offer_upload(path, name, size, digest.hexdigest())
    except FilesRefused as exc:
        path.unlink(missing_ok=True)
        return _refused(exc.status, str(exc))
    except BaseException:
        path.unlink(missing_ok=True)  # a broken upload leaves nothing behind
        raise
    await relay.deliver(outbox)
    return JSONResponse({"id": transfer_id, "name": name, "size": size}, status_code=202)


@router.get("/{number}/files/{transfer_id}")
async def download(request: Request, number: str, transfer_id: str) -> Response:
    """A file the customer sent, as the browser's download."""
    _signed_in, relay = await _own_relay(request, number)
    received = relay.files.download(transfer_id)
    if received is None:
        raise HTTPException(404)
    return FileResponse(
        received.path,
        filename=received.name,
        content_disposition_type="attachment",
        media_type="application/octet-stream",
    )
