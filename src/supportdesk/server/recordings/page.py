"""The auditor's recordings pages: the list, stating a reason to open one, the player.

Only the auditor role may play recordings (Permission.PLAY_RECORDINGS). Opening a
recording needs a stated reason and is itself an audit entry (``recording_opened``);
the player page is served only to an auditor who opened that recording within the
last PLAYBACK_WINDOW, and hands the page a one-time ticket for the player socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from supportdesk.config import ConfigError
from supportdesk.domain.agent_accounts import Permission
from supportdesk.i18n import N_
from supportdesk.recording import RecordingError
from supportdesk.recording.segmented import SegmentedRecording
from supportdesk.recording.timeline import CONTROL, VIEW, Mark, MarkKind, timeline
from supportdesk.recording_archive import MIN_REASON_LENGTH, RecordingArchive, RecordingGone
from supportdesk.server.agents.auth import SignedIn, check_csrf, require
from supportdesk.server.messages import CAPABILITIES
from supportdesk.server.recordings.player_socket import PLAYER
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.recordings import RecordingEntry, RecordingState, UnknownRecording

router = APIRouter(prefix="/console", include_in_schema=False)
FormField = Annotated[str, Form()]

PLAYBACK_WINDOW = timedelta(hours=2)
REASON_MAX = 500


@dataclass(frozen=True)
class ShownMark:
    """A timeline mark as the page shows it."""

    at_us: int
    kind: str
    text: str
    who: str
    clock: str


def clock_text(at_us: int) -> str:
    seconds = at_us // 1_000_000
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _archive(desk: Desk) -> RecordingArchive:
    return RecordingArchive.from_settings(desk.settings, desk.sessions, desk.audit)


async def _list_page(
    request: Request,
    signed_in: SignedIn,
    status_code: int = 200,
    error: tuple[str, str] | None = None,
    reason: str = "",
) -> Response:
    desk = desk_of(request)
    return desk.pages.render(
        request,
        "console/recordings.html",
        status_code,
        signed_in=signed_in,
        recordings=await _archive(desk).list(),
        states=RecordingState,
        error=error,
        reason=reason,
        min_reason=MIN_REASON_LENGTH,
        reason_max=REASON_MAX,
    )


@router.get("/recordings")
async def recordings(request: Request) -> Response:
    signed_in = await require(request, Permission.PLAY_RECORDINGS)
    return await _list_page(request, signed_in)


@router.post("/recordings/{number}/open")
async def open_recording(
    request: Request, number: str, reason: FormField = "", csrf_token: FormField = ""
) -> Response:
    desk = desk_of(request)
    signed_in = await require(request, Permission.PLAY_RECORDINGS)
    check_csrf(signed_in, csrf_token)
    archive = _archive(desk)
    reason = reason.strip()[:REASON_MAX]
    if len(reason) < MIN_REASON_LENGTH:
        return await _list_page(request, signed_in, 422, (number, "reason"), reason)
    try:
        await archive.open_for_playback(number, reason, signed_in.agent.actor, desk.clock())
    except UnknownRecording:
        return await _list_page(request, signed_in, 404, (number, "unknown"), reason)
    except RecordingGone:
        return await _list_page(request, signed_in, 410, (number, "gone"), reason)
    return RedirectResponse(f"/console/recordings/{number}/player", status_code=303)


async def opened_recently(desk: Desk, number: str, actor: str, now: datetime) -> bool:
    """Whether ``actor`` stated a reason for this recording within the playback window."""
    for entry in await desk.audit.for_subject(number):
        if entry.event_type == "recording_opened" and entry.actor == actor:
            opened = datetime.fromisoformat(entry.timestamp)
            if now - opened <= PLAYBACK_WINDOW:
                return True
    return False


@router.get("/recordings/{number}/player")
async def player(request: Request, number: str) -> Response:
    desk = desk_of(request)
    signed_in = await require(request, Permission.PLAY_RECORDINGS)
    now = desk.clock()
    if not await opened_recently(desk, number, signed_in.agent.actor, now):
        # No stated reason (or too long ago): back to the list to state one.
        return RedirectResponse(f"/console/recordings#rec-{number}", status_code=303)
    archive = _archive(desk)
    try:
        entry = await archive.readable(number)
        marks, channels, duration = await asyncio.to_thread(
            _read_marks, archive, entry, desk.pages.gettext_for(request)
        )
    except (UnknownRecording, RecordingGone, RecordingError, ConfigError):
        return await _list_page(request, signed_in, 410, (number, "gone"))
    # Each viewer connection of the session is its own channel (a reconnect, a
    # supervisor watching): the auditor picks one, the first by default.
    asked = request.query_params.get("channel", "")
    channel = next(
        (c.channel for c in channels if str(c.channel) == asked),
        channels[0].channel if channels else None,
    )
    ticket = await desk.tickets.issue(
        signed_in.agent.id, number, PLAYER, now, signed_in.login.id_digest
    )
    gettext = desk.pages.gettext_for(request)
    shown = [
        ShownMark(
            m.at_us, m.kind.value, _mark_text(m, gettext), _who(m, gettext), clock_text(m.at_us)
        )
        for m in marks
    ]
    return desk.pages.render(
        request,
        "console/player.html",
        signed_in=signed_in,
        entry=entry,
        marks=[m for m in shown if m.kind != MarkKind.CHAT.value],
        chat=[m for m in shown if m.kind == MarkKind.CHAT.value],
        duration_us=duration,
        duration_text=clock_text(duration),
        socket_url=f"/ws/player/{number}?ticket={ticket}&channel={channel}",
        has_screen=channel is not None,
        channels=channels,
        channel=channel,
        video=any(c.video for c in channels if c.channel == channel),
    )


TEAM_ACCESS = {VIEW: N_("watching"), CONTROL: N_("may control")}
"""A helper mark's access, in the auditor's words."""

MASK_KINDS = {
    "secret_input": N_("password field"),
    "window_rule": N_("window by the bank's rule"),
    "privacy": N_("Privacy screen"),
}
"""A masking mark's kinds, in the auditor's words (the recording holds no more)."""


def _mark_text(mark: Mark, gettext: Callable[[str], str]) -> str:
    if mark.who == SYSTEM:  # a gap between two segments, worded when it was read
        return mark.text
    if mark.kind is MarkKind.HAND_OVER:
        return f"{mark.text} → {mark.who}"
    if mark.kind in (MarkKind.HELPER_JOINED, MarkKind.HELPER_CHANGED):
        access = TEAM_ACCESS.get(mark.text)
        return f"{mark.who} ({gettext(access)})" if access else mark.who
    if mark.kind in (MarkKind.HELPER_LEFT, MarkKind.CONTROL_REFUSED):
        return mark.who
    if mark.kind in (MarkKind.MASKING_STARTED, MarkKind.MASKING_STOPPED):
        kinds = [MASK_KINDS.get(code) for code in mark.text.split(", ")]
        return ", ".join(gettext(k) for k in kinds if k)
    # Consent and permission marks list capability codes: show the console's words.
    if mark.kind in (MarkKind.CONSENT, MarkKind.CAPABILITIES, MarkKind.PAUSE, MarkKind.RESUME) and (
        mark.text
    ):
        codes = mark.text.split(", ")
        if all(code in CAPABILITIES for code in codes):
            return ", ".join(gettext(CAPABILITIES[code]) for code in codes)
    return mark.text


def _who(mark: Mark, gettext: Callable[[str], str]) -> str:
    # A customer's chat line carries no name (it is never recorded): say who it was.
    if mark.who == SYSTEM:
        return gettext("Server")
    return gettext("Customer") if mark.who == "customer" else mark.who


@dataclass(frozen=True)
class ShownChannel:
    channel: int
    clock: str  # when its first picture was recorded
    video: bool = False  # a browser's encoded screen, not RFB


SYSTEM = "system"
"""Who a gap mark is from: the server, not a person in the session."""
GAP_TEXT = N_("Recording interrupted: the session moved to another server")
SEGMENT_TEXT = N_("Recording continues (part %(n)s)")


def _gap_marks(recording: SegmentedRecording, gettext: Callable[[str], str]) -> list[Mark]:
    """A gap between two segments (a node died) as a pause and a resume on the timeline."""
    marks: list[Mark] = []
    for (start, end), span in zip(recording.gaps, recording.spans[1:], strict=True):
        marks.append(Mark(start, MarkKind.PAUSE, gettext(GAP_TEXT), SYSTEM))
        marks.append(
            Mark(end, MarkKind.RESUME, gettext(SEGMENT_TEXT) % {"n": span.segment}, SYSTEM)
        )
    return marks


def _read_marks(
    archive: RecordingArchive, entry: RecordingEntry, gettext: Callable[[str], str]
) -> tuple[list[Mark], list[ShownChannel], int]:
    with archive.open_recording(entry) as recording:
        marks = sorted(
            [*timeline(recording.events()), *_gap_marks(recording, gettext)],
            key=lambda m: m.at_us,
        )
        channels = [
            ShownChannel(c.channel, clock_text(c.first_us), c.video) for c in recording.channels()
        ]
        return marks, channels, recording.duration_us
