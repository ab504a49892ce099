#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (a virtual X display,
# a terminal to type into, a browser, Redis for the bus,
# HAProxy in front of the cluster tests' nodes), but only those that are missing.
set -euo pipefail

declare -A wanted=(
  [Xvfb]=xvfb
  [xterm]=xterm
  [xdotool]=xdotool
  [xclip]=xclip
  [xwininfo]=x11-utils
  [setxkbmap]=x11-xkb-utils
  [xsetroot]=x11-xserver-utils
  [chromium]=chromium
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [haproxy]=haproxy
  [dbus-daemon]=dbus-daemon
  [dbus-launch]=dbus-x11
)
missing=()
for command in "${!wanted[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${wanted[$command]}")
done
# The masking tests: the accessibility bus and a GTK password entry (files, not commands).
[ -x /usr/libexec/at-spi-bus-launcher ] || missing+=(at-spi2-core)
/usr/bin/python3 -c "import gi; gi.require_version('Gtk', '3.0')" >/dev/null 2>&1 \
  || missing+=(python3-gi gir1.2-gtk-3.0)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
