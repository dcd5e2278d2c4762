"""Deterministic source data for the workloads, cached as ``.npy`` files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from benchmarks.workloads import Workload

DEFAULT_DATA_DIR = Path(__file__).resolve().parent / ".cache"
DATA_VERSION = 1
NOISE_SIGMA = 1.5
INT_OFFSET = 2000.0
_SLAB_ELEMENTS = 1 << 23  # generate this many elements at a time to bound memory


def _axis_term(axis: int, size: int) -> np.ndarray:
    """``sin(x / (7 + 5 i)) * (600 / (i + 1))`` for axis ``i`` as float32."""
    x = np.arange(size, dtype=np.float32)
    return (np.sin(x / np.float32(7 + 5 * axis)) * np.float32(600 / (axis + 1))).astype(np.float32)


def generate(shape: tuple[int, ...], dtype: str) -> np.ndarray:
    """Smooth field plus Gaussian noise (sigma 1.5, ``default_rng(0)``).

    ``f = sum_i sin(x_i / (7 + 5 i)) * 600 / (i + 1)`` is computed in float32; noise is drawn slab by
    slab along axis 0 from a single generator stream (identical to one big draw). Integer dtypes get
    ``+ 2000`` before the cast; float dtypes are cast as is.
    """
    out_dtype = np.dtype(dtype)
    out = np.empty(shape, dtype=out_dtype)
    terms = [_axis_term(i, s) for i, s in enumerate(shape)]
    rng = np.random.default_rng(0)
    inner = math.prod(shape[1:])
    step = max(1, _SLAB_ELEMENTS // max(inner, 1))
    rest = np.zeros(shape[1:], dtype=np.float32)
    for i, term in enumerate(terms[1:], start=1):
        rest = rest + term.reshape((-1,) + (1,) * (len(shape) - 1 - i))
    is_int = np.issubdtype(out_dtype, np.integer)
    for start in range(0, shape[0], step):
        stop = min(start + step, shape[0])
        f = terms[0][start:stop].reshape((-1,) + (1,) * (len(shape) - 1)) + rest
        slab = f.astype(np.float64) + rng.normal(0.0, NOISE_SIGMA, size=(stop - start,) + shape[1:])
        if is_int:
            slab += INT_OFFSET
        out[start:stop] = slab.astype(out_dtype)
    return out


def cache_path(w: Workload, data_dir: Path) -> Path:
    shape = "x".join(map(str, w.shape))
    return Path(data_dir) / f"{w.name}_{shape}_{w.dtype}_v{DATA_VERSION}.npy"


def load(w: Workload, data_dir: Path | None = None) -> np.ndarray:
    """Return the workload's data, generating and caching it on first use."""
    path = cache_path(w, Path(data_dir or DEFAULT_DATA_DIR))
    if path.exists():
        arr = np.load(path)
        if arr.shape == w.shape and arr.dtype == np.dtype(w.dtype):
            return arr
    arr = generate(w.shape, w.dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)
    return arr
