"""The applet's one outbound link to the bank's server: consent, RFB channels, controls.

It dials ``wss://<server>/ws/applet`` with the join token (TLS with certificate
verification; never a listening port), answers the consent request through the
dialog it is given, serves one :class:`RFBSession` per RFB channel the relay opens,
follows the session state (control granted or not, paused), and ends on either side's
word — stopping capture first, so ending works without network.

A link that drops (four seconds without a word from the relay, or a closed socket)
is dialled again with the relay's resume secret, with back-off, until the grace runs
out (``keeper.py`` decides, ``dial.py`` dials and beats); the old RFB
channels die with the old link and the relay opens new ones. What the customer does
meanwhile (pause, chat, end) waits for the link, except that ending and pausing stop
capture at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from supportdesk.applet.bank_tls import certified_name, expected_name
from supportdesk.applet.consent import ConsentRequest
from supportdesk.applet.files import (
    CustomerFiles,
    DeclineAll,
    FilesUI,
    download_folder,
)
from supportdesk.applet.link.channels import RFBChannels
from supportdesk.applet.link.consent import (
    ask_again,
    ask_first,
    consent_request,
    mask_rules,
    peer_certificate,
)
from supportdesk.applet.link.dial import (
    HTTPS_ONLY,
    UNREACHABLE,
    LinkError,
    applet_url,
    beat,
    dial,
    dial_with_token,
    redial,
)
from supportdesk.applet.link.ending import CUSTOMER, SessionEnding
from supportdesk.applet.link.inbox import LinkInbox
from supportdesk.applet.link.keeper import Heartbeat, LinkKeeper, LinkPhase
from supportdesk.applet.link.relay_messages import check_relay_message
from supportdesk.applet.link.relay_state import RelayState
from supportdesk.applet.screen.masking import MASK_LABEL, SessionMasking, masking_message
from supportdesk.applet.session_facts import SessionFacts
from supportdesk.applet.texts import gettext_for, language_of
from supportdesk.capture.clipboard import CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.mask import MaskKind
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.domain.consent import (
    ConsentRecord,
)
from supportdesk.link.frames import (
    CONTROL_CHANNEL,
    LinkProtocolError,
    decode_control,
    decode_frame,
    encode_control,
)
from supportdesk.transfer.receiver import DownloadFolder

log = logging.getLogger(__name__)

__all__ = ["HTTPS_ONLY", "UNREACHABLE", "AppletLink", "LinkError", "SessionFacts", "applet_url"]

# Customer controls that wait for a lost link to come back; anything else is dropped.
_KEPT_WHILE_OFFLINE = frozenset({"pause", "resume", "grant", "revoke", "chat"})


class AppletLink:
    def __init__(
        self,
        server: str,
        token: str,
        *,
        ask_consent: Callable[[ConsentRequest], ConsentRecord],
        screen_source: Callable[[], ScreenSource],
        input_sink: Callable[[], InputSink | None],
        clipboard: Callable[[], CustomerClipboard | None] = lambda: None,
        ssl_context: ssl.SSLContext | None = None,
        language: str = "de",
        monitor: int = 0,
        on_event: Callable[[str, dict[str, Any]], None] = lambda kind, data: None,
        on_over: Callable[[SessionFacts], None] = lambda facts: None,
        files_ui: FilesUI | None = None,
        files_folder: Path | None = None,
        keeper: LinkKeeper | None = None,
        clock: Callable[[], float] = time.monotonic,
        masking: SessionMasking | None = None,
    ) -> None:
        customer_language = language_of(language)
        self._ = gettext_for(customer_language)  # for the LinkError the customer reads
        self.url = applet_url(server, customer_language)
        self.token = token
        self.ask_consent = ask_consent
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._expected = expected_name(self.ssl_context, server)  # what the cert must cover
        self.language = language
        self.on_event = on_event
        self.on_over = on_over  # once, when the session is over here (the receipt)
        self.keeper = keeper or LinkKeeper()
        self.clock = clock
        self.facts = SessionFacts(language=customer_language)
        self.verification_code = ""
        self.masking = masking or SessionMasking(None)
        self.channels = RFBChannels(
            masking=self.masking,
            mask_label=self._(MASK_LABEL),
            screen_source=screen_source,
            input_sink=input_sink,
            clipboard=clipboard,
            send=self.send,
            control=self.control,
            monitor=monitor,
        )
        self.state = RelayState()  # the relay's latest word on the session
        self.agent_notice: dict[str, Any] | None = None  # the relay's latest agent_notice
        self._socket: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pausing = False  # the customer paused; the server has not confirmed it yet
        self._offline: list[dict[str, Any]] = []  # controls waiting for the link
        self.ending = SessionEnding(self.facts, tell=on_event, over=self._receipt)
        self._end_heard = asyncio.Event()  # the relay's "end" arrived
        self.files = CustomerFiles(
            self.control,
            files_ui or DeclineAll(),
            DownloadFolder(files_folder or download_folder()),
        )

    @property
    def reconnecting(self) -> bool:
        """Whether the link is lost and being dialled again (the customer is told)."""
        return self.keeper.phase is LinkPhase.LOST

    @property
    def control_allowed(self) -> bool:
        """Whether the agent may control mouse and keyboard now (the relay's word)."""
        return self.state.control_allowed

    # -- customer controls, callable from any thread ------------------------------------

    def request(self, message: dict[str, Any]) -> None:
        """Send a control message from another thread (the Tk window, the stdin reader)."""
        kind = message.get("type")
        if kind == "end":
            self.stop_capture()  # first, locally: ending must not wait for the network
        elif kind in ("pause", "resume"):
            # Pausing takes effect here at once, network or not; resuming waits for the
            # server's word (the agent's pause or a hold may still stand).
            self._pausing = kind == "pause"
            self._apply_pause()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(self._request(message), loop)

    async def _request(self, message: dict[str, Any]) -> None:
        if message.get("type") == "end":
            await self._customer_ends()
            return
        if self._socket is None or self.reconnecting:
            if message.get("type") in _KEPT_WHILE_OFFLINE:
                self._offline.append(message)
            return
        with contextlib.suppress(ConnectionClosed, OSError):
            await self.control(message)

    async def _customer_ends(self) -> None:
        if not self.ending.customer_ends():
            return
        socket = self._socket
        if socket is not None and not self.reconnecting:
            with contextlib.suppress(ConnectionClosed, OSError):
                await self.control({"type": "end"})
            # The relay answers with its "end"; a link that stays silent is dead even if
            # it has not been noticed yet: drop it, and deliver the end on a new one.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._end_heard.wait(), timeout=2)
            if not self._end_heard.is_set():
                socket.transport.abort()
            return
        self._over_offline()

    def _over_offline(self) -> None:
        # The customer is done now, network or not; "end" goes out if the link comes back.
        self.ending.tell_end(CUSTOMER)
        self.ending.tell_over()

    def stop_capture(self) -> None:
        self.channels.stop_all()

    # -- the link ----------------------------------------------------------------------

    async def send(self, data: bytes) -> None:
        socket = self._socket
        if socket is None:
            raise ConnectionError("not connected")
        async with self._send_lock:
            await socket.send(data)

    async def control(self, message: dict[str, Any]) -> None:
        await self.send(encode_control(message))

    async def run(self) -> SessionFacts:
        """Connect, consent, serve until the end, across dropped links; returns what
        the receipt needs."""
        self._loop = asyncio.get_running_loop()
        self.masking.listen(self._masking_changed)
        socket: ClientConnection | None = await dial_with_token(
            self.url, self.token, self.language, self.ssl_context
        )
        self.files.attach(self._loop)
        try:
            while socket is not None:
                await self._serve(socket)
                await self.channels.drop_all()
                if self.ending.nothing_to_resume():
                    break  # over on both sides (or here for good: connection_lost)
                if self.ending.by_customer:
                    self._over_offline()  # the end did not get through: over here now
                socket = await self._come_back()
        finally:
            await self._finish()
        return self.facts

    async def _serve(self, socket: ClientConnection) -> None:
        """One link, until it closes: read, answer, beat."""
        self._socket = socket
        heartbeat = Heartbeat(self.clock())
        inbox = LinkInbox(self.channels.feed, self.channels.open)
        handler = asyncio.create_task(self._handle(inbox))
        beating = asyncio.create_task(beat(socket, heartbeat, self.send, self.clock))
        try:
            async for message in socket:
                heartbeat.heard(self.clock())
                if isinstance(message, str):
                    continue
                frame = decode_frame(message)
                if frame.channel != CONTROL_CHANNEL:
                    await inbox.take_frame(frame)
                    continue
                control = decode_control(frame.payload)
                check_relay_message(control)
                if control.get("type") == "heartbeat":
                    continue  # liveness only: never shown, never logged
                if control.get("type") == "resume":
                    self.keeper.take_secret(control.get("secret"), control.get("grace_seconds"))
                    continue
                await inbox.put_control(control)
        except ConnectionClosed:
            pass
        except LinkProtocolError as exc:
            await self._protocol_error(exc)
        finally:
            beating.cancel()
            inbox.close()  # the handler finishes what came before
            done, _pending = await asyncio.wait({handler}, timeout=0.5)
            if not done:
                handler.cancel()  # a dialog still open: its answer belongs to no link
            for task in (beating, handler):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self._socket = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), timeout=1)

    async def _handle(self, inbox: LinkInbox) -> None:
        try:
            await inbox.handle(self._on_control)
        except LinkProtocolError as exc:
            await self._protocol_error(exc)
        except Exception as exc:  # a message we could not act on must not end the program
            log.exception("could not act on a message from the relay")
            await self._protocol_error(exc)

    async def _protocol_error(self, exc: Exception) -> None:
        """The relay broke the link protocol: end the session here, cleanly, with a receipt.

        Capture stops first; the relay hears "end" and the link closes with 1002. The
        session is over for good (no resume): ``run`` then writes the receipt.
        """
        log.warning("the relay broke the link protocol, ending: %s", exc)
        self.stop_capture()
        self.ending.protocol_error()
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(ConnectionClosed, OSError, ConnectionError):
                await self.control({"type": "end"})
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(1002, "protocol error"), timeout=1)

    async def _come_back(self) -> ClientConnection | None:
        """The link is lost: dial again with the resume secret until it works, the
        relay refuses, or the grace is over. None: the session is over."""
        started = self.clock()
        if not self.keeper.lost(started):
            log.info("link lost before consent: the session is over")
            self._lost_for_good()
            return None
        log.info("link lost: reconnecting")
        if not self.ending.by_customer:  # after the customer's end there is nothing to restore
            self.on_event("link_lost", {})
        socket = await redial(
            self.keeper,
            self.facts.consultation_number,
            partial(dial, self.url, language=self.language, ssl_context=self.ssl_context),
            self.clock,
        )
        if socket is None:
            self._lost_for_good()
            return None
        gap = self.keeper.connected(self.clock())
        log.info("link back after %.1f s", gap)
        if self.ending.by_customer:  # the customer ended meanwhile: say so, and go
            with contextlib.suppress(ConnectionClosed, OSError):
                await socket.send(encode_control({"type": "end"}))
            self.keeper.ended()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(socket.close(), timeout=1)
            return None
        self.on_event("link_restored", {"gap_seconds": gap})
        waiting, self._offline = self._offline, []  # what the customer did meanwhile
        for message in waiting:
            with contextlib.suppress(ConnectionClosed, OSError):
                await socket.send(encode_control(message))
        return socket

    def _lost_for_good(self) -> None:
        self.stop_capture()
        self.ending.lost_for_good()

    def _receipt(self, facts: SessionFacts) -> None:
        facts.files = list(self.files.done)
        self.on_over(facts)

    def _masking_changed(self, kinds: frozenset[MaskKind]) -> None:
        """A channel's mask changed (capture thread): tell the server and the window."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        message = masking_message(kinds)

        def tell() -> None:
            if self._socket is not None and self.facts.started_at is not None:
                task = asyncio.ensure_future(self.control(message))
                task.add_done_callback(lambda t: t.cancelled() or t.exception())
            self.on_event("masking", message)

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(tell)

    async def _consent_control(self, message: dict[str, Any]) -> None:
        """Send a control message of the consent exchange; the answer says what is masked
        (automatically or not, which rules), and the relay audits it with the consent."""
        if message.get("type") == "consent":
            message = {**message, "masking": self.masking.consent_facts()}
        await self.control(message)

    @property
    def privacy_on(self) -> bool:
        """Whether the customer's "Sichtschutz" blanks the picture."""
        return self.masking.privacy.on

    @property
    def masked(self) -> bool:
        """Whether any part of the picture is masked now."""
        return bool(self.masking.active) or self.masking.privacy.on

    def toggle_privacy(self) -> bool:
        """The customer's "Sichtschutz" (any thread): blank the picture, or show it again."""
        on = self.masking.toggle_privacy()
        self.channels.refresh_masks()
        return on

    async def _finish(self) -> None:
        await asyncio.to_thread(self.masking.stop)  # puts the accessibility setting back
        self.stop_capture()
        self.files.close()  # no half-received file survives the session
        await self.channels.drop_all()
        self.channels.close_devices()
        if self.keeper.phase is not LinkPhase.OVER:
            self.keeper.ended()
        self.ending.finish()

    async def _on_control(self, message: dict[str, Any]) -> None:
        check_relay_message(message)
        kind = message["type"]
        if kind == "consent_request":
            await self._consent(message)
        elif kind == "open":
            if self.facts.started_at is not None:  # no consent, no capture
                await self.channels.add(
                    int(message["channel"]),
                    view_only=bool(message.get("view_only")),
                    control=self.state.control_allowed,
                    paused=self._paused_now(),
                )
        elif kind == "close":
            self.channels.remove(int(message["channel"]))
        elif kind == "credit":
            await self.channels.credit(int(message["channel"]), int(message["bytes"]))
        elif kind == "state":
            self._follow_state(message)
        elif kind == "screen":
            await self.channels.switch_screen(message["screen"])
        elif kind == "end":
            self._end_heard.set()
            self.stop_capture()
            self.ending.relay_ends(message)
            if self._socket is not None:
                await self._socket.close()
        elif kind == "chat":
            self.on_event("chat", message)
        elif kind == "agent_notice":
            self.agent_notice = message  # another agent took over, joined or left
            self.on_event("agent_notice", message)
        elif kind == "keyframe":
            self.channels.keyframe(int(message["channel"]))
        elif kind.startswith("file_"):
            await self.files.receive(message)
        elif kind == "diagnostics_request":
            await self.files.diagnostics(message)

    async def _consent(self, message: dict[str, Any]) -> None:
        request = consent_request(
            message, certified_name(peer_certificate(self._socket), self._expected)
        )
        # Before the question: the dialog says whether secret fields are masked by
        # themselves (the accessibility bus answers) or only by the Sichtschutz.
        await asyncio.to_thread(self.masking.start, mask_rules(message))
        request = replace(request, automatic_masking=self.masking.notice)
        if message.get("renewal") and self.facts.started_at is not None:
            # Back after a long gap: nothing is captured until the customer says "Ja"
            # again; "Nein" ends the session.
            self.stop_capture()
            self.on_event("renewal", {})
            if not await ask_again(request, self.ask_consent, self.facts, self._consent_control):
                self.ending.declined()
                return
            self.on_event("renewed", {"capabilities": sorted(self.facts.capabilities)})
            return
        self.verification_code = request.verification_code
        if await ask_first(request, self.ask_consent, self.facts, self._consent_control):
            self.on_event("active", {"capabilities": sorted(self.facts.capabilities)})
        else:
            self.on_event("declined", {})

    def _follow_state(self, message: dict[str, Any]) -> None:
        self.state = state = RelayState.of(message)
        self.facts.follow(state.capabilities, state.state, datetime.now(UTC))
        if state.paused:
            self._pausing = False  # the server has taken the customer's word
        self.channels.set_control(state.control_allowed)
        self._apply_pause()
        self.on_event("state", message)

    def _paused_now(self) -> bool:
        return self.state.paused or self._pausing

    def _apply_pause(self) -> None:
        self.channels.set_paused(self._paused_now() or self.state.held)
