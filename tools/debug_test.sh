#!/usr/bin/env bash
# The bounds-checked debug job: build the Cython kernels with ZARRFAST_DEBUG=1 (Cython boundscheck and
# initializedcheck, -O0 -g, AddressSanitizer) in a temporary copy of the sources - never in place, cythonize would
# leave debug .c files next to the .pyx - and run the tests that exercise the kernels against that build, with
# libasan preloaded into the interpreter.  Any ASan report aborts the run; the exit code is pytest's.
#
#   tools/debug_test.sh [extra pytest args]        ZARRFAST_DEBUG_KEEP=1 keeps the build directory
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/zarrfast-debug.XXXXXX")"
if [ "${ZARRFAST_DEBUG_KEEP:-0}" != "1" ]; then trap 'rm -rf "$WORK"' EXIT; else echo "debug build in $WORK"; fi
START=$(date +%s)

# 1. copy the sources (no build products, no caches)
mkdir -p "$WORK/_ext"
cp "$ROOT/setup.py" "$ROOT/pyproject.toml" "$WORK/"
cp "$ROOT"/_ext/*.pyx "$ROOT"/_ext/*.pxi "$ROOT"/_ext/*.pxd "$ROOT"/_ext/*.pyi "$ROOT"/_ext/__init__.py "$WORK/_ext/"
tar -C "$ROOT" --exclude=__pycache__ --exclude='*.so' --exclude='zarrfast/_ext' -cf - zarrfast tests tools \
    | tar -C "$WORK" -xf -

# 2. build there; the extensions go into the copy's zarrfast/_ext so that the copy's package is self-contained
#    (PYTHONPATH puts it before the editable install of $ROOT, whose import hook comes after the path finder)
if ! (cd "$WORK" && ZARRFAST_DEBUG=1 "$PY" setup.py -q build_ext --inplace -j 2 >"$WORK/build.log" 2>&1); then
    cat "$WORK/build.log" >&2
    echo "debug build failed" >&2
    exit 1
fi
mv "$WORK/_ext" "$WORK/zarrfast/_ext"
BUILT=$(date +%s)

# 3. run the kernel tests under AddressSanitizer
LIBASAN="$(gcc -print-file-name=libasan.so)"
if [ ! -e "$LIBASAN" ]; then echo "libasan.so not found (gcc -print-file-name=libasan.so)" >&2; exit 1; fi
export PYTHONPATH="$WORK" ZARRFAST_EXPECT_DEBUG=1 PYTHONDONTWRITEBYTECODE=1
export PYTHONMALLOC=malloc ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:print_summary=1:handle_segv=1"
cd "$WORK"
LD_PRELOAD="$LIBASAN" "$PY" - "$WORK" <<'EOF'
import sys
import zarrfast
from zarrfast._ext import blosc, bytecodecs, fileio, pipeline, selection
for m in (zarrfast, blosc, bytecodecs, fileio, pipeline, selection):
    assert m.__file__.startswith(sys.argv[1] + "/zarrfast/"), f"{m.__name__} imported from {m.__file__}"
info = bytecodecs.build_info()
assert info == {"debug": True, "asan": True}, info
print(f"debug build imported from {sys.argv[1]}: {info}")
EOF
TESTS=(tests/test_kernels.py tests/test_blosc_kernel.py tests/test_codecs.py tests/test_sharding_codec.py
       tests/test_engine_equivalence.py tests/test_errors.py tests/test_store_local.py tests/test_sharding.py
       tests/test_prefix_decode.py tests/test_read_arena.py tests/test_encode_pool.py tests/test_encode_packed.py tests/test_stream_copy.py)
TESTS+=(tests/test_fuzz*.py)
for f in tests/test_hostile_*.py; do [ -e "$f" ] && TESTS+=("$f"); done
status=0
LD_PRELOAD="$LIBASAN" "$PY" -m pytest -q -p no:cacheprovider -m "not interop" "${TESTS[@]}" "$@" || status=$?
END=$(date +%s)
echo "debug job: build $((BUILT - START)) s, tests $((END - BUILT)) s, exit $status"
exit $status
