"""The applet's one outbound link to the bank's server: consent, RFB channels, controls.

It dials ``wss://<server>/ws/applet`` with the join token (TLS with certificate
verification; never a listening port), answers the consent request through the
dialog it is given, serves one :class:`RFBSession` per RFB channel the relay opens,
follows the session state (control granted or not, paused), and ends on either side's
word — stopping capture first, so ending works without network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from supportdesk.applet.channel_writer import ChannelWriter
from supportdesk.applet.consent import ConsentRequest
from supportdesk.applet.files import (
    CustomerFiles,
    DeclineAll,
    DoneFile,
    FilesUI,
    download_folder,
)
from supportdesk.applet.rfb_session import RFBSession
from supportdesk.applet.texts import N_, gettext_for, language_of
from supportdesk.capture.clipboard import CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import (
    DEFAULT_LANGUAGE,
    ConsentDecision,
    ConsentRecord,
    Language,
)
from supportdesk.link.frames import (
    CONTROL_CHANNEL,
    decode_control,
    decode_frame,
    encode_control,
    encode_keyframe_pieces,
)
from supportdesk.transfer.receiver import DownloadFolder

log = logging.getLogger(__name__)


class LinkError(Exception):
    """The link could not be set up (bad URL, refused token, TLS failure).

    The message is for the customer, in the customer's language."""


HTTPS_ONLY = N_("The server address must start with https://: {server}")
CERTIFICATE_REFUSED = N_("The bank's server certificate was not accepted: {error}")
UNREACHABLE = N_("Cannot reach {server}: {error}")
LINK_REFUSED = N_("The bank's server refused the connection: {error}")


def applet_url(server: str, language: Language = DEFAULT_LANGUAGE) -> str:
    """``https://bank.example`` → ``wss://bank.example/ws/applet``; TLS only."""
    parts = urlsplit(server)
    if parts.scheme != "https" or not parts.hostname:
        raise LinkError(gettext_for(language)(HTTPS_ONLY).format(server=repr(server)))
    return urlunsplit(("wss", parts.netloc, "/ws/applet", "", ""))


class ChannelReader:
    """The viewer-to-applet bytes of one channel, as a ByteReader."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    def feed(self, data: bytes) -> None:
        self._queue.put_nowait(data)

    def close(self) -> None:
        self._queue.put_nowait(b"")

    async def read(self) -> bytes:
        return await self._queue.get()


@dataclass
class Channel:
    session: RFBSession
    reader: ChannelReader
    writer: ChannelWriter
    task: asyncio.Task[None]


@dataclass
class SessionFacts:
    """What the receipt needs to know at the end."""

    consultation_number: str = ""
    bank_name: str = ""
    agent_name: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""
    grants: list[tuple[datetime, str, str]] = field(default_factory=list)
    capabilities: frozenset[str] = frozenset()
    consent: ConsentRecord | None = None
    files: list[DoneFile] = field(default_factory=list)
    language: Language = DEFAULT_LANGUAGE  # the customer's, for the receipt


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
        files_ui: FilesUI | None = None,
        files_folder: Path | None = None,
    ) -> None:
        customer_language = language_of(language)
        self._ = gettext_for(customer_language)  # for the LinkError the customer reads
        self.url = applet_url(server, customer_language)
        self.token = token
        self.ask_consent = ask_consent
        self.screen_source = screen_source
        self.input_sink = input_sink
        self.customer_clipboard = clipboard
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.language = language
        self.monitor = monitor
        self.on_event = on_event
        self.facts = SessionFacts(language=customer_language)
        self.verification_code = ""
        self.channels: dict[int, Channel] = {}
        self.control_allowed = False
        self.paused = False
        self.held = False  # the server holds the session: it cannot record
        self.notice = ""  # the server's words for why it holds the session, if any
        self.watchers: list[tuple[str, str]] = []  # (name, role) of everyone watching
        self._socket: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._source: ScreenSource | None = None
        self._sink: InputSink | None = None
        self._clipboard: CustomerClipboard | None = None
        self._ending = False
        self.files = CustomerFiles(
            self.control,
            files_ui or DeclineAll(),
            DownloadFolder(files_folder or download_folder()),
        )

    # -- customer controls, callable from any thread ------------------------------------

    def request(self, message: dict[str, Any]) -> None:
        """Send a control message from another thread (the Tk window, the stdin reader)."""
        if message.get("type") == "end":
            self.stop_capture()  # first, locally: ending must not wait for the network
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                asyncio.run_coroutine_threadsafe(self._request(message), loop)

    async def _request(self, message: dict[str, Any]) -> None:
        if message.get("type") == "end":
            self._ending = True
        with contextlib.suppress(ConnectionClosed, OSError):
            await self.control(message)
        if self._ending and self._socket is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._socket.close(), timeout=1)

    def stop_capture(self) -> None:
        for channel in list(self.channels.values()):
            channel.session.stop()

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
        """Connect, consent, serve until the end; returns what the receipt needs."""
        self._loop = asyncio.get_running_loop()
        headers = {"Authorization": f"Bearer {self.token}", "Accept-Language": self.language}
        try:
            socket = await connect(
                self.url,
                additional_headers=headers,
                ssl=self.ssl_context,
                max_size=8 * 1024 * 1024,
                open_timeout=15,
            )
        except ssl.SSLError as exc:
            raise LinkError(self._(CERTIFICATE_REFUSED).format(error=exc)) from None
        except (OSError, TimeoutError) as exc:
            raise LinkError(self._(UNREACHABLE).format(server=self.url, error=exc)) from None
        except Exception as exc:  # websockets' InvalidStatus for a refused token
            raise LinkError(self._(LINK_REFUSED).format(error=exc)) from None
        self._socket = socket
        self.files.attach(self._loop)
        try:
            async for message in socket:
                if isinstance(message, str):
                    continue
                frame = decode_frame(message)
                if frame.channel == CONTROL_CHANNEL:
                    await self._on_control(decode_control(frame.payload))
                elif frame.channel in self.channels:
                    self.channels[frame.channel].reader.feed(frame.payload)
        except ConnectionClosed:
            pass
        finally:
            self.stop_capture()
            self.files.close()  # no half-received file survives the session
            self.facts.files = list(self.files.done)
            for channel in list(self.channels.values()):
                channel.reader.close()
                await channel.writer.mark_closed()
            await asyncio.gather(*(c.task for c in self.channels.values()), return_exceptions=True)
            if self._sink is not None:
                self._sink.release_all()
                self._sink.close()
            if self._source is not None:
                self._source.close()
            if self._clipboard is not None:
                self._clipboard.close()
            self.facts.ended_at = self.facts.ended_at or datetime.now(UTC)
            if not self.facts.end_reason:
                self.facts.end_reason = "customer" if self._ending else "link lost"
            with contextlib.suppress(Exception):
                await socket.close()
        return self.facts

    async def _on_control(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "consent_request":
            await self._consent(message)
        elif kind == "open":
            await self._open(int(message["channel"]), bool(message.get("view_only")))
        elif kind == "close":
            channel = self.channels.pop(int(message["channel"]), None)
            if channel is not None:
                channel.session.stop()
                channel.reader.close()
        elif kind == "credit":
            channel = self.channels.get(int(message["channel"]))
            if channel is not None:
                await channel.writer.returned(int(message["bytes"]))
        elif kind == "state":
            self._follow_state(message)
        elif kind == "screen":
            await self._switch_screen(int(message.get("screen", 0)))
        elif kind == "end":
            self.stop_capture()
            self.facts.end_reason = str(message.get("reason") or "ended")
            self.facts.ended_at = datetime.now(UTC)
            self.on_event("end", message)
            if self._socket is not None:
                await self._socket.close()
        elif kind == "chat":
            self.on_event("chat", message)
        elif kind == "keyframe":
            keyframe_of = self.channels.get(int(message["channel"]))
            if keyframe_of is not None:
                keyframe_of.session.request_keyframe()
        elif kind.startswith("file_"):
            await self.files.receive(message)
        elif kind == "diagnostics_request":
            await self.files.diagnostics(message)

    async def _consent(self, message: dict[str, Any]) -> None:
        request = ConsentRequest(
            bank_name=str(message["bank"]),
            bank_domain=str(message["domain"]),
            agent_name=str(message["agent_name"]),
            consultation_number=str(message["consultation_number"]),
            verification_code=str(message["verification_code"]),
            requested=frozenset(Capability(c) for c in message.get("capabilities", [])),
            consent_version=str(message.get("consent_version")),
        )
        self.facts.consultation_number = request.consultation_number
        self.verification_code = request.verification_code
        self.facts.bank_name = request.bank_name
        self.facts.agent_name = request.agent_name
        # The dialog blocks (Tk main loop or standard input): keep the link alive meanwhile.
        record = await asyncio.to_thread(self.ask_consent, request)
        self.facts.consent = record
        if record.decision is ConsentDecision.GIVEN:
            granted = sorted(c.value for c in record.capabilities)
            self.facts.started_at = record.at
            self.facts.capabilities = frozenset(granted)
            self.facts.grants = [(record.at, "granted", c) for c in granted]
            await self.control({"type": "consent", "decision": "yes", "capabilities": granted})
            self.on_event("active", {"capabilities": granted})
        else:
            self.facts.end_reason = "declined"
            await self.control({"type": "consent", "decision": "no"})
            self.on_event("declined", {})

    async def _open(self, number: int, view_only: bool) -> None:
        if self.facts.started_at is None:
            return  # no consent, no capture
        if self._source is None:
            self._source = self.screen_source()
            self._sink = self.input_sink()
            self._clipboard = self.customer_clipboard()
            monitors = self._source.monitors()
            await self.control(
                {
                    "type": "hello",
                    "screens": [
                        {"index": m.index, "width": m.width, "height": m.height} for m in monitors
                    ],
                }
            )
        session = RFBSession(
            self._source,
            None if view_only else self._sink,
            monitor=min(self.monitor, len(self._source.monitors()) - 1),
            control=self.control_allowed and not view_only,
            clipboard=None if view_only else self._clipboard,
            on_keyframe=lambda payload: self._send_keyframe(number, payload),
        )
        reader, writer = ChannelReader(), ChannelWriter(self.send, number)
        session.start()
        if self.paused:
            session.pause()
        task = asyncio.create_task(session.serve(reader, writer))
        self.channels[number] = Channel(session, reader, writer, task)

    async def _send_keyframe(self, number: int, payload: bytes) -> None:
        # Behind the channel's RFB bytes, outside its credit: the relay records it and
        # forwards nothing (docs/relay-protocol.md).
        channel = self.channels.get(number)
        if channel is not None:
            for piece in encode_keyframe_pieces(number, payload):
                await channel.writer.write_message(piece)

    def _follow_state(self, message: dict[str, Any]) -> None:
        capabilities = frozenset(str(c) for c in message.get("capabilities", []))
        now = datetime.now(UTC)
        for gained in sorted(capabilities - self.facts.capabilities):
            self.facts.grants.append((now, "granted", gained))
        for lost in sorted(self.facts.capabilities - capabilities):
            if message.get("state") in ("active", "paused"):
                self.facts.grants.append((now, "revoked", lost))
        if message.get("state") in ("active", "paused"):
            self.facts.capabilities = capabilities
        self.control_allowed = Capability.CONTROL.value in capabilities
        self.paused = bool(message.get("paused"))  # by a party, or held by the system
        self.held = bool(message.get("held"))
        self.notice = str(message.get("notice") or "")
        self.watchers = [
            (str(w.get("name")), str(w.get("role")))
            for w in message.get("watchers", [])
            if isinstance(w, dict)
        ]
        for channel in self.channels.values():
            channel.session.set_control(self.control_allowed)
            if self.paused and not channel.session.paused:
                channel.session.pause()
            elif not self.paused and channel.session.paused:
                channel.session.resume()
        self.on_event("state", message)

    async def _switch_screen(self, monitor: int) -> None:
        self.monitor = monitor
        # Close the channels; the viewers reconnect and get the chosen screen.
        for channel in list(self.channels.values()):
            channel.session.stop()
            await channel.writer.close()
