"""``to_zarr``: write an xarray Dataset with zarrfast so that xarray's ``"zarr"`` engine opens it identically.

The layout follows what ``Dataset.to_zarr`` (xarray + zarr-python) writes:

* CF encoding by xarray's own conventions helpers (times, timedeltas, ``scale_factor``/``add_offset``,
  ``_FillValue``, ``dtype``; non-dimension coordinates in a ``coordinates`` attribute);
* dimension names as ``dimension_names`` (v3) or the ``_ARRAY_DIMENSIONS`` attribute (v2);
* v2: ``_FillValue`` is the ``.zarray`` ``fill_value`` (vlen strings without one get ``null``, as zarr-python
  writes); v3: the array ``fill_value`` comes from ``encoding["fill_value"]`` (NaN for floats, else the zarr
  default) and ``_FillValue`` is an attribute (floats as base64 of a little-endian double, as xarray does);
* dask-backed variables are written chunk by chunk; their chunks must line up with the zarr chunks
  (the shards, for sharded arrays) except at the end, as with xarray's ``safe_chunks=True``.
"""
from __future__ import annotations

import base64
import json
import struct
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
from xarray import Dataset, Variable, conventions
from xarray.backends.common import ensure_dtype_not_object
from xarray.coding import strings as _strings

from ..array import Array
from ..errors import GroupNotFoundError
from ..group import Group, consolidate_metadata, open_group
from ..nodes import normalize_path
from ..storage import make_store
from .backend import DIMENSION_KEY, ZarrfastDataStore, _as_store_like

__all__ = ["to_zarr"]

_DROP = frozenset(("source", "original_shape", "preferred_chunks"))
_VALID = frozenset(("chunks", "shards", "compressors", "compressor", "filters", "serializer", "write_empty_chunks",
                    "chunk_key_encoding", "dimension_separator", "cache_metadata"))
_MODES = ("w", "w-", "a", "a-", "r+")


# ---------------------------------------------------------------------------------------------- encoding
def _zarr_coders() -> Any:
    return getattr(conventions, "ZARR_CODERS", None)


def _encode_variable(var: Variable, name: Hashable, zarr_format: int) -> Variable:
    """CF-encode one variable the way xarray prepares it for zarr."""
    coders = _zarr_coders()
    if coders is not None:
        var = conventions.encode_cf_variable(var, name=name, coders=coders)
    else:  # older xarray: the default chain (which stores bools as int8)
        var = conventions.encode_cf_variable(var, name=name)
    var = ensure_dtype_not_object(var, name=name)
    if zarr_format == 3 and var.dtype.kind == "T":
        return var  # v3 stores variable-length strings natively
    var = _strings.EncodedStringCoder(allows_unicode=True).encode(var, name=name)
    return _strings.ensure_fixed_length_bytes(var)


def _encode_attr(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode_attr(v) for v in value]
    return value


def _encode_v3_fill_attr(value: Any, dtype: np.dtype) -> Any:
    kind = dtype.kind
    if kind == "f":
        return base64.standard_b64encode(struct.pack("<d", float(value))).decode()
    if kind == "c":
        c = complex(value)
        return [base64.standard_b64encode(struct.pack("<d", part)).decode() for part in (c.real, c.imag)]
    if kind == "S":
        if not isinstance(value, bytes):
            raise TypeError(f"_FillValue {value!r} of a bytes variable must be bytes")
        return base64.standard_b64encode(value).decode()
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    return str(value)


def _zarr_encoding(var: Variable, name: Hashable, zarr_format: int, strict: bool) -> dict:
    """The zarr-relevant part of ``var.encoding``; unknown keys raise when ``strict`` (user-given encoding)."""
    enc = {k: v for k, v in var.encoding.items() if k not in _DROP}
    valid = _VALID | ({"fill_value"} if zarr_format == 3 else set())
    bad = [k for k in enc if k not in valid]
    if bad and strict:
        hint = " Use `_FillValue` to set the zarr v2 array's fill_value." if "fill_value" in bad else ""
        raise ValueError(f"unexpected encoding parameters for zarr backend: {bad!r} (variable {name!r}).{hint}")
    return {k: v for k, v in enc.items() if k in valid}


def _grid(var: Variable, chunks: Any, name: Hashable) -> Any:
    """Zarr chunk shape for ``var``: from the encoding, else from uniform dask chunks, else "auto"."""
    ndim = var.ndim
    if chunks is not None and chunks != "auto" and not isinstance(chunks, (dict, bool)):
        if isinstance(chunks, (int, np.integer)):
            return (int(chunks),) * ndim
        chunks = tuple(chunks)
        if len(chunks) != ndim:
            raise ValueError(f"zarr chunks {chunks} for variable {name!r} need {ndim} entries")
        if any(isinstance(c, (tuple, list)) for c in chunks):
            raise TypeError(f"variable-sized (rectilinear) chunks {chunks} for variable {name!r} are not supported")
        return tuple(s if (c is None or c == -1) else int(c) for c, s in zip(chunks, var.shape))
    if var.chunks is None:
        return "auto"
    out = []
    for axis, dchunks in enumerate(var.chunks):
        if len(dchunks) > 1 and (len(set(dchunks[:-1])) > 1 or dchunks[-1] > dchunks[0]):
            raise ValueError(
                f"zarr needs uniform chunk sizes except for the last chunk, but variable {name!r} has dask chunks "
                f"{var.chunks} (axis {axis}); rechunk it or give encoding['chunks']")
        out.append(max(1, dchunks[0]) if dchunks else 1)
    return tuple(out)


def _check_dask_alignment(var: Variable, grid: tuple[int, ...], start: tuple[int, ...], name: Hashable) -> None:
    """Each dask chunk must start on a zarr chunk (shard) boundary so parallel writes never share a chunk."""
    for axis, (dchunks, g, s0) in enumerate(zip(var.chunks, grid, start)):
        pos = s0
        for c in dchunks[:-1]:
            pos += c
            if pos % g:
                raise ValueError(
                    f"dask chunks {var.chunks} of variable {name!r} would write partial zarr chunks of shape "
                    f"{grid} (axis {axis}): several dask chunks would share one zarr chunk. Rechunk the variable "
                    f"(e.g. .chunk() to multiples of {grid}) or change encoding['chunks']")


def _shard_grid(shards: Any, ndim: int) -> tuple[int, ...] | None:
    if shards is None:
        return None
    if isinstance(shards, dict):
        shards = shards.get("shape")
    if isinstance(shards, (int, np.integer)):
        return (int(shards),) * ndim
    if isinstance(shards, (tuple, list)):
        return tuple(int(s) for s in shards)
    return None


# ---------------------------------------------------------------------------------------------- store setup
def _ensure_parent_groups(st: Any, path: str, zarr_format: int) -> None:
    parts = path.split("/") if path else []
    for i in range(len(parts)):
        sub = "/".join(parts[:i])
        try:
            open_group(st, mode="r+", path=sub, zarr_format=zarr_format, use_consolidated=False)
        except GroupNotFoundError:
            open_group(st, mode="w-", path=sub, zarr_format=zarr_format)


def _open_target(store: Any, mode: str, group: str | None, zarr_format: int | None,
                 storage_options: dict | None) -> tuple[Any, Group]:
    st = make_store(_as_store_like(store), mode="a" if mode == "a-" else mode, storage_options=storage_options)
    path = normalize_path(group)
    if mode in ("w", "w-"):
        fmt = 3 if zarr_format is None else int(zarr_format)
        _ensure_parent_groups(st, path, fmt)
        return st, open_group(st, mode=mode, path=path, zarr_format=fmt)
    try:
        grp = open_group(st, mode="r+", path=path, zarr_format=zarr_format, use_consolidated=False)
    except GroupNotFoundError:
        if mode == "r+":
            raise
        fmt = 3 if zarr_format is None else int(zarr_format)
        _ensure_parent_groups(st, path, fmt)
        grp = open_group(st, mode="w-", path=path, zarr_format=fmt)
    if zarr_format is not None and int(zarr_format) != grp.zarr_format:
        raise ValueError(f"the group at {path or '/'!r} is zarr_format {grp.zarr_format}, not {zarr_format}")
    return st, grp


def _null_fill_v2_strings(st: Any, arr: Array) -> None:
    """Write ``"fill_value": null`` into a v2 vlen-string ``.zarray`` (zarrfast writes ``""``; zarr-python and
    xarray write null, and a ``""`` fill would make xarray mask empty strings)."""
    key = f"{arr.path}/.zarray" if arr.path else ".zarray"
    doc = json.loads(st.get(key))
    if doc.get("fill_value") is not None:
        doc["fill_value"] = None
        st.set(key, json.dumps(doc, indent=2).encode())


def _fix_consolidated_v2_fills(st: Any) -> None:
    raw = st.get(".zmetadata")
    if raw is None:
        return
    zmeta = json.loads(raw)
    docs = zmeta.get("metadata", {})
    changed = False
    for key, doc in docs.items():
        if key.endswith(".zarray") and isinstance(doc, dict) and doc.get("dtype") == "|O" \
                and doc.get("fill_value") is not None:
            on_disk = st.get(key)
            if on_disk is not None and json.loads(on_disk).get("fill_value") is None:
                doc["fill_value"] = None
                changed = True
    if changed:
        st.set(".zmetadata", json.dumps(zmeta, indent=2, allow_nan=True).encode())


# ---------------------------------------------------------------------------------------------- writer
def to_zarr(ds: Dataset, store: Any = None, *, zarr_format: int | None = None, mode: str = "w-",
            group: str | None = None, encoding: Mapping[Hashable, Mapping] | None = None,
            consolidated: bool | None = True, compute: bool = True, storage_options: dict | None = None,
            append_dim: Hashable | None = None) -> Any:
    """Write ``ds`` to a Zarr store with zarrfast; xarray's ``"zarr"`` engine opens the result identically.

    ``mode``: ``"w-"`` create (fail if something exists), ``"w"`` overwrite, ``"a"`` add or overwrite variables
    (with ``append_dim``: grow existing variables along that dimension), ``"a-"`` like ``"a"`` but with
    ``append_dim`` only variables along it are written, ``"r+"`` only overwrite existing variables.
    ``encoding``: per-variable ``chunks``, ``shards`` (v3), ``compressors``/``compressor``, ``filters``,
    ``serializer`` (v3), ``fill_value`` (v3) and the CF keys (``dtype``, ``_FillValue``, ``scale_factor``,
    ``add_offset``, ``units``, ``calendar``). ``consolidated``: consolidate the store's metadata at the end
    (None means True, as in xarray). ``compute=False`` writes metadata and in-memory data now and returns a
    dask ``Delayed`` that writes the dask-backed data (and consolidates). Returns the zarrfast group written to.
    """
    if isinstance(ds, Variable) or not isinstance(ds, Dataset):
        to_dataset = getattr(ds, "to_dataset", None)
        if to_dataset is None:
            raise TypeError(f"to_zarr writes an xarray Dataset, not {type(ds).__name__}")
        ds = to_dataset() if getattr(ds, "name", None) is not None else to_dataset(name="__xarray_dataarray_variable__")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, not {mode!r}")
    if append_dim is not None:
        if mode in ("w", "w-"):
            raise ValueError(f"append_dim={append_dim!r} needs mode 'a' or 'a-', not {mode!r}")
        if append_dim not in ds.dims:
            raise ValueError(f"append_dim={append_dim!r} is not a dimension of the dataset {tuple(ds.dims)}")
    if zarr_format is not None and int(zarr_format) not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    for name in ds.variables:
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"invalid variable name {name!r}: zarr needs a non-empty str without '/'")
    encoding = {k: dict(v) for k, v in (encoding or {}).items()}
    unknown = [k for k in encoding if k not in ds.variables]
    if unknown:
        raise ValueError(f"encoding given for variables not in the dataset: {unknown!r}")
    for v in ds.variables.values():  # zero-length variables: nothing for dask to do
        if v.size == 0:
            v.load()

    st, grp = _open_target(store, mode, group, zarr_format, storage_options)
    fmt = grp.zarr_format
    existing = {} if mode == "w" else dict(grp.arrays())
    if mode in ("a", "a-", "r+"):
        clash = [k for k in encoding if k in existing]
        if clash:
            raise ValueError(f"variables {clash!r} already exist, but encoding was given for them")
    if mode == "r+":
        new_names = [k for k in ds.variables if k not in existing]
        if new_names:
            raise ValueError(f"dataset contains variables {new_names!r} that are not in the store; mode='r+' only "
                             "overwrites existing variables (use mode='a' to add variables)")
    reader = ZarrfastDataStore(grp, mode="r+") if existing else None
    if append_dim is not None and append_dim not in existing and reader is not None \
            and append_dim not in reader.get_dimensions():
        raise ValueError(f"append_dim={append_dim!r} does not match any existing dimension "
                             f"{reader.get_dimensions()}")

    variables, attrs = conventions.encode_dataset_coordinates(ds)
    for k, enc in encoding.items():
        variables[k].encoding = enc

    if mode not in ("r+",):
        grp.attrs.put({str(k): _encode_attr(v) for k, v in attrs.items()})

    sources, targets, regions = [], [], []
    for name, var in variables.items():
        if name in existing:
            arr, region, enc_var = _prepare_existing(reader, existing[name], name, var, append_dim)
            if mode == "a-" and append_dim is not None and append_dim not in var.dims:
                continue
        else:
            arr, enc_var = _create(grp, st, name, var, fmt, strict=name in encoding)
            region = tuple(slice(None) for _ in range(var.ndim))
        data = enc_var.data
        if _is_dask(data):
            grid = arr.shards or arr.chunks
            start = tuple(r.start or 0 for r in region)
            _check_dask_alignment(enc_var, grid, start, name)
            sources.append(data)
            targets.append(arr)
            regions.append(region)
        else:
            values = np.asarray(enc_var.values)
            if values.dtype.kind == "T" and arr.dtype.kind != "T":
                values = values.astype(arr.dtype)
            arr[region if region else ...] = values

    def finish(*_: Any) -> Group:
        if consolidated or consolidated is None:
            consolidate_metadata(st, path="")
            if fmt == 2:
                _fix_consolidated_v2_fills(st)
        return grp

    if sources:
        import dask.array as da

        stored = da.store(sources, targets, regions=regions, lock=False, compute=compute)
        if not compute:
            import dask

            return dask.delayed(finish)(stored)
    elif not compute:
        import dask

        return dask.delayed(finish)(None)
    return finish()


def _is_dask(data: Any) -> bool:
    return type(data).__module__.startswith("dask.") and hasattr(data, "chunks") and hasattr(data, "dask")


def _create(grp: Group, st: Any, name: str, var: Variable, fmt: int, strict: bool) -> tuple[Array, Variable]:
    """Encode ``var`` and create its zarr array; returns (array, encoded variable)."""
    var = _encode_variable(var, name, fmt)
    attrs = dict(var.attrs)
    enc = _zarr_encoding(var, name, fmt, strict)
    if var.encoding.get("_FillValue") is not None:
        raise ValueError(f"variable {name!r}: zarr does not support _FillValue in encoding after CF encoding")
    dtype = var.dtype
    vlen = _strings.check_vlen_dtype(dtype)
    if vlen is str or dtype.kind == "T":
        create_dtype: Any = str
    elif vlen is bytes:
        create_dtype = bytes
    else:
        create_dtype = dtype
    if fmt == 2:
        fill = attrs.pop("_FillValue", None)
    else:
        fill = enc.pop("fill_value", None)
        if fill is None and dtype.kind == "f":
            fill = np.nan
        if "_FillValue" in attrs:
            fv = attrs.pop("_FillValue")
            if fv is not None:
                attrs["_FillValue"] = _encode_v3_fill_attr(fv, dtype)
    attrs = {str(k): _encode_attr(v) for k, v in attrs.items()}
    attrs.pop(DIMENSION_KEY, None)

    chunks = _grid(var, enc.pop("chunks", None), name)
    shards = enc.pop("shards", None)
    kwargs: dict[str, Any] = {}
    if "compressor" in enc:
        comp = enc.pop("compressor")
        kwargs["compressors"] = None if comp is None else [comp]
    if "compressors" in enc:
        comps = enc.pop("compressors")
        kwargs["compressors"] = None if comps is None else (list(comps) if isinstance(comps, (list, tuple))
                                                           else [comps])
    if "filters" in enc:
        flt = enc.pop("filters")
        flt = list(flt) if isinstance(flt, (list, tuple)) else ([] if flt is None else [flt])
        if fmt == 2 and flt and create_dtype in (str, bytes):
            flt = [f for f in flt if _codec_id(f) not in ("vlen-utf8", "vlen-bytes", "vlen-array")]
        kwargs["filters"] = flt
    if fmt == 3:
        if "serializer" in enc and enc["serializer"] is not None:
            ser = enc.pop("serializer")
            if create_dtype not in (str, bytes) and _codec_id(ser) != "sharding_indexed":
                kwargs["serializer"] = ser
        if shards is not None:
            kwargs["shards"] = _shard_grid(shards, var.ndim) or shards
    if "chunk_key_encoding" in enc:
        kwargs["chunk_key_encoding"] = enc.pop("chunk_key_encoding")
    if "dimension_separator" in enc:
        kwargs["dimension_separator"] = enc.pop("dimension_separator")
    wec = enc.pop("write_empty_chunks", None)
    if fmt == 2 and create_dtype in (str, bytes) and fill is None:
        wec = True  # keep every chunk: the fill (null) is written as "" by zarrfast's model
    arr = grp.create_array(name, shape=var.shape, dtype=create_dtype, chunks=chunks, fill_value=fill,
                           attributes=attrs, dimension_names=list(var.dims), overwrite=True,
                           write_empty_chunks=wec, **kwargs)
    if fmt == 2 and create_dtype in (str, bytes) and fill is None:
        _null_fill_v2_strings(st, arr)
    return arr, var


def _codec_id(codec: Any) -> str | None:
    if isinstance(codec, dict):
        return codec.get("name") or codec.get("id")
    if isinstance(codec, str):
        return codec
    for attr in ("codec_id", "codec_name"):
        if isinstance(getattr(codec, attr, None), str):
            return getattr(codec, attr)
    to_dict = getattr(codec, "to_dict", None) or getattr(codec, "to_v3", None)
    if to_dict is not None:
        try:
            return to_dict().get("name")
        except Exception:  # noqa: BLE001
            return None
    return None


def _prepare_existing(reader: ZarrfastDataStore, arr: Array, name: str, var: Variable,
                      append_dim: Hashable | None) -> tuple[Array, tuple, Variable]:
    """Encode ``var`` exactly like the stored variable ``name`` and find where it goes (growing the array along
    ``append_dim``)."""
    stored = conventions.decode_cf_variable(name, reader.open_store_variable(name))
    if set(var.dims) != set(stored.dims) or len(var.dims) != len(stored.dims):
        raise ValueError(f"variable {name!r} has dimensions {var.dims} but the stored one has {stored.dims}")
    if var.dims != stored.dims:
        var = var.transpose(*stored.dims)
    new = var.copy(deep=False)
    new.encoding = {k: v for k, v in stored.encoding.items() if k not in ("fill_value",)}
    enc_var = _encode_variable(new, name, arr.metadata.zarr_format)
    region: list[slice] = [slice(None)] * var.ndim
    if append_dim is not None and append_dim in var.dims:
        axis = var.dims.index(append_dim)
        old = arr.shape[axis]
        shape = tuple(s + var.shape[axis] if i == axis else s for i, s in enumerate(arr.shape))
        if any(a != b for i, (a, b) in enumerate(zip(arr.shape, var.shape)) if i != axis):
            raise ValueError(f"variable {name!r}: can't append shape {var.shape} to the stored shape {arr.shape}")
        arr.resize(shape)
        region[axis] = slice(old, shape[axis])
    elif tuple(var.shape) != tuple(arr.shape):
        raise ValueError(f"variable {name!r} has shape {var.shape} but the stored array has {arr.shape}; use "
                         "append_dim to grow it")
    return arr, tuple(region), enc_var
