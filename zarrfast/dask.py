"""dask integration: read a zarrfast array as a dask array and store a dask array into one, safely in parallel.

Reading needs no locks: every task decodes its own chunks. Writing in parallel is safe when no two tasks touch the
same stored object — a chunk, or for a sharded array a whole shard. :func:`store` makes sure of that by rechunking the
dask array onto the array's write grid (or refusing, with ``align="raise"``). Within one process zarrfast also
serialises read-modify-write of a chunk or shard, so a misaligned ``da.store(x, arr, lock=False)`` on the threaded
scheduler is still correct; across processes (``dask.distributed``) only aligned writes are.

Arrays pickle as their store location, path and metadata (no chunk data), so graphs ship to process workers.
"""
from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import numpy as np

from .array import Array
from .errors import SelectionError, ZarrfastError

__all__ = ["AlignmentError", "aligned_chunks", "check_aligned", "store", "to_dask", "write_unit"]


class AlignmentError(ZarrfastError, ValueError):
    """A dask array's blocks would share a chunk or shard of the target array between parallel writers."""


def write_unit(arr: Array) -> tuple[int, ...]:
    """The shape one parallel writer must own whole: the shard shape of a sharded array, else the chunk shape."""
    return tuple(arr.shards or arr.chunks)


def _default_target_bytes() -> int:
    import dask
    from dask.utils import parse_bytes

    return int(parse_bytes(dask.config.get("array.chunk-size", "128MiB")))


def _axis_blocks(start: int, length: int, unit: int, factor: int) -> tuple[int, ...]:
    """Block lengths along one axis: boundaries on multiples of ``unit`` (counted in array coordinates)."""
    if length == 0:
        return (0,)
    step = unit * factor
    blocks = []
    pos = 0
    head = (-start) % step  # first boundary that lands on the write grid
    if head:
        first = min(head, length)
        blocks.append(first)
        pos = first
    while pos < length:
        n = min(step, length - pos)
        blocks.append(n)
        pos += n
    return tuple(blocks)


def aligned_chunks(arr: Array, *, region: Sequence[slice] | None = None, target_bytes: int | None = None,
                   unit: Sequence[int] | None = None) -> tuple[tuple[int, ...], ...]:
    """dask chunks for ``arr`` (or for ``region`` of it) whose boundaries fall on its write grid.

    Blocks are whole multiples of ``unit`` (default :func:`write_unit`), grown from the last axis backwards up to
    about ``target_bytes`` (default dask's ``array.chunk-size``).
    """
    starts, lengths = _region(arr, region)
    unit = tuple(unit) if unit is not None else write_unit(arr)
    if target_bytes is None:
        target_bytes = _default_target_bytes()
    unit_bytes = max(1, math.prod(unit) * arr.dtype.itemsize)
    budget = max(1, int(target_bytes // unit_bytes))  # write units per block
    factors = [1] * len(unit)
    for i in reversed(range(len(unit))):  # the last (contiguous) axis grows first
        cap = max(1, math.ceil(lengths[i] / unit[i]))
        factors[i] = max(1, min(cap, budget // math.prod(factors)))
    return tuple(_axis_blocks(s, n, u, f) for s, n, u, f in zip(starts, lengths, unit, factors))


def _region(arr: Array, region: Sequence[slice] | None) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if region is None:
        return (0,) * arr.ndim, tuple(arr.shape)
    region = tuple(region)
    if len(region) > arr.ndim:
        raise SelectionError(f"region has {len(region)} dimensions, array {arr.name!r} has {arr.ndim}")
    region = region + (slice(None),) * (arr.ndim - len(region))
    starts, lengths = [], []
    for axis, (sl, n) in enumerate(zip(region, arr.shape)):
        if not isinstance(sl, slice):
            raise SelectionError(f"region must be slices; axis {axis} has {sl!r}")
        start, stop, step = sl.indices(n)
        if step != 1:
            raise SelectionError(f"region slices must have step 1; axis {axis} has step {step}")
        starts.append(start)
        lengths.append(max(0, stop - start))
    return tuple(starts), tuple(lengths)


def check_aligned(chunks: Sequence[Sequence[int]], arr: Array, region: Sequence[slice] | None = None) -> None:
    """Raise :class:`AlignmentError` if two blocks of ``chunks`` would write into one chunk or shard of ``arr``."""
    starts, lengths = _region(arr, region)
    unit = write_unit(arr)
    if len(chunks) != arr.ndim:
        raise AlignmentError(f"dask array has {len(chunks)} dimensions, array {arr.name!r} has {arr.ndim}")
    for axis, (blocks, s, n, u) in enumerate(zip(chunks, starts, lengths, unit)):
        if sum(blocks) != n:
            raise AlignmentError(f"axis {axis}: dask blocks cover {sum(blocks)} elements, the region has {n}")
        pos = s
        for b in blocks[:-1]:
            pos += b
            if pos % u and pos != arr.shape[axis]:
                what = "shard" if arr.shards else "chunk"
                raise AlignmentError(
                    f"axis {axis}: a dask block boundary at index {pos} splits a {what} of length {u} of array "
                    f"{arr.name!r}; parallel writers would share it (use align='rechunk', or rechunk to "
                    f"{aligned_chunks(arr, region=region)[axis][:4]}...)")


def to_dask(arr: Any, chunks: Any = "auto", *, name: str | None = None, inline_array: bool = False,
            target_bytes: int | None = None, **open_kwargs: Any) -> Any:
    """A lazy dask array over ``arr`` (a zarrfast Array, or anything :func:`zarrfast.open_array` opens).

    ``chunks="auto"`` uses whole chunks (whole shards for sharded arrays) grown to about dask's
    ``array.chunk-size``; ``"native"`` uses exactly the chunk (or shard) shape; anything else is passed to dask.
    Reads take no locks.
    """
    import dask.array as da
    from dask.base import tokenize

    if not isinstance(arr, Array):
        from .api import open_array

        open_kwargs.setdefault("mode", "r")
        arr = open_array(arr, **open_kwargs)
    elif open_kwargs:
        raise TypeError(f"unexpected keyword arguments for an open Array: {sorted(open_kwargs)}")
    if isinstance(chunks, str) and chunks == "auto":
        chunks = aligned_chunks(arr, target_bytes=target_bytes)
    elif isinstance(chunks, str) and chunks == "native":
        chunks = write_unit(arr)
    if name is None:
        name = "zarrfast-" + tokenize(arr, chunks)
    return da.from_array(arr, chunks=chunks, name=name, lock=False, asarray=False, fancy=False,
                         inline_array=inline_array, meta=np.empty((0,) * arr.ndim, dtype=arr.dtype))


def store(x: Any, arr: Array, *, region: Sequence[slice] | None = None,
          align: Literal["rechunk", "raise"] = "rechunk", compute: bool = True, return_stored: bool = False,
          **store_kwargs: Any) -> Any:
    """Write dask array ``x`` into ``arr`` (or into ``region`` of it) with parallel tasks and no lock.

    Blocks of ``x`` that would share a chunk or shard of ``arr`` are rechunked onto its write grid first
    (``align="rechunk"``), or refused (``align="raise"``: :class:`AlignmentError`), so process workers never
    overwrite each other's updates. Returns what :func:`dask.array.store` returns.
    """
    import dask.array as da

    if align not in ("rechunk", "raise"):
        raise ValueError(f"align must be 'rechunk' or 'raise', not {align!r}")
    if arr.read_only:
        from .errors import ReadOnlyError

        raise ReadOnlyError(f"array {arr.name!r} is read-only")
    if not isinstance(x, da.Array):
        x = da.asarray(x)
    _, lengths = _region(arr, region)
    if tuple(x.shape) != lengths:
        raise SelectionError(f"dask array of shape {x.shape} does not match the target region of shape {lengths}")
    try:
        check_aligned(x.chunks, arr, region)
    except AlignmentError:
        if align == "raise":
            raise
        x = x.rechunk(aligned_chunks(arr, region=region, target_bytes=max(_block_bytes(x), 1)))
    regions = None if region is None else tuple(region) + (slice(None),) * (arr.ndim - len(tuple(region)))
    return da.store(x, arr, regions=regions, lock=False, compute=compute, return_stored=return_stored,
                    **store_kwargs)


def _block_bytes(x: Any) -> int:
    """Bytes of the largest block of ``x`` (so rechunking keeps blocks about as big as the user chose)."""
    return int(math.prod(max(c) if c else 0 for c in x.chunks) * x.dtype.itemsize)
