#!/usr/bin/env bash
# What `npm test` runs: brings up the dev services (a real Elasticsearch and Redis, reusing any that
# already answer) and the syslog clients the tests use, then vitest. Arguments go to vitest: `npm test -- store/` runs one folder.
# When vitest fails, the tail of the dev Elasticsearch log is printed, since an integration failure
# is often explained there.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

export ELASTICSEARCH_URL="${ELASTICSEARCH_URL:-http://127.0.0.1:9200}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

bash tools/services.sh up
# The real syslog clients the ingest tests drive (rsyslog, syslog-ng); a no-op once installed.
bash tools/syslog-clients.sh
# The real browser the dashboard tests drive (Debian's Chromium, installed with apt-get if missing).
bash tools/browser.sh

rc=0
npx vitest run "$@" || rc=$?
if ((rc != 0)); then
  echo "run-tests: vitest exited with $rc; the dev Elasticsearch log follows" >&2
  bash tools/services.sh logs 60 >&2 || true
fi
exit "$rc"
