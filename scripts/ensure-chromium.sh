#!/usr/bin/env bash
# Chromium for `npm test`, `npm run test:stress`, the benchmark and the demos (see ensure-browser.sh).
exec bash "$(dirname "$0")/ensure-browser.sh" chromium
