"""``Array``: a Zarr array in a store, read and written with numpy-style indexing."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator

import numpy as np

from . import array_extras as _extras
from . import indexing_advanced as _adv
from .attributes import Attributes
from .buffers import empty_output
from .chunk_key import get_chunk_key_encoder
from .config import config
from .engine import ChunkEngine
from .errors import CodecError, DataTypeMismatchError, ReadOnlyError, SelectionError, ShapeMismatchError
from .indexing import BasicSelection, is_basic_selection, normalize_basic
from .metadata import ArrayMetadata
from .metadata.model import codec_metadata_error
from .node import Node
from .nodes import array_metadata_to_json, write_metadata
from .pipeline import chain_for, fill_scalar
from .sharding_engine import ShardedEngine, sharding_codec


class Array(Node):
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
            raise codec_metadata_error(e, where) from None  # bad metadata: a MetadataError, still a CodecError
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
        return math.prod(self.shape)

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
        return math.prod(self.cdata_shape)

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

    def __reduce__(self) -> tuple[Any, ...]:
        # the store pickles as its location (path, URL, database), so this carries no chunk data
        return (Array, (self._store, self._path, self._metadata),
                {"_read_only": self._read_only, "_write_empty_chunks": self._write_empty_chunks})

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._read_only = state["_read_only"]
        self._write_empty_chunks = state["_write_empty_chunks"]

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        """Deterministic dask token: where the array lives and what its metadata says."""
        docs = array_metadata_to_json(self._metadata)
        store = self._store
        where = (type(store).__name__, store._location()) if hasattr(store, "_location") else id(store)
        return ("zarrfast.Array", where, self._path, sorted(docs.items()))

    # ---- reading ---------------------------------------------------------------------------------------------
    def __getitem__(self, selection: Any) -> Any:
        if is_basic_selection(selection):
            return self.get_basic_selection(selection)
        if _adv.is_pure_fancy_indexing(selection, self.ndim):
            return self.vindex[selection]
        if _adv.is_pure_orthogonal_indexing(selection, self.ndim):
            return self.get_orthogonal_selection(selection)
        raise SelectionError(f"unsupported selection {selection!r} for array {self.name!r}")

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
            target = empty_output(sel.lengths, self.dtype)
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
        if _adv.is_pure_fancy_indexing(selection, self.ndim):
            self.vindex[selection] = value
            return
        if _adv.is_pure_orthogonal_indexing(selection, self.ndim):
            return self.set_orthogonal_selection(selection, value)
        raise SelectionError(f"unsupported selection {selection!r} for array {self.name!r}")

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
        arr = self._coerce_value(value, sel.result_shape)
        return arr.reshape(sel.lengths) if arr.ndim != len(sel.lengths) else arr

    def _coerce_value(self, value: Any, shape: tuple[int, ...]) -> np.ndarray:
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
            return np.broadcast_to(arr, shape)
        except ValueError:
            raise ShapeMismatchError(f"value of shape {arr.shape} can't be broadcast to the selection shape "
                                     f"{shape} of array {self.name!r}") from None

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"array {self.name!r} is read-only")

    def _wec(self) -> bool:
        wec = self._write_empty_chunks
        if wec is None:
            wec = config.get("write_empty_chunks")
        return bool(wec)

    def _with_name(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except SelectionError as e:
            raise type(e)(f"array {self.name!r}: {e}") from None

    def _deliver(self, result: np.ndarray, out: np.ndarray | None, fields: Any = None) -> np.ndarray:
        if fields is not None:
            if self.dtype.names is None:
                raise SelectionError(f"fields {fields!r} given but array {self.name!r} has no structured dtype")
            result = result[fields if isinstance(fields, str) else list(fields)]
        if out is None:
            return result
        if out.shape != result.shape:
            raise ShapeMismatchError(f"out has shape {out.shape}, the selection {result.shape}")
        if out.dtype != result.dtype:
            raise DataTypeMismatchError(f"out has dtype {out.dtype}, the selection {result.dtype}")
        out[...] = result
        return out

    # ---- shape changes and statistics ------------------------------------------------------------------------
    def resize(self, new_shape: Any, delete_outside_chunks: bool = True) -> None:
        """Change the shape (metadata only, plus clean-up): chunks (shards) wholly outside the new shape are
        deleted, and the parts of kept edge chunks beyond it are reset to the fill value, so they read as fill if
        the array grows again."""
        self._check_writable()
        new = _extras.normalize_shape(new_shape, self.ndim)
        old = self.shape
        grid = self._metadata.chunk_shape
        if delete_outside_chunks:
            for region in _extras.edge_slabs(old, new, grid):
                sel = normalize_basic(region, old)
                self._engine.write(sel, np.broadcast_to(fill_scalar(self.fill_value, self.dtype), sel.lengths), False)
            coords = _extras.outside_chunk_coords(old, new, grid)
            if len(coords):
                self._store.delete_many(self._engine._keys(coords))
        self._update_metadata(dataclasses.replace(self._metadata, shape=new))

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow the array along ``axis`` by ``data`` and write it there; returns the new shape."""
        self._check_writable()
        data = np.asanyarray(data)
        if axis < -self.ndim or axis >= self.ndim or not self.ndim:
            raise ShapeMismatchError(f"axis {axis} is out of range for an array of {self.ndim} dimensions")
        axis %= self.ndim
        if data.ndim != self.ndim or any(a != b for i, (a, b) in enumerate(zip(data.shape, self.shape))
                                         if i != axis):
            raise ShapeMismatchError(f"shape of data to append {data.shape} is not compatible with the array "
                                     f"{self.shape}: all dimensions must match except axis {axis}")
        old = self.shape
        new = tuple(s + data.shape[axis] if i == axis else s for i, s in enumerate(old))
        self.resize(new)
        region = tuple(slice(old[i], new[i]) if i == axis else slice(None) for i in range(self.ndim))
        self[region] = data
        return new

    @property
    def nchunks_initialized(self) -> int:
        """Number of stored chunks (found by listing the array's prefix). For sharded arrays, as zarr-python
        3.1 does: stored shards times inner chunks per shard."""
        n = len(_extras.chunk_keys_stored(self))
        if self._sharding is not None:
            n *= int(np.prod([s // c for s, c in zip(self._metadata.chunk_shape, self.chunks)], dtype=np.int64))
        return n

    @property
    def nshards_initialized(self) -> int:
        return len(_extras.chunk_keys_stored(self))

    def nbytes_stored(self) -> int:
        """Bytes stored under the array's prefix, metadata documents included."""
        return _extras.nbytes_stored(self)

    @property
    def info(self) -> _extras.ArrayInfo:
        return _extras.array_info(self)

    def info_complete(self) -> _extras.ArrayInfo:
        return _extras.array_info(self, complete=True)

    # ---- orthogonal selection --------------------------------------------------------------------------------
    @property
    def oindex(self) -> "OIndex":
        """Orthogonal (outer) indexing: ints, slices, integer and boolean arrays per axis."""
        return OIndex(self)

    @property
    def vindex(self) -> "VIndex":
        """Vectorised indexing: coordinate arrays (broadcast together) or one boolean mask."""
        return VIndex(self)

    @property
    def blocks(self) -> "BlockIndex":
        """Indexing by chunk (block) numbers."""
        return BlockIndex(self)

    def get_orthogonal_selection(self, selection: Any, *, out: np.ndarray | None = None,
                                 fields: Any = None) -> np.ndarray:
        if self.ndim == 0:
            return np.asarray(self.get_basic_selection(selection, out=out))
        indices, dropped = self._with_name(_adv.normalize_orthogonal, selection, self.shape)
        result = _adv.read_orthogonal(self._engine, self.dtype, indices)
        result = result.reshape(tuple(len(i) for i, d in zip(indices, dropped) if not d))
        return self._deliver(result, out, fields)

    def set_orthogonal_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        _no_fields(fields)
        if self.ndim == 0:
            return self.set_basic_selection(selection, value)
        indices, dropped = self._with_name(_adv.normalize_orthogonal, selection, self.shape)
        rshape = tuple(len(i) for i, d in zip(indices, dropped) if not d)
        arr = self._coerce_value(value, rshape).reshape(tuple(len(i) for i in indices))
        _adv.write_orthogonal(self._engine, self.dtype, indices, arr, self._wec())

    # ---- coordinate and mask selection -----------------------------------------------------------------------
    def get_coordinate_selection(self, selection: Any, *, out: np.ndarray | None = None,
                                 fields: Any = None) -> np.ndarray:
        points, rshape = self._with_name(_adv.normalize_coordinates, selection, self.shape)
        if rshape == () and self.ndim:
            rshape = (1,)  # zarr-python: integers only still give a 1-d result
        result = _adv.read_points(self._engine, self.dtype, points).reshape(rshape)
        if out is not None and out.shape != rshape and out.size == result.size:
            raise ShapeMismatchError(f"out has shape {out.shape}, the selection {rshape}")
        return self._deliver(result, out, fields)

    def set_coordinate_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        _no_fields(fields)
        points, rshape = self._with_name(_adv.normalize_coordinates, selection, self.shape)
        arr = np.asarray(value) if isinstance(value, np.ndarray) else value
        if isinstance(arr, np.ndarray) and arr.ndim == 1 and arr.size == len(points) and arr.shape != rshape:
            arr = arr.reshape(rshape)  # zarr-python accepts flat values for multi-d coordinate arrays
        values = self._coerce_value(arr, rshape).reshape(-1)
        _adv.write_points(self._engine, self.dtype, points, values, self._wec())

    def get_mask_selection(self, mask: Any, *, out: np.ndarray | None = None, fields: Any = None) -> np.ndarray:
        points = self._with_name(_adv.normalize_mask, mask, self.shape)
        return self._deliver(_adv.read_points(self._engine, self.dtype, points), out, fields)

    def set_mask_selection(self, mask: Any, value: Any, *, fields: Any = None) -> None:
        self._check_writable()
        _no_fields(fields)
        points = self._with_name(_adv.normalize_mask, mask, self.shape)
        values = self._coerce_value(value, (len(points),))
        _adv.write_points(self._engine, self.dtype, points, values, self._wec())

    # ---- block selection -------------------------------------------------------------------------------------
    def _block_slices(self, selection: Any) -> tuple[slice, ...]:
        # zarr-python's blocks follow the chunk grid of the metadata: shards for sharded arrays
        return self._with_name(_adv.block_to_basic, selection, self.shape, self._metadata.chunk_shape)

    def get_block_selection(self, selection: Any, *, out: np.ndarray | None = None, fields: Any = None) -> Any:
        if fields is not None:
            return self._deliver(self.get_basic_selection(self._block_slices(selection)), out, fields)
        return self.get_basic_selection(self._block_slices(selection), out=out)

    def set_block_selection(self, selection: Any, value: Any, *, fields: Any = None) -> None:
        _no_fields(fields)
        self.set_basic_selection(self._block_slices(selection), value)


def _no_fields(fields: Any) -> None:
    if fields is not None:
        raise SelectionError("writing to fields of a structured array is not supported yet")


class OIndex:
    def __init__(self, array: Array) -> None:
        self.array = array

    def __getitem__(self, selection: Any) -> np.ndarray:
        return self.array.get_orthogonal_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self.array.set_orthogonal_selection(selection, value)


class VIndex:
    def __init__(self, array: Array) -> None:
        self.array = array

    @staticmethod
    def _is_mask(selection: Any) -> bool:
        item = selection[0] if isinstance(selection, tuple) and len(selection) == 1 else selection
        return _adv._is_bool_array(item) or _adv._is_bool_list(item)

    def __getitem__(self, selection: Any) -> np.ndarray:
        if self._is_mask(selection):
            return self.array.get_mask_selection(selection)
        return self.array.get_coordinate_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        if self._is_mask(selection):
            self.array.set_mask_selection(selection, value)
        else:
            self.array.set_coordinate_selection(selection, value)


class BlockIndex:
    def __init__(self, array: Array) -> None:
        self.array = array

    def __getitem__(self, selection: Any) -> np.ndarray:
        return self.array.get_block_selection(selection)

    def __setitem__(self, selection: Any, value: Any) -> None:
        self.array.set_block_selection(selection, value)


def _is_scalar_selection(selection: Any, ndim: int) -> bool:
    """numpy's rule: integers on every axis give a scalar; any Ellipsis or slice keeps an array."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if any(s is Ellipsis or isinstance(s, slice) for s in items):
        return False
    return len(items) == ndim
