#!/usr/bin/env bash
# Makes sure the Chromium that tests and the benchmark drive is there (npm's pretest/prebench).
# Playwright cannot download a browser on these machines, so the system package is used:
# Debian's `chromium`, installed here when missing and we may (root with apt-get), or any build
# named by CHROMIUM_PATH.
set -euo pipefail
chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium_path" ]; then exit 0; fi
if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable Chromium" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "Installing Chromium from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium > /dev/null
  exit 0
fi
echo "No Chromium at $chromium_path: install it (Debian: sudo apt-get install -y chromium) or set CHROMIUM_PATH" >&2
exit 1
