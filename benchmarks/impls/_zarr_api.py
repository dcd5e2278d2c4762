"""Shared creation arguments for zarr-python-API implementations (zarr-python, zarrs, zarrfast).

Codecs are given in their plain dict forms (v3 ``{"name", "configuration"}``, v2 numcodecs
``{"id", ...}``) so an implementation need not expose codec classes.
"""

from __future__ import annotations

from typing import Any

from benchmarks.workloads import Workload

BYTES_LE: dict[str, Any] = {"name": "bytes", "configuration": {"endian": "little"}}
ZSTD_1: dict[str, Any] = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
BLOSC_LZ4_V2: dict[str, Any] = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}


def create_kwargs(w: Workload) -> dict[str, Any]:
    """Keyword arguments for ``create_array(store=path, **kwargs)`` reproducing workload ``w``."""
    kwargs: dict[str, Any] = {
        "shape": w.shape,
        "chunks": w.chunks,
        "dtype": w.dtype,
        "fill_value": 0,
        "filters": None,
        "zarr_format": w.zarr_format,
        "overwrite": True,
    }
    if w.shards is not None:
        kwargs["shards"] = w.shards
    if w.zarr_format == 2:
        if w.codec != "blosc_lz4":
            raise ValueError(f"v2 workloads use blosc lz4, not {w.codec}")
        kwargs["compressors"] = dict(BLOSC_LZ4_V2)
        return kwargs
    kwargs["serializer"] = dict(BYTES_LE)
    if w.codec == "zstd":
        kwargs["compressors"] = [dict(ZSTD_1)]
    elif w.codec == "raw":
        kwargs["compressors"] = None
    else:
        raise ValueError(f"v3 workloads use zstd or raw, not {w.codec}")
    return kwargs
