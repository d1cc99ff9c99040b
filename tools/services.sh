#!/usr/bin/env bash
# Development services for siem-lite's tests: a real Elasticsearch 8 node and a real Redis.
#
#   bash tools/services.sh up            start what is missing (reuses whatever already answers)
#   bash tools/services.sh down [es|redis]  stop only what this script started (both by default)
#   bash tools/services.sh status        what answers, and what this script started
#   bash tools/services.sh logs [N]      the last N lines (default 100) of the dev node's log
#
# Elasticsearch is the integ-test-zip distribution from Maven Central (no bundled JDK, a minimal
# module set: see docs/dev-services.md), unpacked into .dev/elasticsearch/<version>/. Elasticsearch
# refuses to run as root, so as root the node runs as a system user (siemdev) created on demand.
# Environment: ELASTICSEARCH_URL (default http://127.0.0.1:9200), REDIS_URL (default
# redis://127.0.0.1:6379), ES_JAVA_HOME (default: the JDK of `java` on PATH), ES_HEAP (default 1g).
set -euo pipefail

ES_VERSION=8.19.21
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
ES_USER=siemdev
ES_READY_TIMEOUT=90
ES_HEAP="${ES_HEAP:-1g}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
DEV_DIR="$REPO_ROOT/.dev"
ES_DIR="$DEV_DIR/elasticsearch"
ES_HOME="$ES_DIR/$ES_VERSION"
ES_DATA="$ES_DIR/data"
ES_LOGS="$ES_DIR/logs"
ES_RUN="$ES_DIR/run"
ES_PIDFILE="$ES_RUN/es.pid"
ES_CLUSTER=siem-lite-dev
ES_LOGFILE="$ES_LOGS/$ES_CLUSTER.log"
ES_CONSOLE="$ES_LOGS/console.out"
REDIS_DIR="$DEV_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOGFILE="$REDIS_DIR/redis.log"

ELASTICSEARCH_URL="${ELASTICSEARCH_URL:-http://127.0.0.1:9200}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf 'services: %s\n' "$*"; }
die() {
  printf 'services: error: %s\n' "$*" >&2
  exit 1
}

# --- URL parsing -------------------------------------------------------------------------------
# Prints "host port" for a URL such as http://user:pw@127.0.0.1:9200/ or redis://[::1]:6379/0.
url_host_port() {
  local url="$1" default_port="$2" rest host port
  rest="${url#*://}"
  rest="${rest%%/*}"
  rest="${rest##*@}"
  if [[ "$rest" == \[* ]]; then # [ipv6]:port
    host="${rest%%]*}"
    host="${host#[}"
    port="${rest#*]}"
    port="${port#:}"
  elif [[ "$rest" == *:* ]]; then
    host="${rest%:*}"
    port="${rest##*:}"
  else
    host="$rest"
    port=""
  fi
  printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$default_port}"
}

read -r ES_HOST ES_PORT < <(url_host_port "$ELASTICSEARCH_URL" 9200)
read -r REDIS_HOST REDIS_PORT < <(url_host_port "$REDIS_URL" 6379)
ES_TRANSPORT_PORT=$((ES_PORT + 100))

is_local_host() { [[ "$1" == 127.* || "$1" == localhost || "$1" == ::1 ]]; }

# --- process helpers ---------------------------------------------------------------------------
# The pid in a pid file, if the file exists and that process is alive and its command line
# contains $2 (so a stale file whose pid was reused by another program is not trusted).
live_pid() {
  local pidfile="$1" marker="$2" pid cmdline
  [[ -s "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$marker"* ]] || return 1
  printf '%s\n' "$pid"
}

# Sends TERM, waits up to $2 seconds for the process to exit, then KILLs it.
stop_pid() {
  local pid="$1" grace="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= grace * 10)); then
      say "pid $pid still running after ${grace}s, sending KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# --- Elasticsearch -----------------------------------------------------------------------------
es_answers() { curl -fsS --max-time 5 "${ELASTICSEARCH_URL%/}/_cluster/health" >/dev/null 2>&1; }

es_health() { curl -fsS --max-time 5 "${ELASTICSEARCH_URL%/}/_cluster/health" 2>/dev/null || true; }

es_pid() { live_pid "$ES_PIDFILE" org.elasticsearch; }

es_java_home() {
  if [[ -n "${ES_JAVA_HOME:-}" ]]; then
    printf '%s\n' "$ES_JAVA_HOME"
    return
  fi
  local java
  java="$(command -v java || true)"
  [[ -n "$java" ]] || die "no java on PATH and ES_JAVA_HOME unset: Elasticsearch $ES_VERSION (integ-test-zip, no bundled JDK) needs Java 17 or newer"
  java="$(readlink -f "$java")"
  printf '%s\n' "${java%/bin/java}"
}

es_install() {
  if [[ -x "$ES_HOME/bin/elasticsearch" ]]; then
    return
  fi
  local zip="$DEV_DIR/downloads/elasticsearch-$ES_VERSION.zip" start=$SECONDS tmp
  mkdir -p "$DEV_DIR/downloads"
  if [[ ! -s "$zip" ]]; then
    command -v mvn >/dev/null || die "mvn not found: it fetches $ES_ARTIFACT from Maven Central"
    say "fetching $ES_ARTIFACT with Maven (about 107 MB; cached in ~/.m2 afterwards)"
    if ! mvn -B -ntp -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
      -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$DEV_DIR/downloads" -Dmdep.overWriteReleases=true \
      >"$DEV_DIR/downloads/mvn.log" 2>&1; then
      tail -n 30 "$DEV_DIR/downloads/mvn.log" >&2
      die "Maven could not fetch $ES_ARTIFACT (full output: .dev/downloads/mvn.log)"
    fi
  fi
  command -v unzip >/dev/null || die "unzip not found (apt-get install -y unzip)"
  say "unpacking Elasticsearch $ES_VERSION into ${ES_HOME#"$REPO_ROOT"/}"
  tmp="$(mktemp -d "$ES_DIR/unpack.XXXXXX")"
  unzip -q "$zip" -d "$tmp"
  [[ -x "$tmp/elasticsearch-$ES_VERSION/bin/elasticsearch" ]] || die "unexpected layout in $zip"
  rm -rf "$ES_HOME"
  mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
  rm -rf "$tmp" "$zip"
  say "installed in $((SECONDS - start))s"
}

es_write_config() {
  cat >"$ES_HOME/config/elasticsearch.yml" <<EOF
# Written by tools/services.sh on every start: edit the script, not this file.
cluster.name: $ES_CLUSTER
node.name: siem-lite-dev-node
discovery.type: single-node
network.host: $ES_HOST
http.port: $ES_PORT
transport.port: $ES_TRANSPORT_PORT
path.data: $ES_DATA
path.logs: $ES_LOGS
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
EOF
}

# Every ancestor of the .dev folder must be traversable by the unprivileged user.
check_reachable_by_others() {
  local dir="$ES_DIR" mode
  while [[ "$dir" != / ]]; do
    dir="$(dirname "$dir")"
    mode="$(stat -c %A "$dir")"
    [[ "${mode:9:1}" == x || "${mode:9:1}" == t ]] ||
      die "$dir is not traversable by other users, so $ES_USER cannot reach $ES_DIR (chmod o+x $dir, or clone elsewhere)"
  done
}

# The node's log; with "all", also what the launcher printed (errors before logging starts, JVM
# crashes), which otherwise repeats the log.
es_tail_log() {
  local n="$1" which="${2:-log}" f
  for f in "$ES_LOGFILE" "$ES_CONSOLE"; do
    [[ -s "$f" ]] || continue
    printf 'services: --- last %s lines of %s ---\n' "$n" "${f#"$REPO_ROOT"/}"
    tail -n "$n" "$f"
    [[ "$which" == all ]] || return 0
  done
}

es_wait_ready() {
  local pid="$1" deadline=$((SECONDS + ES_READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if curl -fsS --max-time 5 "${ELASTICSEARCH_URL%/}/_cluster/health?wait_for_status=yellow&timeout=3s" \
      >/dev/null 2>&1; then
      return 0
    fi
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      es_tail_log 60 all >&2
      die "Elasticsearch (pid $pid) exited during startup"
    fi
    sleep 1
  done
  es_tail_log 60 all >&2
  die "Elasticsearch did not reach yellow health on $ELASTICSEARCH_URL within ${ES_READY_TIMEOUT}s"
}

es_up() {
  if es_answers; then
    say "elasticsearch: reusing the node that answers on $ELASTICSEARCH_URL"
    es_wait_ready ""
    return
  fi
  local pid
  if pid="$(es_pid)"; then
    if [[ "$(cat "$ES_RUN/es.url" 2>/dev/null)" != "$ES_HOST:$ES_PORT" ]]; then
      die "the dev node (pid $pid) runs on $(cat "$ES_RUN/es.url" 2>/dev/null || echo '?'), not on $ES_HOST:$ES_PORT; run 'bash tools/services.sh down es' first"
    fi
    say "elasticsearch: our node (pid $pid) is running but not answering yet; waiting"
    es_wait_ready "$pid"
    say "elasticsearch: ready on $ELASTICSEARCH_URL"
    return
  fi
  is_local_host "$ES_HOST" ||
    die "ELASTICSEARCH_URL=$ELASTICSEARCH_URL does not answer, and a dev node is only started on a loopback address"
  if (exec 3<>"/dev/tcp/$ES_HOST/$ES_PORT") 2>/dev/null; then
    die "port $ES_PORT on $ES_HOST is taken by something that is not an answering Elasticsearch"
  fi
  if [[ -e "$ES_PIDFILE" ]]; then
    say "elasticsearch: removing stale pid file ${ES_PIDFILE#"$REPO_ROOT"/}"
    rm -f "$ES_PIDFILE"
  fi

  local start=$SECONDS java_home
  mkdir -p "$ES_DIR"
  es_install
  java_home="$(es_java_home)"
  [[ -x "$java_home/bin/java" ]] || die "ES_JAVA_HOME=$java_home has no bin/java"
  mkdir -p "$ES_DATA" "$ES_LOGS" "$ES_RUN"
  es_write_config
  printf '%s:%s\n' "$ES_HOST" "$ES_PORT" >"$ES_RUN/es.url"
  : >"$ES_CONSOLE"

  local -a as_user=()
  if [[ $EUID -eq 0 ]]; then
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
      say "creating system user $ES_USER (Elasticsearch refuses to run as root)"
      useradd -r -m -s /usr/sbin/nologin "$ES_USER"
    fi
    check_reachable_by_others
    chown -R "$ES_USER:" "$ES_DIR"
    as_user=(runuser -u "$ES_USER" --)
  fi

  say "elasticsearch: starting $ES_VERSION on $ES_HOST:$ES_PORT (java: $java_home, heap $ES_HEAP)"
  # fd 9 (the lock) is closed so the daemon does not hold it; output goes to a file so the daemon
  # does not hold the caller's stdout pipe open either.
  if ! (cd "$ES_HOME" && "${as_user[@]}" env ES_JAVA_HOME="$java_home" ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
    ./bin/elasticsearch -d -p "$ES_PIDFILE" >>"$ES_CONSOLE" 2>&1 </dev/null 9>&-); then
    es_tail_log 60 all >&2
    die "Elasticsearch failed to start"
  fi
  pid="$(es_pid || true)"
  es_wait_ready "$pid"
  say "elasticsearch: ready on $ELASTICSEARCH_URL (pid ${pid:-?}) in $((SECONDS - start))s"
}

es_down() {
  local pid
  if pid="$(es_pid)"; then
    say "elasticsearch: stopping pid $pid"
    stop_pid "$pid" 60
    rm -f "$ES_PIDFILE"
    say "elasticsearch: stopped"
  else
    if [[ -e "$ES_PIDFILE" ]]; then
      rm -f "$ES_PIDFILE"
      say "elasticsearch: removed stale pid file"
    fi
    if es_answers; then
      say "elasticsearch: a node answers on $ELASTICSEARCH_URL but was not started by this script; left running"
    else
      say "elasticsearch: not running"
    fi
  fi
}

# --- Redis -------------------------------------------------------------------------------------
redis_answers() {
  if command -v redis-cli >/dev/null; then
    [[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" == PONG ]]
  else
    # No client: speak the inline protocol over bash's /dev/tcp.
    local reply=""
    (
      exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT" || exit 1
      printf 'PING\r\n' >&3
      IFS= read -r -t 3 reply <&3 || exit 1
      [[ "$reply" == "+PONG"* ]]
    ) 2>/dev/null
  fi
}

redis_pid() { live_pid "$REDIS_PIDFILE" redis-server; }

redis_up() {
  if redis_answers; then
    say "redis: reusing the server that answers on $REDIS_URL"
    return
  fi
  is_local_host "$REDIS_HOST" ||
    die "REDIS_URL=$REDIS_URL does not answer, and a dev Redis is only started on a loopback address"
  if ! command -v redis-server >/dev/null; then
    [[ $EUID -eq 0 ]] || die "redis-server is not installed (sudo apt-get install -y redis-server)"
    say "redis: installing redis-server with apt-get"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >/dev/null
    fi
    # The package's own service may have started on the same port.
    if redis_answers; then
      say "redis: the packaged server answers on $REDIS_URL; reusing it"
      return
    fi
  fi
  mkdir -p "$REDIS_DIR"
  rm -f "$REDIS_PIDFILE"
  say "redis: starting redis-server on $REDIS_HOST:$REDIS_PORT"
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$REDIS_DIR" --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOGFILE" >/dev/null 2>&1 </dev/null 9>&-
  local i
  for ((i = 0; i < 100; i++)); do
    redis_answers && {
      say "redis: ready on $REDIS_URL"
      return
    }
    sleep 0.1
  done
  [[ -s "$REDIS_LOGFILE" ]] && tail -n 20 "$REDIS_LOGFILE" >&2
  die "redis-server did not answer on $REDIS_URL within 10s"
}

redis_down() {
  local pid
  if pid="$(redis_pid)"; then
    say "redis: stopping pid $pid"
    stop_pid "$pid" 10
    rm -f "$REDIS_PIDFILE"
    say "redis: stopped"
  else
    rm -f "$REDIS_PIDFILE"
    if redis_answers; then
      say "redis: a server answers on $REDIS_URL but was not started by this script; left running"
    else
      say "redis: not running"
    fi
  fi
}

# --- commands ----------------------------------------------------------------------------------
# One invocation at a time per working tree: several test runs may call `up` at once.
lock() {
  mkdir -p "$DEV_DIR"
  exec 9>"$DEV_DIR/services.lock"
  flock -w 300 9 || die "another tools/services.sh has held $DEV_DIR/services.lock for 5 minutes"
}

cmd_status() {
  local rc=0 pid health
  if es_answers; then
    health="$(es_health)"
    health="${health#*\"status\":\"}"
    say "elasticsearch: up on $ELASTICSEARCH_URL (health ${health%%\"*})"
  else
    say "elasticsearch: down on $ELASTICSEARCH_URL"
    rc=1
  fi
  if pid="$(es_pid)"; then
    say "elasticsearch: started by this script, pid $pid, version $ES_VERSION, data ${ES_DATA#"$REPO_ROOT"/}"
  elif [[ -e "$ES_PIDFILE" ]]; then
    say "elasticsearch: stale pid file ${ES_PIDFILE#"$REPO_ROOT"/}"
  fi
  if redis_answers; then
    say "redis: up on $REDIS_URL"
  else
    say "redis: down on $REDIS_URL"
    rc=1
  fi
  if pid="$(redis_pid)"; then
    say "redis: started by this script, pid $pid"
  fi
  return "$rc"
}

cmd_logs() {
  local n="${1:-100}"
  if [[ ! -s "$ES_LOGFILE" && ! -s "$ES_CONSOLE" ]]; then
    say "no Elasticsearch log under ${ES_LOGS#"$REPO_ROOT"/} (the node on $ELASTICSEARCH_URL was not started by this script)"
    return 0
  fi
  es_tail_log "$n"
}

usage() {
  sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
  up)
    lock
    es_up
    redis_up
    ;;
  down)
    lock
    case "${1:-all}" in
    all) es_down && redis_down ;;
    es | elasticsearch) es_down ;;
    redis) redis_down ;;
    *) die "down takes es, redis or nothing (both)" ;;
    esac
    ;;
  status) cmd_status ;;
  logs) cmd_logs "$@" ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
