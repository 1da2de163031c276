#!/usr/bin/env bash
# Makes sure the browser that tests, the benchmark and the demos drive is there:
# `ensure-browser.sh chromium|firefox`. Neither Playwright nor Puppeteer can download a browser on
# these machines, so the system package is used: Debian's `chromium`, or `firefox-esr` with Mesa's
# Vulkan drivers (its WebGPU, wgpu, runs on lavapipe when there is no GPU), installed here when
# missing and we may (root with apt-get), or the build CHROMIUM_PATH / FIREFOX_PATH names.
set -euo pipefail
case "${1:-}" in
  chromium) variable=CHROMIUM_PATH default=/usr/bin/chromium name=Chromium packages="chromium" ;;
  firefox) variable=FIREFOX_PATH default=/usr/bin/firefox-esr name="Firefox ESR" packages="firefox-esr mesa-vulkan-drivers" ;;
  *) echo "usage: ensure-browser.sh chromium|firefox" >&2; exit 2 ;;
esac
given="${!variable:-}"
path="${given:-$default}"
# Firefox's WebGPU needs a Vulkan driver too (lavapipe where there is no GPU).
vulkan() { [ "$1" != firefox ] || compgen -G '/usr/share/vulkan/icd.d/*.json' > /dev/null; }
if [ -x "$path" ] && vulkan "$1"; then exit 0; fi
if [ -n "$given" ] && [ ! -x "$given" ]; then
  echo "$variable=$given is not an executable $name" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "Installing $name from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # a list of packages
  apt-get install -y -qq --no-install-recommends $packages > /dev/null
  exit 0
fi
echo "No $name at $path: install it (Debian: sudo apt-get install -y $packages) or set $variable" >&2
exit 1
