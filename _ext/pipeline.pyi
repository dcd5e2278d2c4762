"""Batch chunk kernels (Cython). See _ext/pipeline.pyx."""
from typing import Any, Sequence

import numpy as np

EXP_NONE: int
EXP_ZSTD: int
EXP_LZ4: int
EXP_BLOSC: int

def error_message(code: int) -> str: ...

class ChunkProgram:
    ndim: int
    itemsize: int
    nbytes: int
    swap_unit: int
    n_crc: int
    expander: int
    def __init__(self, chunk_shape: Sequence[int], itemsize: int, layout_strides: Sequence[int], swap_unit: int,
                 fill: bytes, expander: int = 0, params: Sequence[int] = (), n_crc: int = 0) -> None: ...
    @property
    def chunk_shape(self) -> tuple[int, ...]: ...
    @property
    def layout_strides(self) -> tuple[int, ...]: ...

def read_into(prog: ChunkProgram, out: np.ndarray, chunk_start: np.ndarray, count: np.ndarray,
              out_start: np.ndarray, steps: np.ndarray, encoded: list[bytes | None], status: np.ndarray) -> int: ...
def set_stream_threshold(nbytes: int) -> int:
    """Set the output size from which read_into streams its stores past the caches (0: always); returns the
    previous value."""
def decode_chunk_into(prog: ChunkProgram, encoded: bytes, out: Any) -> int: ...
class OwnedBuffer:
    """Read-only bytes allocated by the kernels (what ``encode_from``'s memoryviews look at)."""
    def __len__(self) -> int: ...

def out_pool_state() -> tuple[int, int]:
    """(buffers, bytes) the pool of uncompressed encode outputs holds now."""

def encode_from(prog: ChunkProgram, src: np.ndarray, chunk_start: np.ndarray, count: np.ndarray,
                src_start: np.ndarray, steps: np.ndarray, existing: list[bytes | memoryview | None], complete: np.ndarray,
                write_empty: bool, status: np.ndarray, packed: bool = False) -> list[memoryview | None]: ...
