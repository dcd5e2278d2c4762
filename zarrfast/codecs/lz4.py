"""LZ4 in numcodecs framing (v2 ``lz4``; v3 ``numcodecs.lz4``): uint32 LE decoded size, then one LZ4 block."""
from __future__ import annotations

import struct
from typing import Any, ClassVar

import lz4.block

from ..errors import ChunkDecodeError, CodecError
from .base import BytesBytesCodec


class LZ4Codec(BytesBytesCodec):
    name: ClassVar[str] = "numcodecs.lz4"
    codec_id: ClassVar[str] = "lz4"

    def __init__(self, acceleration: int = 1) -> None:
        if not isinstance(acceleration, int) or acceleration < 1:
            raise CodecError(f"lz4 codec: acceleration must be a positive integer, not {acceleration!r}")
        self.acceleration = acceleration

    def get_config(self) -> dict[str, Any]:
        return {"acceleration": self.acceleration}

    def encode(self, data: bytes) -> bytes:
        return lz4.block.compress(data, mode="fast", acceleration=self.acceleration, store_size=True)

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        if len(data) < 4:
            raise ChunkDecodeError("lz4: data shorter than its 4-byte size header")
        (size,) = struct.unpack_from("<I", data)
        if expected_size is not None and size != expected_size:
            raise ChunkDecodeError(f"lz4: header says {size} bytes, expected {expected_size}")
        try:
            out = lz4.block.decompress(data)
        except lz4.block.LZ4BlockError as e:
            raise ChunkDecodeError(f"lz4: corrupt data ({e})") from None
        if len(out) != size:
            raise ChunkDecodeError(f"lz4: decoded {len(out)} bytes, header says {size}")
        return out
