"""The customer's side of file transfers and diagnostics, between the link and the UI.

:class:`CustomerFiles` holds the applet's :class:`TransferEndpoint` (``Side.CUSTOMER``)
and the folder received files land in. It runs on the link's event loop; whatever has
to ask the customer (accept this file? send this report? send that file?) goes to a
:class:`FilesUI` in a worker thread, because the text prompt and the Tk dialog block,
and the answer comes back to the loop. Every finished transfer is kept in
:attr:`CustomerFiles.done` for the receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

from supportdesk.diagnostics.messages import (
    DiagnosticsReportMessage,
    DiagnosticsRequest,
    DiagnosticsWithheld,
    InvalidDiagnosticsMessage,
)
from supportdesk.diagnostics.report import DiagnosticsReport, collect_report
from supportdesk.transfer.endpoint import (
    Side,
    TransferEndpoint,
    TransferEvent,
    TransferLimits,
    UnknownTransfer,
)
from supportdesk.transfer.errors import InvalidMessage, LocalTransferError
from supportdesk.transfer.lifecycle import TERMINAL_STATES, TransferState
from supportdesk.transfer.messages import CancelReason, Direction, TransferMessage
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource, hash_file

log = logging.getLogger(__name__)

FOLDER_NAME = "Fernwartung-Dateien"
T = TypeVar("T")


class OfferAnswer(Enum):
    ACCEPT = "accept"
    REPLACE = "replace"
    KEEP_BOTH = "keep_both"
    DECLINE = "decline"


@dataclass(frozen=True)
class FileQuestion:
    """What the customer is asked about an incoming file."""

    id: str
    name: str
    size: int
    sha256: str
    name_taken: bool


class FilesUI(Protocol):
    """The customer's side of the conversation; every method may block (it runs in a
    worker thread), none may touch the link."""

    def ask_offer(self, question: FileQuestion) -> OfferAnswer: ...

    def confirm_send(self, name: str, size: int) -> bool: ...

    def ask_report(self, report: DiagnosticsReport) -> bool: ...

    def show(self, event: TransferEvent, folder: Path) -> None: ...

    def progress(self, name: str, done: int, size: int) -> None: ...

    def withdraw(self, question_id: str) -> None:
        """The offer behind an open question ended before the customer answered (the
        agent cancelled it, it timed out, the session ended): close the question.
        Called on the link's loop: must not block."""
        ...


class DeclineAll:
    """The UI of an applet that cannot ask: every file and every report is refused."""

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        return OfferAnswer.DECLINE

    def confirm_send(self, name: str, size: int) -> bool:
        return False

    def ask_report(self, report: DiagnosticsReport) -> bool:
        return False

    def show(self, event: TransferEvent, folder: Path) -> None:
        pass

    def progress(self, name: str, done: int, size: int) -> None:
        pass

    def withdraw(self, question_id: str) -> None:
        pass


def download_folder() -> Path:
    """``<Documents>/Fernwartung-Dateien``: where received files land."""
    from supportdesk.applet.receipt import documents_folder

    return documents_folder() / FOLDER_NAME


@dataclass(frozen=True)
class DoneFile:
    """A transfer that completed, for the receipt."""

    at: datetime
    name: str
    size: int
    to_agent: bool
    sha256: str


Send = Callable[[dict[str, Any]], Awaitable[None]]


async def in_daemon_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking ``function`` in a daemon thread and await its result.

    Not ``asyncio.to_thread``: a question the customer never answers (the session
    ended meanwhile) would keep the executor, and so the applet, from exiting.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result = function(*args)
        except BaseException as exc:  # handed to the awaiting task
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, None, exc)
            return
        with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=run, name="applet-question", daemon=True).start()
    return await future


@dataclass
class CustomerFiles:
    send: Send
    ui: FilesUI = field(default_factory=DeclineAll)
    folder: DownloadFolder = field(default_factory=lambda: DownloadFolder(download_folder()))
    limits: TransferLimits = field(default_factory=TransferLimits)
    collect: Callable[[DiagnosticsRequest, float], DiagnosticsReport] | None = None
    """Runs the probes (default: all of them); ``arrived`` is ``time.monotonic()`` when
    the request came, so the clock probe can discount the wait."""
    done: list[DoneFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.endpoint = TransferEndpoint(Side.CUSTOMER, self.limits)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._asking: set[str] = set()  # offers whose question is open
        self.folder.remove_stale_parts()

    # -- from the link (on its loop) ----------------------------------------------------

    async def receive(self, message: dict[str, Any]) -> None:
        """One ``file_*`` control message from the relay."""
        self._loop = asyncio.get_running_loop()
        try:
            answers = self.endpoint.receive(message)
        except InvalidMessage as exc:
            log.warning("dropped a file message: %s", exc)
            return
        await self._settle(answers)
        transfer = self.endpoint.get(str(message.get("id")))
        if transfer is not None and transfer.state is TransferState.TRANSFERRING:
            name = transfer.offer.name
            self.ui.progress(name, transfer.bytes_done, transfer.offer.size)

    async def diagnostics(self, message: dict[str, Any]) -> None:
        """A ``diagnostics_request``: collect, show, send or withhold — in a task, so
        the link keeps serving meanwhile."""
        self._loop = asyncio.get_running_loop()
        arrived = time.monotonic()
        try:
            request = DiagnosticsRequest.from_json(message)
        except InvalidDiagnosticsMessage as exc:
            log.warning("dropped a diagnostics request: %s", exc)
            return
        self._spawn(self._answer_diagnostics(request, arrived))

    def close(self) -> list[TransferMessage]:
        """The session is over: stop every transfer, leaving no part file behind."""
        for task in self._tasks:
            task.cancel()
        return self.endpoint.cancel_all(CancelReason.SESSION_ENDED)

    # -- from the customer (any thread) ----------------------------------------------------

    def send_file(self, path: Path) -> None:
        """The customer picked ``path`` to send: hash it, confirm, then offer it."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the link is not running")
        digest = hash_file(path)
        if not self.ui.confirm_send(path.name, digest.size):
            return
        asyncio.run_coroutine_threadsafe(
            self._offer(path, digest.size, digest.sha256), loop
        ).result()

    def cancel_running(self) -> None:
        """The customer stops every running transfer (any thread)."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._cancel_running(), self._loop)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # -- internals -----------------------------------------------------------------------

    async def _offer(self, path: Path, size: int, sha256: str) -> None:
        await self._settle(self.endpoint.offer(path.name, size, sha256, FileSource(path)))

    async def _cancel_running(self) -> None:
        await self._settle(self.endpoint.cancel_all(CancelReason.CUSTOMER))

    async def _settle(self, messages: list[TransferMessage]) -> None:
        while True:
            for message in messages:
                await self.send(message.to_json())
            messages = self.endpoint.pump()
            events = self.endpoint.events()
            for event in events:
                self._on_event(event)
            if not messages and not events:
                return

    def _on_event(self, event: TransferEvent) -> None:
        if event.state is TransferState.OFFERED and event.direction is Direction.TO_CUSTOMER:
            question = FileQuestion(
                event.id, event.name, event.size, event.sha256, self.folder.taken(event.name)
            )
            self._asking.add(event.id)
            self._spawn(self._ask(question))
            return
        if event.id in self._asking and event.state in TERMINAL_STATES:
            self._asking.discard(event.id)
            self.ui.withdraw(event.id)  # nobody is to answer for a file no longer offered
        if event.state is TransferState.DONE:
            self.done.append(
                DoneFile(
                    datetime.now(UTC),
                    event.final_name or event.name,
                    event.size,
                    event.direction is Direction.TO_AGENT,
                    event.sha256,
                )
            )
        self.ui.show(event, self.folder.path)

    async def _ask(self, question: FileQuestion) -> None:
        answer = await in_daemon_thread(self.ui.ask_offer, question)
        self._asking.discard(question.id)
        try:
            if answer is OfferAnswer.DECLINE:
                messages = self.endpoint.decline(question.id)
            else:
                sink = self.folder.open_part(question.name, overwrite=answer is OfferAnswer.REPLACE)
                messages = self.endpoint.accept(question.id, sink)
        except (UnknownTransfer, LocalTransferError):
            return  # cancelled while the customer thought about it
        except OSError as exc:
            log.warning("cannot store the file: %s", exc)
            messages = self.endpoint.cancel(question.id, CancelReason.CUSTOMER)
        await self._settle(messages)

    async def _answer_diagnostics(self, request: DiagnosticsRequest, arrived: float) -> None:
        report = await in_daemon_thread(self.collect or self._collect, request, arrived)
        send = await in_daemon_thread(self.ui.ask_report, report)
        answer = (
            DiagnosticsReportMessage(request.id, report).to_json()
            if send
            else DiagnosticsWithheld(request.id).to_json()
        )
        await self.send(answer)

    def _collect(self, request: DiagnosticsRequest, arrived: float) -> DiagnosticsReport:
        # The disk probe reports the free space where received files land.
        context = request.context(received_at=arrived, download_folder=self.folder.path)
        return collect_report(context)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                await work

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
