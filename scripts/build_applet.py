"""`make applet`: the support program as one file for this OS with a bank's config baked in.

    python -m scripts.build_applet --config bank.toml [--out dist] [--build-dir var/applet-build]
                                   [--sign-command 'signtool sign … {path}']
                                   [--codesign-identity 'Developer ID Application: …']

The build runs in a virtualenv of its own (``<build-dir>/venv``) that holds the
program's dependencies (``[project].dependencies`` of pyproject.toml) and PyInstaller,
nothing of the server: the build refuses to go on if any distribution of the
``server`` extra is installed there, and refuses the result if its archive holds a
module of the server (``pyi-archive_viewer``). The project is installed into that
venv from a copy of the sources (pip would otherwise write ``build/`` into the work
tree), the bank's config is checked (``applet/bank_config.py``) and baked in as
``supportdesk/applet/bank.toml``, with the German catalogue beside the code.

Result, in ``--out`` (default ``dist/``): ``supportdesk-join-linux``,
``supportdesk-join-windows.exe`` (windowed, a German file description), or on macOS
``supportdesk-join-macos.zip`` holding the windowed ``.app`` (zipped with ``ditto``).
Signing is the bank's (docs/applet.md, "Code signing"): ``--sign-command`` runs a
command on the .exe or the .app before it is zipped, ``{path}`` standing for it;
``--codesign-identity`` and ``--entitlements`` are handed to PyInstaller on macOS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The checkout's own config parser, also where nothing is installed (a CI runner that
# only builds the program): the bank config module needs the standard library alone.
sys.path.insert(0, str(ROOT / "src"))

from supportdesk.applet.bank_config import (  # noqa: E402
    BAKED_NAME,
    BankConfig,
    BankConfigError,
    baked_toml,
    load_bank_config,
)

PYINSTALLER = "pyinstaller>=6.10,<7"
# The program's own packages: collected whole, so a backend or probe that is imported
# only on another OS, or by name, is in the build all the same.
PROGRAM_PACKAGES = (
    "supportdesk.applet",
    "supportdesk.capture",
    "supportdesk.link",
    "supportdesk.rfb",
    "supportdesk.transfer",
    "supportdesk.diagnostics",
    "supportdesk.domain",
)
# Top-level modules that must never be in the program: the server's stack, and the
# server's own packages.
FORBIDDEN = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "asyncpg",
    "aiosqlite",
    "jinja2",
    "babel",
    "pydantic",
    "redis",
    "av",
    "cryptography",
    "argon2",
    "supportdesk.server",
    "supportdesk.store",
    "supportdesk.bus",
    "supportdesk.recording",
)
NO_CONFIG = (
    "a bank must say which server the program connects to: --config FILE "
    "(see deploy/applet-bank.toml.example)"
)


class BuildError(Exception):
    """The build cannot go on; the message says why."""


def platform_key(platform: str = sys.platform) -> str:
    """``linux``, ``windows`` or ``macos``."""
    if platform == "win32":
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def artifact_name(key: str) -> str:
    """The file the bank publishes for one OS."""
    return {
        "linux": "supportdesk-join-linux",
        "windows": "supportdesk-join-windows.exe",
        "macos": "supportdesk-join-macos.zip",
    }[key]


def windows_version_info(config: BankConfig, version: str) -> str:
    """PyInstaller's ``--version-file`` text: the .exe's properties, in German."""
    numbers = [*(int(part) for part in version.split(".")[:3] if part.isdigit()), 0, 0, 0][:4]
    bank = config.name or config.domain
    strings = {
        "CompanyName": bank,
        "FileDescription": f"Fernwartung – Support-Programm ({bank})",
        "FileVersion": version,
        "InternalName": "supportdesk-join",
        "LegalCopyright": bank,
        "OriginalFilename": artifact_name("windows"),
        "ProductName": "Fernwartung",
        "ProductVersion": version,
    }
    table = ",\n        ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return f"""VSVersionInfo(
  ffi=FixedFileInfo(filevers={tuple(numbers)}, prodvers={tuple(numbers)}, mask=0x3F,
                    flags=0x0, OS=0x40004, fileType=0x1, subtype=0x0, date=(0, 0)),
  kids=[
    StringFileInfo([StringTable('040704B0', [
        {table}])]),
    VarFileInfo([VarStruct('Translation', [0x0407, 1200])])
  ]
)
"""


def forbidden_in(names: list[str]) -> list[str]:
    """The archive entries that belong to the server (module names or paths)."""
    found = []
    for name in names:
        dotted = name.replace("/", ".").replace("\\", ".")
        if any(dotted == f or dotted.startswith(f + ".") for f in FORBIDDEN):
            found.append(name)
    return found


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def run(*command: str | Path, cwd: Path | None = None) -> str:
    print("+", " ".join(str(c) for c in command), flush=True)
    done = subprocess.run(  # noqa: S603 - our own tools, no shell
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BuildError(f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def copy_sources(target: Path) -> None:
    """The project as pip needs it, without the work tree's caches and build leftovers."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, target / name)
    shutil.copytree(
        ROOT / "src",
        target / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", BAKED_NAME),
    )


def prepare_venv(build: Path) -> Path:
    """The build's virtualenv with the program and PyInstaller, and nothing of the server."""
    venv = build / "venv"
    python = venv_python(venv)
    if not python.exists():
        run(sys.executable, "-m", "venv", venv)
    source = build / "source"
    copy_sources(source)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    run(python, "-m", "pip", "install", "--quiet", PYINSTALLER, *project["dependencies"])
    # The same version each time: only a forced reinstall brings the changed sources in.
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall", source)
    installed = {
        d["name"].lower().replace("_", "-")
        for d in json.loads(run(python, "-m", "pip", "list", "--format=json"))
    }
    server = {
        requirement.split(";")[0].split("[")[0].split(">")[0].split("<")[0].split("=")[0]
        for requirement in project["optional-dependencies"]["server"]
    }
    leaked = sorted(installed & {s.strip().lower().replace("_", "-") for s in server})
    if leaked:
        raise BuildError(f"the build venv holds the server's {', '.join(leaked)}: remove {venv}")
    return python


def pyinstaller_command(
    python: Path,
    *,
    key: str,
    build: Path,
    out: Path,
    entry: Path,
    baked: Path,
    package_dir: Path,
    version_file: Path | None,
    codesign_identity: str | None,
    entitlements: Path | None,
) -> list[str]:
    name = "supportdesk-join" if key == "macos" else artifact_name(key).removesuffix(".exe")
    sep = os.pathsep
    command = [
        str(python), "-m", "PyInstaller", str(entry),
        "--name", name,
        "--noconfirm", "--clean", "--log-level", "WARN",
        # A .app is a folder already: one file inside it is deprecated by PyInstaller.
        "--onedir" if key == "macos" else "--onefile",
        "--windowed",  # no console window on Windows and macOS
        "--distpath", str(out), "--workpath", str(build / "work"), "--specpath", str(build),
        "--add-data", f"{baked}{sep}supportdesk/applet",
        "--add-data", f"{package_dir / 'locale'}{sep}supportdesk/locale",
    ]  # fmt: skip
    for package in PROGRAM_PACKAGES:
        command += ["--collect-submodules", package]
    if version_file is not None:
        command += ["--version-file", str(version_file)]
    if key == "macos":
        command += ["--osx-bundle-identifier", "de.supportdesk.join"]
        if codesign_identity:
            command += ["--codesign-identity", codesign_identity]
        if entitlements:
            command += ["--osx-entitlements-file", str(entitlements)]
    return command


def archive_names(python: Path, binary: Path) -> list[str]:
    """Every entry of the built program's archive, the bundled modules included."""
    viewer = python.parent / (
        "pyi-archive_viewer.exe" if sys.platform == "win32" else "pyi-archive_viewer"
    )
    listing = run(viewer, "--list", "--recursive", "--brief", binary)
    return [line.strip() for line in listing.splitlines() if line.strip()]


def sign(command: str, path: Path) -> None:
    """The bank's signing step on the .exe or .app (``{path}`` in the command)."""
    run(*[part.replace("{path}", str(path)) for part in shlex.split(command)])


def build(
    config_path: Path,
    out: Path,
    build_dir: Path,
    *,
    sign_command: str | None = None,
    codesign_identity: str | None = None,
    entitlements: Path | None = None,
) -> Path:
    """Build the program for this OS into ``out``; returns the published file."""
    config = load_bank_config(config_path)
    key = platform_key()
    build_dir.mkdir(parents=True, exist_ok=True)
    python = prepare_venv(build_dir)
    package_dir = Path(
        run(
            python, "-c", "import supportdesk, os; print(os.path.dirname(supportdesk.__file__))"
        ).strip()
    )
    baked_dir = build_dir / "baked"
    baked_dir.mkdir(exist_ok=True)
    baked = baked_dir / BAKED_NAME
    baked.write_text(baked_toml(config), encoding="utf-8")
    entry = build_dir / "supportdesk-join.py"
    entry.write_text(
        '"""The support program (built by scripts/build_applet.py)."""\n\n'
        "from supportdesk.applet.program import main\n\n"
        "raise SystemExit(main())\n",
        encoding="utf-8",
    )
    version = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    version_file = None
    if key == "windows":
        version_file = build_dir / "version-info.txt"
        version_file.write_text(windows_version_info(config, version), encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    run(
        *pyinstaller_command(
            python,
            key=key,
            build=build_dir,
            out=out,
            entry=entry,
            baked=baked,
            package_dir=package_dir,
            version_file=version_file,
            codesign_identity=codesign_identity,
            entitlements=entitlements,
        )
    )
    if key == "macos":
        app = out / "supportdesk-join.app"
        program = app / "Contents" / "MacOS" / "supportdesk-join"
    else:
        program = app = out / artifact_name(key)
    leaked = forbidden_in(archive_names(python, program))
    if leaked:
        raise BuildError(f"the program holds the server's modules: {', '.join(leaked[:10])}")
    if sign_command:
        sign(sign_command, app)
    if key == "macos":
        published = out / artifact_name(key)
        published.unlink(missing_ok=True)
        # ditto keeps the bundle's symlinks and signature, as Apple's notary service wants.
        run("ditto", "-c", "-k", "--keepParent", app, published)
        shutil.rmtree(out / "supportdesk-join", ignore_errors=True)  # the onedir twin
        return published
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.build_applet", description=__doc__)
    parser.add_argument("--config", type=Path, help="the bank's config (TOML)")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="default: dist/")
    parser.add_argument(
        "--build-dir", type=Path, default=ROOT / "var" / "applet-build", help="venv and work files"
    )
    parser.add_argument("--sign-command", help="run on the .exe/.app before publishing; {path}")
    parser.add_argument("--codesign-identity", help="macOS: PyInstaller's --codesign-identity")
    parser.add_argument("--entitlements", type=Path, help="macOS: an entitlements plist")
    args = parser.parse_args(argv)
    if args.config is None:
        print(f"build_applet: {NO_CONFIG}", file=sys.stderr)
        return 2
    try:
        published = build(
            args.config,
            args.out.resolve(),
            args.build_dir.resolve(),
            sign_command=args.sign_command,
            codesign_identity=args.codesign_identity,
            entitlements=args.entitlements,
        )
    except (BankConfigError, BuildError) as exc:
        print(f"build_applet: {exc}", file=sys.stderr)
        return 2
    digest = hashlib.sha256(published.read_bytes()).hexdigest()
    size = published.stat().st_size
    print(f"{published}: {size / 1e6:.1f} MB, SHA-256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
