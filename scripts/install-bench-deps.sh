#!/usr/bin/env bash
# The peer VNC servers the screen-streaming benchmarks measure us against (Debian packages).
# websockify, the peer of the relay in bench/relay.py and bench/rfb_browser.py, comes with
# the dev extra in pyproject.toml (`make setup`); checked here so a bench fails early.
set -euo pipefail
missing=()
command -v x11vnc >/dev/null 2>&1 || missing+=(x11vnc)
command -v X0tigervnc >/dev/null 2>&1 || command -v x0vncserver >/dev/null 2>&1 \
  || missing+=(tigervnc-scraping-server)
venv_bin="$(dirname "$0")/../.venv/bin"
if ! command -v websockify >/dev/null 2>&1 && [ ! -x "$venv_bin/websockify" ]; then
  echo "install-bench-deps: websockify is missing: run \`make setup\` (dev extra)" >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
