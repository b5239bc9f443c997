#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, migrations check, pytest.
#
# Starts Redis and PostgreSQL on 127.0.0.1 when they are not answering
# (installing them with apt when missing) and installs Debian's chromium
# for the browser tests. Under CI=true a service that cannot be had is an
# error; elsewhere the script stops with the same message.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

log() { printf '==> %s\n' "$*"; }

apt_install() {
    if [ -z "${APT_UPDATED:-}" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_redis() {
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return; fi
    command -v redis-server >/dev/null || { log "installing redis-server"; apt_install redis-server redis-tools; }
    log "starting redis-server on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 50); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    log "ERROR: Redis did not start on 127.0.0.1:6379; see /var/log/redis/ci.log"
    exit 1
}

ensure_postgres() {
    if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        log "installing postgresql"
        apt_install postgresql
    fi
    log "starting PostgreSQL on 127.0.0.1:5432"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start || true
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return
        sleep 0.2
    done
    log "ERROR: PostgreSQL did not start on 127.0.0.1:5432"
    exit 1
}

ensure_chromium() {
    if [ -x /usr/bin/chromium ]; then return; fi
    log "installing Debian's chromium for the browser tests"
    apt_install chromium || { log "ERROR: could not install chromium with apt"; exit 1; }
}

install_python_packages() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    log "installing the app with its test extras"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e '.[test,requests,httpx]'
}

ensure_redis
ensure_postgres
ensure_chromium
install_python_packages

log "ruff (lint and format check)"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

log "makemigrations --check"
DJANGO_SETTINGS_MODULE=demo_project.settings "$VENV/bin/python" manage.py makemigrations --check --dry-run

log "pytest"
"$VENV/bin/python" -m pytest "$@"
