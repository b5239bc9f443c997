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

ensure_gettext() {
    if command -v msgfmt >/dev/null && command -v xgettext >/dev/null; then return; fi
    log "installing GNU gettext for the translation tests"
    apt_install gettext || { log "ERROR: could not install gettext with apt"; exit 1; }
}

ensure_chromium() {
    if [ -x /usr/bin/chromium ]; then return; fi
    log "installing Debian's chromium for the browser tests"
    apt_install chromium || { log "ERROR: could not install chromium with apt"; exit 1; }
}

# install_into VENV PYTHON [extra pip requirement...]
install_into() {
    local venv=$1 python=$2
    shift 2
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv with $python"
        "$python" -m venv "$venv"
    fi
    log "installing the app with its test extras into $venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$venv/bin/python" -m pip install -q -e '.[test,requests,httpx]' "$@"
}

# Django 6 needs Python 3.12 or newer; pyenv on this kind of machine has it.
# pyenv's shims exist even for versions that are not selected, so each
# candidate must really start.
find_python312() {
    local candidate root
    root=$(pyenv root 2>/dev/null || true)
    for candidate in python3.13 python3.12 "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3; do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then
            command -v "$candidate"
            return
        fi
    done
}

ensure_redis
ensure_postgres
ensure_chromium
ensure_gettext
install_into "$VENV" "$PYTHON"

log "ruff (lint and format check)"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

log "makemigrations --check"
DJANGO_SETTINGS_MODULE=demo_project.settings "$VENV/bin/python" manage.py makemigrations --check --dry-run

log "pytest with $("$VENV/bin/python" -m django --version | sed 's/^/Django /')"
"$VENV/bin/python" -m pytest "$@"

# The app supports Django 5.2 LTS and 6.x: run the suite on Django 6 too.
PYTHON_DJANGO6=${PYTHON_DJANGO6:-$(find_python312)}
if [ -z "$PYTHON_DJANGO6" ]; then
    log "ERROR: no Python 3.12+ found for the Django 6 run; set PYTHON_DJANGO6"
    exit 1
fi
install_into "${VENV}-django6" "$PYTHON_DJANGO6" 'Django>=6,<7'
"${VENV}-django6/bin/python" manage.py makemigrations --check --dry-run
log "pytest with Django $("${VENV}-django6/bin/python" -m django --version)"
"${VENV}-django6/bin/python" -m pytest -p no:cacheprovider "$@"
