#!/usr/bin/env bash
# Installs the real syslog clients the ingest tests drive (issue 3): syslog-ng (TLS sender) from Debian,
# and rsyslog (octet-counted TCP forwarder) unpacked under .dev/rsyslog/. Debian's rsyslog and syslog-ng
# packages conflict (both are "the system logger"), so rsyslog is not installed as a package: its .deb is
# fetched with apt-get download and extracted, and the tests run that rsyslogd with its own module path.
# Idempotent; needs root (CI runs as root).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RSYSLOG_DIR="$REPO_ROOT/.dev/rsyslog"
export DEBIAN_FRONTEND=noninteractive

need_update=0
for pkg in syslog-ng-core libestr0 libfastjson4 liblognorm5; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_update=1
done
if ((need_update)); then
  apt-get update -qq
  # libestr0, libfastjson4, liblognorm5: the shared libraries the unpacked rsyslogd links against.
  apt-get install -y -qq syslog-ng-core libestr0 libfastjson4 liblognorm5 >/dev/null
fi

if [[ ! -x "$RSYSLOG_DIR/usr/sbin/rsyslogd" ]]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  chmod 777 "$tmp" # apt-get download drops privileges to _apt where it can
  (cd "$tmp" && apt-get download -qq rsyslog)
  mkdir -p "$RSYSLOG_DIR"
  dpkg-deb -x "$tmp"/rsyslog_*.deb "$RSYSLOG_DIR"
fi

"$RSYSLOG_DIR/usr/sbin/rsyslogd" -v | head -1
syslog-ng --version | head -1
