#!/usr/bin/env bash
# Set up and run the whole demo on 127.0.0.1: the site, a flaky upstream and steady traffic.
#
# Creates the virtual environment (.venv) when missing, installs the app with
# its requests and httpx extras, migrates, creates the demo breakers and a
# superuser with a random password, then starts the upstream, runserver and
# the traffic command. Ctrl-C stops every process it started.
#
# Environment: DEMO_PORT (site, default 8000), DEMO_UPSTREAM_PORT (default
# 8001), DEMO_SKIP_INSTALL=1 to reuse an installed .venv as it is, and the
# demo settings' own DEMO_SQLITE_PATH, REDIS_URL and DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
PORT=${DEMO_PORT:-8000}
UPSTREAM_PORT=${DEMO_UPSTREAM_PORT:-8001}
SITE="http://127.0.0.1:$PORT"

export DJANGO_SETTINGS_MODULE=demo_project.settings
export DEMO_UPSTREAM_URL="http://127.0.0.1:$UPSTREAM_PORT"
# Print log lines from Python at once, not when a buffer fills.
export PYTHONUNBUFFERED=1

log() { printf '==> %s\n' "$*"; }

check_port() {
    # Reject anything but a decimal port number before Python ever sees it.
    local variable=$1 value=$2
    if [[ $value =~ ^[1-9][0-9]{0,4}$ ]] && ((value <= 65535)); then
        return
    fi
    log "ERROR: invalid $variable \"$value\": give a port number from 1 to 65535" >&2
    exit 1
}
check_port DEMO_PORT "$PORT"
check_port DEMO_UPSTREAM_PORT "$UPSTREAM_PORT"

PIDS=()
stop_all() {
    trap - INT TERM EXIT
    if [ "${#PIDS[@]}" -gt 0 ]; then
        log "stopping the demo (processes ${PIDS[*]})"
        kill "${PIDS[@]}" 2>/dev/null || true
        wait "${PIDS[@]}" 2>/dev/null || true
    fi
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

install() {
    if [ "${DEMO_SKIP_INSTALL:-}" = 1 ] && [ -x "$VENV/bin/python" ]; then
        log "DEMO_SKIP_INSTALL=1: using $VENV as it is"
        return
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    log "installing the app with its requests and httpx extras"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e '.[requests,httpx]'
}

port_free() {
    "$VENV/bin/python" - "$1" <<'PY'
import socket, sys
with socket.socket() as sock:
    sys.exit(sock.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)
PY
}

wait_for() {
    # Poll a URL for up to 30 s; any HTTP response counts as up.
    "$VENV/bin/python" - "$1" <<'PY' || { log "ERROR: see $2"; tail -n 20 "$2"; exit 1; }
import sys, time, urllib.error, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"{sys.argv[1]} did not respond within 30 s")
PY
}

start_logged() {
    local logfile=$1
    shift
    "$@" >"$logfile" 2>&1 &
    PIDS+=("$!")
}

install
for port in "$PORT" "$UPSTREAM_PORT"; do
    port_free "$port" || { log "ERROR: port $port on 127.0.0.1 is in use; set DEMO_PORT or DEMO_UPSTREAM_PORT"; exit 1; }
done

log "migrating the database"
"$VENV/bin/python" manage.py migrate --no-input -v 0
log "creating the demo breakers and the superuser"
SETUP=$("$VENV/bin/python" manage.py demo_setup)
printf '%s\n' "$SETUP"
LOGIN=$(printf '%s\n' "$SETUP" | grep '^Superuser ')

# The upstream and the site log every request, so their output goes to files
# and the terminal shows the traffic's progress lines.
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/circuitbreaker-demo.XXXXXX")

log "starting the upstream on $DEMO_UPSTREAM_URL (log: $LOGS/upstream.log)"
start_logged "$LOGS/upstream.log" "$VENV/bin/python" -m demo_project.demo.upstream --port "$UPSTREAM_PORT"
wait_for "$DEMO_UPSTREAM_URL/control" "$LOGS/upstream.log"

log "starting the site on $SITE (log: $LOGS/runserver.log)"
# --noreload keeps runserver to one process, so stopping its PID stops it all.
start_logged "$LOGS/runserver.log" "$VENV/bin/python" manage.py runserver --noreload "127.0.0.1:$PORT"
wait_for "$SITE/" "$LOGS/runserver.log"

cat <<TEXT

The demo is running. Open:
  $SITE/           the demo pages
  $SITE/control/   break and heal the upstream
  $SITE/admin/     the breakers in the admin
$LOGIN
Press Ctrl-C to stop everything.

TEXT

log "starting the traffic; a progress line follows every 5 s"
"$VENV/bin/python" manage.py demo_traffic --base-url "$SITE" --interval 5 &
PIDS+=("$!")

# Return as soon as any process ends, so a crashed server stops the demo.
wait -n || true
log "a demo process ended; stopping the others"
