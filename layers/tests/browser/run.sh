#!/usr/bin/env bash
# Browser tests of the demo site (layers/frontend/site) in headless Chromium.
# Needs Node >= 20 and Debian's Chromium (apt-get install -y chromium) or $CHROMIUM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "run.sh: no Chromium at $CHROMIUM; run scripts/setup-system.sh (it installs Debian's chromium) or set CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
export CHROMIUM
if ! command -v node >/dev/null 2>&1; then
  echo "run.sh: node (>= 20) is not installed" >&2
  exit 1
fi
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund
fi
exec node --test "$@"
