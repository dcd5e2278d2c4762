"""Allocation of the arrays that reads fill."""
from __future__ import annotations

from typing import Any

import numpy as np

ALIGN = 64  # bytes: one cache line
ALIGN_MIN = 1 << 20  # outputs this large start on a cache line; smaller ones come from np.empty as they are


def empty_output(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array for a read result, starting on a cache-line boundary when it is large.

    numpy places large arrays 16 bytes past a page boundary. The read kernels stream whole cache lines into big
    outputs (``_ext.pipeline.read_into``); with every chunk row offset by 16 bytes, the first and last line of each
    row would be shared with the neighbouring chunk and could not be streamed. The result is a view of a slightly
    larger byte buffer (``.base`` holds it), C-contiguous and writable.
    """
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if nbytes < ALIGN_MIN or dt.hasobject or dt.itemsize == 0:
        return np.empty(shape, dtype=dt)
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    off = -raw.ctypes.data % ALIGN
    return raw[off:off + nbytes].view(dt).reshape(shape)
