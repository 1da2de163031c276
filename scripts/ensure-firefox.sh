#!/usr/bin/env bash
# Makes sure the Firefox that the Firefox test project and `--browser firefox` drive is there.
# Puppeteer cannot download a browser on these machines, so the system package is used:
# Debian's `firefox-esr`, installed here when missing and we may (root with apt-get), or any build
# named by FIREFOX_PATH. Its WebGPU (wgpu) runs on Mesa's Vulkan drivers (lavapipe) when there is no GPU.
set -euo pipefail
firefox_path="${FIREFOX_PATH:-/usr/bin/firefox-esr}"
if [ -x "$firefox_path" ]; then exit 0; fi
if [ -n "${FIREFOX_PATH:-}" ]; then
  echo "FIREFOX_PATH=$FIREFOX_PATH is not an executable Firefox" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "Installing Firefox ESR and Mesa's Vulkan drivers from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends firefox-esr mesa-vulkan-drivers > /dev/null
  exit 0
fi
echo "No Firefox at $firefox_path: install it (Debian: sudo apt-get install -y firefox-esr mesa-vulkan-drivers) or set FIREFOX_PATH" >&2
exit 1
