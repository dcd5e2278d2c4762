"""tools/fuzz.py: a short run in a subprocess, the committed corpus replayed through every path, and (in the
debug job, ZARRFAST_EXPECT_DEBUG=1) proof that the bounds-checked AddressSanitizer build is what got imported."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import fuzz  # noqa: E402
import fuzz_targets as ft  # noqa: E402

CORPUS = ROOT / "tools" / "fuzz_corpus"


def test_fuzzer_runs_and_keeps_new_inputs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz.py"), "--seconds", "8", "--corpus",
                           str(tmp_path), "--seed", "7", "--timeout", "60"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 problems" in proc.stdout
    kept = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert kept and not (tmp_path / "crashes").exists()
    assert {p.parent.name for p in kept} <= set(fuzz.TARGETS)


def test_fuzzer_records_a_violation(tmp_path, monkeypatch):
    """A property violation is written to the crashes directory with a one-line reason, and the exit code is 1."""
    def broken(target, raw):
        raise ft.Violation("planted")

    monkeypatch.setattr(fuzz, "run_one", broken)
    code = fuzz.fuzz(["lz4"], 0.0, tmp_path, tmp_path / "crashes", 0, 30.0, False, False)
    assert code == 1
    reasons = list((tmp_path / "crashes").glob("*.txt"))
    assert reasons and reasons[0].read_text().strip() == "violation: planted"


def test_fuzzer_records_a_crashing_input(tmp_path, monkeypatch):
    """An input that kills the worker process (as a segfault would) is a crash, not the end of the run."""
    def dies(target, raw):
        os._exit(139)

    monkeypatch.setattr(fuzz, "run_one", dies)
    runner = fuzz.Runner(30.0, False)
    try:
        status, reason, _ = runner.run("lz4", b"\0abc")
    finally:
        runner.close()
    assert status == "crash" and "139" in reason


def test_committed_corpus_covers_every_target_and_variant():
    total = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file())
    assert total < 500_000
    for target in fuzz.TARGETS:
        files = [p for p in (CORPUS / target).iterdir() if p.is_file()]
        assert files, target
        if target != "metadata":
            variants = {fuzz.decode_input(target, p.read_bytes())[0] for p in files}
            assert variants == set(range(len(ft.VARIANTS[target]))), target


@pytest.mark.parametrize("target", fuzz.TARGETS)
def test_committed_corpus_replays_through_every_path(target):
    """Every committed input still runs on both paths without a violation; the seeds are still valid chunks."""
    for path in sorted((CORPUS / target).iterdir()):
        raw = path.read_bytes()
        sig = fuzz.run_one(target, raw)
        if path.name.startswith("seed-") and target != "metadata":
            assert "py=ok" in sig and "native=err" not in sig and "=err" not in sig.split("ref=")[0], (path, sig)


def test_the_expected_build_is_imported():
    """Release build normally; in the debug job (tools/debug_test.sh sets ZARRFAST_EXPECT_DEBUG=1) the
    bounds-checked ASan build from the job's copy of the sources, not the editable install's in-place build."""
    import zarrfast
    from zarrfast._ext import blosc, bytecodecs, fileio, pipeline, selection

    debug = os.environ.get("ZARRFAST_EXPECT_DEBUG") == "1"
    assert bytecodecs.build_info() == {"debug": debug, "asan": debug}
    if debug:
        package = Path(zarrfast.__file__).resolve().parent
        for module in (blosc, bytecodecs, fileio, pipeline, selection):
            assert Path(module.__file__).resolve().parent == package / "_ext"
