"""Array API extras: resize / append helpers, stored-chunk statistics and the ``info`` summary."""
from __future__ import annotations

import dataclasses
import textwrap
from typing import Any

import numpy as np

from .errors import ShapeMismatchError

METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})


def stored_keys(array: Any) -> list[str]:
    """Every key stored under the array's prefix (metadata included)."""
    prefix = f"{array.path}/" if array.path else ""
    return list(array.store.list_prefix(prefix))


def chunk_keys_stored(array: Any) -> list[str]:
    """Stored keys under the array's prefix that are not metadata documents (chunks, or shards)."""
    prefix = f"{array.path}/" if array.path else ""
    return [k for k in stored_keys(array) if k[len(prefix):] not in METADATA_NAMES]


def nbytes_stored(array: Any) -> int:
    keys = stored_keys(array)
    total = 0
    for k, v in zip(keys, array.store.get_many(keys)):
        if v is not None:
            total += len(v)
    return total


def human_readable_size(size: int) -> str:
    for limit, unit in ((2**20, "K"), (2**30, "M"), (2**40, "G"), (2**50, "T")):
        if size < limit:
            return f"{size / float(limit >> 10):.1f}{unit}"
    return f"{size / float(2**50):.1f}P"


def byte_info(size: int) -> str:
    return str(size) if size < 2**10 else f"{size} ({human_readable_size(size)})"


@dataclasses.dataclass(kw_only=True, frozen=True)
class ArrayInfo:
    """Text summary of an array, laid out like zarr-python's ``ArrayInfo``."""

    _type: str = "Array"
    _zarr_format: int
    _data_type: Any
    _fill_value: object
    _shape: tuple[int, ...]
    _shard_shape: tuple[int, ...] | None = None
    _chunk_shape: tuple[int, ...] | None = None
    _order: str
    _read_only: bool
    _store_type: str
    _filters: tuple = ()
    _serializer: Any = None
    _compressors: tuple = ()
    _count_bytes: int | None = None
    _count_bytes_stored: int | None = None
    _count_chunks_initialized: int | None = None

    def __repr__(self) -> str:
        template = textwrap.dedent("""\
        Type               : {_type}
        Zarr format        : {_zarr_format}
        Data type          : {_data_type}
        Fill value         : {_fill_value}
        Shape              : {_shape}""")
        if self._shard_shape is not None:
            template += "\nShard shape        : {_shard_shape}"
        template += textwrap.dedent("""
        Chunk shape        : {_chunk_shape}
        Order              : {_order}
        Read-only          : {_read_only}
        Store type         : {_store_type}""")
        kwargs = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        template += "\nFilters            : {_filters}"
        if self._serializer is not None:
            template += "\nSerializer         : {_serializer}"
        template += "\nCompressors        : {_compressors}"
        if self._count_bytes is not None:
            template += "\nNo. bytes          : {_count_bytes}"
            kwargs["_count_bytes"] = byte_info(self._count_bytes)
        if self._count_bytes_stored is not None:
            template += "\nNo. bytes stored   : {_count_bytes_stored}"
            kwargs["_count_bytes_stored"] = byte_info(self._count_bytes_stored)
        if self._count_bytes is not None and self._count_bytes_stored:
            template += "\nStorage ratio      : {_storage_ratio}"
            kwargs["_storage_ratio"] = f"{self._count_bytes / self._count_bytes_stored:.1f}"
        if self._count_chunks_initialized is not None:
            label = "Shards Initialized" if self._shard_shape is not None else "Chunks Initialized"
            template += f"\n{label} : {{_count_chunks_initialized}}"
        return template.format(**kwargs)

    __str__ = __repr__


def array_info(array: Any, complete: bool = False) -> ArrayInfo:
    return ArrayInfo(
        _zarr_format=array.zarr_format, _data_type=array.dtype, _fill_value=array.fill_value, _shape=array.shape,
        _shard_shape=array.shards, _chunk_shape=array.chunks, _order=array.order, _read_only=array.read_only,
        _store_type=type(array.store).__name__, _filters=array.filters,
        _serializer=(array._inner_chain.array_bytes if array.shards else array.serializer)
        if array.zarr_format == 3 else None, _compressors=array.compressors,
        _count_bytes=array.nbytes,
        _count_bytes_stored=nbytes_stored(array) if complete else None,
        _count_chunks_initialized=len(chunk_keys_stored(array)) if complete else None,
    )


def normalize_shape(new_shape: Any, ndim: int) -> tuple[int, ...]:
    shape = (new_shape,) if isinstance(new_shape, (int, np.integer)) else tuple(new_shape)
    shape = tuple(int(s) for s in shape)
    if len(shape) != ndim:
        raise ShapeMismatchError(f"new shape {shape} has {len(shape)} dimensions, the array {ndim}")
    if any(s < 0 for s in shape):
        raise ShapeMismatchError(f"new shape {shape} has a negative extent")
    return shape


def outside_chunk_coords(old: tuple[int, ...], new: tuple[int, ...], grid: tuple[int, ...]) -> np.ndarray:
    """Coordinates of grid cells of the old shape that lie wholly outside the new shape."""
    old_n = [-(-o // g) for o, g in zip(old, grid)]
    new_n = [-(-n // g) for n, g in zip(new, grid)]
    if not old_n or all(a <= b for a, b in zip(old_n, new_n)):
        return np.zeros((0, len(grid)), dtype=np.int64)
    coords = np.indices(old_n, dtype=np.int64).reshape(len(old_n), -1).T
    return coords[np.any(coords >= np.asarray(new_n, dtype=np.int64), axis=1)]


def edge_slabs(old: tuple[int, ...], new: tuple[int, ...], grid: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """Regions (in old coordinates) of kept grid cells that fall beyond the new shape: they must read as fill
    if the array grows again."""
    kept = [min(o, -(-n // g) * g) for o, n, g in zip(old, new, grid)]
    slabs = []
    for d in range(len(old)):
        if new[d] < kept[d]:
            region = [slice(0, k) for k in kept]
            region[d] = slice(new[d], kept[d])
            if all(s.stop > s.start for s in region):
                slabs.append(tuple(region))
    return slabs
