"""The v3 ``sharding_indexed`` codec: many inner chunks in one stored value (a *shard*), found through an index.

Binary format (zarr-specs ``v3/codecs/sharding-indexed``): the encoded inner chunks one after the other (we write
them in the compressed Morton order zarr-python uses, so our shards are byte-identical to zarr-python's for
deterministic inner codecs), and an index - a uint64 array of shape ``(*chunks_per_shard, 2)`` holding
``(offset, nbytes)`` per inner chunk, encoded with the ``index_codecs`` - at the end or the start of the shard.
Offsets count from the first byte of the shard, so with ``index_location="start"`` the first inner chunk sits at
``index_nbytes``. Inner chunks equal to the fill value everywhere are not stored: their entry is
``(2**64-1, 2**64-1)``, and they decode to the fill value.

This module is the reference (pure Python/numpy) path. The index helpers (``index_nbytes``, ``decode_index``,
``encode_index``, ``validate_index``, ``shard_index_range``, ``morton_order``) are vectorised numpy and meant to be
reused by the native path. Inner chunks go through :class:`zarrfast.pipeline.CodecChain`, so a sharding codec
inside ``codecs`` (nested sharding) works by recursion.

The array's fill value is not part of the codec's JSON; the pipeline passes it with :meth:`with_fill_value`.
"""
from __future__ import annotations

import copy
import struct
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from ..errors import ChunkDecodeError, ChunkEncodeError, CodecError
from .base import ArrayBytesCodec, ChunkSpec, Codec
from .bytes import BytesCodec
from .crc32c import Crc32cCodec
from .registry import as_codec, register_codec

MAX_UINT64 = 2**64 - 1
INDEX_LOCATIONS = ("start", "end")
DEFAULT_CODECS: tuple[dict[str, Any], ...] = ({"name": "bytes", "configuration": {"endian": "little"}},)
DEFAULT_INDEX_CODECS: tuple[dict[str, Any], ...] = (
    {"name": "bytes", "configuration": {"endian": "little"}},
    {"name": "crc32c"},
)


# ------------------------------------------------------------------------------------------------------------------
# index helpers (pure numpy; reused by the native path)

def _index_layout(index_codecs: Iterable[Any] = DEFAULT_INDEX_CODECS) -> tuple[str, int]:
    """``(numpy byte order '<' or '>', number of crc32c codecs)`` of a supported index codec chain.

    Supported: ``bytes`` (little or big endian) followed by any number of ``crc32c``. Anything else is a
    :class:`CodecError` (the spec allows any fixed-size chain; no implementation we know writes another).
    """
    codecs = [as_codec(c) for c in index_codecs]
    if not codecs or not isinstance(codecs[0], BytesCodec):
        names = [c.name for c in codecs]
        raise CodecError(f"sharding_indexed: index_codecs must start with a 'bytes' codec, got {names}")
    if codecs[0].endian not in ("little", "big"):
        raise CodecError("sharding_indexed: the index 'bytes' codec needs endian 'little' or 'big'")
    rest = codecs[1:]
    for c in rest:
        if not isinstance(c, Crc32cCodec):
            raise CodecError(f"sharding_indexed: unsupported index codec {c.name!r} "
                             "(supported: 'bytes' then optional 'crc32c')")
    return ("<" if codecs[0].endian == "little" else ">"), len(rest)


def index_nbytes(chunks_per_shard: Sequence[int], index_codecs: Iterable[Any] = DEFAULT_INDEX_CODECS) -> int:
    """Size in bytes of the encoded shard index: ``16 * n_inner_chunks`` plus 4 per ``crc32c`` index codec."""
    _, n_crc = _index_layout(index_codecs)
    n = int(np.prod([int(c) for c in chunks_per_shard], dtype=np.int64))
    return 16 * n + 4 * n_crc


def _crc32c(data: bytes) -> int:
    from . import crc32c as _crc_module  # the crc32c codec's kernel binding, wherever it lives

    return _crc_module._crc(data)


def encode_index(index: np.ndarray, index_codecs: Iterable[Any] = DEFAULT_INDEX_CODECS) -> bytes:
    """Encode an index array of shape ``(*chunks_per_shard, 2)`` (offset, nbytes) with the index codecs."""
    order, n_crc = _index_layout(index_codecs)
    index = np.asarray(index)
    if index.ndim < 1 or index.shape[-1] != 2:
        raise CodecError(f"sharding_indexed: index must have shape (*chunks_per_shard, 2), not {index.shape}")
    data = np.ascontiguousarray(index, dtype=np.dtype(order + "u8")).tobytes()
    for _ in range(n_crc):
        data += struct.pack("<I", _crc32c(data))
    return data


def decode_index(data: bytes, chunks_per_shard: Sequence[int],
                 index_codecs: Iterable[Any] = DEFAULT_INDEX_CODECS) -> np.ndarray:
    """Decode the index bytes of a shard: uint64 array of shape ``(*chunks_per_shard, 2)`` (offset, nbytes).

    Verifies every crc32c; raises :class:`ChunkDecodeError` on a wrong size or a checksum mismatch.
    """
    order, n_crc = _index_layout(index_codecs)
    cps = tuple(int(c) for c in chunks_per_shard)
    expected = index_nbytes(cps, index_codecs)
    data = bytes(data)
    if len(data) != expected:
        raise ChunkDecodeError(f"sharding_indexed: shard index is {len(data)} bytes, expected {expected}")
    for _ in range(n_crc):
        body, (stored,) = data[:-4], struct.unpack("<I", data[-4:])
        if _crc32c(body) != stored:
            raise ChunkDecodeError("sharding_indexed: shard index checksum (crc32c) mismatch")
        data = body
    index = np.frombuffer(data, dtype=np.dtype(order + "u8")).reshape(cps + (2,))
    return index.astype(np.uint64)  # native byte order, writable copy


def _coords(flat: int, chunks_per_shard: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(flat), chunks_per_shard)) if chunks_per_shard else ()


def validate_index(index: np.ndarray, shard_nbytes: int | None, index_location: str = "end",
                   index_nbytes: int | None = None) -> None:
    """Check a decoded index against a shard of ``shard_nbytes`` bytes; :class:`ChunkDecodeError` if it is bad.

    Rejects half-empty entries, ``offset + nbytes`` overflowing uint64, ranges past the end of the shard, ranges
    overlapping the index itself, and ranges overlapping each other (zero-length ranges overlap nothing). The
    message names the offending inner chunk(s). ``index_nbytes`` defaults to that of the default index codecs
    (``bytes`` little + ``crc32c``: 16 per inner chunk + 4). ``shard_nbytes=None`` (a partial read that only
    fetched the index) skips the checks that need the shard's size.
    """
    if index_location not in INDEX_LOCATIONS:
        raise CodecError(f"sharding_indexed: index_location must be 'start' or 'end', not {index_location!r}")
    index = np.asarray(index, dtype=np.uint64)
    cps = tuple(index.shape[:-1])
    flat = index.reshape(-1, 2)
    n_index = 16 * flat.shape[0] + 4 if index_nbytes is None else int(index_nbytes)
    known = shard_nbytes is not None
    size = int(shard_nbytes) if known else MAX_UINT64
    lo, hi = (n_index, size) if index_location == "start" else (0, size - n_index if known else size)
    offset, nbytes = flat[:, 0], flat[:, 1]
    max64 = np.uint64(MAX_UINT64)
    empty_off, empty_n = offset == max64, nbytes == max64
    half = np.flatnonzero(empty_off != empty_n)
    if half.size:
        k = int(half[0])
        raise ChunkDecodeError(f"sharding_indexed: inner chunk {_coords(k, cps)}: index entry "
                               f"(offset={int(offset[k])}, nbytes={int(nbytes[k])}) is neither a range nor empty")
    used = np.flatnonzero(~empty_off)
    if used.size == 0:
        return
    off, n = offset[used], nbytes[used]
    overflow = np.flatnonzero(off > max64 - n)
    if overflow.size:
        k = int(used[overflow[0]])
        raise ChunkDecodeError(f"sharding_indexed: inner chunk {_coords(k, cps)}: offset {int(offset[k])} + "
                               f"nbytes {int(nbytes[k])} overflows")
    end = off + n
    past = np.flatnonzero(end > np.uint64(max(size, 0)))
    if past.size:
        k = int(used[past[0]])
        raise ChunkDecodeError(f"sharding_indexed: inner chunk {_coords(k, cps)}: byte range "
                               f"[{int(offset[k])}, {int(offset[k]) + int(nbytes[k])}) is past the end of the "
                               f"shard ({shard_nbytes} bytes)")
    nonzero = n > 0
    in_index = np.flatnonzero(nonzero & ((off < np.uint64(max(lo, 0))) | (end > np.uint64(max(hi, 0)))))
    if in_index.size:
        k = int(used[in_index[0]])
        where = (0, n_index) if index_location == "start" else (shard_nbytes - n_index, shard_nbytes)
        raise ChunkDecodeError(f"sharding_indexed: inner chunk {_coords(k, cps)}: byte range "
                               f"[{int(offset[k])}, {int(offset[k]) + int(nbytes[k])}) overlaps the shard index "
                               f"[{where[0]}, {where[1]})")
    keep = used[nonzero]
    if keep.size > 1:
        o, e = offset[keep], offset[keep] + nbytes[keep]
        order = np.argsort(o, kind="stable")
        o, e, keep = o[order], e[order], keep[order]
        bad = np.flatnonzero(o[1:] < e[:-1])
        if bad.size:
            i = int(bad[0])
            a, b = int(keep[i]), int(keep[i + 1])
            raise ChunkDecodeError(f"sharding_indexed: inner chunks {_coords(a, cps)} and {_coords(b, cps)} have "
                                   f"overlapping byte ranges [{int(o[i])}, {int(e[i])}) and "
                                   f"[{int(o[i + 1])}, {int(e[i + 1])})")


def shard_index_range(index_location: str, index_nbytes: int) -> tuple[int, int]:
    """``(start, length)`` of the index for ``store.get_range(key, start, length)``; a negative start is a suffix."""
    if index_location == "start":
        return 0, int(index_nbytes)
    if index_location == "end":
        return -int(index_nbytes), int(index_nbytes)
    raise CodecError(f"sharding_indexed: index_location must be 'start' or 'end', not {index_location!r}")


_MORTON_CACHE: dict[tuple[int, ...], np.ndarray] = {}


def morton_order(chunks_per_shard: Sequence[int]) -> np.ndarray:
    """Flat (C-order) inner chunk numbers in compressed Morton (Z) order - the order zarr-python writes them.

    Bits of the coordinates are interleaved from the lowest up, axis 0 first, skipping axes that have run out of
    bits (``(c - 1).bit_length()`` bits per axis).
    """
    cps = tuple(int(c) for c in chunks_per_shard)
    cached = _MORTON_CACHE.get(cps)
    if cached is not None:
        return cached
    n = int(np.prod(cps, dtype=np.int64))
    if n == 0 or not cps:
        out = np.arange(n, dtype=np.intp)
    else:
        coords = np.indices(cps, dtype=np.int64).reshape(len(cps), -1)
        bits = [(c - 1).bit_length() for c in cps]
        z = np.zeros(n, dtype=np.int64)
        out_bit = 0
        for b in range(max(bits)):
            for d in range(len(cps)):
                if b < bits[d]:
                    z |= ((coords[d] >> b) & 1) << out_bit
                    out_bit += 1
        out = np.argsort(z, kind="stable").astype(np.intp)
    out.flags.writeable = False
    if len(_MORTON_CACHE) > 64:
        _MORTON_CACHE.clear()
    _MORTON_CACHE[cps] = out
    return out


# ------------------------------------------------------------------------------------------------------------------
# the codec

def _codec_list(codecs: Any, what: str) -> list[Codec]:
    if isinstance(codecs, (dict, str, Codec)) or not isinstance(codecs, Iterable):
        raise CodecError(f"sharding_indexed: {what} must be a list of codecs, not {codecs!r}")
    out = [as_codec(c) for c in codecs]
    if not out:
        raise CodecError(f"sharding_indexed: {what} must not be empty")
    return out


def _check_chain_kinds(codecs: list[Codec], what: str) -> None:
    stage = 0  # 0: array->array, 1: after array->bytes
    for c in codecs:
        kind = getattr(c, "kind", None)
        if kind == "array_to_array":
            if stage:
                raise CodecError(f"sharding_indexed: {what}: array->array codec {c.name!r} after the "
                                 "array->bytes codec")
        elif kind == "array_to_bytes":
            if stage:
                raise CodecError(f"sharding_indexed: {what}: more than one array->bytes codec")
            stage = 1
        elif not stage:
            raise CodecError(f"sharding_indexed: {what}: bytes->bytes codec {c.name!r} before an array->bytes codec")
    if not stage:
        raise CodecError(f"sharding_indexed: {what} needs exactly one array->bytes codec (e.g. 'bytes')")


class ShardingCodec(ArrayBytesCodec):
    """``sharding_indexed``: inner chunks of ``chunk_shape`` encoded with ``codecs``, indexed by ``index_codecs``.

    ``fill_value`` (not part of the JSON) is the array's fill value: inner chunks equal to it everywhere are not
    stored, missing ones decode to it. ``None`` means zero bytes. Set it with :meth:`with_fill_value`.
    """

    name: ClassVar[str] = "sharding_indexed"

    def __init__(self, chunk_shape: Sequence[int], codecs: Sequence[Any] = DEFAULT_CODECS,
                 index_codecs: Sequence[Any] = DEFAULT_INDEX_CODECS, index_location: str = "end") -> None:
        given: Any = (chunk_shape,) if isinstance(chunk_shape, (int, np.integer)) else chunk_shape
        try:
            shape = tuple(int(c) for c in given)
            if isinstance(given, (str, bytes)) or any(isinstance(c, bool) or not isinstance(c, (int, np.integer))
                                                      for c in given):
                raise ValueError
        except (TypeError, ValueError):
            raise CodecError(f"sharding_indexed: chunk_shape must be a list of integers, not {chunk_shape!r}") from None
        if any(c < 1 for c in shape):
            raise CodecError(f"sharding_indexed: chunk_shape entries must be >= 1, got {list(shape)}")
        if index_location not in INDEX_LOCATIONS:
            raise CodecError(f"sharding_indexed: index_location must be 'start' or 'end', not {index_location!r}")
        self.chunk_shape = shape
        self.codecs = _codec_list(codecs, "codecs")
        _check_chain_kinds(self.codecs, "codecs")
        self.index_codecs = _codec_list(index_codecs, "index_codecs")
        self._index_order, self._index_crcs = _index_layout(self.index_codecs)
        self.index_location = index_location
        self.fill_value: Any = None
        self._chains: dict[np.dtype, Any] = {}
        self._validated: set[tuple[tuple[int, ...], np.dtype]] = set()

    # ---- JSON -------------------------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ShardingCodec:
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        return {
            "chunk_shape": list(self.chunk_shape),
            "codecs": [c.to_v3() for c in self.codecs],
            "index_codecs": [c.to_v3() for c in self.index_codecs],
            "index_location": self.index_location,
        }

    def with_fill_value(self, fill_value: Any) -> ShardingCodec:
        """A copy of this codec for an array whose fill value is ``fill_value`` (``self`` is left unchanged)."""
        new = copy.copy(self)
        new.fill_value = fill_value
        new._chains = {}
        new._validated = set()
        return new

    # ---- shapes -----------------------------------------------------------------------------------------------
    def chunks_per_shard(self, shard_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(s) // c for s, c in zip(shard_shape, self.chunk_shape))

    def index_nbytes(self, chunks_per_shard: Sequence[int]) -> int:
        return 16 * int(np.prod(tuple(chunks_per_shard), dtype=np.int64)) + 4 * self._index_crcs

    def validate(self, shard_shape: Sequence[int], dtype: Any) -> None:
        """:class:`CodecError` unless ``chunk_shape`` has the shard's rank and divides it, and the inner codecs
        accept ``dtype``."""
        shard_shape = tuple(int(s) for s in shard_shape)
        dtype = np.dtype(dtype)
        key = (shard_shape, dtype)
        if key in self._validated:
            return
        if len(shard_shape) != len(self.chunk_shape):
            raise CodecError(f"sharding_indexed: chunk_shape {list(self.chunk_shape)} has {len(self.chunk_shape)} "
                             f"dimensions, the shard shape {list(shard_shape)} has {len(shard_shape)}")
        if any(s % c for s, c in zip(shard_shape, self.chunk_shape)):
            raise CodecError(f"sharding_indexed: inner chunk shape {list(self.chunk_shape)} does not divide the "
                             f"shard shape {list(shard_shape)}")
        self.inner_chain(dtype)
        self._validated.add(key)

    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        self.validate(spec.shape, spec.dtype)
        return spec

    def inner_chain(self, dtype: Any) -> Any:
        """The :class:`~zarrfast.pipeline.CodecChain` of the inner chunks for ``dtype`` (cached)."""
        dtype = np.dtype(dtype)
        chain = self._chains.get(dtype)
        if chain is None:
            from ..pipeline import CodecChain

            chain = CodecChain.from_v3([c.to_v3() for c in self.codecs], self.chunk_shape, dtype, self.fill_value)
            ab = chain.array_bytes
            if isinstance(ab, ShardingCodec) and ab.fill_value is not self.fill_value:
                chain.array_bytes = ab.with_fill_value(self.fill_value)  # nested sharding
            self._chains[dtype] = chain
        return chain

    def _fill_element(self, dtype: np.dtype) -> np.ndarray:
        """The fill value as a 0-d array of ``dtype``."""
        if dtype.hasobject:
            out = np.empty((), dtype=dtype)
            out[()] = self.fill_value
            return out
        from ..pipeline import fill_bytes

        return np.frombuffer(fill_bytes(self.fill_value, dtype), dtype=dtype).reshape(())

    def empty_chunks(self, shard: np.ndarray) -> np.ndarray:
        """Boolean array of shape ``chunks_per_shard``: inner chunks equal to the fill value everywhere.

        Bytewise comparison (what the engine and the native kernels do), so NaN == NaN and -0.0 != 0.0.
        """
        cps = self.chunks_per_shard(shard.shape)
        dtype = shard.dtype
        if dtype.hasobject:
            eq = np.frompyfunc(lambda v: v == self.fill_value, 1, 1)(shard).astype(bool)
        else:
            from ..pipeline import fill_bytes

            item = dtype.itemsize
            fill = np.frombuffer(fill_bytes(self.fill_value, dtype), dtype=np.uint8)
            raw = np.ascontiguousarray(shard).view(np.uint8).reshape(shard.shape + (item,))
            eq = (raw == fill).all(axis=-1) if item else np.ones(shard.shape, dtype=bool)
        blocked: list[int] = []
        for n, c in zip(cps, self.chunk_shape):
            blocked += [n, c]
        eq = eq.reshape(tuple(blocked))
        return eq.all(axis=tuple(range(1, 2 * len(cps), 2)))

    def _block(self, coords: tuple[int, ...]) -> tuple[slice, ...]:
        return tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, self.chunk_shape))

    # ---- reference encode / decode ----------------------------------------------------------------------------
    def encode(self, chunk: np.ndarray, *, write_empty_chunks: bool = False) -> bytes | None:  # type: ignore[override]
        """A whole shard (array of the shard shape) -> shard bytes; ``None`` when every inner chunk is empty.

        ``write_empty_chunks=True`` stores inner chunks equal to the fill value too (and never returns ``None``).
        """
        shard = np.asarray(chunk)
        self.validate(shard.shape, shard.dtype)
        chain = self.inner_chain(shard.dtype)
        cps = self.chunks_per_shard(shard.shape)
        n = int(np.prod(cps, dtype=np.int64))
        if write_empty_chunks:
            empty = np.zeros(n, dtype=bool)
        else:
            empty = self.empty_chunks(shard).reshape(-1)
        if empty.all():
            return None
        index = np.full((n, 2), MAX_UINT64, dtype=np.uint64)
        parts: list[bytes] = []
        pos = self.index_nbytes(cps) if self.index_location == "start" else 0
        for flat in morton_order(cps):
            if empty[flat]:
                continue
            coords = _coords(int(flat), cps)
            try:
                data = chain.encode(shard[self._block(coords)])
            except CodecError:
                raise
            except Exception as e:  # noqa: BLE001
                raise ChunkEncodeError(f"sharding_indexed: inner chunk {coords}: {type(e).__name__}: {e}") from None
            if data is None:  # a nested shard that is all fill after all (write_empty_chunks=False inside)
                continue
            data = bytes(data)
            index[flat] = (pos, len(data))
            parts.append(data)
            pos += len(data)
        if not parts:
            return None
        index_bytes = encode_index(index.reshape(cps + (2,)), self.index_codecs)
        if self.index_location == "start":
            return b"".join([index_bytes, *parts])
        parts.append(index_bytes)
        return b"".join(parts)

    def read_index(self, data: bytes, shard_shape: Sequence[int]) -> np.ndarray:
        """Decode and validate the index of the whole shard ``data``: uint64 ``(*chunks_per_shard, 2)``."""
        cps = self.chunks_per_shard(shard_shape)
        n_index = self.index_nbytes(cps)
        size = len(data)
        if size < n_index:
            raise ChunkDecodeError(f"sharding_indexed: shard is {size} bytes, shorter than its {n_index}-byte index")
        start, length = shard_index_range(self.index_location, n_index)
        raw = data[start:start + length] if start >= 0 else data[start:]
        index = decode_index(raw, cps, self.index_codecs)
        validate_index(index, size, self.index_location, n_index)
        return index

    def decode(self, data: bytes, spec: ChunkSpec) -> np.ndarray:
        """Shard bytes -> the whole shard as an array of ``spec.shape`` / ``spec.dtype``."""
        self.validate(spec.shape, spec.dtype)
        dtype = np.dtype(spec.dtype)
        chain = self.inner_chain(dtype)
        index = self.read_index(data, spec.shape)
        cps = tuple(index.shape[:-1])
        flat_index = index.reshape(-1, 2)
        empty = flat_index[:, 0] == np.uint64(MAX_UINT64)
        mv = memoryview(data).cast("B") if not isinstance(data, bytes) else data
        out = np.empty(spec.shape, dtype=dtype)
        if empty.any():
            out[...] = self._fill_element(dtype)
        for flat in np.flatnonzero(~empty):
            off, n = int(flat_index[flat, 0]), int(flat_index[flat, 1])
            coords = _coords(int(flat), cps)
            try:
                out[self._block(coords)] = chain.decode(bytes(mv[off:off + n]))
            except Exception as e:  # noqa: BLE001
                detail = str(e) if isinstance(e, ChunkDecodeError) else f"{type(e).__name__}: {e}"
                raise ChunkDecodeError(f"sharding_indexed: inner chunk {coords}: {detail}") from None
        return out


register_codec(ShardingCodec)

__all__ = [
    "DEFAULT_CODECS", "DEFAULT_INDEX_CODECS", "MAX_UINT64", "ShardingCodec", "decode_index", "encode_index",
    "index_nbytes", "morton_order", "shard_index_range", "validate_index",
]
