#!/usr/bin/env bash
# The real browser the dashboard tests drive: Debian's Chromium, run by playwright-core through its
# executablePath. No browser is ever downloaded by a tool of its own (no `playwright install`): when Chromium
# is missing, it is installed from the distribution's package with apt-get, as tools/services.sh does for
# redis-server, so that `npm test` on a fresh machine runs every test (needs root; otherwise it says what to
# run). CI installs the package beforehand from .ci/run's APT_PACKAGES. CHROMIUM_PATH points at another
# Chromium binary.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ ! -x "$CHROMIUM" && -z "${CHROMIUM_PATH:-}" ]]; then
  if [[ $EUID -ne 0 ]]; then
    cat >&2 <<MSG
browser: no Chromium at $CHROMIUM; the dashboard tests (test/e2e/dashboards*.test.ts) drive a real browser.
browser: install Debian's package as root: apt-get install --no-install-recommends chromium
MSG
    exit 1
  fi
  echo "browser: installing Debian's chromium with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null; then
    apt-get update -qq || { sleep 5 && apt-get update -qq; }
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
fi
if [[ ! -x "$CHROMIUM" ]]; then
  echo "browser: no Chromium at $CHROMIUM" >&2
  exit 1
fi
# --version runs the binary: a broken install (missing libraries) fails here, not in the middle of a test.
"$CHROMIUM" --version 2>/dev/null
