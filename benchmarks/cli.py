"""Command line of ``python -m benchmarks``: run the workloads and write the reports."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import data, limits, memory
from benchmarks.impls import DEFAULT_IMPLS, load_adapters
from benchmarks.report import (
    derived_limits,
    library_versions,
    machine_info,
    markdown_report,
    summarize,
    text_report,
)
from benchmarks.runner import WorkloadRun, stderr_log
from benchmarks.workloads import OPS, WORKLOADS, get_workloads

# Prefer the reference implementation's stored chunks for the codec limits.
_LIMIT_SOURCE_ORDER = ("zarr", "zarrs", "tensorstore", "zarrfast")


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    p.add_argument("--workloads", type=_csv, default=[], help=f"comma list; default all: {','.join(WORKLOADS)}")
    p.add_argument("--impls", type=_csv, default=list(DEFAULT_IMPLS), help="comma list of implementations")
    p.add_argument("--ops", type=_csv, default=list(OPS), help=f"comma list; default all: {','.join(OPS)}")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (default 5; --quick: 2)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for the codec limits and 'all cores' in --scaling (default: all cores)")
    p.add_argument("--quick", action="store_true", help="small shapes (128^3, 250k) for smoke runs")
    p.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR, help="cache of generated .npy data")
    p.add_argument("--tmp-dir", default=None, help="where arrays are written (default: system temp dir)")
    p.add_argument("--json", type=Path, default=None, help="write everything as JSON here")
    p.add_argument("--markdown", type=Path, default=None, help="write markdown tables here")
    p.add_argument("--plot", type=Path, default=None, help="write a PNG plot here (needs matplotlib)")
    p.add_argument("--no-limits", action="store_true", help="skip the codec/memcpy limit measurements")
    p.add_argument("--memory", action="store_true", help="measure peak RSS of read_all/write_all")
    p.add_argument("--scaling", action="store_true", help="zarrfast read_all with 1, 2 and all threads")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    args = p.parse_args(argv)
    unknown = [o for o in args.ops if o not in OPS]
    if unknown:
        p.error(f"unknown op(s) {unknown}; known: {','.join(OPS)}")
    if args.reps is None:
        args.reps = 2 if args.quick else 5
    return args


def _workload_spec(w: Any) -> dict[str, Any]:
    return {"shape": list(w.shape), "dtype": w.dtype, "chunks": list(w.chunks),
            "shards": list(w.shards) if w.shards else None, "codec": w.codec,
            "zarr_format": w.zarr_format, "nbytes": w.nbytes, "n_chunks": w.n_chunks}


def run(args: argparse.Namespace, argv: list[str]) -> dict[str, Any]:
    """Run everything asked for; return the JSON document."""
    log = (lambda _m: None) if args.quiet else stderr_log
    started = time.perf_counter()
    workloads = get_workloads(args.workloads, args.quick)
    adapters, skipped = load_adapters(args.impls)
    doc: dict[str, Any] = {
        "schema": 1,
        "command_line": ["python", "-m", "benchmarks", *argv],
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "config": {"quick": args.quick, "reps": args.reps, "threads": args.threads,
                   "workloads": [w.name for w in workloads], "impls": args.impls, "ops": args.ops,
                   "data_dir": str(args.data_dir), "limits": not args.no_limits,
                   "memory": args.memory, "scaling": args.scaling},
        "machine": machine_info(),
        "versions": library_versions(),
        "impls": {},
        "workloads": {},
        "wrong_answers": [],
        "errors": [],
    }
    for name in args.impls:
        if name in adapters:
            try:
                ver = adapters[name].version()
            except Exception:  # noqa: BLE001 - report, never crash
                ver = None
            doc["impls"][name] = {"status": "ok", "version": ver}
        else:
            doc["impls"][name] = {"status": "skipped", "reason": skipped[name]}
            log(f"skipping {name}: {skipped[name]}")
    root = tempfile.mkdtemp(prefix="zarrfast-bench-", dir=args.tmp_dir)
    try:
        for w in workloads:
            log(f"== {w.describe()}")
            t0 = time.perf_counter()
            src = data.load(w, args.data_dir)
            log(f"  data ready ({w.nbytes / 2**20:.0f} MiB) in {time.perf_counter() - t0:.1f}s")
            wr = WorkloadRun(w, src, adapters, root, log)
            wr.setup()
            cells = wr.run(args.ops, args.reps)
            results = {op: {n: c.to_json() for n, c in row.items()} for op, row in cells.items()}
            wd: dict[str, Any] = {"spec": _workload_spec(w), "results": results,
                                  "summary": summarize(results)}
            for op, row in cells.items():
                for n, c in row.items():
                    if c.status == "wrong":
                        doc["wrong_answers"].append(f"{n} {w.name} {op}: {c.message}")
                    elif c.status == "error":
                        doc["errors"].append(f"{n} {w.name} {op}: {c.message}")
            if not args.no_limits:
                stored = next((wr.read_paths[n] for n in _LIMIT_SOURCE_ORDER if n in wr.read_paths), None)
                try:
                    wd["limits"] = limits.measure(w, src, stored, args.threads, min(args.reps, 5))
                    wd.update(derived_limits(wd["summary"], wd["limits"]))
                    lim = wd["limits"]
                    log(f"  limits: decode {lim['decode'][str(lim['threads'])]['gbps']:.2f} GB/s, "
                        f"memcpy {lim['memcpy']['gbps']:.1f} GB/s")
                except Exception as exc:  # noqa: BLE001 - report, never crash
                    wd["limits"] = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
            if args.scaling:
                counts = sorted({1, min(2, args.threads), args.threads})
                wd["scaling"] = wr.scaling(counts, args.reps)
                for n, sc in wd["scaling"].items():
                    rows = sc.get("threads", {})
                    log(f"  scaling {n}: " + (", ".join(
                        f"{t}T {r['gbps']:.2f} GB/s" if r["status"] == "ok" else f"{t}T {r['status']}"
                        for t, r in rows.items()) or sc.get("status", "?")))
            if args.memory:
                wd["memory"] = {}
                for n, path in wr.read_paths.items():
                    wd["memory"][n] = {}
                    for op in memory.MEMORY_OPS:
                        target = path if op == "read_all" else os.path.join(root, w.name, n, "mem.zarr")
                        r = memory.measure(n, w.name, op, target, str(args.data_dir), args.quick)
                        wd["memory"][n][op] = r
                        log(f"  memory {n} {op}: " + (f"{r['multiple']:.2f}x" if r["status"] == "ok"
                                                       else r.get("message", r["status"])))
            doc["workloads"][w.name] = wd
            del src
            wr.cleanup()
    finally:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    doc["duration_s"] = time.perf_counter() - started
    return doc


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    doc = run(args, argv)
    print(text_report(doc))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=1))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown_report(doc))
    if args.plot:
        from benchmarks.plot import plot

        plot(doc, args.plot)
    return 3 if doc["wrong_answers"] else 0
