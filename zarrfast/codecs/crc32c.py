"""The v3 ``crc32c`` codec: appends the CRC-32C of the data, little-endian."""
from __future__ import annotations

import struct
from typing import ClassVar

from ..errors import ChunkDecodeError
from .base import BytesBytesCodec

_TABLE: list[int] = []


def crc32c_py(data: bytes) -> int:
    """Pure-Python CRC-32C (the reference for the native kernel)."""
    if not _TABLE:
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            _TABLE.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc(data: bytes) -> int:
    from .._ext.bytecodecs import crc32c

    return crc32c(data)


class Crc32cCodec(BytesBytesCodec):
    name: ClassVar[str] = "crc32c"

    def encode(self, data: bytes) -> bytes:
        return bytes(data) + struct.pack("<I", _crc(data))

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        if len(data) < 4:
            raise ChunkDecodeError("crc32c: data shorter than the 4-byte checksum")
        body = bytes(data[:-4])
        (stored,) = struct.unpack("<I", data[-4:])
        if _crc(body) != stored:
            raise ChunkDecodeError("crc32c: checksum mismatch")
        return body
