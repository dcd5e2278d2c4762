"""``zarrfast.convert``: copy a hierarchy or one array into a new store, changing format, chunking, sharding or codecs.

Sources: any zarrfast store or URL (v2 or v3), an open zarrfast Array / Group, or an HDF5 / NetCDF4 file (h5py).
Data moves in blocks of whole destination write units (see :mod:`zarrfast.blockwise`), each source chunk decoded
about once, within ``max_mem``; blocks run on a local thread pool or as tasks on a ``dask.distributed`` cluster.
"""
from __future__ import annotations

import os
import time
from typing import Any, Sequence

import numpy as np

from . import blockwise, hdf5
from .array import Array
from .errors import CodecError, MetadataError
from .progress import Progress

DEFAULT_MAX_MEM = 512 * 2**20


# ---- sources ------------------------------------------------------------------------------------------------------
def iter_source(src: Any, *, path: str | None = None, storage_options: dict | None = None) -> list[tuple]:
    """``[(kind, relative_path, obj)]`` for what ``src`` holds: kind ``"group"`` (obj: the zarrfast Group, or an
    attributes dict for HDF5) or ``"array"`` (obj: an array-like source); parents come before children."""
    from .group import Group

    if isinstance(src, Array):
        return [("array", "", src)]
    if isinstance(src, Group):
        return _walk_group(src)
    if _is_h5py_object(src):
        return list(hdf5.walk(src.file.filename, src.name))
    if isinstance(src, (str, os.PathLike)) and hdf5.is_hdf5(src):
        return list(hdf5.walk(os.fspath(src), path or "/"))
    from .api import open as zopen

    node = zopen(src, mode="r", path=path, storage_options=storage_options)
    return [("array", "", node)] if isinstance(node, Array) else _walk_group(node)


def _is_h5py_object(obj: Any) -> bool:
    return type(obj).__module__.startswith("h5py") and hasattr(obj, "file")


def _walk_group(group: Any) -> list[tuple]:
    out: list[tuple] = [("group", "", group)]
    base = group.path
    for _, member in group.members(max_depth=None):
        rel = member.path[len(base) + 1:] if base else member.path
        out.append(("array" if isinstance(member, Array) else "group", rel, member))
    out.sort(key=lambda item: item[1].count("/") if item[1] else -1)
    return out


# ---- destination array parameters ------------------------------------------------------------------------------
def _source_format(obj: Any) -> int | None:
    return getattr(obj, "zarr_format", None) if isinstance(obj, Array) else None


def array_kwargs(src: Any, *, zarr_format: int | None, chunks: Sequence[int] | None, shards: Sequence[int] | None,
                 compressor: Any) -> dict[str, Any]:
    """Keywords for :func:`zarrfast.create_array` that recreate ``src`` with the requested changes."""
    fmt = zarr_format or _source_format(src) or 3
    ndim = len(src.shape)
    kw: dict[str, Any] = {"shape": src.shape, "dtype": src.dtype, "zarr_format": fmt}
    if chunks is not None and len(chunks) != ndim:
        raise ValueError(f"chunks {tuple(chunks)} have {len(chunks)} dimensions, array has {ndim}")
    if shards is not None and len(shards) != ndim:
        raise ValueError(f"shards {tuple(shards)} have {len(shards)} dimensions, array has {ndim}")
    src_chunks = tuple(src.chunks) if getattr(src, "chunks", None) else None
    kw["chunks"] = tuple(chunks) if chunks is not None else (src_chunks or "auto")
    if shards is not None:
        if fmt == 2:
            raise ValueError("shards need Zarr format 3 (zarr_format=3)")
        kw["shards"] = tuple(shards)
    elif chunks is None and fmt == 3 and isinstance(src, Array) and src.shards:
        kw["shards"] = src.shards
    fill = src.fill_value
    kw["fill_value"] = None if fill is None and src.dtype.kind != "O" else fill
    attrs = dict(src.attrs)
    if not isinstance(src, Array):
        attrs.pop("_FillValue", None)  # HDF5/NetCDF4: the fill value goes into the array metadata
    kw["attributes"] = attrs
    if fmt == 3:
        attrs.pop("_ARRAY_DIMENSIONS", None)  # v3 keeps dimension names in the metadata
    names = src.metadata.dimension_names if isinstance(src, Array) else getattr(src, "dimension_names", None)
    if names is not None and any(n is not None for n in names):
        if fmt == 3 or all(isinstance(n, str) for n in names):  # v2's _ARRAY_DIMENSIONS needs every name
            kw["dimension_names"] = names
    if isinstance(src, Array) and src.zarr_format == 2 and fmt == 2:
        kw["order"] = src.order
    if compressor is not None:
        kw["compressors"] = compressor
        if isinstance(src, Array):
            kw.update(_filters(src, fmt))
    elif isinstance(src, Array):
        kw.update(_codecs(src, fmt))
    return kw


def _filters(src: Array, fmt: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    filters = list(src.filters)
    if fmt == 2 and src.zarr_format == 2:
        # a v2 F-order array shows its order as a transpose filter; "order" carries it in v2
        filters = [c for c in filters if getattr(c, "name", "") != "transpose"]
    if fmt == 3:
        # v2 object codecs (vlen-utf8 / vlen-bytes) are array -> bytes: the serializer in v3
        serial = [c for c in filters if getattr(c, "kind", "") == "array_to_bytes"]
        filters = [c for c in filters if getattr(c, "kind", "") != "array_to_bytes"]
        if serial:
            out["serializer"] = serial[0].to_v3()
    try:
        out["filters"] = [c.to_v3() if fmt == 3 else c.to_v2() for c in filters]
        return out
    except (NotImplementedError, CodecError, AttributeError, KeyError) as e:
        raise CodecError(f"array {src.name!r}: its filters have no Zarr v{fmt} form ({e})") from None


def _codecs(src: Array, fmt: int) -> dict[str, Any]:
    """The source's own codecs in the target format (inner codecs for a sharded source)."""
    out = _filters(src, fmt)
    comps = list(src.compressors)
    try:
        if fmt == 3:
            out["compressors"] = [c.to_v3() for c in comps]
        elif len(comps) > 1:
            raise CodecError(f"array {src.name!r} has {len(comps)} compressors; Zarr v2 allows one "
                             f"(choose one with compressor=...)")
        else:
            out["compressors"] = comps[0].to_v2() if comps else None
    except (NotImplementedError, AttributeError, KeyError) as e:
        raise CodecError(f"array {src.name!r}: its compressor has no Zarr v{fmt} form ({e}); "
                         f"choose one with compressor=...") from None
    return out


# ---- copying ------------------------------------------------------------------------------------------------------
def plan_blocks(src: Any, dst: Array, budget: int) -> list[blockwise.Region]:
    """Regions of whole destination write units, grown to ``budget`` bytes, aligned to source chunks if they fit."""
    shape = dst.shape
    unit = tuple(dst.shards or dst.chunks)
    itemsize = max(1, dst.dtype.itemsize)
    src_chunks = getattr(src, "chunks", None)
    if src_chunks:
        both = blockwise.lcm_shape(unit, src_chunks, shape)
        if int(np.prod(both)) * itemsize <= budget:
            unit = both
        # grow first where one source chunk spans several destination units
        ratio = [s / max(1, u) for s, u in zip(src_chunks, unit)]
        axes = sorted(range(len(shape)), key=lambda a: (-ratio[a], -a))
    else:
        axes = None
    block = blockwise.grow_block(shape, unit, itemsize, budget, axes)
    return blockwise.grid_regions(shape, block)


def job_settings(workers: int, budget: int) -> dict[str, Any]:
    """zarrfast settings for block tasks: store batches small next to the block budget."""
    return {"batch_bytes": int(max(2**20, min(8 * 2**20, budget // 16)))}


def convert(src: Any, dst: Any, *, zarr_format: int | None = None, chunks: Sequence[int] | None = None,
            shards: Sequence[int] | None = None, compressor: Any = None, workers: int | None = None,
            overwrite: bool = False, executor: Any = None, progress: Progress | None = None, path: str | None = None,
            storage_options: dict | None = None, max_mem: int | None = None) -> dict[str, Any]:
    """Copy ``src`` (a hierarchy or one array; zarrfast store/URL, Array, Group, or HDF5/NetCDF4 file) to ``dst``.

    ``zarr_format``, ``chunks``, ``shards`` and ``compressor`` change the copy (``None`` keeps the source's);
    ``chunks``/``shards`` apply to every array of matching rank. Groups, attributes, dimension names and fill values
    are kept. ``max_mem`` bounds decoded block bytes held at once (default 512 MiB, shared by ``workers``).
    Returns a summary: ``arrays``, ``groups``, ``bytes_read``, ``bytes_written``, ``seconds``.
    """
    from .api import create_array
    from .group import open_group
    from .storage.resolve import make_store

    t0 = time.perf_counter()
    workers = max(1, int(workers or 1))
    budget = max(2**20, int(max_mem or DEFAULT_MAX_MEM) // workers)
    items = iter_source(src, path=path, storage_options=storage_options)
    store = make_store(dst, mode="w" if overwrite else "w-", storage_options=None)
    single = items[0][0] == "array"
    fmt = zarr_format or _source_format(items[0][2]) or _group_format(items[0][2]) or 3
    summary = {"arrays": 0, "groups": 0, "bytes_read": 0, "bytes_written": 0, "seconds": 0.0}
    made: list[Array] = []
    for kind, rel, obj in items:
        if kind == "group":
            attrs = dict(obj.attrs) if hasattr(obj, "attrs") else dict(obj)
            if rel == "":
                root = open_group(store, mode="w" if overwrite else "w-", zarr_format=fmt, attributes=attrs)
            else:
                root.create_group(rel, attributes=attrs, overwrite=overwrite)
            summary["groups"] += 1
            continue
        use_chunks = chunks if chunks is None or single or len(chunks) == len(obj.shape) else None
        use_shards = shards if shards is None or single or len(shards) == len(obj.shape) else None
        kw = array_kwargs(obj, zarr_format=fmt, chunks=use_chunks, shards=use_shards, compressor=compressor)
        arr = create_array(store, name=rel or None, overwrite=overwrite, **kw)
        regions = plan_blocks(obj, arr, budget)
        summary["bytes_read"] += blockwise.run_blocks(
            obj, arr, regions, workers=workers, executor=executor, progress=progress,
            label=f"/{rel}" if rel else "/", settings=job_settings(workers, budget))
        summary["arrays"] += 1
        made.append(arr)
    if not single and _was_consolidated(items[0][2]):
        from .group import consolidate_metadata

        consolidate_metadata(store)
    summary["bytes_written"] = sum(_stored(a) for a in made)
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def _group_format(obj: Any) -> int | None:
    return getattr(obj, "zarr_format", None) if hasattr(obj, "members") else None


def _was_consolidated(obj: Any) -> bool:
    return getattr(obj, "_consolidated", None) is not None


def _stored(arr: Array) -> int:
    try:
        return int(arr.nbytes_stored())
    except (TypeError, MetadataError, NotImplementedError):
        return 0
