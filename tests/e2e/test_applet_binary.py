"""The one-file support program as a customer starts it: built with PyInstaller for a test
bank, started with no arguments in a clean environment, driven through its windows.

The build (``scripts/build_applet.py``) bakes a test bank's config — server
``https://localhost:<port>``, domain ``localhost``, its self-signed certificate as the
private CA, the name "Testbank eG" — and is reused while the sources, the build script
and that config are unchanged (``var/applet-build/e2e/``). The program runs with
nothing but ``DISPLAY``, ``HOME`` and ``LANG`` (no virtualenv, no ``PYTHONPATH``, a
working directory outside the repository) on Xvfb; the real server runs behind a
forwarder on the baked port; the agent works in Chromium.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.applet.bank_certs import certificate, tls_server
from tests.desktop import Desktop, require_tool, wait_until, xvfb
from tests.e2e.test_live_session import PASSWORD, agent_page, canvas_matches_screen
from tests.live_server import LiveServer, add_agent, free_port, live_server

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
E2E = ROOT / "var" / "applet-build" / "e2e"
BUILD_VENV = ROOT / "var" / "applet-build" / "venv"
PROGRAM = "supportdesk-join-linux"
FIRST_WINDOW = "^Jetzt Fernwartung starten$"
CONSENT_WINDOW = "^Fernwartung .+ Zustimmung$"  # "–": xdotool's regex takes no UTF-8
SURVEY_WINDOW = "^Ihre Meinung"  # the exit survey after the end
SERVER_MODULES = ("fastapi", "sqlalchemy", "asyncpg", "av", "babel", "supportdesk.server")


@dataclass
class Bank:
    config: Path
    cert: Path
    key: Path
    port: int


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def bank() -> Bank:
    """The test bank's config, certificate and port, kept between runs (so is the build)."""
    E2E.mkdir(parents=True, exist_ok=True)
    cert, key = E2E / "bank.pem", E2E / "bank-key.pem"
    fresh = cert.exists() and (
        subprocess.run(
            ["openssl", "x509", "-checkend", "86400", "-noout", "-in", str(cert)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if not fresh:
        certificate(E2E, "bank", "DNS:localhost,IP:127.0.0.1", days=30)
    port_file = E2E / "port"
    port = int(port_file.read_text()) if port_file.exists() else 0
    if not port or not _port_is_free(port):
        port = free_port()  # a new port is a new config: the program is built again
        port_file.write_text(str(port))
    config = E2E / "bank.toml"
    config.write_text(
        f'name = "Testbank eG"\nserver = "https://localhost:{port}"\n'
        'domain = "localhost"\nca_file = "bank.pem"\n',
        encoding="utf-8",
    )
    return Bank(config, cert, key, port)


def build_key(bank: Bank) -> str:
    """What the program is built from: the sources, the build script, the bank config."""
    digest = hashlib.sha256()
    files = [ROOT / "pyproject.toml", ROOT / "scripts" / "build_applet.py", bank.config, bank.cert]
    files += sorted(
        p
        for p in (ROOT / "src" / "supportdesk").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="module")
def program(bank: Bank) -> Path:
    """The built program: reused when built from the same sources, else built now."""
    out = E2E / "dist"
    binary, stamp = out / PROGRAM, out / "built-from"
    key = build_key(bank)
    if not (binary.exists() and stamp.exists() and stamp.read_text() == key):
        stamp.unlink(missing_ok=True)
        built = subprocess.run(
            [sys.executable, "-m", "scripts.build_applet", "--config", str(bank.config),
             "--out", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        assert built.returncode == 0, built.stdout + built.stderr
        stamp.write_text(key)
    return binary


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1024, 768, 24) as desk:
        yield desk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, bank: Bank) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    with live_server(folder, tls=(bank.cert, bank.key)) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


@contextlib.contextmanager
def forwarder(port: int, target: int) -> Iterator[None]:
    """127.0.0.1:``port`` (the baked address) to 127.0.0.1:``target`` (the live server)."""
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)
    stop = threading.Event()
    links: list[socket.socket] = []

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target))
            links.extend((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for link in links:
            with contextlib.suppress(OSError):
                link.close()


class Started:
    """The program started as a customer starts it; its output read on a thread."""

    def __init__(self, binary: Path, desk: Desktop, home: Path, cwd: Path, *args: str) -> None:
        env = {"DISPLAY": desk.display, "HOME": str(home), "LANG": "C.UTF-8"}
        self.process = subprocess.Popen(
            [str(binary), *args], env=env, cwd=cwd, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            stop(self.process)
            raise AssertionError(f"the program did not end: {self.output}") from None


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM first: the bootloader passes it on and removes its unpacked folder, which
    a SIGKILL would leave in /tmp."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def save_screen(desk: Desktop, path: Path) -> None:
    from PIL import Image

    Image.fromarray(desk.screenshot()[:, :, 2::-1]).save(path)


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def unpacked() -> set[Path]:
    """PyInstaller's temporary folders (the bootloader unpacks into /tmp/_MEI…)."""
    return set(Path("/tmp").glob("_MEI*"))


def archive_names(binary: Path) -> list[str]:
    listing = subprocess.run(
        [str(BUILD_VENV / "bin" / "pyi-archive_viewer"), "--list", "--recursive", "--brief",
         str(binary)],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return [line.strip() for line in listing.stdout.splitlines() if line.strip()]


def test_nothing_of_the_server_is_in_the_program(program: Path) -> None:
    names = archive_names(program)
    assert "supportdesk.applet.program" in names and "supportdesk.capture.input_sink" in names
    assert "supportdesk/applet/bank.toml" in names  # the bank's config, baked in
    assert "supportdesk/locale/de/LC_MESSAGES/messages.po" in names
    assert "_tcl_data/init.tcl" in names and "tkinter" in names
    leaked = [n for n in names for m in SERVER_MODULES if n == m or n.startswith(m + ".")]
    assert leaked == []
    print(f"{program.name}: {program.stat().st_size / 1e6:.1f} MB, {len(names)} entries")


async def test_the_program_joins_with_no_arguments_through_its_windows(
    program: Path,
    bank: Bank,
    server: LiveServer,
    desktop: Desktop,
    browser: Browser,
    tmp_path: Path,
) -> None:
    xdotool = require_tool("xdotool")
    work = tmp_path / "xterm"
    work.mkdir()
    # Away from the top-left corner, where the program's windows open without a WM.
    _, xterm = desktop.xterm(
        ["bash", "--norc", "--noprofile"], geometry="80x24+500+380", cwd=str(work)
    )
    home, outside = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    outside.mkdir()
    home_before, unpacked_before = files_under(home), unpacked()

    page = await agent_page(browser, server)
    await page.get_by_role("button", name="Neue Fernwartung").click()
    key = await page.locator("[data-support-key]").inner_text()
    number = await page.locator("[data-consultation-number]").inner_text()

    port = int(server.url.rsplit(":", 1)[1])
    with forwarder(bank.port, port):
        started = Started(program, desktop, home, outside)
        try:
            first = await asyncio.to_thread(
                wait_until, lambda: desktop.window_titled(FIRST_WINDOW), 60, "the first window"
            )
            assert unpacked() - unpacked_before, "the program runs from its unpacked archive"
            # The customer types the name (the field has the focus), Tab, the key, Return.
            desktop.focus(first)
            desktop.run(xdotool, "type", "--delay", "30", "Erika Müller")
            desktop.run(xdotool, "key", "Tab")
            desktop.run(xdotool, "type", "--delay", "30", key)
            desktop.run(xdotool, "key", "Return")

            consent = await asyncio.to_thread(
                wait_until, lambda: desktop.window_titled(CONSENT_WINDOW), 30, "the consent"
            )
            # Keyboard only: Tab to the first box that can be ticked (control; "view" is
            # ticked and locked), Space ticks it, Shift+Tab wraps round to "Ja", Space.
            desktop.focus(consent)
            desktop.run(xdotool, "key", "--delay", "100", "Tab", "space", "shift+Tab", "space")

            await page.goto(f"{server.url}/console/sessions/{number}/live")
            live = page.locator("[data-live]")
            await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
            await expect(live).to_have_attribute("data-control", "yes")
            await expect(page.locator('[data-field="customer_name"]')).to_have_text("Erika Müller")
            canvas = page.locator("[data-screen] canvas")
            await asyncio.sleep(1.5)  # the first full update
            difference = canvas_matches_screen(await canvas.screenshot(), desktop)
            assert difference < 12, f"canvas differs from the screen by {difference:.1f}"

            # The agent clicks into the xterm on the canvas and types a command.
            box = await canvas.bounding_box()
            assert box is not None
            x, y, width, height = desktop.window_geometry(xterm)
            scale = box["width"] / desktop.width
            await page.mouse.click(
                box["x"] + (x + width / 2) * scale, box["y"] + (y + height / 2) * scale
            )
            await page.keyboard.type("touch created-by-agent\n", delay=20)
            await asyncio.to_thread(
                wait_until, lambda: (work / "created-by-agent").exists(), 10, "the typed file"
            )

            await page.locator('[data-action="end"]').click()
            await page.locator("[data-confirm-end]").click()  # the console asks first
            await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
            survey = await asyncio.to_thread(
                wait_until, lambda: desktop.window_titled(SURVEY_WINDOW), 30, "the survey"
            )
            desktop.focus(survey)
            desktop.run(xdotool, "key", "Escape")  # skipped
            code = await asyncio.to_thread(started.wait, 30)
        finally:
            if started.process.poll() is None:
                stop(started.process)
                ARTIFACTS.mkdir(exist_ok=True)
                await page.screenshot(path=str(ARTIFACTS / "applet-binary-console.png"))
                save_screen(desktop, ARTIFACTS / "applet-binary-desktop.png")
            print("the program said:", started.output)
    assert code == 0, started.output

    documents = home / "Documents"  # platformdirs' documents folder without XDG settings
    receipt = documents / f"Fernwartung-{number}.txt"
    assert receipt.exists(), started.output
    text = receipt.read_text(encoding="utf-8")
    assert number in text and "Testbank eG (localhost)" in text
    assert f"Quittung gespeichert: {receipt}" in started.output

    # It installed nothing: the receipt is all it left, and its unpacked archive is gone.
    left = files_under(home) - home_before
    assert left == {
        "Documents",
        f"Documents/Fernwartung-{number}.txt",
        f"Documents/Fernwartung-{number}.json",
    }
    assert unpacked() - unpacked_before == set()


def test_a_server_that_is_not_the_banks_is_refused(
    program: Path, desktop: Desktop, tmp_path: Path
) -> None:
    """``--server`` and ``--ca-file`` override the built-in address and CA, but not the
    bank's domain: a server with a valid, trusted certificate for another name is refused
    before name and key are sent, in German."""
    other_cert, other_key = certificate(tmp_path, "other", "IP:127.0.0.1")
    home = tmp_path / "home"
    home.mkdir()
    before = unpacked()
    with tls_server(other_cert, other_key) as port:
        started = Started(
            program, desktop, home, tmp_path,
            "--text", "--server", f"https://127.0.0.1:{port}", "--ca-file", str(other_cert),
        )  # fmt: skip
        assert started.process.stdin is not None
        started.process.stdin.write("Erika Müller\n123 456 789 012\n")
        started.process.stdin.close()
        code = started.wait(30)
    assert code == 2, started.output
    assert (
        "supportdesk-join: Diese Verbindung führt nicht zur Testbank eG (localhost): Das "
        "Zertifikat des Servers gilt für keinen Namen. Das Programm verbindet sich nicht mit "
        "ihm und gibt nichts frei." in started.output
    )
    assert files_under(home) == set()
    assert unpacked() - before == set()
