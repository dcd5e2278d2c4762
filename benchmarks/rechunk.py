"""Rechunk and convert: throughput and peak memory of zarrfast against rechunker + dask on the same Zarr v2 input.

    python -m benchmarks.rechunk [--quick] [--json PATH] [--peer-python PATH] [--out PATH]

Input: a float32 Zarr v2 array written once by zarrfast (zstd), ~512 MB (``--quick``: ~50 MB), with tall narrow
chunks. Operations, each run once in its own child process:

* ``rechunk``: to short wide chunks within ``max_mem`` (a transpose-like change that needs two passes);
* ``convert``: same chunks, new compressor (blosc lz4) -- for zarrfast also v2 -> v3 with shards.

Peak memory: the child records ``ru_maxrss`` after its imports (baseline) and after the operation; the reported
number is the growth. Linux carries ``ru_maxrss`` over from the parent across ``exec``, so every child is started
by a tiny launcher process, never straight from this (larger) process.

The peer (rechunker) needs zarr-python 2. It runs in ``--peer-python`` (or ``$RECHUNKER_PYTHON``), e.g. a
virtualenv made with ``python -m venv /tmp/rechunker-venv && /tmp/rechunker-venv/bin/pip install 'zarr<3'
rechunker 'dask[array]'``; when no such interpreter is found the peer rows are skipped with the reason printed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "results", "rechunk.md")

SIZES = {  # name: (shape, source chunks, target chunks, max_mem)
    "full": ((8192, 16384), (8192, 256), (256, 16384), 256 * 2**20),
    "quick": ((2048, 6144), (2048, 128), (128, 6144), 24 * 2**20),
}

_LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"

_ZARRFAST_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy, zarrfast
    spec = json.loads(sys.argv[1])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    if spec["op"] == "rechunk":
        summary = zarrfast.rechunk(spec["src"], spec["dst"], chunks=spec["chunks"], max_mem=spec["max_mem"],
                                   temp=spec["temp"])
    elif spec["op"] == "convert-v2":
        summary = zarrfast.convert(spec["src"], spec["dst"], zarr_format=2, max_mem=spec["max_mem"],
                                   compressor=[{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                                   "shuffle": "shuffle"}}])
    else:  # convert-v3: v2 -> sharded v3
        summary = zarrfast.convert(spec["src"], spec["dst"], zarr_format=3, chunks=spec["inner"],
                                   shards=spec["shards"], max_mem=spec["max_mem"])
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "growth": peak - base, "base": base,
                      "passes": summary.get("passes"), "version": zarrfast.__version__}))
""")

_PEER_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import dask, numcodecs, numpy, rechunker, zarr
    spec = json.loads(sys.argv[1])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t0 = time.perf_counter()
    source = zarr.open_array(spec["src"], mode="r")
    if spec["op"] == "rechunk":
        plan = rechunker.rechunk(source, tuple(spec["chunks"]), spec["max_mem"], spec["dst"],
                                 temp_store=spec["temp"])
    else:  # convert-v2: same chunks, new compressor
        plan = rechunker.rechunk(source, source.chunks, spec["max_mem"], spec["dst"], temp_store=spec["temp"],
                                 target_options={"compressor": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE)})
    plan.execute()
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "growth": peak - base, "base": base, "passes": None,
                      "version": f"rechunker {rechunker.__version__}, dask {dask.__version__}, "
                                 f"zarr {zarr.__version__}"}))
""")


def _peer_python(explicit: str | None) -> tuple[str | None, str]:
    """An interpreter with rechunker, dask and zarr-python 2, or (None, why not)."""
    candidates = [explicit] if explicit else [os.environ.get("RECHUNKER_PYTHON"), sys.executable]
    probe = "import rechunker, dask, zarr; import sys; sys.exit(0 if zarr.__version__.startswith('2.') else 3)"
    reasons = []
    for exe in [c for c in candidates if c]:
        if not os.path.exists(exe):
            reasons.append(f"{exe}: not found")
            continue
        r = subprocess.run([exe, "-c", probe], capture_output=True, text=True, check=False)
        if r.returncode == 0:
            return exe, ""
        reasons.append(f"{exe}: " + ("zarr-python is not 2.x (rechunker needs zarr<3)" if r.returncode == 3
                                     else (r.stderr.strip().splitlines() or ["import failed"])[-1]))
    return None, "; ".join(reasons)


def make_input(path: str, shape: tuple[int, int], chunks: tuple[int, int]) -> int:
    import numpy as np

    import zarrfast

    arr = zarrfast.create_array(path, shape=shape, dtype="f4", chunks=chunks, zarr_format=2, overwrite=True)
    rng = np.random.default_rng(0)
    step = chunks[1] * max(1, 4096 // chunks[1])
    for j in range(0, shape[1], step):
        width = min(step, shape[1] - j)
        arr[:, j:j + width] = np.round(rng.standard_normal((shape[0], width)) * 100).astype("f4")
    return int(np.prod(shape)) * 4


def _run(python: str, child: str, spec: dict) -> dict:
    for key in ("dst", "temp"):
        if spec.get(key):
            shutil.rmtree(spec[key], ignore_errors=True)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _LAUNCHER, python, "-c", child, json.dumps(spec)],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"{spec['op']} failed ({python}):\n{r.stderr[-3000:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t0
    return out


def _check(spec: dict, src: str) -> None:
    """The output equals the input (a few regions; the layout decides which reader)."""
    import numpy as np

    import zarrfast

    a = zarrfast.open_array(src, mode="r")
    b = zarrfast.open_array(spec["dst"], mode="r")
    for sel in (np.s_[:3, :5], np.s_[-7:, -300:], np.s_[a.shape[0] // 2:a.shape[0] // 2 + 50, 100:900]):
        if not np.array_equal(a[sel], b[sel]):
            raise AssertionError(f"{spec['op']}: output differs from the input at {sel}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.rechunk", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="~50 MB input instead of ~512 MB")
    ap.add_argument("--json", metavar="PATH", help="also write the raw results as JSON")
    ap.add_argument("--peer-python", metavar="PATH", help="interpreter with rechunker + dask + zarr<3")
    ap.add_argument("--out", metavar="PATH", default=DEFAULT_OUT, help="markdown table (default: %(default)s)")
    ap.add_argument("--workdir", metavar="DIR", help="where the data goes (default: a temporary directory)")
    args = ap.parse_args(argv)

    shape, src_chunks, dst_chunks, max_mem = SIZES["quick" if args.quick else "full"]
    work = args.workdir or tempfile.mkdtemp(prefix="zarrfast-bench-rechunk-")
    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "input-v2.zarr")
    print(f"writing input {shape} float32 chunks {src_chunks} (Zarr v2) to {src} ...", flush=True)
    nbytes = make_input(src, shape, src_chunks)

    peer, why = _peer_python(args.peer_python)
    if peer is None:
        print(f"rechunker + dask: skipped ({why})", flush=True)
    impls = [("zarrfast", sys.executable, _ZARRFAST_CHILD)] + ([("rechunker+dask", peer, _PEER_CHILD)] if peer else [])
    inner = (src_chunks[0] // 8, src_chunks[1])
    ops = [
        ("rechunk", {"chunks": list(dst_chunks)}, f"{src_chunks} -> {dst_chunks}"),
        ("convert-v2", {}, "recompress zstd -> blosc lz4, v2 -> v2"),
        ("convert-v3", {"inner": list(inner), "shards": list(src_chunks)},
         f"v2 -> v3, chunks {inner} in shards {src_chunks}"),
    ]
    rows = []
    try:
        for op, extra, what in ops:
            for name, python, child in impls:
                if name != "zarrfast" and op == "convert-v3":
                    continue  # rechunker writes Zarr v2 only
                spec = {"op": op, "src": src, "dst": os.path.join(work, f"out-{name}-{op}.zarr"),
                        "temp": os.path.join(work, f"tmp-{name}-{op}.zarr"), "max_mem": max_mem, **extra}
                print(f"{op:<10} {name:<15} ...", end=" ", flush=True)
                res = _run(python, child, spec)
                _check(spec, src)
                row = {"op": op, "what": what, "impl": name, "seconds": res["seconds"],
                       "mb_per_s": nbytes / 1e6 / res["seconds"], "peak_mb": res["growth"] / 1e6,
                       "max_mem_mb": max_mem / 1e6, "passes": res["passes"], "version": res["version"]}
                rows.append(row)
                print(f"{res['seconds']:.2f} s  {row['mb_per_s']:.0f} MB/s  peak +{row['peak_mb']:.0f} MB", flush=True)
                for key in ("dst", "temp"):
                    shutil.rmtree(spec[key], ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    command = "python -m benchmarks.rechunk" + (" --quick" if args.quick else "") + \
        (f" --peer-python {args.peer_python}" if args.peer_python else "")
    md = _markdown(rows, shape, src_chunks, nbytes, max_mem, command, None if peer else why)
    print()
    print(md)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": command, "shape": shape, "source_chunks": src_chunks, "nbytes": nbytes,
                       "max_mem": max_mem, "peer_skipped": None if peer else why, "rows": rows}, f, indent=1)
    return 0


def _markdown(rows: list[dict], shape: Any, chunks: Any, nbytes: int, max_mem: int, command: str,
              skipped: str | None) -> str:
    import platform

    lines = [
        "# Rechunk / convert: zarrfast vs rechunker + dask",
        "",
        f"Command: `{command}`",
        "",
        (f"Input: float32 {tuple(shape)} ({nbytes / 1e6:.0f} MB), Zarr v2, chunks {tuple(chunks)}, zstd; "
        f"max_mem {max_mem / 2**20:.0f} MiB for both tools. Machine: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}. Each run in its own process; *peak* is the growth of ru_maxrss "
        "over the process's size after imports; MB/s is input bytes per second of the operation."),
        "",
        "| operation | tool | seconds | MB/s | peak (MB) | passes |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['op']}: {r['what']} | {r['impl']} | {r['seconds']:.2f} | {r['mb_per_s']:.0f} | "
                     f"{r['peak_mb']:.0f} | {r['passes'] if r['passes'] is not None else '-'} |")
    lines.append("")
    versions = sorted({f"{r['impl']}: {r['version']}" for r in rows})
    lines.append("Versions: " + "; ".join(versions) + ".")
    if skipped:
        lines += ["", f"rechunker + dask skipped: {skipped}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
