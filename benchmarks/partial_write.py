"""Partial shard writes: ``python -m benchmarks.partial_write [--reps N]``.

Writes one 32³ inner chunk into a full 256³ shard (512 inner chunks, bytes + zstd 1) with zarrfast and zarr-python
and prints the median time of each; the rest of the shard must be carried over untouched.
"""
from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from .data import generate


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args(argv)
    x = generate((256, 256, 256), "uint16")
    codec = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
    impls = []
    import zarrfast

    impls.append(("zarrfast", zarrfast))
    try:
        import zarr

        impls.append(("zarr", zarr))
    except ImportError:
        pass
    with tempfile.TemporaryDirectory() as d:
        for name, mod in impls:
            a = mod.create_array(store=f"{d}/{name}", shape=x.shape, chunks=(32, 32, 32), shards=(256, 256, 256),
                                 dtype=x.dtype, compressors=[codec])
            a[...] = x
            rng = np.random.default_rng(0)
            times = []
            for _ in range(args.reps):
                i, j, k = (int(v) * 32 for v in rng.integers(0, 8, 3))
                value = x[i:i + 32, j:j + 32, k:k + 32] + 1
                t = time.perf_counter()
                a[i:i + 32, j:j + 32, k:k + 32] = value
                times.append(time.perf_counter() - t)
            print(f"{name:10s} one inner chunk into a full shard: median {np.median(times) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
