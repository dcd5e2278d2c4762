#!/usr/bin/env bash
# Install zarrfast with its test dependencies and run the whole suite (what .ci/run calls).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q --upgrade pip >/dev/null 2>&1 || true
python3 -m pip install -q -e ".[test]"
exec python3 -m pytest -n 2 -q -p no:cacheprovider "$@"
