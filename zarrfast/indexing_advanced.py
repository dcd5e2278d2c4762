"""Orthogonal, coordinate, mask and block selections (zarr-python 3 semantics), on top of the chunk engines.

Every advanced selection becomes a :class:`~zarrfast.indexing.ChunkPlan`: one row per touched chunk, each row a
rectangular region of that chunk copied into a *compact* buffer. The engine reads (or writes) the plan in one call
- batched store I/O, every chunk fetched and decoded once, shards grouped - and numpy then gathers the selected
elements out of the compact buffer (or scatters the new values into it before the write).

* Orthogonal: per axis, the selected indices are grouped by chunk; a chunk contributes the span from its first to
  its last selected index (reads) or its whole extent (writes), so the compact buffer is the concatenation of those
  spans and ``np.ix_`` maps the selection into it.
* Coordinates / masks: points are grouped by chunk (``np.unique`` on the flat chunk id); every touched chunk's
  bounding box of points (reads) or whole extent (writes) is stacked along axis 0 of the compact buffer.
* Writes are read-modify-write of whole chunks: chunks that the selection covers completely are not read; the
  others are read once, merged and written back as complete chunks (so the engine never reads them again).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .errors import BoundsCheckError, SelectionError
from .indexing import ChunkPlan, expand_ellipsis
from .locks import key_locks


# ---- classification (mirrors zarr.core.indexing) ----------------------------------------------------------------
def _is_integer(x: Any) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _is_integer_list(x: Any) -> bool:
    return isinstance(x, list) and len(x) > 0 and all(_is_integer(i) for i in x)


def _is_integer_array(x: Any) -> bool:
    return not np.isscalar(x) and hasattr(x, "shape") and hasattr(x, "dtype") and x.dtype.kind in "ui"


def _is_bool_list(x: Any) -> bool:
    return isinstance(x, list) and len(x) > 0 and all(isinstance(i, (bool, np.bool_)) for i in x)


def _is_bool_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and x.dtype == bool


def _is_int_or_bool_iterable(x: Any) -> bool:
    return _is_integer_list(x) or _is_integer_array(x) or _is_bool_array(x) or _is_bool_list(x)


def is_pure_fancy_indexing(selection: Any, ndim: int) -> bool:
    """zarr-python's rule for ``a[sel]`` going to ``vindex``."""
    if _is_bool_array(selection):
        return True
    if ndim == 1 and (_is_integer_list(selection) or _is_integer_array(selection) or _is_bool_list(selection)):
        return True
    no_slicing = (isinstance(selection, tuple) and len(selection) == ndim
                  and not any(isinstance(e, slice) or e is Ellipsis for e in selection))
    return (no_slicing
            and all(_is_integer(e) or _is_integer_list(e) or _is_integer_array(e) for e in selection)
            and any(_is_integer_list(e) or _is_integer_array(e) for e in selection))


def is_pure_orthogonal_indexing(selection: Any, ndim: int) -> bool:
    """zarr-python's rule for ``a[sel]`` going to ``get_orthogonal_selection``."""
    if not ndim:
        return False
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) == ndim and all(_is_int_or_bool_iterable(s) for s in items):
        return True
    return (len(items) <= ndim and sum(_is_int_or_bool_iterable(s) for s in items) <= 1
            and all(_is_int_or_bool_iterable(s) or isinstance(s, (int, slice)) for s in items))


# ---- normalisation ------------------------------------------------------------------------------------------------
def _int_indices(s: Any, n: int, axis: int) -> np.ndarray:
    arr = np.asarray(s)
    if arr.dtype.kind not in "iu":
        if arr.size == 0:
            arr = arr.astype(np.int64)
        else:
            raise SelectionError(f"unsupported selection item on axis {axis}: {s!r}")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < -n or arr.max() >= n):
        bad = arr[(arr < -n) | (arr >= n)][0]
        raise BoundsCheckError(f"index {int(bad)} is out of bounds for axis {axis} with size {n}")
    return np.where(arr < 0, arr + n, arr)


def normalize_orthogonal(selection: Any, shape: tuple[int, ...]) -> tuple[list[np.ndarray], list[bool]]:
    """Per axis: the selected indices (int64, non-negative, in selection order) and whether the axis is dropped."""
    items = expand_ellipsis(selection, len(shape))
    indices: list[np.ndarray] = []
    dropped: list[bool] = []
    for axis, (s, n) in enumerate(zip(items, shape)):
        if isinstance(s, slice):
            if s.step is not None and int(s.step) == 0:
                raise SelectionError("slice step cannot be zero")
            indices.append(np.arange(*s.indices(n), dtype=np.int64))
            dropped.append(False)
        elif _is_integer(s) or (isinstance(s, np.ndarray) and s.ndim == 0 and s.dtype.kind in "iu"):
            indices.append(_int_indices(np.asarray([int(s)]), n, axis))
            dropped.append(True)
        elif _is_bool_array(s) or _is_bool_list(s):
            m = np.asarray(s, dtype=bool)
            if m.ndim != 1 or len(m) != n:
                raise SelectionError(f"boolean selection on axis {axis} has shape {m.shape}, expected ({n},)")
            indices.append(np.flatnonzero(m).astype(np.int64))
            dropped.append(False)
        elif _is_integer_list(s) or _is_integer_array(s) or (isinstance(s, (list, tuple)) and len(s) == 0):
            arr = np.asarray(s)
            if arr.ndim != 1:
                raise SelectionError(f"integer array selection on axis {axis} must be 1-d, got shape {arr.shape}")
            indices.append(_int_indices(arr, n, axis))
            dropped.append(False)
        else:
            raise SelectionError(f"unsupported orthogonal selection item on axis {axis}: {s!r}")
    return indices, dropped


def normalize_coordinates(selection: Any, shape: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Coordinate selection -> ((n_points, ndim) int64 points, broadcast result shape)."""
    items = list(selection) if isinstance(selection, tuple) else [selection]
    if len(items) != len(shape):
        raise SelectionError(f"coordinate selection needs one index array per dimension ({len(shape)}), "
                             f"got {len(items)}")
    arrays = []
    for axis, (s, n) in enumerate(zip(items, shape)):
        if isinstance(s, slice) or s is Ellipsis or s is None:
            raise SelectionError(f"coordinate selection: unsupported item {s!r} on axis {axis} "
                                 "(only integers and integer arrays)")
        arr = np.asarray(s)
        if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
            raise SelectionError(f"coordinate selection: unsupported item {s!r} on axis {axis}")
        arrays.append(_int_indices(arr, n, axis))
    try:
        b = np.broadcast_arrays(*arrays)
    except ValueError:
        raise SelectionError("coordinate arrays can't be broadcast together: "
                             f"{[a.shape for a in arrays]}") from None
    rshape = b[0].shape if b else ()
    points = np.stack([x.reshape(-1) for x in b], axis=1) if b else np.zeros((1, 0), dtype=np.int64)
    return points, rshape


def normalize_mask(selection: Any, shape: tuple[int, ...]) -> np.ndarray:
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) != 1 or not (_is_bool_array(items[0]) or _is_bool_list(items[0])):
        raise SelectionError("mask selection must be one boolean array")
    m = np.asarray(items[0], dtype=bool)
    if m.shape != tuple(shape):
        raise SelectionError(f"mask has shape {m.shape}, the array {tuple(shape)}")
    return np.stack(np.nonzero(m), axis=1).astype(np.int64).reshape(-1, len(shape))


def block_to_basic(selection: Any, shape: tuple[int, ...], grid: tuple[int, ...]) -> tuple[slice, ...]:
    """Block selection (ints and unit-step slices of chunk numbers) -> slices in array coordinates."""
    items = expand_ellipsis(selection, len(shape))
    out = []
    for axis, (s, n, c) in enumerate(zip(items, shape, grid)):
        nb = -(-n // c)
        if _is_integer(s):
            b = int(s)
            if b < -nb or b >= nb:
                raise BoundsCheckError(f"block index {b} is out of bounds for axis {axis} with {nb} blocks")
            b = b + nb if b < 0 else b
            out.append(slice(b * c, min((b + 1) * c, n)))
        elif isinstance(s, slice):
            if s.step not in (None, 1):
                raise SelectionError(f"block selection: only slices with step 1 are supported, got {s!r}")
            start, stop, _ = s.indices(nb)
            stop = max(start, stop)
            out.append(slice(start * c, min(stop * c, n)))
        else:
            raise SelectionError(f"block selection: unsupported item {s!r} on axis {axis} "
                                 "(only integers and slices)")
    return tuple(out)


# ---- plans ------------------------------------------------------------------------------------------------------
def _product_rows(per_axis: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Cartesian product of per-axis rows (chunk, cstart, count, ostart) -> four (n, ndim) arrays."""
    sizes = [len(r[0]) for r in per_axis]
    grids = np.indices(sizes, dtype=np.int64).reshape(len(sizes), -1) if sizes else np.zeros((0, 1), np.int64)
    out = []
    for j in range(4):
        cols = [per_axis[d][j][grids[d]] for d in range(len(sizes))]
        out.append(np.stack(cols, axis=1) if cols else np.zeros((1, 0), dtype=np.int64))
    return tuple(out)


def _axis_groups(idx: np.ndarray, cs: int, n: int, whole: bool) -> tuple[tuple[np.ndarray, ...], np.ndarray,
                                                                         np.ndarray, int]:
    """Group one axis' indices by chunk: (rows, position of every idx in the compact axis, full flags, length)."""
    u, inv = np.unique(idx, return_inverse=True)
    chunk = u // cs
    starts = np.r_[0, np.flatnonzero(np.diff(chunk)) + 1].astype(np.int64) if len(u) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(u)].astype(np.int64) if len(u) else np.zeros(0, np.int64)
    gchunk = chunk[starts]
    if whole:
        lo = gchunk * cs
        hi = np.minimum(lo + cs, n)
    else:
        lo = u[starts]
        hi = u[ends - 1] + 1
    count = hi - lo
    ostart = np.r_[0, np.cumsum(count)[:-1]].astype(np.int64) if len(count) else np.zeros(0, np.int64)
    group_of_u = np.repeat(np.arange(len(starts)), ends - starts)
    pos_u = ostart[group_of_u] + (u - lo[group_of_u])
    full = (ends - starts) == (np.minimum(gchunk * cs + cs, n) - gchunk * cs)
    rows = (gchunk, lo - gchunk * cs, count, ostart)
    return rows, pos_u[inv.reshape(-1)], full, int(count.sum())


def _plan(coords: np.ndarray, cstart: np.ndarray, count: np.ndarray, ostart: np.ndarray) -> ChunkPlan:
    return ChunkPlan(np.ascontiguousarray(coords, dtype=np.int64), np.ascontiguousarray(cstart, dtype=np.int64),
                     np.ascontiguousarray(count, dtype=np.int64), np.ascontiguousarray(ostart, dtype=np.int64))


def read_orthogonal(engine: Any, dtype: np.dtype, indices: list[np.ndarray]) -> np.ndarray:
    """The orthogonal selection ``indices`` (one int64 array per axis), shape ``[len(i) for i in indices]``."""
    rshape = tuple(len(i) for i in indices)
    if 0 in rshape:
        return np.empty(rshape, dtype=dtype)
    per_axis, pos, lengths = [], [], []
    for idx, cs, n in zip(indices, engine.chunk_shape, engine.shape):
        rows, p, _, length = _axis_groups(idx, cs, n, whole=False)
        per_axis.append(rows)
        pos.append(p)
        lengths.append(length)
    buf = np.empty(tuple(lengths), dtype=dtype)
    engine.read(_plan(*_product_rows(per_axis)), buf)
    return buf[np.ix_(*pos)]


def write_orthogonal(engine: Any, dtype: np.dtype, indices: list[np.ndarray], value: np.ndarray,
                     write_empty_chunks: bool) -> None:
    """Store ``value`` (shape ``[len(i) for i in indices]``) at the orthogonal selection: whole chunks, each
    read at most once (not at all when the selection covers it) and written once."""
    if any(len(i) == 0 for i in indices):
        return
    per_axis, pos, fulls, lengths = [], [], [], []
    for idx, cs, n in zip(indices, engine.chunk_shape, engine.shape):
        rows, p, full, length = _axis_groups(idx, cs, n, whole=True)
        per_axis.append(rows)
        pos.append(p)
        fulls.append(full)
        lengths.append(length)
    coords, cstart, count, ostart = _product_rows(per_axis)
    sizes = [len(r[0]) for r in per_axis]
    grids = np.indices(sizes).reshape(len(sizes), -1)
    covered = np.all(np.stack([fulls[d][grids[d]] for d in range(len(sizes))], axis=1), axis=1)
    buf = np.empty(tuple(lengths), dtype=dtype)
    need = ~covered
    with key_locks(engine.store, engine.stored_keys(coords)):  # read, merge, write back: one writer per key
        if need.any():
            engine.read(_plan(coords[need], cstart[need], count[need], ostart[need]), buf)
        buf[np.ix_(*pos)] = value
        engine.write(_plan(coords, cstart, count, ostart), buf, write_empty_chunks, locked=True)


def _group_ids(cid: np.ndarray, nchunks: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct chunk ids, group number of every point): a lookup table when the grid is small enough,
    else a sort."""
    if nchunks <= max(1 << 22, 4 * len(cid)):
        present = np.bincount(cid, minlength=nchunks) > 0
        uniq = np.flatnonzero(present)
        lut = np.cumsum(present) - 1
        return uniq, lut[cid]
    uniq, inv = np.unique(cid, return_inverse=True)
    return uniq, inv.reshape(-1)


def _point_groups(points: np.ndarray, chunk_shape: tuple[int, ...], shape: tuple[int, ...], whole: bool):
    """Group points by chunk. Returns the plan rows (chunk coords, region start, count, buffer start), the compact
    buffer's shape (regions stacked along axis 0) and every point's flat position in that buffer. A region is the
    bounding box of the chunk's points, or with ``whole`` the chunk's full extent."""
    ndim = len(shape)
    grid = tuple(-(-int(n) // int(c)) for n, c in zip(shape, chunk_shape))
    cols = [np.ascontiguousarray(points[:, d]) for d in range(ndim)]
    chunk = [c // cs for c, cs in zip(cols, chunk_shape)]
    local = [c - k * cs for c, k, cs in zip(cols, chunk, chunk_shape)]
    uniq, inv = _group_ids(np.ravel_multi_index(tuple(chunk), grid), int(np.prod(grid, dtype=np.int64)))
    nu = len(uniq)
    ucoords = np.stack(np.unravel_index(uniq, grid), axis=1).astype(np.int64).reshape(nu, ndim)
    cs = np.asarray(chunk_shape, dtype=np.int64)
    extent = np.minimum(cs, np.asarray(shape, dtype=np.int64) - ucoords * cs)
    if whole:
        lo = np.zeros_like(ucoords)
        count = extent
    else:
        lo = np.empty_like(ucoords)
        hi = np.empty_like(ucoords)
        for d in range(ndim):
            lo[:, d] = cs[d]
            np.minimum.at(lo[:, d], inv, local[d])
            hi[:, d] = -1
            np.maximum.at(hi[:, d], inv, local[d])
        count = hi - lo + 1
    ostart = np.zeros_like(ucoords)
    ostart[:, 0] = np.r_[0, np.cumsum(count[:, 0])[:-1]]
    bshape = (int(count[:, 0].sum()),) + tuple(int(m) for m in count[:, 1:].max(axis=0))
    rel = [local[0] - lo[inv, 0] + ostart[inv, 0]] + [local[d] - lo[inv, d] for d in range(1, ndim)]
    flat = np.ravel_multi_index(tuple(rel), bshape)
    return (ucoords, lo, count, ostart), bshape, flat, np.prod(extent, axis=1)


def read_points(engine: Any, dtype: np.dtype, points: np.ndarray) -> np.ndarray:
    """Values at ``points`` ((n, ndim) int64, in bounds), 1-d, each touched chunk fetched and decoded once."""
    if len(points) == 0:
        return np.empty(0, dtype=dtype)
    if points.shape[1] == 0:  # 0-d array
        buf = np.empty((), dtype=dtype)
        engine.read(_plan(np.zeros((1, 0)), np.zeros((1, 0)), np.zeros((1, 0)), np.zeros((1, 0))), buf)
        return np.repeat(buf.reshape(1), len(points))
    rows, bshape, flat, _ = _point_groups(points, engine.chunk_shape, engine.shape, False)
    buf = np.empty(bshape, dtype=dtype)
    engine.read(_plan(*rows), buf)
    return buf.reshape(-1).take(flat)


def write_points(engine: Any, dtype: np.dtype, points: np.ndarray, values: np.ndarray,
                 write_empty_chunks: bool) -> None:
    """Store ``values`` (1-d, one per point) at ``points``; later points win, as in numpy."""
    if len(points) == 0:
        return
    if points.shape[1] == 0:
        buf = np.asarray(values[-1:], dtype=dtype).reshape(())
        z = np.zeros((1, 0))
        engine.write(_plan(z, z, z, z), np.ascontiguousarray(buf), write_empty_chunks)
        return
    rows, bshape, flat, size = _point_groups(points, engine.chunk_shape, engine.shape, True)
    ucoords, lo, count, ostart = rows
    hit = np.zeros(int(np.prod(bshape)), dtype=bool)
    hit[flat] = True
    distinct = np.add.reduceat(hit.reshape(bshape[0], -1).sum(axis=1), ostart[:, 0])
    need = distinct != size  # chunks whose every element is written are not read
    del hit
    buf = np.empty(bshape, dtype=dtype)
    with key_locks(engine.store, engine.stored_keys(ucoords)):  # read, merge, write back: one writer per key
        if need.any():
            engine.read(_plan(ucoords[need], lo[need], count[need], ostart[need]), buf)
        buf.reshape(-1)[flat] = values
        engine.write(_plan(ucoords, lo, count, ostart), buf, write_empty_chunks, locked=True)
