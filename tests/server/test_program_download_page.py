"""The support program's download page and downloads through the real app: the right
file for the visitor's system with its size and SHA-256, in German and English; the
bytes themselves; a plain 404 for everything else; the links that lead there."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from supportdesk.config import Settings
from supportdesk.server.app import create_app
from supportdesk.server.pages.downloads import BUILDS, ProgramSystem
from supportdesk.server.pages.program_download import ProgramShelf
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.conftest import FixedClock
from tests.server.test_downloads import LINUX_FIREFOX, MAC_SAFARI, WINDOWS_CHROME

AGENTS = {
    ProgramSystem.WINDOWS: WINDOWS_CHROME,
    ProgramSystem.MACOS: MAC_SAFARI,
    ProgramSystem.LINUX: LINUX_FIREFOX,
}
# Distinct sizes, so a page showing another file's facts is caught.
SIZES = {
    ProgramSystem.WINDOWS: 1_500_000,
    ProgramSystem.MACOS: 2_345_678,
    ProgramSystem.LINUX: 40_000,
}
SECRET = b"not for download"


def content(system: ProgramSystem) -> bytes:
    seed = hashlib.sha256(system.value.encode()).digest()
    return (seed * (SIZES[system] // len(seed) + 1))[: SIZES[system]]


def german_bytes(size: int) -> str:
    return f"{size:,}".replace(",", ".") + " Bytes"


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    folder = tmp_path / "downloads"
    folder.mkdir()
    for system, build in BUILDS.items():
        (folder / build.file_name).write_bytes(content(system))
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (folder / "notes.txt").write_bytes(SECRET)
    return folder


async def _app(
    make_settings: Callable[..., Settings], clock: FixedClock, **environ: str
) -> AsyncIterator[FastAPI]:
    settings = make_settings(None, **environ)
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def portal(
    make_settings: Callable[..., Settings], clock: FixedClock, downloads: Path
) -> AsyncIterator[FastAPI]:
    async for app in _app(
        make_settings, clock, SUPPORTDESK_APPLET_DOWNLOAD_DIRECTORY=str(downloads)
    ):
        yield app


def visitor(app: FastAPI, agent: str = WINDOWS_CHROME, language: str = "de") -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"User-Agent": agent},
    )
    client.cookies.set("sd_lang", language)
    return client


def recommended(page: str) -> str:
    match = re.search(
        r"<section class=\"download\"[^>]*data-recommended>(.*?)</section>", page, re.S
    )
    assert match, "no recommended download on the page"
    return match.group(1)


@pytest.mark.parametrize("system", list(ProgramSystem), ids=lambda s: s.value)
async def test_the_visitors_file_comes_first_with_its_size_and_checksum(
    portal: FastAPI, system: ProgramSystem
) -> None:
    async with visitor(portal, AGENTS[system]) as browser:
        page = await browser.get("/fernwartung/programm")
    assert page.status_code == 200
    text = page.text
    box = recommended(text)
    build = BUILDS[system]
    assert f'data-download="{system.value}"' in text
    assert f">{build.file_name}<" in box
    assert f'href="/fernwartung/programm/{system.value}"' in box
    assert german_bytes(SIZES[system]) in box
    assert hashlib.sha256(content(system)).hexdigest() in box
    assert f"Support-Programm für {build.label} herunterladen" in box
    # The other systems' files are listed below it, with their own facts.
    for other in set(ProgramSystem) - {system}:
        assert hashlib.sha256(content(other)).hexdigest() not in box
        listed = text.index(f'<li data-download="{other.value}">')
        assert listed > text.index("Für andere Systeme")
        assert hashlib.sha256(content(other)).hexdigest() in text[listed:]
    # The four steps, in German, and what the program leaves behind.
    steps = re.findall(r"<li><strong>([^<]+)</strong>", text)
    assert steps == [
        "Herunterladen.",
        "Öffnen.",
        "Namen und Support-Schlüssel eingeben.",
        "Prüfen und zustimmen.",
    ]
    assert "denselben Namen und denselben Schlüssel noch einmal ein" in text
    assert "Vor Ihrem „Ja“ wird nichts übertragen." in text
    assert "Das Programm installiert nichts und richtet keinen Autostart ein." in text
    assert "<script" not in text and "style=" not in text  # CSP: nothing inline


async def test_the_steps_say_what_each_system_shows(portal: FastAPI) -> None:
    async with visitor(portal, WINDOWS_CHROME) as browser:
        windows = (await browser.get("/fernwartung/programm")).text
    async with visitor(portal, MAC_SAFARI) as browser:
        mac = (await browser.get("/fernwartung/programm")).text
    async with visitor(portal, LINUX_FIREFOX) as browser:
        linux = (await browser.get("/fernwartung/programm")).text
    assert "„Der Computer wurde durch Windows geschützt“ (SmartScreen)" in windows
    assert "SmartScreen" not in mac and "SmartScreen" not in linux
    assert "ZIP-Datei" in mac and "Bildschirmaufnahme" in mac
    assert "chmod +x supportdesk-join-linux" in linux


async def test_the_page_in_english(portal: FastAPI) -> None:
    async with visitor(portal, MAC_SAFARI, language="en") as browser:
        page = await browser.get("/fernwartung/programm")
    text = page.text
    box = recommended(text)
    assert "<h1>Download the support program</h1>" in text
    assert "Download the support program for macOS" in box
    size = SIZES[ProgramSystem.MACOS]
    assert f"{size:,} bytes" in box and f"{size / 1024 / 1024:.1f} MB" in box
    assert 'Nothing is shared before you click "Yes".' in text
    assert "Herunterladen" not in text


async def test_the_client_hint_picks_the_file(portal: FastAPI) -> None:
    async with visitor(portal, LINUX_FIREFOX) as browser:
        page = await browser.get(
            "/fernwartung/programm", headers={"Sec-CH-UA-Platform": '"Windows"'}
        )
    assert "supportdesk-join-windows.exe" in recommended(page.text)


@pytest.mark.parametrize("system", list(ProgramSystem), ids=lambda s: s.value)
async def test_a_download_is_the_file_as_an_attachment(
    portal: FastAPI, system: ProgramSystem
) -> None:
    build = BUILDS[system]
    async with visitor(portal) as browser:
        answer = await browser.get(f"/fernwartung/programm/{system.value}")
    assert answer.status_code == 200
    assert answer.content == content(system)
    assert answer.headers["content-type"] == build.media_type
    assert answer.headers["content-disposition"] == f'attachment; filename="{build.file_name}"'
    assert answer.headers["content-length"] == str(SIZES[system])


@pytest.mark.parametrize(
    "path",
    [
        "/fernwartung/programm/android",
        "/fernwartung/programm/supportdesk-join-linux",
        "/fernwartung/programm/notes.txt",
        "/fernwartung/programm/..%2Fsecret.txt",
        "/fernwartung/programm/%2e%2e%2fsecret.txt",
        "/fernwartung/programm/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/fernwartung/programm/linux%00",
        "/fernwartung/programm/linux/..%2F..%2Fsecret.txt",
        "/fernwartung/programm/%2Fetc%2Fpasswd",
        "/fernwartung/programm/LINUX",
    ],
)
async def test_anything_else_is_a_plain_404(portal: FastAPI, path: str) -> None:
    async with visitor(portal) as browser:
        answer = await browser.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert SECRET not in answer.content and b"root:" not in answer.content
    assert b"Traceback" not in answer.content


async def test_a_missing_file_is_said_plainly(portal: FastAPI, downloads: Path) -> None:
    (downloads / BUILDS[ProgramSystem.MACOS].file_name).unlink()
    async with visitor(portal, MAC_SAFARI) as browser:
        answer = await browser.get("/fernwartung/programm/macos")
        page = await browser.get("/fernwartung/programm")
    assert answer.status_code == 404
    assert "Diesen Download gibt es nicht" in answer.text
    assert 'href="/fernwartung/programm"' in answer.text
    # The page says there is none for macOS, points to the browser way, and still
    # lists the others.
    text = page.text
    assert "data-recommended" not in text
    assert "Das Support-Programm für macOS gibt es hier nicht zum Herunterladen." in text
    assert 'href="/fernwartung/start" data-browser-way' in text
    assert "Bildschirm im Browser freigeben" in text
    assert '<li data-download="windows">' in text and '<li data-download="linux">' in text


async def test_a_symlink_out_of_the_folder_is_not_offered(
    portal: FastAPI, downloads: Path, tmp_path: Path
) -> None:
    linux = downloads / BUILDS[ProgramSystem.LINUX].file_name
    linux.unlink()
    linux.symlink_to(tmp_path / "secret.txt")
    async with visitor(portal, LINUX_FIREFOX) as browser:
        answer = await browser.get("/fernwartung/programm/linux")
        page = await browser.get("/fernwartung/programm")
    assert answer.status_code == 404 and SECRET not in answer.content
    assert "data-recommended" not in page.text
    assert hashlib.sha256(SECRET).hexdigest() not in page.text


async def test_a_symlink_inside_the_folder_is_offered(portal: FastAPI, downloads: Path) -> None:
    # Operators may keep versions side by side and point the fixed name at one.
    linux = downloads / BUILDS[ProgramSystem.LINUX].file_name
    versioned = downloads / "builds" / "2026-11" / "supportdesk-join-linux"
    versioned.parent.mkdir(parents=True)
    linux.rename(versioned)
    linux.symlink_to(versioned)
    async with visitor(portal, LINUX_FIREFOX) as browser:
        answer = await browser.get("/fernwartung/programm/linux")
    assert answer.status_code == 200 and answer.content == content(ProgramSystem.LINUX)


async def test_without_a_folder_the_page_points_to_the_browser(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    async for app in _app(make_settings, clock):
        async with visitor(app, WINDOWS_CHROME) as browser:
            page = await browser.get("/fernwartung/programm")
            answer = await browser.get("/fernwartung/programm/windows")
        async with visitor(app, WINDOWS_CHROME, language="en") as browser:
            english = await browser.get("/fernwartung/programm")
    assert page.status_code == 200
    assert "Das Support-Programm für Windows gibt es hier nicht zum Herunterladen." in page.text
    assert 'href="/fernwartung/start" data-browser-way' in page.text
    assert 'class="steps"' not in page.text  # no steps for a download that is not there
    assert answer.status_code == 404
    assert "The support program for Windows is not available here." in english.text
    assert "Share the screen in the browser" in english.text


async def test_a_phone_is_told_plainly_and_sees_every_file(portal: FastAPI) -> None:
    from tests.server.test_downloads import ANDROID_CHROME

    async with visitor(portal, ANDROID_CHROME) as browser:
        page = await browser.get("/fernwartung/programm")
    assert "nicht auf Smartphones, Tablets oder Chromebooks" in page.text
    assert "data-browser-way" in page.text
    for system in ProgramSystem:
        assert f'<li data-download="{system.value}">' in page.text


async def test_the_portal_pages_lead_to_the_download(portal: FastAPI) -> None:
    async with visitor(portal) as browser:
        page = await browser.get("/fernwartung")
    assert 'href="/fernwartung/programm"' in page.text


# -- the checksum is computed once per version of a file ----------------------------


async def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    folder = tmp_path / "shelf"
    folder.mkdir()
    path = folder / BUILDS[ProgramSystem.LINUX].file_name
    path.write_bytes(b"A" * 4096)
    shelf = ProgramShelf(folder)
    (first,) = await shelf.offered()
    assert first.sha256 == hashlib.sha256(b"A" * 4096).hexdigest()
    # Change the bytes in place but keep size, inode and modification time: the shelf
    # must answer from what it remembered, proving it did not read the file again.
    before = os.stat(path)
    with path.open("r+b") as handle:
        handle.write(b"B" * 4096)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    (again,) = await shelf.offered()
    assert again.sha256 == first.sha256
    # A new modification time is a new version: read again.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    (changed,) = await shelf.offered()
    assert changed.sha256 == hashlib.sha256(b"B" * 4096).hexdigest()
    # So is a file renamed over it (another inode), even with the same size and time.
    fresh = folder / "upload.tmp"
    fresh.write_bytes(b"C" * 4096)
    os.utime(fresh, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    fresh.replace(path)
    (replaced,) = await shelf.offered()
    assert replaced.sha256 == hashlib.sha256(b"C" * 4096).hexdigest()


async def test_the_app_keeps_one_shelf_between_requests(portal: FastAPI) -> None:
    async with visitor(portal) as browser:
        await browser.get("/fernwartung/programm")
        shelf = portal.state.program_shelf
        await browser.get("/fernwartung/programm")
    assert portal.state.program_shelf is shelf
