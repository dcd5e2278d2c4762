"""Peak memory of read_all / write_all, each in its own subprocess.

The child imports everything, loads or opens what the operation needs, records its resident size
(the baseline), resets the kernel's high-water mark (``/proc/self/clear_refs``), runs the operation
once and reports ``VmHWM - baseline``. Where the reset is unavailable the high-water mark since start
(``ru_maxrss``) is used instead, which can only overstate the peak. The parent turns the extra
bytes into a multiple of the array's uncompressed size.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from typing import Any

MEMORY_OPS = ("read_all", "write_all")


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _child(args: argparse.Namespace) -> dict[str, Any]:
    import gc

    import numpy as np

    from benchmarks import data
    from benchmarks.impls import load_adapters, session
    from benchmarks.workloads import get_workloads

    (w,) = get_workloads([args.workload], args.quick)
    adapters, skipped = load_adapters([args.impl])
    if args.impl not in adapters:
        return {"status": "skipped", "message": skipped.get(args.impl, "")}
    ad = adapters[args.impl]
    with session(ad):
        if args.op == "write_all":
            src = np.ascontiguousarray(data.load(w, args.data_dir))
            shutil.rmtree(args.path, ignore_errors=True)
            target = ad.create(args.path, w)
        else:
            arr = ad.open(args.path)
        gc.collect()
        baseline_kb = _status_kb("VmRSS") or 0
        reset = _reset_peak()
        if args.op == "write_all":
            ad.write_all(target, src)
            result = None
        else:
            result = ad.read_all(arr)
        peak_kb = _status_kb("VmHWM") if reset else None
        if peak_kb is None:
            peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        del result
    if args.op == "write_all":
        shutil.rmtree(args.path, ignore_errors=True)
    extra = max(0, peak_kb - baseline_kb) * 1024
    return {
        "status": "ok",
        "baseline_bytes": baseline_kb * 1024,
        "peak_bytes": peak_kb * 1024,
        "extra_bytes": extra,
        "peak_reset": reset,
        "nbytes": w.nbytes,
        "multiple": extra / w.nbytes,
    }


def measure(
    impl: str, workload: str, op: str, path: str, data_dir: str, quick: bool, timeout: float = 900
) -> dict[str, Any]:
    """Run one (impl, workload, op) in a subprocess and return its peak-memory report."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--impl", impl, "--workload", workload,
           "--op", op, "--path", path, "--data-dir", data_dir]
    if quick:
        cmd.append("--quick")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env, cwd=root)
    except subprocess.TimeoutExpired:
        return {"status": "error", "message": f"timed out after {timeout}s"}
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"status": "error", "message": f"exit {proc.returncode}: {tail}"}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"status": "error", "message": "no report from child"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="peak-memory child (used by python -m benchmarks --memory)")
    p.add_argument("--impl", required=True)
    p.add_argument("--workload", required=True)
    p.add_argument("--op", choices=MEMORY_OPS, required=True)
    p.add_argument("--path", required=True, help="read copy (read_all) or scratch path (write_all)")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    try:
        report = _child(args)
    except Exception as exc:  # noqa: BLE001 - report, never crash
        report = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
