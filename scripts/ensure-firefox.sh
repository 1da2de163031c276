#!/usr/bin/env bash
# Firefox ESR for `npm run test:firefox` and `--browser firefox` (see ensure-browser.sh).
exec bash "$(dirname "$0")/ensure-browser.sh" firefox
