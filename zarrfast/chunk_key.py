"""Chunk keys: chunk grid coordinates <-> store keys (relative to the array's prefix).

Encodings (v3 spec, "chunk key encodings"):

* ``default``: ``"c"`` followed by each coordinate, each preceded by the separator:
  ``(1, 23)`` -> ``"c/1/23"`` (``"/"``) or ``"c.1.23"`` (``"."``); a 0-d array's only chunk is ``"c"``.
* ``v2``: the coordinates joined by the separator: ``"1.23"`` / ``"1/23"``; a 0-d array's chunk is ``"0"``.

``ChunkKeyEncoder`` is the fast path: a callable with the prefix precomputed, and ``encode_many`` that
builds all keys of an ``(n, ndim)`` integer array with per-column string tables (numpy object arrays),
about 4x faster than formatting each key in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from zarrfast.errors import InvalidKeyError, MetadataError

__all__ = ["ChunkKeyEncoder", "decode_chunk_key", "encode_chunk_key", "get_chunk_key_encoder"]

ENCODINGS = ("default", "v2")
SEPARATORS = ("/", ".")
# Coordinates below this use a cached table of strings; larger ones are formatted per call.
_TABLE_LIMIT = 1 << 16


def _check(encoding: str, separator: str) -> None:
    if encoding not in ENCODINGS:
        raise MetadataError(f"unsupported chunk key encoding {encoding!r} (expected 'default' or 'v2')")
    if separator not in SEPARATORS:
        raise MetadataError(f"unsupported chunk key separator {separator!r} (expected '/' or '.')")


class ChunkKeyEncoder:
    """Encode / decode chunk keys for one (encoding, separator) pair; share via ``get_chunk_key_encoder``."""

    __slots__ = ("_head", "_plain", "_with_sep", "_zero_d_key", "encoding", "separator")

    def __init__(self, encoding: str = "default", separator: str = "/") -> None:
        _check(encoding, separator)
        self.encoding = encoding
        self.separator = separator
        self._head = "c" + separator if encoding == "default" else ""
        self._zero_d_key = "c" if encoding == "default" else "0"
        self._plain = np.empty(0, dtype=object)  # str(i)
        self._with_sep = np.empty(0, dtype=object)  # separator + str(i)

    def __repr__(self) -> str:
        return f"ChunkKeyEncoder({self.encoding!r}, {self.separator!r})"

    def __call__(self, chunk_coords: Sequence[int]) -> str:
        """The key of one chunk (``chunk_coords``: a tuple or list of ints)."""
        if not chunk_coords:
            return self._zero_d_key
        return self._head + self.separator.join(map(str, chunk_coords))

    encode = __call__

    # -- batched ------------------------------------------------------------------------------
    def _tables(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """String tables covering coordinates ``[0, size)`` (grown in powers of two, cached)."""
        plain, with_sep = self._plain, self._with_sep
        if len(plain) < size:
            n = 1 << max(size - 1, 1).bit_length()
            strings = [str(i) for i in range(n)]
            plain = np.array(strings, dtype=object)
            with_sep = np.array([self.separator + s for s in strings], dtype=object)
            self._plain, self._with_sep = plain, with_sep  # replaced, never mutated: safe across threads
        return plain, with_sep

    def _column(self, column: np.ndarray, sep: bool) -> np.ndarray:
        top = int(column.max())
        if top < _TABLE_LIMIT:
            plain, with_sep = self._tables(top + 1)
            return (with_sep if sep else plain)[column]
        prefix = self.separator if sep else ""
        return np.array([prefix + s for s in map(str, column.tolist())], dtype=object)

    def encode_many(self, coords: np.ndarray | Sequence[Sequence[int]]) -> list[str]:
        """The keys of many chunks: ``coords`` is an ``(n, ndim)`` array of non-negative ints."""
        coords = np.asarray(coords)
        if coords.ndim != 2:
            raise ValueError(f"chunk coordinates must be an (n, ndim) array, got shape {coords.shape}")
        n, ndim = coords.shape
        if n == 0:
            return []
        if ndim == 0:
            return [self._zero_d_key] * n
        if coords.dtype.kind not in "iu":
            raise ValueError(f"chunk coordinates must be integers, got {coords.dtype}")
        if coords.dtype.kind == "i" and int(coords.min()) < 0:
            raise ValueError(f"chunk coordinates must not be negative (min {int(coords.min())})")
        default = self.encoding == "default"
        out = self._column(coords[:, 0], sep=default)
        for j in range(1, ndim):
            out = out + self._column(coords[:, j], sep=True)
        if default:
            out = "c" + out
        return out.tolist()

    # -- decoding -----------------------------------------------------------------------------
    def try_decode(self, key: str, ndim: int) -> tuple[int, ...] | None:
        """The coordinates of ``key``, or ``None`` if it is not a chunk key of this encoding and rank."""
        if ndim == 0:
            return () if key == self._zero_d_key else None
        head = self._head
        if head:
            if not key.startswith(head):
                return None
            key = key[len(head) :]
        parts = key.split(self.separator)
        if len(parts) != ndim:
            return None
        for p in parts:
            # ASCII digits only, no sign, no leading zeros (one key per chunk)
            if not (p.isascii() and p.isdigit()) or (len(p) > 1 and p[0] == "0"):
                return None
        return tuple(map(int, parts))

    def decode(self, key: str, ndim: int) -> tuple[int, ...]:
        """The coordinates of ``key``; InvalidKeyError if it is not a chunk key of this encoding and rank."""
        coords = self.try_decode(key, ndim)
        if coords is None:
            raise InvalidKeyError(
                f"{key!r} is not a {ndim}-d chunk key of encoding {self.encoding!r} "
                f"with separator {self.separator!r}"
            )
        return coords


@cache
def get_chunk_key_encoder(encoding: str = "default", separator: str = "/") -> ChunkKeyEncoder:
    """The shared encoder for ``(encoding, separator)``."""
    return ChunkKeyEncoder(encoding, separator)


def encode_chunk_key(chunk_coords: Sequence[int], encoding: str = "default", separator: str = "/") -> str:
    """The key of the chunk at ``chunk_coords``: ``(0, 1)`` -> ``"c/0/1"`` (default) or ``"0.1"`` (v2)."""
    return get_chunk_key_encoder(encoding, separator)(tuple(chunk_coords))


def decode_chunk_key(key: str, encoding: str, separator: str, ndim: int) -> tuple[int, ...]:
    """The chunk coordinates of ``key``; InvalidKeyError if it is not a chunk key of that form."""
    return get_chunk_key_encoder(encoding, separator).decode(key, ndim)
