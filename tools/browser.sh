#!/usr/bin/env bash
# Checks for the real browser the dashboard tests drive: Debian's Chromium, run by playwright-core through
# its executablePath. It installs nothing: `npm test` must not change the machine, and no browser is ever
# downloaded (no `playwright install`). CI installs the package from .ci/run's APT_PACKAGES; on a
# development machine: `apt-get install chromium`. CHROMIUM_PATH points at another Chromium binary.
set -euo pipefail

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [[ ! -x "$CHROMIUM" ]]; then
  cat >&2 <<EOF
browser: no Chromium at $CHROMIUM; the dashboard tests (test/e2e/dashboards*.test.ts) drive a real browser.
browser: install Debian's package as root: apt-get install --no-install-recommends chromium
browser: (CI installs it from APT_PACKAGES in .ci/run; nothing downloads a browser of its own)
EOF
  exit 1
fi
# --version runs the binary: a broken install (missing libraries) fails here, not in the middle of a test.
"$CHROMIUM" --version 2>/dev/null
