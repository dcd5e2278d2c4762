"""gzip (v3 ``gzip``, v2 ``gzip``)."""
from __future__ import annotations

import gzip as _gzip
from typing import Any, ClassVar

from ..errors import CodecError
from ._bounded import inflate_bounded
from .base import BytesBytesCodec


class GzipCodec(BytesBytesCodec):
    name: ClassVar[str] = "gzip"
    codec_id: ClassVar[str] = "gzip"

    def __init__(self, level: int = 5) -> None:
        if not isinstance(level, int) or not 0 <= level <= 9:
            raise CodecError(f"gzip codec: level must be an integer in [0, 9], not {level!r}")
        self.level = level

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level}

    def encode(self, data: bytes) -> bytes:
        return _gzip.compress(data, compresslevel=self.level, mtime=0)

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        return inflate_bounded(data, 16 + 15, expected_size, "gzip")
