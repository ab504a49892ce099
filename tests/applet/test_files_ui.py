"""The customer's side of files and diagnostics: the applet's endpoint answering a real
agent endpoint through a scripted customer, text-mode questions on standard input, and
the active window's watcher line on a real X display."""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from supportdesk.applet.files import CustomerFiles, FileQuestion, OfferAnswer
from supportdesk.applet.files_text import TextFilesUI, TextQuestions
from supportdesk.diagnostics.messages import DiagnosticsRequest
from supportdesk.diagnostics.probe import Label, ProbeStatus
from supportdesk.diagnostics.report import DiagnosticsReport, ReportEntry
from supportdesk.transfer.endpoint import Side, TransferEndpoint, TransferEvent
from supportdesk.transfer.messages import CancelReason
from supportdesk.transfer.receiver import DownloadFolder
from supportdesk.transfer.sender import FileSource, hash_file
from tests.desktop import Desktop


class ScriptedCustomer:
    """Answers every question as told, and keeps what it was shown."""

    def __init__(self, offer: OfferAnswer = OfferAnswer.ACCEPT, send: bool = True) -> None:
        self.offer, self.send = offer, send
        self.asked: list[FileQuestion] = []
        self.shown: list[TransferEvent] = []
        self.withdrawn: list[str] = []

    def ask_offer(self, question: FileQuestion) -> OfferAnswer:
        self.asked.append(question)
        return self.offer

    def confirm_send(self, name: str, size: int) -> bool:
        return self.send

    def ask_report(self, report: DiagnosticsReport) -> bool:
        return self.send

    def show(self, event: TransferEvent, folder: Path) -> None:
        self.shown.append(event)

    def progress(self, name: str, done: int, size: int) -> None:
        pass

    def withdraw(self, question_id: str) -> None:
        self.withdrawn.append(question_id)


class Wire:
    """The relay's side for the test: the agent's endpoint, fed what the applet sends."""

    def __init__(self) -> None:
        self.agent = TransferEndpoint(Side.AGENT)
        self.to_agent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(self, message: dict[str, Any]) -> None:
        await self.to_agent.put(message)

    async def run(self, files: CustomerFiles, first: list[dict[str, Any]]) -> None:
        """Carry messages both ways until nothing moves for a moment."""
        for message in first:
            await files.receive(message)
        while True:
            try:
                message = await asyncio.wait_for(self.to_agent.get(), timeout=0.5)
            except TimeoutError:
                return
            if not message["type"].startswith("file_"):
                continue
            answers = self.agent.receive(message) + self.agent.pump()
            for answer in answers:
                await files.receive(answer.to_json())


def offer_from_agent(wire: Wire, path: Path) -> list[dict[str, Any]]:
    digest = hash_file(path)
    offered = wire.agent.offer(path.name, digest.size, digest.sha256, FileSource(path))
    return [m.to_json() for m in offered]


async def test_an_accepted_file_lands_intact_and_goes_on_the_receipt(tmp_path: Path) -> None:
    wire, customer = Wire(), ScriptedCustomer()
    folder = tmp_path / "Fernwartung-Dateien"
    files = CustomerFiles(wire.send, customer, DownloadFolder(folder))
    source = tmp_path / "Anleitung.pdf"
    source.write_bytes(bytes(range(256)) * 2000)
    await wire.run(files, offer_from_agent(wire, source))
    assert (folder / "Anleitung.pdf").read_bytes() == source.read_bytes()
    assert customer.asked[0].name == "Anleitung.pdf" and not customer.asked[0].name_taken
    [done] = files.done
    assert done.name == "Anleitung.pdf" and not done.to_agent
    assert done.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()


async def test_a_declined_file_leaves_nothing(tmp_path: Path) -> None:
    wire, customer = Wire(), ScriptedCustomer(OfferAnswer.DECLINE)
    folder = tmp_path / "Fernwartung-Dateien"
    files = CustomerFiles(wire.send, customer, DownloadFolder(folder))
    source = tmp_path / "brief.txt"
    source.write_text("Sehr geehrte Frau Müller\n" * 100)
    await wire.run(files, offer_from_agent(wire, source))
    assert not folder.exists() or list(folder.iterdir()) == []
    assert files.done == [] and customer.shown[-1].state.value == "declined"


async def test_an_offer_withdrawn_while_the_customer_thinks_closes_the_question(
    tmp_path: Path,
) -> None:
    class Thinking(ScriptedCustomer):
        """Answers only once the question is withdrawn (or after 5 s)."""

        def __init__(self) -> None:
            super().__init__()
            self.closed = threading.Event()

        def ask_offer(self, question: FileQuestion) -> OfferAnswer:
            self.asked.append(question)
            self.closed.wait(5)
            return OfferAnswer.ACCEPT  # too late: nothing may come of it

        def withdraw(self, question_id: str) -> None:
            super().withdraw(question_id)
            self.closed.set()

    wire, customer = Wire(), Thinking()
    folder = tmp_path / "Fernwartung-Dateien"
    files = CustomerFiles(wire.send, customer, DownloadFolder(folder))
    source = tmp_path / "Anleitung.pdf"
    source.write_bytes(b"%PDF" * 1000)
    [offer] = offer_from_agent(wire, source)
    await files.receive(offer)
    for _ in range(500):  # the question opens in its own thread
        if customer.asked:
            break
        await asyncio.sleep(0.01)
    # The agent takes the file back (or the offer times out) before the answer.
    [cancel] = wire.agent.cancel(offer["id"], CancelReason.AGENT)
    await files.receive(cancel.to_json())
    assert customer.withdrawn == [offer["id"]]
    await asyncio.sleep(0.1)  # the late "accept" finds no transfer
    assert not folder.exists() or list(folder.iterdir()) == []
    assert files.done == [] and customer.shown[-1].outcome == "agent"


async def test_a_taken_name_asks_and_keeping_both_keeps_both(tmp_path: Path) -> None:
    wire, customer = Wire(), ScriptedCustomer(OfferAnswer.KEEP_BOTH)
    folder = tmp_path / "Fernwartung-Dateien"
    folder.mkdir()
    (folder / "brief.txt").write_text("der alte Brief")
    files = CustomerFiles(wire.send, customer, DownloadFolder(folder))
    source = tmp_path / "brief.txt"
    source.write_text("der neue Brief")
    await wire.run(files, offer_from_agent(wire, source))
    assert customer.asked[0].name_taken
    assert (folder / "brief.txt").read_text() == "der alte Brief"
    assert (folder / "brief (2).txt").read_text() == "der neue Brief"


async def test_the_end_of_the_session_removes_a_half_received_file(tmp_path: Path) -> None:
    wire, customer = Wire(), ScriptedCustomer()
    folder = tmp_path / "Fernwartung-Dateien"
    files = CustomerFiles(wire.send, customer, DownloadFolder(folder))
    source = tmp_path / "gross.bin"
    source.write_bytes(b"x" * 1_000_000)
    for message in offer_from_agent(wire, source):
        await files.receive(message)
    accepted = await asyncio.wait_for(wire.to_agent.get(), timeout=5)
    assert accepted["type"] == "file_accept"
    # One window of chunks arrives, then the session ends.
    for answer in wire.agent.receive(accepted) + wire.agent.pump():
        await files.receive(answer.to_json())
    assert any(p.name.startswith(".gross.bin.part-") for p in folder.iterdir())
    [cancel] = files.close()
    assert cancel.to_json()["reason"] == "session_ended"
    assert list(folder.iterdir()) == []


async def test_a_customer_file_is_offered_only_after_the_customer_confirms(
    tmp_path: Path,
) -> None:
    for confirmed in (False, True):
        wire = Wire()
        files = CustomerFiles(
            wire.send, ScriptedCustomer(send=confirmed), DownloadFolder(tmp_path / "in")
        )
        files.attach(asyncio.get_running_loop())
        source = tmp_path / "Kontoauszug.csv"
        source.write_text("Datum;Betrag\n")
        await asyncio.to_thread(files.send_file, source)
        sent = [wire.to_agent.get_nowait() for _ in range(wire.to_agent.qsize())]
        assert [m["type"] for m in sent] == (["file_offer"] if confirmed else [])


def a_report() -> DiagnosticsReport:
    entry = ReportEntry(
        "clock", Label("Uhrzeit und Zeitzone", "Clock and time zone"), ProbeStatus.OK,
        {"time_zone": "Europe/Berlin"}, None, (), 0.01,
    )  # fmt: skip
    return DiagnosticsReport(datetime.now(UTC), (entry,))


async def test_a_diagnostics_report_is_sent_or_withheld_as_the_customer_says(
    tmp_path: Path,
) -> None:
    request = DiagnosticsRequest("r1", datetime.now(UTC)).to_json()
    for agrees, kind in ((True, "diagnostics_report"), (False, "diagnostics_withheld")):
        wire = Wire()
        files = CustomerFiles(
            wire.send,
            ScriptedCustomer(send=agrees),
            DownloadFolder(tmp_path / "in"),
            collect=lambda request, arrived: a_report(),
        )
        await files.diagnostics(request)
        answer = await asyncio.wait_for(wire.to_agent.get(), timeout=5)
        assert answer["type"] == kind and answer["id"] == "r1"


def test_a_text_question_takes_the_next_line_and_commands_pass_otherwise() -> None:
    out = io.StringIO()
    questions = TextQuestions(out)
    ui = TextFilesUI(questions, out)
    assert not questions.take("p")  # no question open: a command
    answers: list[OfferAnswer] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            ui.ask_offer(FileQuestion("t1", "brief.txt", 10, "ab" * 32, name_taken=True))
        )
    )
    asking.start()
    for line in ("j", "b"):
        while not questions.take(line):
            threading.Event().wait(0.01)
    asking.join(5)
    assert answers == [OfferAnswer.KEEP_BOTH]
    assert "Datei annehmen?" in out.getvalue() and "ersetzen oder beide behalten" in out.getvalue()


def test_a_withdrawn_offer_closes_its_text_question_and_the_next_line_is_a_command() -> None:
    out = io.StringIO()
    questions = TextQuestions(out)
    ui = TextFilesUI(questions, out)
    answers: list[OfferAnswer] = []
    asking = threading.Thread(
        target=lambda: answers.append(
            ui.ask_offer(FileQuestion("t1", "brief.txt", 10, "ab" * 32, name_taken=False))
        )
    )
    asking.start()
    while "Datei annehmen?" not in out.getvalue():
        threading.Event().wait(0.01)
    ui.withdraw("t1")
    asking.join(5)
    assert answers == [OfferAnswer.DECLINE]
    assert not questions.take("p")  # no question left open: "p" is a command again


def test_the_active_window_lists_watchers_and_file_dialogs_default_to_no(
    desktop: Desktop,
) -> None:
    from supportdesk.applet.tk.active_window import ActiveWindow

    class Session:
        paused = control = stopped = False

        def pause(self) -> None: ...

        def resume(self) -> None: ...

        def set_control(self, allowed: bool) -> None: ...

        def stop(self) -> None: ...

    watching = ["Anna Berger (agent)"]
    window = ActiveWindow(
        Session(),
        consultation_number="BN-2026-4821-7730-8",
        verification_code="K7M-4XP",
        agent_name="Anna Berger",
        screen=desktop.display,
        watchers=lambda: watching,
    )
    try:
        window.root.update()
        assert window.watching.cget("text") == "Es sehen zu: Anna Berger (agent)"
        watching.append("Sven Supervisor (supervisor)")
        window._refresh()
        assert window.watching.cget("text") == (
            "Es sehen zu: Anna Berger (agent), Sven Supervisor (supervisor)"
        )
        assert "send_file" not in window.buttons  # file transfer not granted
    finally:
        window.root.destroy()
    # Same test, same display: Tk in this process must not outlive its X server.
    tk_dialogs_ask_and_default_to_no(desktop)


def tk_dialogs_ask_and_default_to_no(desktop: Desktop) -> None:
    from supportdesk.applet.tk.files import TkFilesUI, offer_dialog, report_dialog

    taken = FileQuestion("t1", "brief.txt", 10, "ab" * 32, name_taken=True)
    dialog = offer_dialog(taken, screen=desktop.display)
    assert set(dialog.buttons) == {"decline", "replace", "keep_both"}
    dialog.root.after(50, dialog.buttons["keep_both"].invoke)
    assert OfferAnswer(dialog.run()) is OfferAnswer.KEEP_BOTH

    fresh = FileQuestion("t2", "neu.txt", 10, "ab" * 32, name_taken=False)
    dialog = offer_dialog(fresh, screen=desktop.display)
    assert set(dialog.buttons) == {"decline", "accept"}
    dialog.root.after(50, dialog.root.destroy)  # closed without an answer
    assert OfferAnswer(dialog.run()) is OfferAnswer.DECLINE

    report = report_dialog(a_report(), screen=desktop.display)
    report.root.after(50, report.buttons["send"].invoke)
    assert report.run() == "send"

    # An offer withdrawn while its dialog is open: the dialog closes by itself, "no".
    ui = TkFilesUI(screen=desktop.display)
    withdraw = threading.Timer(0.2, ui.withdraw, ["t3"])
    withdraw.start()
    started = time.monotonic()
    answer = ui.ask_offer(FileQuestion("t3", "spaet.txt", 10, "ab" * 32, name_taken=False))
    assert answer is OfferAnswer.DECLINE and time.monotonic() - started < 3


async def test_the_customer_can_cancel_a_running_transfer(tmp_path: Path) -> None:
    wire = Wire()
    folder = tmp_path / "Fernwartung-Dateien"
    files = CustomerFiles(wire.send, ScriptedCustomer(), DownloadFolder(folder))
    files.attach(asyncio.get_running_loop())
    source = tmp_path / "gross.bin"
    source.write_bytes(b"x" * 1_000_000)
    for message in offer_from_agent(wire, source):
        await files.receive(message)
    accepted = await asyncio.wait_for(wire.to_agent.get(), timeout=5)
    for answer in wire.agent.receive(accepted) + wire.agent.pump():
        await files.receive(answer.to_json())
    files.cancel_running()
    while (message := await asyncio.wait_for(wire.to_agent.get(), timeout=5))["type"] != (
        "file_cancel"
    ):
        pass
    assert message["reason"] == "customer"
    assert list(folder.iterdir()) == []
