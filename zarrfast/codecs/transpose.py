"""The v3 ``transpose`` codec: permutes the axes of a chunk."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import CodecError
from .base import ArrayArrayCodec, ChunkSpec


class TransposeCodec(ArrayArrayCodec):
    name: ClassVar[str] = "transpose"

    def __init__(self, order: Any) -> None:
        if isinstance(order, str):
            raise CodecError("transpose codec: 'order' must be a permutation list (strings 'C'/'F' are not v3)")
        self.order = tuple(int(i) for i in order)
        if sorted(self.order) != list(range(len(self.order))):
            raise CodecError(f"transpose codec: {list(self.order)} is not a permutation")

    def get_config(self) -> dict[str, Any]:
        return {"order": list(self.order)}

    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        if len(self.order) != len(spec.shape):
            raise CodecError(f"transpose codec: order has {len(self.order)} axes, the array {len(spec.shape)}")
        return ChunkSpec(tuple(spec.shape[i] for i in self.order), spec.dtype)

    def encode(self, chunk: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(chunk.transpose(self.order))

    def decode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return chunk.transpose(np.argsort(self.order))
