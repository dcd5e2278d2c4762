"""zstd (v3 ``zstd``, v2 ``zstd``): frames with the content size; frames without one are read too."""
from __future__ import annotations

from typing import Any, ClassVar

import zstandard

from ..errors import ChunkDecodeError, CodecError
from .base import BytesBytesCodec


class ZstdCodec(BytesBytesCodec):
    name: ClassVar[str] = "zstd"
    codec_id: ClassVar[str] = "zstd"

    def __init__(self, level: int = 0, checksum: bool = False) -> None:
        if not isinstance(level, int) or isinstance(level, bool) or not -131072 <= level <= 22:
            raise CodecError(f"zstd codec: level must be an integer in [-131072, 22], not {level!r}")
        if not isinstance(checksum, bool):
            raise CodecError(f"zstd codec: checksum must be true or false, not {checksum!r}")
        self.level = level
        self.checksum = checksum

    def get_config(self) -> dict[str, Any]:
        return {"level": self.level, "checksum": self.checksum}

    def to_v2(self) -> dict[str, Any]:
        config: dict[str, Any] = {"id": "zstd", "level": self.level}
        if self.checksum:
            config["checksum"] = True
        return config

    def encode(self, data: bytes) -> bytes:
        c = zstandard.ZstdCompressor(level=self.level, write_checksum=self.checksum, write_content_size=True)
        return c.compress(data)

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        try:
            d = zstandard.ZstdDecompressor()
            if expected_size is None:
                return d.decompressobj().decompress(data)
            return _decode_frames(d, data, expected_size)
        except zstandard.ZstdError as e:
            raise ChunkDecodeError(f"zstd: corrupt data ({e})") from None


def _decode_frames(d: zstandard.ZstdDecompressor, data: bytes, expected_size: int) -> bytes:
    """One or more complete frames (as the kernel and numcodecs read them) holding exactly ``expected_size`` bytes;
    never allocates more than that (frames without a content size are decoded with a bound first)."""
    if len(data) < 4:
        raise ChunkDecodeError(f"zstd: {len(data)} bytes is shorter than a frame header")
    parts, total, rest = [], 0, data
    while rest:
        size = zstandard.frame_content_size(rest)
        if size > expected_size - total:
            raise ChunkDecodeError(f"zstd: frame holds {size} bytes, expected {expected_size - total}")
        if size == -1:  # no content size: check the frame's output stays in bounds before decoding it whole
            d.decompress(rest, max_output_size=expected_size - total + 1)
        obj = d.decompressobj()
        part = obj.decompress(rest)
        if not obj.eof:
            raise ChunkDecodeError("zstd: frame is truncated")
        total += len(part)
        if total > expected_size:
            raise ChunkDecodeError(f"zstd: decoded {total}+ bytes, expected {expected_size}")
        parts.append(part)
        rest = obj.unused_data
    if total != expected_size:
        raise ChunkDecodeError(f"zstd: decoded {total} bytes, expected {expected_size}")
    return b"".join(parts)
