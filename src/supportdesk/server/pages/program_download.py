"""The portal's download page for the support program (``/fernwartung/programm``) and
the downloads themselves (``/fernwartung/programm/<system>``), from the folder the
operator configures (``[applet] download_directory``).

Only the fixed file names of ``downloads.BUILDS`` are ever opened: the address picks
a build, never a path. A file must be a regular file inside the folder (a symlink
leading out of it is not offered). Each file's SHA-256 is computed once per version of
the file, (path, size, mtime, inode), in a worker thread, and remembered; an unchanged
file is never read again for the page.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from supportdesk.server.pages.downloads import (
    BUILDS,
    ProgramBuild,
    build_for_slug,
    bytes_text,
    size_text,
    system_of,
)
from supportdesk.server.rendering import language_of
from supportdesk.server.state import desk_of

router = APIRouter(include_in_schema=False)

PAGE_PATH = "/fernwartung/programm"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileVersion:
    """What tells one version of a file from another without reading it."""

    size: int
    mtime_ns: int
    inode: int


@dataclass(frozen=True)
class OfferedFile:
    """A build present in the download folder, as the page shows it."""

    build: ProgramBuild
    path: Path
    size: int
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ProgramShelf:
    """The builds in one download folder, with their checksums remembered."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._hashes: dict[Path, tuple[FileVersion, str]] = {}
        self._locks: dict[Path, asyncio.Lock] = {}

    def path_of(self, build: ProgramBuild) -> tuple[Path, FileVersion] | None:
        """The build's file and its version, if the folder has it as a regular file
        that really lies inside the folder; else None."""
        if self.directory is None:
            return None
        path = self.directory / build.file_name
        try:
            folder = self.directory.resolve(strict=True)
            real = path.resolve(strict=True)
            found = real.stat()
        except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
            return None
        if not real.is_relative_to(folder) or not stat.S_ISREG(found.st_mode):
            return None
        return real, FileVersion(found.st_size, found.st_mtime_ns, found.st_ino)

    async def offered(self) -> list[OfferedFile]:
        """Every build present, in the order of ``BUILDS``, each with its SHA-256."""
        files = []
        for build in BUILDS.values():
            found = self.path_of(build)
            if found is None:
                continue
            path, version = found
            try:
                sha256 = await self._sha256(path, version)
            except OSError:  # gone or unreadable since: not offered
                continue
            files.append(OfferedFile(build, path, version.size, sha256))
        return files

    async def _sha256(self, path: Path, version: FileVersion) -> str:
        cached = self._hashes.get(path)
        if cached is not None and cached[0] == version:
            return cached[1]
        # One reader per file: visitors arriving together wait for the same result.
        async with self._locks.setdefault(path, asyncio.Lock()):
            cached = self._hashes.get(path)
            if cached is not None and cached[0] == version:
                return cached[1]
            sha256 = await asyncio.to_thread(_sha256, path)
            after = os.stat(path)
            if FileVersion(after.st_size, after.st_mtime_ns, after.st_ino) == version:
                # Remembered only if the file did not change while it was read.
                self._hashes[path] = (version, sha256)
            return sha256


def shelf_of(request: Request) -> ProgramShelf:
    """The app's shelf for the configured folder (made on first use)."""
    directory = desk_of(request).settings.applet.download_directory
    shelf: ProgramShelf | None = getattr(request.app.state, "program_shelf", None)
    if shelf is None or shelf.directory != directory:
        shelf = request.app.state.program_shelf = ProgramShelf(directory)
    return shelf


def _view(offered: OfferedFile, language: str) -> dict[str, str]:
    return {
        "system": offered.build.system.value,
        "label": offered.build.label,
        "file_name": offered.build.file_name,
        "href": f"{PAGE_PATH}/{offered.build.system.value}",
        "size": size_text(offered.size, language),
        "bytes": bytes_text(offered.size, language),
        "sha256": offered.sha256,
    }


@router.get(PAGE_PATH, response_class=HTMLResponse)
async def download_page(request: Request) -> Response:
    desk = desk_of(request)
    language = language_of(request, desk.settings)
    system = system_of(request.headers)
    offered = await shelf_of(request).offered()
    mine = next((f for f in offered if f.build.system is system), None)
    return desk.pages.render(
        request,
        "program_download.html",
        system=system.value if system else None,
        system_label=BUILDS[system].label if system else None,
        recommended=_view(mine, language) if mine else None,
        others=[_view(f, language) for f in offered if f is not mine],
    )


@router.get(PAGE_PATH + "/{slug}")
async def download(request: Request, slug: str) -> Response:
    build = build_for_slug(slug)
    found = shelf_of(request).path_of(build) if build else None
    if build is None or found is None:
        return desk_of(request).pages.render(request, "program_missing.html", 404)
    path, _ = found
    response = FileResponse(
        path,
        media_type=build.media_type,
        filename=build.file_name,
        content_disposition_type="attachment",
    )
    # A new build under the same name must reach the next visitor, not a cached copy.
    response.headers["Cache-Control"] = "no-cache"
    return response
