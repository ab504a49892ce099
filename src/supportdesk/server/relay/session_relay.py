"""The relay: joins the customer's applet link to the agents' viewers and consoles.

One ``SessionRelay`` per live session. The customer's link is the support program's
(the applet: the control channel and one RFB channel per viewer; each viewer's
WebSocket is plain RFB, passed through the input gate) or a browser's (the control
channel and one video channel, fanned out to every viewer by
``server/relay/video_fanout.py``; docs/browser-share.md). What the customer's link says
is carried out by ``server/relay/customer_side.py``; the agents' viewers and console
sockets are served by ``server/relay/agent_side.py``; the relay gives every
console the session's state and chat. Data from the applet to a viewer is queued per
channel and bounded by the channel's credit window, so a slow viewer slows only itself.

The link's frames are read by ``server/relay/link_reader.py``: screen updates the
short way where the server offers it, anything that must wait through the link's
inbox, in the order it came.

Everything is recorded before it is forwarded (``self.recording``, a
:class:`~supportdesk.server.recordings.session_recording.SessionRecording`): the RFB bytes both
ways, control messages both ways, console commands, chat, and file events, which
the session's file transfer reports through :meth:`SessionRelay.record_file_event`.
Nothing the recording did not keep reaches a viewer; while it cannot write, the
session is held (paused for both sides).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.chat_tally import ChatTally
from supportdesk.domain.consent import (
    Language,
    RenderedConsent,
)
from supportdesk.domain.session_events import (
    LIVE_STATES,
    Ended,
    EndReason,
    SessionError,
    SessionState,
)
from supportdesk.domain.session_snapshot import LinkFacts
from supportdesk.domain.support_session import SupportSession
from supportdesk.link.credit import DEFAULT_WINDOW
from supportdesk.link.frames import (
    LinkProtocolError,
    encode_control,
)
from supportdesk.server.recordings.place import RecordingPlace
from supportdesk.server.recordings.session_recording import (
    SessionRecording,
    held_notice,
)
from supportdesk.server.relay.customer_side import request_consent
from supportdesk.server.relay.direct_websocket import DirectSocket, direct_socket
from supportdesk.server.relay.handover import adopt_link, keep_link_facts
from supportdesk.server.relay.link_keeper import LinkKeeper
from supportdesk.server.relay.link_reader import LinkReader
from supportdesk.server.relay.link_rules import (
    LinkKind,
    PointerGate,
)
from supportdesk.server.relay.rfb_viewers import RfbViewers, Viewer
from supportdesk.server.relay.session_files import Outbox, SessionFiles
from supportdesk.server.relay.session_info import SessionInfo
from supportdesk.server.relay.team_side import applet_team, team_may_control, team_state
from supportdesk.server.relay.traffic import RelayTraffic
from supportdesk.server.relay.video_fanout import (
    VIDEO_CHANNEL,
    VideoFanout,
    VideoViewer,
)
from supportdesk.server.remote_support import RemoteSupport

log = logging.getLogger(__name__)

CHAT_MAX = 2000
CHAT_HISTORY = 200


class SessionRelay:
    def __init__(
        self,
        remote: RemoteSupport,
        session: SupportSession,
        info: SessionInfo,
        clock: Callable[[], datetime],
        window: int = DEFAULT_WINDOW,
        *,
        recordings: RecordingPlace,
        traffic: RelayTraffic | None = None,
    ) -> None:
        self.remote = remote
        self.traffic = RelayTraffic() if traffic is None else traffic
        self.session = session
        self.number = str(session.consultation_number)
        self.info = info
        self.clock = clock
        self.window = window
        self.applet: WebSocket | None = None
        self._applet_direct: DirectSocket | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self.rfb = RfbViewers(window, self._return_credit, self.traffic.rfb_lag)
        self.viewers = self.rfb.viewers
        self.consoles: set[WebSocket] = set()
        self.chat: list[dict[str, Any]] = []
        self._applet_lock = asyncio.Lock()
        self.ended = asyncio.Event()
        self._closed = asyncio.Event()
        self.screens: list[dict[str, Any]] = []
        self.platform: str | None = None  # the program's desktop, from its hello
        self.active_since: datetime | None = None
        self.link: LinkKind | None = None
        self.video = VideoFanout(self._ask_video_keyframe, lag=self.traffic.video_lag)
        self.decoders: list[str] = []  # what the agent's browser decodes, best first
        self.declined_reason: str | None = None
        self.consent_shown: RenderedConsent | None = None
        self.consent_offered: frozenset[Capability] = frozenset()  # what the dialog asks
        self.pointer = PointerGate()  # what an agent's pointer may send to a browser
        self.keeper = LinkKeeper(self, info.link_policy, info.link_timeout, remote.sessions.node)
        self.stepped_aside = False  # this node let the session go on elsewhere
        self.language = Language.DE
        self.recording = SessionRecording(self, recordings)
        self.files = SessionFiles(self.number, info.files, clock, session.agent_id)
        self.masking: frozenset[str] = frozenset()
        self.chat_tally = ChatTally(self.number, remote.keys.pseudonym_key)
        # Sockets of agents here by the team (owner, helper), not by a supervisor's
        # role: closed when their agent leaves it (relay/team_side.py).
        self.team_sockets: dict[WebSocket, str] = {}
        self.notices: dict[str, str] = {}  # the customer's "Ablehnen" -> whose control

    # -- state -------------------------------------------------------------------------

    def input_allowed(self) -> bool:
        return self.session.input_allowed and self.keeper.crossing_allowed

    def state_message(self) -> dict[str, Any]:
        name = self.session.customer_name
        return {
            "type": "state",
            "consultation_number": self.number,
            "verification_code": str(self.session.verification_code),
            "state": self.session.state.value,
            "capabilities": sorted(c.value for c in self.session.granted),
            "paused": self.session.paused,  # by a party, or held: nothing crosses
            "held": self.session.held,
            "notice": held_notice() if self.session.held else None,
            "customer_name": name.reveal() if name else None,
            "applet_connected": self.applet is not None,
            "watchers": [
                *map(self._watcher, self.viewers.values()),
                *map(self._watcher, self.video.viewers),
            ],
            **team_state(self),
            "link": self.link.value if self.link else None,
            **self.keeper.state(),
            "video": self.video.config,
            "declined_reason": self.declined_reason,
            "end_reason": self.session.end_reason.value if self.session.end_reason else None,
            "active_since": self.active_since.isoformat() if self.active_since else None,
            "screens": self.screens,
            "platform": self.platform,
            "masking": sorted(self.masking),  # kinds of mask on the customer's picture
        }

    async def publish(self) -> None:
        """Push the session's state to every console and, trimmed, to the applet."""
        if self.active_since is None and self.session.state in LIVE_STATES:
            self.active_since = self.clock()
        await self.deliver(self.files.follow(self.session.state, self.session.granted))
        message = self.state_message()
        await self.to_consoles(message)
        applet_view = {k: v for k, v in message.items() if k not in _CONSOLE_ONLY}
        applet_view.update(applet_team(message))
        await self.to_applet(applet_view)
        if self.session.is_terminal:
            await self.close_all()

    # -- the applet link -----------------------------------------------------------------

    def may_resume(self, kind: LinkKind, secret: str) -> bool:
        """Whether a customer's link of this kind may take the session up again with
        ``secret`` (docs/relay-protocol.md, "Staying connected"); the newest link wins."""
        return kind is self.link and not self.session.is_terminal and self.keeper.may_resume(secret)

    async def run_applet(
        self,
        socket: WebSocket,
        language: Language,
        kind: LinkKind = LinkKind.APPLET,
        *,
        resumed: bool = False,
    ) -> None:
        """Serve the customer's link (the applet's, or a browser's) until it closes or
        the session ends; ``resumed``: the same customer coming back with the secret."""
        if self.applet is not None:
            if not resumed:
                await socket.close(code=4409, reason="an applet is already connected")
                return
            # Back before the relay noticed the loss: the old link makes way.
            with contextlib.suppress(Exception):
                await self.applet.close(code=4409, reason="replaced by a resumed link")
            await self.keeper.gone.wait()
        self.keeper.opened()
        self.applet = socket
        self.link = kind
        self.language = language
        direct = self._applet_direct = direct_socket(socket.scope)
        may_read = asyncio.Event()
        may_read.set()
        link = LinkReader(
            self,
            pause=direct.pause_reading if direct else may_read.clear,
            resume=direct.resume_reading if direct else may_read.set,
        )
        if direct is not None:
            direct.take_binary(link.take)
        reader = asyncio.create_task(link.read(socket, may_read))
        expiry = asyncio.create_task(self._expire_files())
        heartbeat = asyncio.create_task(self.keeper.watch(socket))
        try:
            if resumed:
                await self._link_back()
            elif self.session.state is SessionState.REDEEMED:
                await request_consent(self, language, kind)
            if kind is LinkKind.BROWSER and self.decoders:
                await self.to_applet({"type": "codecs", "codecs": self.decoders})
            await link.inbox.run(stop=lambda: self.session.is_terminal)
        except (LinkProtocolError, SessionError, ValueError) as exc:
            log.warning("applet link closed: %s", exc, extra={"session": self.number})
            self.keeper.failed = True  # a broken protocol is no network trouble: no resume
            with contextlib.suppress(Exception):
                await socket.close(code=4400, reason=str(exc)[:120])
        except WebSocketDisconnect:
            pass
        finally:
            if direct is not None:
                direct.take_binary(None)
            link.closed = True
            for task in (reader, expiry, heartbeat):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            try:
                if self.stepped_aside:
                    self.applet = None
                elif not self.session.is_terminal:
                    self.applet = None
                    await self.keeper.dropped(self.session.state in LIVE_STATES)
                else:
                    # Ended elsewhere while this link was busy: the applet still gets the
                    # "end" (close_all waits for one already under way) before it is let go.
                    await self.close_all()
                    self.applet = None
            finally:
                self._applet_direct = None
                self.keeper.gone.set()

    # -- staying connected ---------------------------------------------------------------

    async def _link_back(self) -> None:
        """A resumed link: the session goes on, or (after a long gap) the customer is
        asked again first."""
        await self.keeper.back()
        if self.keeper.renewing:
            await request_consent(self, self.language, self.link or LinkKind.APPLET, renewal=True)
        else:
            await self.going_on()
        await self.publish()

    async def audit(self, *records: AuditRecord) -> None:
        await self.remote.audit.record(*records)

    async def keep_link(self) -> None:
        await keep_link_facts(self)

    async def adopt(self, facts: LinkFacts) -> None:
        """Take up a session another node served (``relay/handover.py``)."""
        await adopt_link(self, facts)

    def record_link(self, phase: str) -> None:
        self.recording.control("relay", {"type": "link", "state": phase})

    async def going_on(self) -> None:
        # The old link's RFB channels died with it: their viewers reconnect to the new
        # link's channels. A browser's viewers stay and wait for a key chunk.
        for channel in list(self.viewers):
            await self.rfb.drop(channel, "the customer reconnected", code=1012)
        self.video.want_keyframe()

    async def _expire_files(self) -> None:
        # A transfer whose other side went quiet is cancelled, on both sides.
        while True:
            await asyncio.sleep(self.files.check_every)
            await self.deliver(self.files.expire())

    def _ask_video_keyframe(self) -> None:
        if self.applet is not None and self.session.state in LIVE_STATES:
            self.to_applet_now({"type": "keyframe", "channel": VIDEO_CHANNEL})

    async def to_applet(self, message: dict[str, Any]) -> None:
        if message.get("type") != "chat":  # chat is recorded as chat
            self.recording.control("relay", message)
        await self.send_applet_bytes(encode_control(message))

    async def send_applet_bytes(self, data: bytes) -> None:
        socket = self.applet
        if socket is None or socket.application_state is not WebSocketState.CONNECTED:
            return
        async with self._applet_lock:
            with contextlib.suppress(Exception):
                await socket.send_bytes(data)
                self.traffic.to_customer.inc(len(data))
                self.traffic.frames_to_customer.inc()

    def to_applet_now(self, message: dict[str, Any]) -> None:
        """Like :meth:`to_applet`, without waiting: sent at once if the link takes it,
        else by a task."""
        self.recording.control("relay", message)
        data = encode_control(message)
        direct = self._applet_direct
        if direct is not None and not self._applet_lock.locked() and direct.send_now(data):
            self.traffic.to_customer.inc(len(data))
            self.traffic.frames_to_customer.inc()
            return
        task = asyncio.create_task(self.send_applet_bytes(data))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def has_viewer(self, channel: int) -> bool:
        return self.rfb.has(channel)

    async def drop_viewer(self, channel: int, reason: str) -> None:
        await self.rfb.drop(channel, reason)

    def to_viewer(self, channel: int, payload: bytes) -> None:
        """Send an applet frame to its viewer without making the link wait."""
        self.rfb.send(channel, payload)

    def _return_credit(self, channel: int, size: int) -> None:
        self.to_applet_now({"type": "credit", "channel": channel, "bytes": size})

    # -- consoles ----------------------------------------------------------------------

    async def deliver(self, outbox: Outbox) -> None:
        """Send and record what the session's files and diagnostics asked for."""
        if outbox.audit:
            await self.remote.audit.record(*outbox.audit)
        for event in outbox.file_events:
            self.record_file_event({**event.audit_data(), "bytes_done": event.bytes_done})
        for message in outbox.to_applet:
            await self.to_applet(message)
        for message in outbox.to_consoles:
            await self.to_consoles(message)

    async def to_consoles(self, message: dict[str, Any]) -> None:
        """Send to every open console; one that went away is dropped."""
        for socket in list(self.consoles):
            try:
                await socket.send_json(message)
            except Exception:  # a console that went away is dropped
                self.consoles.discard(socket)

    async def post_chat(self, side: str, name: str | None, text: str, actor: str) -> None:
        """A chat line from the customer or an agent: recorded, counted for the
        session's chat entry in the audit trail, then shown."""
        text = text.strip()[:CHAT_MAX]
        if not text:
            return
        now = self.clock()
        at = now.isoformat()
        entry = {"type": "chat", "from": side, "name": name, "text": text, "at": at}
        if not self.recording.chat(entry):
            log.warning("chat not recorded, not delivered", extra={"session": self.number})
            return
        # The words are in the encrypted recording; the trail gets one summary entry
        # for the session's chat (domain/chat_tally.py), not one per line.
        if due := self.chat_tally.line(side, actor, text, now, at):
            await self.audit(*due)
        self.chat = [*self.chat[-CHAT_HISTORY:], entry]
        await self.to_consoles(entry)
        await self.to_applet(entry)

    # -- the end -------------------------------------------------------------------------

    async def end(self, reason: EndReason) -> None:
        if self.stepped_aside:
            return  # the session goes on elsewhere: not this node's to end
        if not self.session.is_terminal:
            with contextlib.suppress(KeyError, SessionError):
                await self.remote.apply(self.number, Ended(self.clock(), reason))
        await self.close_all()

    def record_file_event(self, event: dict[str, Any]) -> bool:
        """Record a file-transfer event (offer, accept, progress, done, cancel) in the
        session recording; False if the recording did not keep it."""
        return self.recording.file_event(event)

    async def close_all(self) -> None:
        """Tell everyone the session is over and close every socket."""
        if self.ended.is_set():
            await self._closed.wait()  # another task is closing: done when it is
            return
        self.ended.set()
        self.keeper.stop_grace()
        try:
            final = self.state_message()
            await self.to_consoles(final)
            end = {"type": "end", "reason": final["end_reason"]}
            # The survey token is the customer's alone: the recording keeps the end
            # without it (server/survey/answers.py).
            self.recording.control("relay", end)
            await self.send_applet_bytes(encode_control({**end, **await self._survey_token()}))
            await self._chat_summary()
            await self.recording.finish()
            self.video.close()
            for socket in self._sockets():
                with contextlib.suppress(Exception):
                    await socket.close(code=1000, reason="session ended")
        finally:
            self._closed.set()

    async def _survey_token(self) -> dict[str, str]:
        """``{"survey": token}`` for a customer still linked at the end of a session
        that ran; else nothing."""
        if self.applet is None or self.session.state is not SessionState.ENDED:
            return {}
        token = await self.remote.surveys.hand_out(self.number, self.clock())
        return {"survey": token} if token else {}

    async def step_aside(self, *, clean: bool) -> None:
        """Let the session go on without this node: the node is stopping (``clean``:
        the recording's segment is sealed) or another node holds the session now (not
        clean: nothing more is written here). Every socket closes with 1012, so each
        side reconnects to whichever node serves the session next."""
        if self.ended.is_set():
            return
        self.stepped_aside = True
        self.ended.set()
        self.keeper.stop_grace()
        try:
            await self._chat_summary()
            if clean:
                await self.recording.finish()
            self.video.close()
            for socket in self._sockets():
                with contextlib.suppress(Exception):
                    await socket.close(code=1012, reason="served by another node")
        finally:
            self._closed.set()

    async def _chat_summary(self) -> None:
        """The audit entry for the chat this node relayed (if any)."""
        try:
            if summary := self.chat_tally.summary(self.clock()):
                await self.audit(*summary)
        except Exception:  # the database may be gone; the lines are in the recording
            log.exception("chat summary not audited", extra={"session": self.number})

    def _sockets(self) -> list[WebSocket]:
        sockets = [v.socket for v in self.viewers.values()] + list(self.consoles)
        sockets += [v.socket for v in self.video.viewers]
        if self.applet is not None:
            sockets.append(self.applet)
        return sockets

    def _watcher(self, viewer: Viewer | VideoViewer) -> dict[str, Any]:
        # What the viewer may do now: a hand-over takes control at once.
        view_only = viewer.view_only or not (viewer.actor and team_may_control(self, viewer.actor))
        return {"name": viewer.name, "role": viewer.role, "view_only": view_only}


_CONSOLE_ONLY = frozenset({"customer_name", "owner", "helpers", "controllers"})
"""What the consoles see and the customer's side does not (the team by user name)."""
