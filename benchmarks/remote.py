"""Remote-store reads: zarrfast vs zarr-python 3 on the same local S3 (moto) and HTTP servers.

``python -m benchmarks.remote [--reps N] [--latency-ms MS] [--chunks N] [--json PATH]``

One v3 array of ``--chunks`` chunks (1,000 int32 elements each, zstd) is written once with
zarr-python to a moto S3 server and to a directory served by a local HTTP server (Range + HEAD,
with ``--latency-ms`` slept per request to simulate a remote store). Each library opens the array
once, reads it whole once to warm up, then ``--reps`` timed whole-array reads (both servers run
in their own processes); the table shows
the median seconds and the ratio zarr-python / zarrfast (above 1: zarrfast is faster), plus the
HTTP requests one read made. Both servers run on 127.0.0.1, so without injected latency the
numbers mostly measure per-request client overhead.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CHUNK = 1000


def _time_reads(read: Callable[[], np.ndarray], expected: np.ndarray, reps: int) -> list[float]:
    np.testing.assert_array_equal(read(), expected)  # warm-up, and the result is right
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        read()
        times.append(time.perf_counter() - t0)
    return times


def _open_zarrfast(url: str, opts: dict[str, Any] | None) -> Callable[[], np.ndarray]:
    import zarrfast

    arr = zarrfast.open_array(url, mode="r", storage_options=opts)
    return lambda: arr[...]


def _open_zarr_python(url: str, opts: dict[str, Any] | None) -> Callable[[], np.ndarray]:
    import zarr

    arr = zarr.open_array(url, mode="r", storage_options=opts)
    return lambda: arr[...]


def run(reps: int, latency_ms: float, n_chunks: int) -> dict[str, Any]:
    import zarr

    from zarrfast.testing.servers import HTTPServerProcess, S3Server

    data = (np.arange(n_chunks * CHUNK, dtype="<i4") * 7919) % 100_003
    spec = {"shape": data.shape, "chunks": (CHUNK,), "dtype": "<i4", "compressors": zarr.codecs.ZstdCodec(level=1),
            "zarr_format": 3, "fill_value": 0}
    impls = {"zarrfast": _open_zarrfast, "zarr-python": _open_zarr_python}
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="zarrfast-remote-") as tmp, S3Server() as s3, \
            HTTPServerProcess(tmp, latency=latency_ms / 1000.0) as http:
        # ---- S3 (moto)
        bucket = "bench"
        s3.create_bucket(bucket)
        opts = s3.storage_options()
        url = f"s3://{bucket}/{uuid.uuid4().hex}.zarr"
        zarr.create_array(url, storage_options=opts, **spec)[...] = data
        for name, opener in impls.items():
            times = _time_reads(opener(url, opts), data, reps)
            rows.append({"backend": "s3 (moto)", "latency_ms": 0.0, "impl": name, "times": times,
                         "median": statistics.median(times), "requests": None})
        # ---- HTTP
        local = Path(tmp) / "array.zarr"
        zarr.create_array(str(local), **spec)[...] = data
        url = f"{http.url}/array.zarr"
        for name, opener in impls.items():
            read = opener(url, None)
            times = _time_reads(read, data, reps)
            before = http.requests()
            read()
            requests = http.requests() - before  # /__stats__ itself is not counted
            rows.append({"backend": "http", "latency_ms": latency_ms, "impl": name, "times": times,
                         "median": statistics.median(times), "requests": requests})
    return {
        "benchmark": "remote",
        "chunks": n_chunks,
        "chunk_elements": CHUNK,
        "dtype": "int32",
        "codec": "zstd(level=1)",
        "reps": reps,
        "latency_ms": latency_ms,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": _versions(),
        "rows": rows,
    }


def _versions() -> dict[str, str | None]:
    import importlib.metadata as md

    out: dict[str, str | None] = {}
    for pkg in ("zarrfast", "zarr", "fsspec", "s3fs", "aiohttp", "moto"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def markdown(doc: dict[str, Any]) -> str:
    lines = [
        (f"{doc['chunks']} chunks x {doc['chunk_elements']} {doc['dtype']} ({doc['codec']}), whole-array read, "
         f"median of {doc['reps']} (after one warm-up read)."),
        "",
        ("| backend | injected latency | zarrfast (ms) | zarr-python (ms) | zarr-python / zarrfast | "
         "HTTP requests per read (zarrfast / zarr-python) |"),
        "|---|---:|---:|---:|---:|---:|",
    ]
    by_backend: dict[str, dict[str, dict[str, Any]]] = {}
    for row in doc["rows"]:
        by_backend.setdefault(row["backend"], {})[row["impl"]] = row
    for backend, impls in by_backend.items():
        zf, zp = impls["zarrfast"], impls["zarr-python"]
        reqs = "-" if zf["requests"] is None else f"{zf['requests']} / {zp['requests']}"
        lines.append(
            f"| {backend} | {zf['latency_ms']:g} ms | {zf['median'] * 1e3:.1f} | {zp['median'] * 1e3:.1f} | "
            f"{zp['median'] / zf['median']:.2f}x | {reqs} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote", description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="timed reads per implementation (default 5)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="delay the HTTP server adds to every request, in ms (default 0)")
    parser.add_argument("--chunks", type=int, default=1000, help="number of chunks (default 1000)")
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    doc = run(args.reps, args.latency_ms, args.chunks)
    print(markdown(doc))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(doc, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
