#!/usr/bin/env bash
# Install zarrfast with its test dependencies and run the whole suite (what .ci/run calls).
# Servers the tests start themselves (redis-server) are installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --upgrade pip >/dev/null 2>&1 || true
python3 -m pip install -q -e ".[test]"
if ! command -v redis-server >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -q >/dev/null 2>&1 || true
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null
    fi
fi
status=0
python3 -m pytest -n 2 -q -p no:cacheprovider "$@" || status=$?
# the kernels again, bounds-checked under AddressSanitizer (a temporary debug build; ~1 min)
PYTHON=python3 tools/debug_test.sh || status=$?
exit $status
