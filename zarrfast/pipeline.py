"""The codec chain of an array: a pure-Python reference path, and the native kernel program when one exists.

A chain turns one chunk (an ndarray of ``chunk_shape`` in the array's in-memory dtype) into stored bytes and back.
``read_program`` / ``write_program`` describe the same chain to the Cython batch kernels; they are ``None`` when
the chain holds something the kernels don't do (numcodecs filters, object dtypes, gzip ...), and the engine then
runs ``decode``/``encode`` per chunk instead. Both paths give identical results; tests prove it.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .codecs.base import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, Codec
from .codecs.blosc import CNAME_CODES, WRITABLE_CNAMES, BloscCodec
from .codecs.bytes import BytesCodec
from .codecs.crc32c import Crc32cCodec
from .codecs.lz4 import LZ4Codec
from .codecs.numcodecs_adapter import NumcodecsCodec
from .codecs.registry import codec_from_v2, codec_from_v3
from .codecs.transpose import TransposeCodec
from .codecs.vlen import VLenCodec
from .codecs.zstd import ZstdCodec
from .errors import ChunkDecodeError, CodecError

EXP_NONE, EXP_ZSTD, EXP_LZ4, EXP_BLOSC = 0, 1, 2, 3


def fill_scalar(fill_value: Any, dtype: np.dtype) -> np.ndarray:
    """The fill value as a 0-d array of ``dtype`` (None -> 0), safe to assign to any region: an object fill value
    that is itself a list (v2 vlen-array / json2 arrays) fills each element instead of being broadcast."""
    value = 0 if fill_value is None else fill_value
    if dtype.hasobject:
        out = np.empty((), dtype=dtype)
        out.fill(value)
        return out
    return np.asarray(value, dtype=dtype)


def fill_bytes(fill_value: Any, dtype: np.dtype) -> bytes:
    """One element of ``fill_value`` as raw bytes in ``dtype`` (None -> zeros)."""
    if fill_value is None or dtype.kind in "OT":
        return bytes(dtype.itemsize)
    return np.array(fill_value, dtype=dtype).tobytes()


def _c_strides(shape: tuple[int, ...], itemsize: int) -> list[int]:
    strides, acc = [], itemsize
    for n in reversed(shape):
        strides.append(acc)
        acc *= n
    return strides[::-1]


class CodecChain:
    """Codecs between a chunk in memory and its stored bytes (v3 order: array->array, array->bytes, bytes->bytes)."""

    def __init__(self, array_codecs: list[Codec], array_bytes: Codec | None, bytes_codecs: list[Codec],
                 chunk_shape: tuple[int, ...], dtype: np.dtype, fill_value: Any, *, zarr_format: int,
                 order: str = "C") -> None:
        self.array_codecs = array_codecs
        self.array_bytes = array_bytes
        self.bytes_codecs = bytes_codecs
        self.spec = ChunkSpec(tuple(chunk_shape), dtype)
        if fill_value is None and dtype.kind not in "OT":
            # v2 ``fill_value: null``: missing chunks read as zero bytes on both paths (numpy's ``0`` would be
            # b"0" / "0" for S / U arrays)
            fill_value = np.zeros((), dtype=dtype)[()]
        self.fill_value = fill_value
        self.zarr_format = zarr_format
        self.order = order
        self.fill = fill_bytes(fill_value, dtype)
        self.read_program = self._program(for_write=False)
        self.write_program = self._program(for_write=True)

    # ---- construction --------------------------------------------------------------------------------------
    @classmethod
    def from_v3(cls, codecs: list[dict] | tuple, chunk_shape: tuple[int, ...], dtype: np.dtype,
                fill_value: Any) -> CodecChain:
        objs = [codec_from_v3(c) for c in codecs]
        aa, ab, bb = [], None, []
        for c in objs:
            if isinstance(c, NumcodecsCodec) and ab is None:
                c.kind = "array_to_array"  # type: ignore[misc]  # numcodecs filter (delta, quantize ...)
            if c.kind == "array_to_array":
                if ab is not None:
                    raise CodecError(f"codec {c.name!r}: array->array codecs must come before the array->bytes codec")
                aa.append(c)
            elif c.kind == "array_to_bytes":
                if ab is not None:
                    raise CodecError("codec chain has more than one array->bytes codec")
                ab = c
            else:
                if ab is None:
                    raise CodecError(f"codec {c.name!r}: bytes->bytes codecs must follow an array->bytes codec")
                bb.append(c)
        if ab is None:
            raise CodecError("codec chain needs an array->bytes codec (e.g. 'bytes')")
        if hasattr(ab, "with_fill_value"):
            ab = ab.with_fill_value(fill_value)
        spec = ChunkSpec(tuple(chunk_shape), dtype)
        for c in aa:
            spec = c.resolve(spec)
        spec = ab.resolve(spec)  # validates e.g. that inner chunks divide the shard, at open time
        typesize = 1 if spec.dtype.kind in "OT" else spec.dtype.itemsize  # after vlen codecs: bytes, as zarr-python
        bb = [c.with_typesize(typesize) if isinstance(c, BloscCodec) else c for c in bb]
        return cls(aa, ab, bb, chunk_shape, dtype, fill_value, zarr_format=3)

    @classmethod
    def from_v2(cls, compressor: dict | None, filters: list[dict] | tuple | None, order: str,
                chunk_shape: tuple[int, ...], dtype: np.dtype, fill_value: Any) -> CodecChain:
        aa: list[Codec] = []
        if order == "F" and len(chunk_shape) > 1:
            aa.append(TransposeCodec(tuple(range(len(chunk_shape)))[::-1]))
        for f in filters or ():
            c = codec_from_v2(f)
            if isinstance(c, VLenCodec):
                aa.append(c)  # the object codec: object array <-> bytes, on the flattened chunk
                continue
            if not isinstance(c, NumcodecsCodec):
                c = NumcodecsCodec(_numcodecs_from_v2(f))
            c.kind = "array_to_array"  # type: ignore[misc]
            aa.append(c)
        bb: list[Codec] = []
        if compressor is not None:
            c = codec_from_v2(compressor)
            if isinstance(c, BloscCodec):
                c = c.with_typesize(1 if dtype.kind in "OT" else dtype.itemsize)
            bb.append(c)
        return cls(aa, None, bb, chunk_shape, dtype, fill_value, zarr_format=2, order=order)

    # ---- reference path --------------------------------------------------------------------------------------
    def decode(self, encoded: bytes) -> np.ndarray:
        """Stored bytes -> chunk ndarray (``chunk_shape``, in-memory dtype)."""
        data = encoded
        spec = self.spec
        specs = [spec]
        for c in self.array_codecs:
            spec = c.resolve(spec)
            specs.append(spec)
        has_filters = any(isinstance(c, (NumcodecsCodec, VLenCodec)) for c in self.array_codecs)
        variable = self.spec.dtype.kind in "OT" or isinstance(self.array_bytes, VLenCodec)
        for i, c in enumerate(reversed(self.bytes_codecs)):
            inner = i == len(self.bytes_codecs) - 1
            expected = spec.nbytes if inner and not has_filters and not variable else None
            data = c.decode_bytes(data, expected) if isinstance(c, NumcodecsCodec) else c.decode(data, expected)
        if self.zarr_format == 2:
            arr: Any = data
            for c, s in zip(reversed(self.array_codecs), reversed(specs[:-1])):
                if isinstance(c, NumcodecsCodec):
                    arr = c.codec.decode(arr)
                elif isinstance(c, VLenCodec):
                    arr = c.decode_flat(arr, int(np.prod(self.spec.shape, dtype=np.int64)))
            if self.spec.dtype.kind in "OT":
                obj = np.asarray(arr, dtype=object) if not isinstance(arr, np.ndarray) or arr.dtype != object \
                    else arr
                if obj.size != int(np.prod(self.spec.shape, dtype=np.int64)):
                    raise ChunkDecodeError(f"decoded {obj.size} items, expected {self.spec.shape}")
                obj = obj.reshape(self.spec.shape, order=self.order)
                return obj if self.spec.dtype.kind == "O" else obj.astype(self.spec.dtype)
            buf = np.frombuffer(memoryview(arr).cast("B") if not isinstance(arr, np.ndarray) else
                                np.ascontiguousarray(arr).view(np.uint8), dtype=np.uint8)
            if buf.nbytes != self.spec.nbytes:
                raise ChunkDecodeError(f"decoded {buf.nbytes} bytes, expected {self.spec.nbytes}")
            return buf.view(self.spec.dtype).reshape(self.spec.shape, order=self.order)
        arr = self.array_bytes.decode(bytes(data), spec)  # type: ignore[union-attr]
        for c, s in zip(reversed(self.array_codecs), reversed(specs[:-1])):
            arr = c.decode(arr, s)
        return arr

    def encode(self, chunk: np.ndarray) -> bytes:
        """Chunk ndarray (``chunk_shape``, in-memory dtype) -> stored bytes."""
        for c in self.bytes_codecs:
            if isinstance(c, BloscCodec):
                c.check_writable()
        if self.zarr_format == 2:
            if chunk.dtype.kind == "T":
                chunk = chunk.astype(object)
            buf: Any = np.ascontiguousarray(chunk) if self.order == "C" else np.asfortranarray(chunk)
            buf = buf.reshape(-1, order="A") if self.order == "C" else buf.ravel(order="F")
            for c in self.array_codecs:
                if isinstance(c, NumcodecsCodec):
                    buf = c.codec.encode(buf)
                elif isinstance(c, VLenCodec):
                    buf = c.encode_flat(buf)
            data = buf.tobytes() if isinstance(buf, np.ndarray) else bytes(buf)
        else:
            arr = chunk
            for c in self.array_codecs:
                arr = c.encode(arr)
            data = self.array_bytes.encode(arr)  # type: ignore[union-attr]
            if data is None:  # a shard whose inner chunks are all empty: nothing to store
                return None  # type: ignore[return-value]
        for c in self.bytes_codecs:
            data = c.encode_bytes(data) if isinstance(c, NumcodecsCodec) else c.encode(data)
        return data

    # ---- native program --------------------------------------------------------------------------------------
    def _layout_strides(self) -> list[int] | None:
        """Byte strides, per logical axis, of the chunk as stored (after transposes); None if not a permutation."""
        shape = self.spec.shape
        perm = list(range(len(shape)))
        for c in self.array_codecs:
            if not isinstance(c, TransposeCodec):
                return None
            perm = [perm[i] for i in c.order]
        stored_shape = tuple(shape[p] for p in perm)
        cs = _c_strides(stored_shape, self.spec.dtype.itemsize)
        strides = [0] * len(shape)
        for k, p in enumerate(perm):
            strides[p] = cs[k]
        return strides

    def _program(self, for_write: bool) -> Any:
        dtype = self.spec.dtype
        if dtype.kind in "OT" or dtype.hasobject or len(self.spec.shape) > 32 or len(self.spec.shape) == 0:
            return None
        layout = self._layout_strides()
        if layout is None:
            return None
        swap = 0
        if self.zarr_format == 3:
            if not isinstance(self.array_bytes, BytesCodec):
                return None
            swap = self.array_bytes.swap_unit(dtype)  # per kind: itemsize, half for complex, 4 for U, 0 for S/V
        bb = list(self.bytes_codecs)
        n_crc = 0
        while bb and isinstance(bb[-1], Crc32cCodec):
            bb.pop()
            n_crc += 1
        if len(bb) > 1 or any(isinstance(c, Crc32cCodec) for c in bb):
            return None
        expander, params = EXP_NONE, ()
        if bb:
            c = bb[0]
            if isinstance(c, ZstdCodec):
                expander, params = EXP_ZSTD, (c.level, int(c.checksum))
            elif isinstance(c, LZ4Codec):
                expander, params = EXP_LZ4, (c.acceleration,)
            elif isinstance(c, BloscCodec):
                if for_write and c.cname not in WRITABLE_CNAMES:
                    return None
                expander = EXP_BLOSC
                params = (c.typesize or dtype.itemsize, c.clevel, c.effective_shuffle(),
                          CNAME_CODES.get(c.cname, 0), c.blocksize)
            else:
                return None
        from ._ext.pipeline import ChunkProgram

        return ChunkProgram(self.spec.shape, dtype.itemsize, layout, swap, self.fill, expander, params, n_crc)

    def all_fill(self, chunk: np.ndarray) -> bool:
        """True when every element of ``chunk`` equals the fill value (bytewise, as the native kernel compares;
        by value for variable-length strings / bytes)."""
        if chunk.dtype.kind in "OT":
            fill = self.fill_value
            if fill is None:
                return False
            flat = np.asarray(chunk, dtype=object).reshape(-1)
            return all(type(v) is type(fill) and v == fill for v in flat.tolist())
        raw = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1, chunk.dtype.itemsize)
        return bool((raw == np.frombuffer(self.fill, dtype=np.uint8)).all())

    @property
    def codecs(self) -> list[Codec]:
        return [*self.array_codecs, *([self.array_bytes] if self.array_bytes else []), *self.bytes_codecs]


def _numcodecs_from_v2(config: dict) -> Any:
    from .codecs.numcodecs_adapter import get_numcodecs_codec

    return get_numcodecs_codec(config)


def chain_for(meta: Any) -> CodecChain:
    """The codec chain of an ``ArrayMetadata``."""
    if meta.zarr_format == 2:
        return CodecChain.from_v2(meta.compressor, meta.filters, meta.order, meta.chunk_shape, meta.dtype,
                                  meta.fill_value)
    return CodecChain.from_v3(meta.codecs, meta.chunk_shape, meta.dtype, meta.fill_value)


__all__ = ["CodecChain", "chain_for", "fill_bytes", "fill_scalar", "ArrayArrayCodec", "ArrayBytesCodec",
           "BytesBytesCodec"]
