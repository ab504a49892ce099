"""The x0vncserver lane's viewer: the noVNC files the console ships, served on loopback.

bench/rfb_browser.py shows X0tigervnc (through websockify) in the same noVNC as the
console's live page: a minimal page that loads the console's ``novnc-zlib-reset.js`` and
noVNC from ``node_modules/@novnc/novnc`` (as ``supportdesk serve`` mounts them) and opens
the viewer with the console's options, the quality and compression level read out of
``console-live.js``. Served by a small http server in the bench's own process.
"""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.__main__ import ROOT

STATIC = ROOT / "src" / "supportdesk" / "server" / "static"
NOVNC = ROOT / "node_modules" / "@novnc" / "novnc"
VIEWER = "/viewer.html"
VIEWER_PAGE = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>x0vncserver through websockify</title>
<style>html, body { margin: 0; background: #fff; }
[data-screen] { display: flex; align-items: center; justify-content: center; background: #222; }
</style>
<div data-screen data-viewer="connecting"></div>
<script type="module">
import "/static/novnc-zlib-reset.js";
import RFB from "/novnc/core/rfb.js";
const params = new URLSearchParams(location.search);
const target = document.querySelector("[data-screen]");
target.style.width = `${params.get("width")}px`;
target.style.height = `${params.get("height")}px`;
const rfb = new RFB(target, params.get("socket"), { wsProtocols: ["binary"], shared: true });
rfb.scaleViewport = true;
rfb.resizeSession = false;
rfb.qualityLevel = Number(params.get("quality"));
rfb.compressionLevel = Number(params.get("compression"));
rfb.viewOnly = true;
rfb.addEventListener("connect", () => { target.dataset.viewer = "connected"; });
rfb.addEventListener("disconnect", () => { target.dataset.viewer = "disconnected"; });
</script>
</html>
"""


def console_settings(source: str) -> dict[str, int]:
    """noVNC's ``qualityLevel`` and ``compressionLevel`` as the console's live page sets them."""
    found = dict(re.findall(r"rfb\.(qualityLevel|compressionLevel)\s*=\s*(\d+)\s*;", source))
    if set(found) != {"qualityLevel", "compressionLevel"}:
        raise ValueError("console-live.js no longer sets noVNC's quality and compression")
    return {"quality": int(found["qualityLevel"]), "compression": int(found["compressionLevel"])}


def static_file(path: str, novnc: Path = NOVNC, static: Path = STATIC) -> Path | None:
    """The file a request path names: noVNC under ``/novnc/``, the console's files under
    ``/static/`` (as ``supportdesk serve`` mounts them); None for anything else."""
    for prefix, base in (("/novnc/", novnc), ("/static/", static)):
        if path.startswith(prefix):
            root = base.resolve()
            target = (root / path[len(prefix) :]).resolve()
            if target.is_relative_to(root) and target.is_file():
                return target
    return None


class _Files(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == VIEWER:
            body, kind = VIEWER_PAGE.encode(), "text/html; charset=utf-8"
        elif (found := static_file(path)) is not None:
            body = found.read_bytes()
            kind = "text/javascript" if found.suffix == ".js" else "application/octet-stream"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextlib.contextmanager
def viewer_files() -> Iterator[str]:
    """A loopback http server for the viewer page and noVNC; yields the page's URL."""
    if not (NOVNC / "core" / "rfb.js").exists():
        raise RuntimeError(f"noVNC is not installed at {NOVNC} (run `make setup`)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{VIEWER}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def wait_listening(port: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
