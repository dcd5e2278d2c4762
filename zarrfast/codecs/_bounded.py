"""Helpers that keep decoders from allocating more than a chunk's decoded size on corrupt input."""
from __future__ import annotations

import zlib

from ..errors import ChunkDecodeError


def inflate_bounded(data: bytes, wbits: int, expected_size: int | None, what: str) -> bytes:
    """zlib/gzip inflate that stops past ``expected_size`` bytes instead of growing without bound."""
    d = zlib.decompressobj(wbits=wbits)
    limit = expected_size + 1 if expected_size is not None else 0
    try:
        out = d.decompress(data, limit) if limit else d.decompress(data)
        if not limit:
            out += d.flush()
    except zlib.error as e:
        raise ChunkDecodeError(f"{what}: corrupt data ({e})") from None
    if expected_size is not None and len(out) != expected_size:
        raise ChunkDecodeError(f"{what}: decoded {len(out)}{'+' if len(out) > expected_size else ''} bytes, "
                               f"expected {expected_size}")
    if limit and not d.eof:
        raise ChunkDecodeError(f"{what}: stream is truncated")
    return out
