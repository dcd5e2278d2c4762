"""tensorstore with its own spec: driver ``zarr`` (v2) or ``zarr3`` (v3), file kvstore."""

from __future__ import annotations

import os
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
import tensorstore as ts

from benchmarks.workloads import Selection, Workload

NAME = "tensorstore"

_BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
_ZSTD = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
_BLOSC_LZ4 = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}


def version() -> str:
    return _dist_version("tensorstore")


def _kvstore(path: str) -> dict[str, Any]:
    return {"driver": "file", "path": os.path.abspath(path)}


def spec(path: str, w: Workload) -> dict[str, Any]:
    """The creation spec reproducing workload ``w`` (same codecs as the zarr-python adapters)."""
    if w.zarr_format == 2:
        metadata: dict[str, Any] = {
            "shape": list(w.shape),
            "chunks": list(w.chunks),
            "dtype": np.dtype(w.dtype).str,
            "compressor": dict(_BLOSC_LZ4),
            "filters": None,
            "fill_value": 0,
            "order": "C",
        }
        return {"driver": "zarr", "kvstore": _kvstore(path), "metadata": metadata}
    inner = [dict(_BYTES)] + ([dict(_ZSTD)] if w.codec == "zstd" else [])
    if w.shards is not None:
        codecs = [
            {
                "name": "sharding_indexed",
                "configuration": {
                    "chunk_shape": list(w.chunks),
                    "codecs": inner,
                    "index_codecs": [dict(_BYTES), {"name": "crc32c"}],
                    "index_location": "end",
                },
            }
        ]
        grid = list(w.shards)
    else:
        codecs, grid = inner, list(w.chunks)
    metadata = {
        "shape": list(w.shape),
        "data_type": np.dtype(w.dtype).name,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
        "chunk_key_encoding": {"name": "default"},
        "fill_value": 0,
        "codecs": codecs,
    }
    return {"driver": "zarr3", "kvstore": _kvstore(path), "metadata": metadata}


def create(path: str, workload: Workload) -> Any:
    return ts.open(spec(path, workload), create=True, delete_existing=True).result()


def open(path: str) -> Any:
    driver = "zarr3" if os.path.exists(os.path.join(path, "zarr.json")) else "zarr"
    return ts.open({"driver": driver, "kvstore": _kvstore(path)}, read=True).result()


def write_all(arr: Any, data: np.ndarray) -> None:
    arr.write(data).result()


def read_all(arr: Any) -> np.ndarray:
    return arr.read().result()


def read_region(arr: Any, selection: Selection) -> np.ndarray:
    return arr[selection].read().result()
