"""Normalise basic selections and project them onto the chunk grid (the pure-Python reference projection)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BoundsCheckError, SelectionError


@dataclass(frozen=True)
class BasicSelection:
    """Per axis: first index, step (non-zero, may be negative), number of elements, and whether the axis is
    dropped from the result (an integer index)."""

    starts: tuple[int, ...]
    steps: tuple[int, ...]
    lengths: tuple[int, ...]
    dropped: tuple[bool, ...]

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the selected region with every axis kept."""
        return self.lengths

    @property
    def result_shape(self) -> tuple[int, ...]:
        return tuple(n for n, d in zip(self.lengths, self.dropped) if not d)

    @property
    def size(self) -> int:
        return math.prod(self.lengths)


@dataclass(frozen=True, eq=False)
class ChunkPlan:
    """A precomputed chunk plan (what ``project_basic`` returns, unit steps): row k copies the region
    ``cstart[k] : cstart[k] + count[k]`` of chunk ``coords[k]`` to/from ``ostart[k] : ostart[k] + count[k]`` of the
    buffer. The engines accept it wherever they take a :class:`BasicSelection`. Used by advanced indexing."""

    coords: np.ndarray
    cstart: np.ndarray
    count: np.ndarray
    ostart: np.ndarray

    @property
    def steps(self) -> tuple[int, ...]:
        return (1,) * self.coords.shape[1]

    @property
    def size(self) -> int:
        return int(np.prod(self.count, axis=1, dtype=np.int64).sum()) if len(self.count) else 0


def is_basic_selection(selection: Any) -> bool:
    items = selection if isinstance(selection, tuple) else (selection,)
    for s in items:
        if s is Ellipsis or s is None or isinstance(s, slice):
            continue
        if isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)):
            continue
        if isinstance(s, np.ndarray) and s.ndim == 0 and s.dtype.kind in "iu":
            continue
        return False
    return True


def expand_ellipsis(selection: Any, ndim: int) -> list:
    """The selection as a list of exactly ``ndim`` items (Ellipsis expanded, missing trailing axes as ``:``)."""
    items = list(selection) if isinstance(selection, tuple) else [selection]
    if any(s is None for s in items):
        raise SelectionError("np.newaxis (None) is not supported in zarr selections")
    n_ellipsis = sum(1 for s in items if s is Ellipsis)
    if n_ellipsis > 1:
        raise SelectionError("a selection can hold only one Ellipsis")
    if n_ellipsis:
        i = next(k for k, s in enumerate(items) if s is Ellipsis)
        fill = ndim - (len(items) - 1)
        if fill < 0:
            raise SelectionError(f"too many indices for an array of {ndim} dimensions")
        items[i:i + 1] = [slice(None)] * fill
    if len(items) > ndim:
        raise SelectionError(f"too many indices ({len(items)}) for an array of {ndim} dimensions")
    return items + [slice(None)] * (ndim - len(items))


def normalize_basic(selection: Any, shape: tuple[int, ...]) -> BasicSelection:
    """Turn ints, slices (any step), Ellipsis and 0-d integer arrays into a :class:`BasicSelection`."""
    items = expand_ellipsis(selection, len(shape))
    starts, steps, lengths, dropped = [], [], [], []
    for axis, (s, n) in enumerate(zip(items, shape)):
        if isinstance(s, slice):
            if s.step is not None and int(s.step) == 0:
                raise SelectionError("slice step cannot be zero")
            start, stop, step = s.indices(n)
            length = len(range(start, stop, step))
            starts.append(start if length else 0)
            steps.append(step)
            lengths.append(length)
            dropped.append(False)
        else:
            if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer, np.ndarray)):
                raise SelectionError(f"unsupported selection {s!r} on axis {axis}")
            i = int(s)
            if i < -n or i >= n:
                raise BoundsCheckError(f"index {i} is out of bounds for axis {axis} with size {n}")
            starts.append(i + n if i < 0 else i)
            steps.append(1)
            lengths.append(1)
            dropped.append(True)
    return BasicSelection(tuple(starts), tuple(steps), tuple(lengths), tuple(dropped))


def project_basic_py(chunk_shape: tuple[int, ...], sel: BasicSelection) -> tuple[np.ndarray, ...]:
    """Reference of ``_ext.selection.project_basic``: (chunk_coords, chunk_start, count, out_start), each (n, ndim)."""
    per_axis = []
    for cs, start, step, length in zip(chunk_shape, sel.starts, sel.steps, sel.lengths):
        idx = start + step * np.arange(length, dtype=np.int64)
        chunk = idx // cs
        rows = []
        if length:
            breaks = np.flatnonzero(np.diff(chunk)) + 1
            for first, last in zip(np.r_[0, breaks], np.r_[breaks, length]):
                rows.append((chunk[first], idx[first] - chunk[first] * cs, last - first, first))
        per_axis.append(rows)
    nd = len(chunk_shape)
    combos = [[]]
    for rows in per_axis:
        combos = [c + [r] for c in combos for r in rows]
    out = [np.zeros((len(combos), nd), dtype=np.int64) for _ in range(4)]
    for k, combo in enumerate(combos):
        for d, row in enumerate(combo):
            for j in range(4):
                out[j][k, d] = row[j]
    if nd == 0:
        return tuple(np.zeros((1, 0), dtype=np.int64) for _ in range(4))
    return tuple(out)
