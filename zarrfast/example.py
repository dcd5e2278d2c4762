"""Built-in example: ``python -m zarrfast.example [DIR]``.

Writes a 256x256x256 uint16 sample (a smooth field plus noise) as Zarr v2 (blosc lz4) and Zarr v3 (zstd),
reads it back, checks the values, and prints sizes and throughput.
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import zarrfast


def sample(shape: tuple[int, ...] = (256, 256, 256)) -> np.ndarray:
    """A smooth field plus noise, like instrument or model output."""
    grids = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij", sparse=True)
    f = sum(np.sin(g / (7 + 5 * i)) * (600 / (i + 1)) for i, g in enumerate(grids))
    f = f + np.random.default_rng(0).normal(0, 1.5, size=shape).astype(np.float32)
    return (f + 2000).astype(np.uint16)


def _stored_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run(root: Path) -> None:
    data = sample()
    mb = data.nbytes / 1e6
    print(f"zarrfast {zarrfast.__version__}: sample array {data.shape} {data.dtype} ({mb:.0f} MB) in {root}")
    cases = [
        ("v2", 2, {"compressors": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}}),
        ("v3", 3, {"compressors": {"name": "zstd", "configuration": {"level": 1, "checksum": False}}}),
    ]
    for label, fmt, codec in cases:
        path = root / f"sample_{label}.zarr"
        t0 = time.perf_counter()
        a = zarrfast.create_array(store=str(path), shape=data.shape, chunks=(64, 64, 64), dtype=data.dtype,
                                  zarr_format=fmt, overwrite=True, **codec)
        a[...] = data
        t1 = time.perf_counter()
        b = zarrfast.open_array(str(path), mode="r")
        back = b[...]
        t2 = time.perf_counter()
        part = b[10:300:3, 200:17:-2, 128]
        ok = np.array_equal(back, data) and np.array_equal(part, data[10:300:3, 200:17:-2, 128])
        stored = _stored_bytes(path)
        codec_name = b.compressors[0] if b.compressors else "none"
        print(f"  Zarr {label}: {b.nchunks} chunks of {b.chunks}, codec {codec_name}, stored {stored / 1e6:.1f} MB "
              f"(ratio {data.nbytes / stored:.2f}); write {mb / (t1 - t0):.0f} MB/s, read {mb / (t2 - t1):.0f} MB/s;"
              f" values {'match' if ok else 'DIFFER'}")
        if not ok:
            raise SystemExit("read-back mismatch")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        root = Path(argv[0])
        root.mkdir(parents=True, exist_ok=True)
        run(root)
    else:
        with tempfile.TemporaryDirectory() as d:
            run(Path(d))


if __name__ == "__main__":
    main()
