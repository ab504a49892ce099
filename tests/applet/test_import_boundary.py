"""The support program's code stands apart from the server's: importing every module
it runs loads none of the server's dependencies (web framework, database, templates,
Babel, Redis, PyAV, the recording's cryptography) and none of the server's packages,
so the program can be installed and built with only what it uses."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM_PACKAGES = ("applet", "capture", "link", "rfb", "transfer", "diagnostics")
SERVER_ONLY = {
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "aiosqlite", "asyncpg",
    "jinja2", "babel", "holidays", "pydantic", "multipart", "python_multipart", "argon2",
    "pyotp", "segno", "redis", "av", "cryptography", "zstandard", "httpx",
    "prometheus_client",
}  # fmt: skip
SERVER_PACKAGES = {
    "server", "store", "bus", "recording", "recording_archive", "config", "cli",
    "accounts", "passwords", "totp", "secret_keys", "logs",
}  # fmt: skip

PROBE = """
import importlib, json, pkgutil, sys
import supportdesk
names = []
for package in {packages!r}:
    module = importlib.import_module("supportdesk." + package)
    names.append(module.__name__)
    for info in pkgutil.walk_packages(module.__path__, module.__name__ + "."):
        if info.name.endswith(".__main__"):
            continue  # running the program is not importing it
        importlib.import_module(info.name)
        names.append(info.name)
print(json.dumps({{"imported": names, "loaded": sorted(sys.modules)}}))
"""


def test_the_program_imports_nothing_of_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(packages=PROGRAM_PACKAGES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "supportdesk.applet.join" in result["imported"]  # the walk found the program
    loaded = set(result["loaded"])
    third_party = {name.split(".")[0] for name in loaded}
    assert third_party & SERVER_ONLY == set()
    ours = {name.split(".")[1] for name in loaded if name.startswith("supportdesk.")}
    assert ours & SERVER_PACKAGES == set()


LAZY = {"mss", "Xlib", "platformdirs"}
"""Imported by the program only where it captures, injects or writes the receipt."""


def test_the_program_installs_what_it_imports_and_nothing_of_the_server() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in requirements}

    program = names(project["dependencies"])
    server = names(project["optional-dependencies"]["server"])
    assert program.isdisjoint(server)
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(packages=PROGRAM_PACKAGES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)["loaded"]}
    distributions = packages_distributions()
    needed = {
        dist.lower()
        for module in (loaded | LAZY) - set(sys.stdlib_module_names)
        if not module.startswith("_")  # _distutils_hack: loaded by a .pth at start-up
        for dist in distributions.get(module, [])
        if dist.lower() != "supportdesk"
    }
    assert needed <= program, needed - program
