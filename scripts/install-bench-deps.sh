#!/usr/bin/env bash
# The peer VNC servers the screen-streaming benchmark measures us against.
set -euo pipefail
missing=()
command -v x11vnc >/dev/null 2>&1 || missing+=(x11vnc)
command -v X0tigervnc >/dev/null 2>&1 || command -v x0vncserver >/dev/null 2>&1 \
  || missing+=(tigervnc-scraping-server)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
