"""Codec base classes and the chunk description codecs work on."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np


@dataclass(frozen=True)
class ChunkSpec:
    """Shape and in-memory dtype of one chunk as a codec sees it."""

    shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class Codec:
    """A codec of a v3 chain (or a v2 compressor/filter).

    Subclasses set ``name`` (v3), ``codec_id`` (v2) and ``kind``; they implement the reference (pure Python) path
    in ``encode``/``decode`` and describe themselves as JSON with ``to_v3``/``to_v2``.
    """

    name: ClassVar[str] = ""
    codec_id: ClassVar[str | None] = None
    kind: ClassVar[str] = "bytes_to_bytes"  # or "array_to_array", "array_to_bytes"
    v3_given: dict[str, Any] | None = None  # numcodecs.* codecs: the v3 configuration as read or given

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Codec:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        """Configuration as written in v3 metadata (without the name)."""
        return {}

    def to_v3(self) -> dict[str, Any]:
        if self.v3_given is not None:  # a numcodecs.* codec: its configuration as given
            return {"name": self.name, "configuration": dict(self.v3_given)}
        config = self.get_config()
        return {"name": self.name, "configuration": config} if config else {"name": self.name}

    def to_v2(self) -> dict[str, Any]:
        if self.codec_id is None:
            from ..errors import CodecError

            raise CodecError(f"codec {self.name!r} has no Zarr v2 form")
        return {"id": self.codec_id, **self.get_config()}

    # numcodecs-style aliases, so users can call codec.get_config()/to_dict() like with zarr-python objects
    def to_dict(self) -> dict[str, Any]:
        return self.to_v3()

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.get_config() == other.get_config()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(sorted(self.get_config().items()))))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        """Chunk description after this codec's encode (array->array codecs may change it)."""
        return spec


class BytesBytesCodec(Codec):
    kind: ClassVar[str] = "bytes_to_bytes"

    def encode(self, data: bytes) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        raise NotImplementedError


class ArrayArrayCodec(Codec):
    kind: ClassVar[str] = "array_to_array"

    def encode(self, chunk: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def decode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        """Invert ``encode``; ``spec`` describes the chunk before encoding."""
        raise NotImplementedError


class ArrayBytesCodec(Codec):
    kind: ClassVar[str] = "array_to_bytes"

    def encode(self, chunk: np.ndarray) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        raise NotImplementedError
