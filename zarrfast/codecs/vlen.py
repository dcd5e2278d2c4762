"""Variable-length strings and bytes: the ``vlen-utf8`` / ``vlen-bytes`` codecs (numcodecs framing).

Frame: ``uint32 n`` (little-endian) items, then for each item ``uint32 length`` and its bytes (UTF-8 for
strings). Identical to ``numcodecs.VLenUTF8`` / ``numcodecs.VLenBytes`` and to zarr-python 3's codecs.

In v3 they are array->bytes codecs (``{"name": "vlen-utf8", "configuration": {}}``); in v2 the same classes
are the object-codec filter (``{"id": "vlen-utf8"}``) and work on the flattened chunk. Chunks decode to
object arrays (``str`` / ``bytes`` items); ``None`` items encode as empty values. Python path only.
"""
from __future__ import annotations

import struct
from typing import Any, ClassVar

import numpy as np

from ..errors import ChunkDecodeError, CodecError
from .base import ArrayBytesCodec, ChunkSpec

_U32 = struct.Struct("<I")


class _VLenCodec(ArrayBytesCodec):
    utf8: ClassVar[bool] = False

    def __init__(self) -> None:
        pass

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> _VLenCodec:
        if config:
            raise CodecError(f"codec {cls.name!r} takes no configuration, got {config!r}")
        return cls()

    def _item(self, item: Any) -> bytes:
        if item is None:
            return b""
        if self.utf8:
            if isinstance(item, bytes):
                raise CodecError(f"{self.name}: expected str items, got bytes {item!r}")
            return str(item).encode("utf-8")
        if isinstance(item, str):
            return item.encode("utf-8")
        if isinstance(item, (bytes, bytearray, memoryview, np.bytes_)):
            return bytes(item)
        raise CodecError(f"{self.name}: expected bytes items, got {type(item).__name__}")

    def encode_flat(self, items: Any) -> bytes:
        """A 1-d sequence of items -> one frame."""
        flat = np.asarray(items, dtype=object).reshape(-1)
        parts = [_U32.pack(len(flat))]
        for item in flat.tolist():
            raw = self._item(item)
            parts.append(_U32.pack(len(raw)))
            parts.append(raw)
        return b"".join(parts)

    def decode_flat(self, data: Any, expected_items: int | None = None) -> np.ndarray:
        """One frame -> 1-d object array."""
        buf = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        end = len(buf)
        if end < 4:
            raise ChunkDecodeError(f"{self.name}: frame of {end} bytes has no item count")
        (n,) = _U32.unpack_from(buf, 0)
        if expected_items is not None and n != expected_items:
            raise ChunkDecodeError(f"{self.name}: frame holds {n} items, expected {expected_items}")
        if n > (end - 4) // 4:
            raise ChunkDecodeError(f"{self.name}: item count {n} does not fit in {end} bytes")
        out = np.empty(n, dtype=object)
        pos = 4
        raw = bytes(buf)
        for i in range(n):
            if pos + 4 > end:
                raise ChunkDecodeError(f"{self.name}: frame truncated at item {i}")
            (length,) = _U32.unpack_from(raw, pos)
            pos += 4
            if pos + length > end:
                raise ChunkDecodeError(f"{self.name}: item {i} of {length} bytes runs past the frame")
            item = raw[pos:pos + length]
            if self.utf8:
                try:
                    out[i] = item.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ChunkDecodeError(f"{self.name}: item {i} is not UTF-8 ({exc})") from None
            else:
                out[i] = item
            pos += length
        if pos != end:
            raise ChunkDecodeError(f"{self.name}: {end - pos} trailing bytes after {n} items")
        return out

    # v3 array -> bytes
    def encode(self, chunk: np.ndarray) -> bytes:
        return self.encode_flat(np.asarray(chunk).astype(object, copy=False).reshape(-1))

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        n = int(np.prod(spec.shape, dtype=np.int64))
        out = self.decode_flat(data, n).reshape(spec.shape)
        return out if spec.dtype.kind == "O" else out.astype(spec.dtype)


class VLenUTF8Codec(_VLenCodec):
    """``vlen-utf8``: variable-length UTF-8 strings."""

    name: ClassVar[str] = "vlen-utf8"
    codec_id: ClassVar[str | None] = "vlen-utf8"
    utf8: ClassVar[bool] = True


class VLenBytesCodec(_VLenCodec):
    """``vlen-bytes``: variable-length byte strings."""

    name: ClassVar[str] = "vlen-bytes"
    codec_id: ClassVar[str | None] = "vlen-bytes"
    utf8: ClassVar[bool] = False


VLenCodec = _VLenCodec
__all__ = ["VLenBytesCodec", "VLenCodec", "VLenUTF8Codec"]
