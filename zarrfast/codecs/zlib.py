"""zlib (v2 ``zlib``; v3 ``numcodecs.zlib``)."""
from __future__ import annotations

import zlib as _zlib
from typing import Any, ClassVar

from ..errors import CodecError
from ._bounded import inflate_bounded
from .base import BytesBytesCodec


class ZlibCodec(BytesBytesCodec):
    name: ClassVar[str] = "numcodecs.zlib"
    codec_id: ClassVar[str] = "zlib"

    def __init__(self, level: int = 1) -> None:
        if not isinstance(level, int) or not -1 <= level <= 9:
            raise CodecError(f"zlib codec: level must be an integer in [-1, 9], not {level!r}")
        self.level = level

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level}

    def encode(self, data: bytes) -> bytes:
        return _zlib.compress(data, self.level)

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        return inflate_bounded(data, 15, expected_size, "zlib")
