"""``Array``: a Zarr array in a store, read and written with numpy-style indexing."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterator

import numpy as np

from .attributes import Attributes
from .config import config
from .engine import ChunkEngine
from .sharding_engine import ShardedEngine, sharding_codec
from .errors import CodecError, DataTypeMismatchError, ReadOnlyError, SelectionError, ShapeMismatchError
from .indexing import BasicSelection, is_basic_selection, normalize_basic
from .metadata import ArrayMetadata
from .nodes import write_metadata
from .chunk_key import get_chunk_key_encoder
from .pipeline import chain_for


class Array:
    """A Zarr v2 or v3 array. Create one with :func:`zarrfast.create_array` or open with :func:`zarrfast.open_array`."""

    def __init__(self, store: Any, path: str, metadata: ArrayMetadata, *, read_only: bool = False,
                 write_empty_chunks: bool | None = None) -> None:
        self._store = store
        self._path = path
        self._read_only = read_only or bool(getattr(store, "read_only", False))
        self._write_empty_chunks = write_empty_chunks
        self._set_metadata(metadata)

    def _set_metadata(self, metadata: ArrayMetadata) -> None:
        self._metadata = metadata
        try:
            self._chain = chain_for(metadata)
        except CodecError as e:
            doc = "zarr.json" if metadata.zarr_format == 3 else ".zarray"
            where = f"{self._path}/{doc}" if self._path else doc
            raise type(e)(f"{where}: {e}") from None
        keys = get_chunk_key_encoder(metadata.chunk_key_encoding, metadata.dimension_separator)
        self._sharding = sharding_codec(metadata)
        if self._sharding is not None:
            self._engine: ChunkEngine = ShardedEngine(self._store, self._path, self._sharding, metadata.shape,
                                                      metadata.chunk_shape, keys, metadata.dtype,
                                                      metadata.fill_value)
        else:
            self._engine = ChunkEngine(self._store, self._path, self._chain, metadata.shape, metadata.chunk_shape,
                                       keys)

    # ---- description -----------------------------------------------------------------------------------------
    @property
    def metadata(self) -> ArrayMetadata:
        return self._metadata

    @property
    def store(self) -> Any:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return "/" + self._path

    @property
    def basename(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def zarr_format(self) -> int:
        return self._metadata.zarr_format

    @property
    def shape(self) -> tuple[int, ...]:
        return self._metadata.shape

    @property
    def chunks(self) -> tuple[int, ...]:
        """Chunk shape (the inner chunk shape of a sharded array)."""
        if self._sharding is not None:
            return self._sharding.chunk_shape
        return self._metadata.chunk_shape

    @property
    def shards(self) -> tuple[int, ...] | None:
        """Shard shape of a sharded array, else None."""
        return self._metadata.chunk_shape if self._sharding is not None else None

    @property
    def dtype(self) -> np.dtype:
        return self._metadata.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    @property
    def fill_value(self) -> Any:
        return self._metadata.fill_value

    @property
    def order(self) -> str:
        return self._metadata.order

    @property
    def cdata_shape(self) -> tuple[int, ...]:
        """Number of chunks along each axis."""
        return tuple(-(-s // c) for s, c in zip(self.shape, self.chunks))

    @property
    def nchunks(self) -> int:
        return int(np.prod(self.cdata_shape, dtype=np.int64))

    @property
    def _inner_chain(self) -> Any:
        return self._engine.chain

    @property
    def compressors(self) -> tuple:
        return tuple(self._inner_chain.bytes_codecs)

    @property
    def filters(self) -> tuple:
        return tuple(self._inner_chain.array_codecs)

    @property
    def serializer(self) -> Any:
        return self._chain.array_bytes

    @property
    def attrs(self) -> Attributes:
        return Attributes(lambda: self._metadata.attributes, self._put_attributes, self._read_only, self.name)

    def _put_attributes(self, attributes: dict) -> None:
        self._update_metadata(dataclasses.replace(self._metadata, attributes=attributes))

    def update_attributes(self, new_attributes: dict) -> Array:
        self.attrs.update(new_attributes)
        return self

    def _update_metadata(self, metadata: ArrayMetadata) -> None:
        if self._read_only:
            raise ReadOnlyError(f"array {self.name!r} is read-only")
        write_metadata(self._store, self._path, metadata)
        self._set_metadata(metadata)

    def __repr__(self) -> str:
        return f"<zarrfast.Array {self._store!r}{self.name} shape={self.shape} dtype={self.dtype}>"

    # ---- reading ---------------------------------------------------------------------------------------------
    def __getitem__(self, selection: Any) -> Any:
        if is_basic_selection(selection):
            return self.get_basic_selection(selection)
        raise SelectionError(f"unsupported selection {selection!r}: only integers, slices and Ellipsis "
                             "are supported in this version")

    def _normalize(self, selection: Any) -> BasicSelection:
        try:
            return normalize_basic(selection, self.shape)
        except SelectionError as e:
            raise type(e)(f"array {self.name!r}: {e}") from None

    def get_basic_selection(self, selection: Any = Ellipsis, *, out: np.ndarray | None = None) -> Any:
        sel = self._normalize(selection)
        result = self._read(sel, out)
        if out is not None:
            return out
        if not sel.result_shape and _is_scalar_selection(selection, self.ndim):
            return result.reshape(())[()]
        return result

    def _read(self, sel: BasicSelection, out: np.ndarray | None) -> np.ndarray:
        if out is not None:
            if out.shape != sel.result_shape:
                raise ShapeMismatchError(f"out has shape {out.shape}, the selection {sel.result_shape}")
            if out.dtype != self.dtype:
                raise DataTypeMismatchError(f"out has dtype {out.dtype}, the array {self.dtype}")
            target = out.reshape(sel.lengths) if out.size else out.reshape(sel.lengths)
            if not np.shares_memory(target, out) and out.size:
                raise ShapeMismatchError("out must be reshapeable to the selection without a copy")
        else:
            target = np.empty(sel.lengths, dtype=self.dtype)
        self._engine.read(sel, target)
        return target.reshape(sel.result_shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self[...]
        a = np.asarray(a)
        return a if dtype is None else a.astype(dtype)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self) -> Iterator[Any]:
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        step = self.chunks[0]
        for start in range(0, self.shape[0], step):
            block = self[start:start + step]
            yield from block

    # ---- writing ---------------------------------------------------------------------------------------------
    def __setitem__(self, selection: Any, value: Any) -> None:
        if is_basic_selection(selection):
            return self.set_basic_selection(selection, value)
        raise SelectionError(f"unsupported selection {selection!r}: only integers, slices and Ellipsis "
                             "are supported in this version")

    def set_basic_selection(self, selection: Any, value: Any) -> None:
        if self._read_only:
            raise ReadOnlyError(f"array {self.name!r} is read-only")
        sel = self._normalize(selection)
        value = self._prepare_value(value, sel)
        wec = self._write_empty_chunks
        if wec is None:
            wec = config.get("write_empty_chunks")
        self._engine.write(sel, value, bool(wec))

    def _prepare_value(self, value: Any, sel: BasicSelection) -> np.ndarray:
        try:
            if isinstance(value, np.ndarray):  # arrays cast like numpy assignment does
                arr = value
                if arr.dtype != self.dtype:
                    if arr.dtype.kind in "SUO" and self.dtype.kind in "biufc":
                        raise DataTypeMismatchError(f"can't store values of dtype {arr.dtype} in array "
                                                    f"{self.name!r} of dtype {self.dtype}")
                    arr = arr.astype(self.dtype)
            else:  # Python scalars and lists: out-of-range values raise, as in numpy and zarr-python
                if isinstance(value, (str, bytes)) and self.dtype.kind in "biufc":
                    raise DataTypeMismatchError(f"can't store {value!r} in array {self.name!r} of dtype {self.dtype}")
                arr = np.asarray(value, dtype=self.dtype)
        except (ValueError, TypeError, OverflowError) as e:
            raise DataTypeMismatchError(f"can't convert value to {self.dtype} for array {self.name!r}: {e}") from None
        try:
            arr = np.broadcast_to(arr, sel.result_shape)
        except ValueError:
            raise ShapeMismatchError(f"value of shape {arr.shape} can't be broadcast to the selection shape "
                                     f"{sel.result_shape} of array {self.name!r}") from None
        return arr.reshape(sel.lengths) if arr.ndim != len(sel.lengths) else arr


def _is_scalar_selection(selection: Any, ndim: int) -> bool:
    """numpy's rule: integers on every axis give a scalar; any Ellipsis or slice keeps an array."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if any(s is Ellipsis or isinstance(s, slice) for s in items):
        return False
    return len(items) == ndim
