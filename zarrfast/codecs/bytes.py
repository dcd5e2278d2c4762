"""The v3 ``bytes`` codec: elements in C order with a fixed byte order."""
from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np

from ..errors import ChunkDecodeError, CodecError
from .base import ArrayBytesCodec, ChunkSpec

SWAP_KINDS = "biufcmMU"
"""dtype kinds the bytes codec stores in a declared byte order (U: per UTF-32 code unit)."""


class BytesCodec(ArrayBytesCodec):
    name: ClassVar[str] = "bytes"

    def __init__(self, endian: str | None = "little") -> None:
        endian = getattr(endian, "value", endian)
        if endian not in ("little", "big", None):
            raise CodecError(f"bytes codec: endian must be 'little', 'big' or null, not {endian!r}")
        self.endian = endian

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BytesCodec:
        return cls(**{"endian": None, **config})  # absent in JSON means no endian (1-byte types)

    def get_config(self) -> dict[str, Any]:
        return {} if self.endian is None else {"endian": self.endian}

    def stored_dtype(self, dtype: np.dtype) -> np.dtype:
        """Stored byte order; a missing endian on a multi-byte type is read leniently as little-endian.

        Byte strings, raw bytes and structured types are stored as they are in memory."""
        if dtype.itemsize <= 1 or dtype.byteorder == "|" or dtype.kind not in SWAP_KINDS:
            return dtype
        return dtype.newbyteorder(">" if self.endian == "big" else "<")

    def swap_unit(self, dtype: np.dtype) -> int:
        """Word size to byte-swap between memory and storage (0: no swap)."""
        stored = self.stored_dtype(dtype)
        if stored.isnative == dtype.isnative or dtype.itemsize <= 1 or dtype.kind not in SWAP_KINDS:
            return 0
        if dtype.kind == "c":
            return dtype.itemsize // 2
        return 4 if dtype.kind == "U" else dtype.itemsize  # UTF-32 code units

    def encode(self, chunk: np.ndarray) -> bytes:
        return np.ascontiguousarray(chunk, dtype=self.stored_dtype(chunk.dtype)).tobytes()

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        if len(data) != spec.nbytes:
            raise ChunkDecodeError(f"bytes codec: expected {spec.nbytes} bytes, got {len(data)}")
        arr = np.frombuffer(data, dtype=self.stored_dtype(spec.dtype)).reshape(spec.shape)
        return arr.astype(spec.dtype, copy=False)


NATIVE_ENDIAN = sys.byteorder
