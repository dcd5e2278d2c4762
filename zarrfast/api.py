"""Top-level functions with zarr-python 3's names and keywords: create_array, open_array, zeros ..."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .array import Array
from .codecs import as_codec
from .codecs.blosc import BloscCodec
from .codecs.bytes import BytesCodec
from .codecs.numcodecs_adapter import NumcodecsCodec
from .codecs.zstd import ZstdCodec
from .errors import ArrayNotFoundError, CodecError, ContainsArrayError, MetadataError
from .metadata import ArrayMetadata
from .metadata.fill_value import default_fill_value
from .nodes import check_can_create, normalize_path, read_array_metadata, write_metadata
from .storage import make_store

_UNSET: Any = object()


def guess_chunks(shape: tuple[int, ...], itemsize: int, target: int = 1 << 20) -> tuple[int, ...]:
    """A chunk shape of at most ``target`` bytes, halving the longest axis first."""
    chunks = [max(1, s) for s in shape]
    while math.prod(chunks) * itemsize > target and max(chunks) > 1:
        i = chunks.index(max(chunks))
        chunks[i] = -(-chunks[i] // 2)
    return tuple(chunks)


def _is_default(x: Any) -> bool:
    return isinstance(x, str) and x in ("auto", "default")


def _as_list(x: Any) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _parse_chunk_key_encoding(cke: Any, zarr_format: int, dimension_separator: str | None) -> tuple[str, str]:
    if cke is None:
        if zarr_format == 2:
            return "v2", dimension_separator or "."
        return "default", dimension_separator or "/"
    if isinstance(cke, str):
        cke = {"name": cke}
    if not isinstance(cke, dict):
        cke = {"name": getattr(cke, "name", None), "separator": getattr(cke, "separator", None)}
    name = cke.get("name")
    sep = cke.get("separator") or (cke.get("configuration") or {}).get("separator")
    if name not in ("default", "v2"):
        raise MetadataError(f"unknown chunk key encoding {name!r}")
    return name, sep or ("/" if name == "default" else ".")


def _v3_codecs(dtype: np.dtype, filters: Any, serializer: Any, compressors: Any) -> tuple[dict, ...]:
    if filters == "auto":
        filters = []
    if serializer == "auto" or serializer is None:
        serializer = BytesCodec("little" if dtype.itemsize > 1 and dtype.kind in "biufcmMU" else None)
    serializer = as_codec(serializer)
    if isinstance(serializer, BytesCodec) and serializer.endian is None and dtype.itemsize > 1 \
            and dtype.kind in "biufcmMU":
        serializer = BytesCodec("little")  # the spec requires an endian for multi-byte types
    if compressors == "auto":
        compressors = [ZstdCodec(level=0, checksum=False)]
    chain = [as_codec(c) for c in _as_list(filters)] + [as_codec(serializer)]
    chain += [as_codec(c) for c in _as_list(compressors)]
    out = []
    for c in chain:
        if isinstance(c, BloscCodec) and c.typesize is None:
            c = c.with_typesize(dtype.itemsize)
        out.append(c.to_v3())
    return tuple(out)


def _v2_codecs(dtype: np.dtype, filters: Any, compressors: Any, compressor: Any) -> tuple[Any, Any]:
    if compressor is not _UNSET and not _is_default(compressor):
        compressors = compressor
    elif _is_default(compressor):
        compressors = "auto"
    if compressors == "auto":
        comp = {"id": "zstd", "level": 0}
    else:
        comps = _as_list(compressors)
        if len(comps) > 1:
            raise CodecError("zarr v2 arrays take at most one compressor")
        comp = as_codec(comps[0]).to_v2() if comps else None
    filters = [] if filters == "auto" else _as_list(filters)
    flt = [as_codec(f).to_v2() if not isinstance(as_codec(f), NumcodecsCodec) else as_codec(f).to_v2()
           for f in filters]
    return comp, (tuple(flt) or None)


def _shard_shape(shards: Any, shape: tuple[int, ...], chunk_shape: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(shards, dict):
        shards = shards.get("shape")
    if shards == "auto":
        shards = tuple(c * max(1, min(-(-s // c), 8)) for s, c in zip(shape, chunk_shape))
    shard_shape = (int(shards),) if isinstance(shards, (int, np.integer)) else tuple(int(s) for s in shards)
    if len(shard_shape) != len(shape):
        raise MetadataError(f"shards {shard_shape} and shape {shape} differ in rank")
    bad = [i for i, (s, c) in enumerate(zip(shard_shape, chunk_shape)) if s <= 0 or s % c]
    if bad:
        raise MetadataError(f"the chunk shape {chunk_shape} must divide the shard shape {shard_shape} "
                            f"(axis {bad[0]})")
    return shard_shape


def create_array(store: Any = None, *, name: str | None = None, shape: Any = None, dtype: Any = None,
                 data: Any = None, chunks: Any = "auto", shards: Any = None, filters: Any = "auto",
                 compressors: Any = "auto", compressor: Any = _UNSET, serializer: Any = "auto",
                 fill_value: Any = _UNSET, order: str | None = None, zarr_format: int | None = 3,
                 attributes: dict | None = None, chunk_key_encoding: Any = None,
                 dimension_names: Iterable[str | None] | None = None, storage_options: dict | None = None,
                 overwrite: bool = False, config: dict | None = None, write_data: bool = True,
                 dimension_separator: str | None = None, path: str | None = None, mode: str | None = None,
                 write_empty_chunks: bool | None = None) -> Array:
    """Create an array (zarr-python 3 keywords). With ``data``, shape and dtype come from it and it is written."""
    zarr_format = 3 if zarr_format is None else int(zarr_format)
    if zarr_format not in (2, 3):
        raise MetadataError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    if data is not None:
        data = np.asarray(data)
        shape = data.shape if shape is None else shape
        dtype = data.dtype if dtype is None else dtype
    if shape is None:
        raise MetadataError("create_array needs a shape (or data)")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    dtype = np.dtype("float64" if dtype is None else dtype)
    if chunks in ("auto", None, True):
        chunk_shape = guess_chunks(shape, dtype.itemsize)
    elif isinstance(chunks, (int, np.integer)):
        chunk_shape = tuple(min(int(chunks), s) if s else int(chunks) for s in shape) if int(chunks) > 0 else shape
    else:
        chunk_shape = tuple(s if (c is None or int(c) == -1) else int(c) for c, s in zip(chunks, shape))
        if len(chunk_shape) != len(shape):
            raise MetadataError(f"chunks {chunks!r} and shape {shape} differ in rank")
    chunk_shape = tuple(max(1, c) for c in chunk_shape)
    if config:
        write_empty_chunks = config.get("write_empty_chunks", write_empty_chunks)
        order = config.get("order", order)
    if fill_value is _UNSET:
        fill_value = default_fill_value(dtype) if zarr_format == 3 or dtype.kind != "O" else None
    elif fill_value is None and zarr_format == 3:
        fill_value = default_fill_value(dtype)
    key_name, sep = _parse_chunk_key_encoding(chunk_key_encoding, zarr_format, dimension_separator)
    if zarr_format == 2:
        if key_name != "v2":
            raise MetadataError("zarr v2 arrays use the 'v2' chunk key encoding")
        comp, flt = _v2_codecs(dtype, filters, compressors, compressor)
        meta = ArrayMetadata(zarr_format=2, shape=shape, chunk_shape=chunk_shape, dtype=dtype,
                             fill_value=fill_value, order=order or "C", compressor=comp, filters=flt,
                             chunk_key_encoding="v2", dimension_separator=sep,
                             dimension_names=tuple(dimension_names) if dimension_names is not None else None,
                             attributes=dict(attributes or {}))
    else:
        if compressor is not _UNSET and not _is_default(compressor) and _is_default(compressors):
            compressors = None if compressor is None else compressor
        codecs = _v3_codecs(dtype, filters, serializer, compressors)
        if shards is not None:
            shard_shape = _shard_shape(shards, shape, chunk_shape)
            codecs = ({"name": "sharding_indexed", "configuration": {
                "chunk_shape": list(chunk_shape), "codecs": list(codecs),
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                "index_location": "end"}},)
            chunk_shape = shard_shape
        meta = ArrayMetadata(zarr_format=3, shape=shape, chunk_shape=chunk_shape, dtype=dtype,
                             fill_value=fill_value, codecs=codecs, chunk_key_encoding=key_name,
                             dimension_separator=sep,
                             dimension_names=tuple(dimension_names) if dimension_names is not None else None,
                             attributes=dict(attributes or {}))
    st = make_store(store, mode=mode or "w" if overwrite else (mode or "a"), storage_options=storage_options)
    node_path = normalize_path(name if name is not None else path)
    check_can_create(st, node_path, overwrite)
    write_metadata(st, node_path, meta)
    arr = Array(st, node_path, meta, write_empty_chunks=write_empty_chunks)
    if data is not None and write_data:
        arr[...] = data
    return arr


def from_array(store: Any = None, *, data: Any, **kwargs: Any) -> Array:
    """Create an array shaped like ``data`` (numpy or another array) and copy the data in."""
    src = data
    if hasattr(src, "metadata") and hasattr(src, "chunks") and not isinstance(src, np.ndarray):
        kwargs.setdefault("chunks", src.chunks)
        kwargs.setdefault("fill_value", src.fill_value)
        kwargs.setdefault("attributes", dict(src.attrs))
        fmt = kwargs.setdefault("zarr_format", getattr(src.metadata, "zarr_format", 3))
        if isinstance(src, Array) and fmt == src.zarr_format:  # "keep" the source's codecs, like zarr-python
            meta = src.metadata
            if fmt == 2:
                kwargs.setdefault("compressors", meta.compressor)
                kwargs.setdefault("filters", list(meta.filters or ()))
                kwargs.setdefault("order", meta.order)
            else:
                kwargs.setdefault("shards", src.shards)
                kwargs.setdefault("filters", [c.to_v3() for c in src.filters])
                kwargs.setdefault("serializer", src.serializer.to_v3())
                kwargs.setdefault("compressors", [c.to_v3() for c in src.compressors])
                kwargs.setdefault("dimension_names", meta.dimension_names)
        src = src[...]
    return create_array(store, data=np.asarray(src), **kwargs)


def create(shape: Any, *, chunks: Any = True, dtype: Any = None, compressor: Any = "default",
           fill_value: Any = _UNSET, order: str | None = None, store: Any = None, overwrite: bool = False,
           path: str | None = None, filters: Any = None, dimension_separator: str | None = None,
           zarr_format: int | None = None, zarr_version: int | None = None, attributes: dict | None = None,
           chunk_shape: Any = None, chunk_key_encoding: Any = None, codecs: Any = None,
           dimension_names: Any = None, storage_options: dict | None = None, mode: str | None = None,
           write_empty_chunks: bool | None = None, read_only: bool = False, **kwargs: Any) -> Array:
    """zarr-python's ``create`` (2.x-style keywords); defaults to Zarr v3."""
    zarr_format = zarr_format or zarr_version or 3
    if chunk_shape is not None:
        chunks = chunk_shape
    if fill_value is _UNSET:
        fill_value = 0 if dtype is None or np.dtype(dtype).kind != "O" else None
    compressors: Any = "auto"
    serializer: Any = "auto"
    flt: Any = filters if filters is not None else "auto"
    if codecs is not None:
        objs = [as_codec(c) for c in codecs]
        aa = [c for c in objs if c.kind == "array_to_array"]
        ab = [c for c in objs if c.kind == "array_to_bytes"]
        bb = [c for c in objs if c.kind == "bytes_to_bytes"]
        flt, serializer, compressors = aa, (ab[0] if ab else "auto"), bb
        compressor = _UNSET
    return create_array(store, path=path, shape=shape, dtype=dtype, chunks=chunks, compressor=compressor,
                        compressors=compressors, serializer=serializer, filters=flt, fill_value=fill_value,
                        order=order, zarr_format=zarr_format, attributes=attributes,
                        chunk_key_encoding=chunk_key_encoding, dimension_separator=dimension_separator,
                        dimension_names=dimension_names, storage_options=storage_options,
                        overwrite=overwrite or mode == "w", write_empty_chunks=write_empty_chunks)


def zeros(shape: Any, **kwargs: Any) -> Array:
    return create(shape, fill_value=0, **kwargs)


def ones(shape: Any, **kwargs: Any) -> Array:
    return create(shape, fill_value=1, **kwargs)


def full(shape: Any, fill_value: Any, **kwargs: Any) -> Array:
    return create(shape, fill_value=fill_value, **kwargs)


def empty(shape: Any, **kwargs: Any) -> Array:
    return create(shape, **kwargs)


def array(data: Any, **kwargs: Any) -> Array:
    """Create an array filled with ``data`` (zarr-python's ``array``)."""
    data = np.asarray(data)
    kwargs.setdefault("dtype", data.dtype)
    arr = create(data.shape, **kwargs)
    arr[...] = data
    return arr


def _like(a: Any, kwargs: dict) -> dict:
    kwargs.setdefault("shape", a.shape)
    kwargs.setdefault("dtype", a.dtype)
    if hasattr(a, "chunks") and not isinstance(a, np.ndarray):
        kwargs.setdefault("chunks", a.chunks)
    return kwargs


def zeros_like(a: Any, **kwargs: Any) -> Array:
    kw = _like(a, kwargs)
    return zeros(kw.pop("shape"), **kw)


def ones_like(a: Any, **kwargs: Any) -> Array:
    kw = _like(a, kwargs)
    return ones(kw.pop("shape"), **kw)


def empty_like(a: Any, **kwargs: Any) -> Array:
    kw = _like(a, kwargs)
    return empty(kw.pop("shape"), **kw)


def full_like(a: Any, **kwargs: Any) -> Array:
    kw = _like(a, kwargs)
    kw.setdefault("fill_value", getattr(a, "fill_value", 0))
    return full(kw.pop("shape"), **kw)


def open_like(a: Any, path: Any, **kwargs: Any) -> Array:
    """Open (or create) the array at ``path`` with ``a``'s shape, dtype, chunks and fill value as defaults."""
    kw = _like(a, kwargs)
    if getattr(a, "fill_value", None) is not None:
        kw.setdefault("fill_value", a.fill_value)
    return open_array(path, **kw)


def open_array(store: Any = None, *, zarr_format: int | None = None, path: str | None = None, mode: str = "a",
               storage_options: dict | None = None, name: str | None = None, write_empty_chunks: bool | None = None,
               **kwargs: Any) -> Array:
    """Open an existing array; in mode 'w'/'w-' (or 'a' with ``shape``) create one."""
    if mode not in ("r", "r+", "a", "w", "w-", "x"):
        raise ValueError(f"invalid mode {mode!r}")
    st = make_store(store, mode=mode, storage_options=storage_options)
    node_path = normalize_path(name if name is not None else path)
    if mode in ("w", "w-", "x"):
        return create_array(st, name=node_path, zarr_format=zarr_format, overwrite=mode == "w",
                            write_empty_chunks=write_empty_chunks, **kwargs)
    try:
        meta = read_array_metadata(st, node_path, zarr_format)
    except ArrayNotFoundError:
        if mode == "a" and "shape" in kwargs:
            return create_array(st, name=node_path, zarr_format=zarr_format, write_empty_chunks=write_empty_chunks,
                                **kwargs)
        raise
    return Array(st, node_path, meta, read_only=mode == "r", write_empty_chunks=write_empty_chunks)


def open(store: Any = None, *, mode: str = "a", zarr_format: int | None = None, path: str | None = None,
         storage_options: dict | None = None, **kwargs: Any) -> Any:
    """Open the array or group at ``path`` (zarr-python's ``open``).

    With ``shape`` (or in mode 'w'/'w-'/'x' with array keywords) an array is created; otherwise an existing array is
    opened, else an existing group; where nothing is, mode 'a' or 'w' creates a group (as zarr-python does)."""
    from .group import open_group

    if "shape" in kwargs or (mode in ("w", "w-", "x") and set(kwargs) - {"attributes", "use_consolidated"}):
        kwargs.pop("use_consolidated", None)
        return open_array(store, mode=mode, zarr_format=zarr_format, path=path, storage_options=storage_options,
                          **kwargs)
    group_kw = {k: kwargs.pop(k) for k in ("attributes", "use_consolidated") if k in kwargs}
    if mode not in ("w", "w-", "x"):
        st = make_store(store, mode=mode, storage_options=storage_options)
        try:
            return open_array(st, mode=mode, zarr_format=zarr_format, path=path, **kwargs)
        except ArrayNotFoundError:
            pass
        store, storage_options = st, None
    return open_group(store, mode=mode, zarr_format=zarr_format, path=path, storage_options=storage_options,
                      **group_kw)


__all__ = ["create_array", "from_array", "open_like", "create", "zeros", "ones", "full", "empty", "array", "zeros_like",
           "ones_like", "empty_like", "full_like", "open_array", "open", "ContainsArrayError"]
