#!/usr/bin/env bash
# The two commands of README's quickstart, on a fresh Debian machine with Python 3.11:
#   bash quickstart.sh demo   install sigtriage into .venv and triage a real alert with its real signed binary
#   bash quickstart.sh test   install sigtriage with its test tools and run the whole test suite
# Every install step lives here, so a clean clone (and CI, through .ci/run) needs nothing else.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV=${SIGTRIAGE_VENV:-.venv}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }

apt_install() {
    # Debian packages the project uses; skipped (with a note) where we cannot install them
    command -v apt-get >/dev/null 2>&1 || { echo "note: no apt-get; not installing $*" >&2; return 0; }
    as_root apt-get update -qq >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || echo "note: could not install $* (tests that need them will be skipped)" >&2
}

pip_install() {
    # quiet on success; the whole log on failure
    "$VENV/bin/python" -m pip install --disable-pip-version-check "$@" >"$VENV/pip.log" 2>&1 \
        || { cat "$VENV/pip.log" >&2; echo "pip install failed (log above)" >&2; exit 1; }
}

make_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        # Debian ships venv separately (python3-venv); install it once if it is missing
        "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$VENV"; }
    fi
    pip_install --upgrade pip
}

case "${1:-}" in
    demo)
        make_venv
        pip_install -e .
        # the main job with embedded defaults only: default baseline and playbook, a local SQLite case store
        export SIGTRIAGE_HOME=${SIGTRIAGE_HOME:-$PWD/.sigtriage}
        exec "$VENV/bin/sigtriage" triage --alert test_data/alerts/quickstart_sysmon_eid7_attach_amd64.json \
            --file test_data/real/attach_amd64.dll
        ;;
    test)
        make_venv
        command -v osslsigncode >/dev/null 2>&1 || apt_install osslsigncode
        pip_install -e '.[test]'
        shift
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *)
        echo "usage: bash quickstart.sh demo|test [pytest args]" >&2
        exit 2
        ;;
esac
