"""The ``engine="zarrfast"`` xarray backend.

What it returns matches xarray's own ``"zarr"`` engine (same variables, dimensions, attributes, CF decoding and
the key encoding fields ``chunks``, ``preferred_chunks``, ``shards``, ``fill_value``, ``dtype``), with these
deliberate differences:

* ``preferred_chunks`` (what ``chunks={}`` gives dask) follow the *shards* of a sharded array, so one dask task
  reads whole shards; xarray uses the inner chunks. ``encoding["chunks"]`` is the inner chunk shape, as in xarray.
* v3 ``encoding["compressors"]`` / ``["filters"]`` / ``["serializer"]`` hold codec JSON dicts
  (``{"name": ..., "configuration": ...}``) rather than zarr-python codec objects; v2 ones are numcodecs objects
  (as in xarray; JSON dicts if numcodecs is missing). Either way the encoding can be written again by zarr-python
  (``ds.to_zarr``) and by :func:`zarrfast.xarray.to_zarr`.
* no RuntimeWarning when ``consolidated=None`` finds no consolidated metadata.
* NCZarr: dimension names also come from the newer NCZarr layouts (``_nczarr_array`` in ``.zarray`` or in
  ``.zattrs`` with ``dimension_references``, and the 1.0 ``.nczarray`` key), not only from xarray's
  ``_NCZARR_ARRAY`` ``dimrefs``.
"""
from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from xarray import Dataset, DataTree, Variable
from xarray.backends import AbstractDataStore, BackendArray, BackendEntrypoint, StoreBackendEntrypoint
from xarray.core import indexing

from ..array import Array
from ..errors import GroupNotFoundError
from ..group import Group, open_group
from ..storage import make_store

__all__ = ["ZarrfastBackendArray", "ZarrfastBackendEntrypoint", "ZarrfastDataStore", "open_zarrfast_group"]

DIMENSION_KEY = "_ARRAY_DIMENSIONS"


# ---------------------------------------------------------------------------------------------- lazy array
class ZarrfastBackendArray(BackendArray):
    """A zarrfast Array behind xarray's lazy indexing: nothing is read until values are asked for."""

    __slots__ = ("_array", "dtype", "shape")

    def __init__(self, array: Array) -> None:
        self._array = array
        self.shape = tuple(array.shape)
        self.dtype = array.dtype

    def get_array(self) -> Array:
        return self._array

    def _basic(self, key: tuple) -> Any:
        return self._array[key]

    def _outer(self, key: tuple) -> Any:
        if all(isinstance(k, slice) or np.ndim(k) == 0 for k in key):
            return self._array[key]
        return self._array.oindex[key]

    def _vectorized(self, key: tuple) -> Any:
        return self._array.vindex[_slices_to_arrays(key, self.shape)]

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        if isinstance(key, indexing.BasicIndexer):
            method = self._basic
        elif isinstance(key, indexing.VectorizedIndexer):
            method = self._vectorized
        elif isinstance(key, indexing.OuterIndexer):
            method = self._outer
        else:  # pragma: no cover - xarray only sends these three
            raise TypeError(f"unexpected indexer {type(key).__name__}")
        value = indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.VECTORIZED, method)
        if not isinstance(value, np.ndarray):
            value = np.asarray(value, dtype=self.dtype)
        return value


def _slices_to_arrays(key: tuple, shape: tuple[int, ...]) -> tuple:
    """A vectorized key with its slices replaced by integer arrays, broadcast as numpy would: the slice axes
    follow the broadcast shape of the array indices, in order."""
    n_slices = sum(isinstance(k, slice) for k in key)
    if not n_slices:
        return key
    arrays = [k for k in key if not isinstance(k, slice)]
    bshape = np.broadcast_shapes(*(np.shape(a) for a in arrays)) if arrays else ()
    out = []
    seen = 0
    for k, size in zip(key, shape):
        if isinstance(k, slice):
            idx = np.arange(*k.indices(size))
            out.append(idx.reshape((1,) * len(bshape) + (1,) * seen + (-1,) + (1,) * (n_slices - seen - 1)))
            seen += 1
        else:
            a = np.broadcast_to(np.asarray(k), bshape)
            out.append(a.reshape(bshape + (1,) * n_slices))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- data store
def _decode_v3_fill_attr(value: Any, dtype: np.dtype) -> Any:
    """A ``_FillValue`` attribute of a v3 array as xarray's zarr writer encodes it (floats as base64 of a
    little-endian double, complex as two of those, bytes as base64)."""
    kind = dtype.kind
    if kind == "f":
        if isinstance(value, (str, bytes)):
            return struct.unpack("<d", base64.standard_b64decode(value))[0]
        return float(value)
    if kind == "c":
        re, im = (struct.unpack("<d", base64.standard_b64decode(v))[0] for v in value)
        return complex(re, im)
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    if kind == "S":
        return base64.standard_b64decode(value)
    return str(value) if kind in "UOT" else value


def _is_nc_attr(name: str) -> bool:
    return name.lower().startswith("_nc")


def _nczarr_dimensions(array: Array) -> list[str] | None:
    """Dimension names from NCZarr metadata (fully qualified names: the basename is the dimension)."""
    meta = array.metadata
    refs = None
    for key in ("_NCZARR_ARRAY", "_nczarr_array"):  # netCDF-C 4.8 / 4.9.0-4.9.2: extra keys of .zarray
        doc = meta.extra_fields.get(key)
        if isinstance(doc, dict):
            refs = doc.get("dimrefs", doc.get("dimension_references"))
            if refs is not None:
                break
    if refs is None:  # netCDF-C >= 4.9.3: an attribute
        doc = meta.attributes.get("_nczarr_array")
        if isinstance(doc, dict):
            refs = doc.get("dimension_references", doc.get("dimrefs"))
    if refs is None:  # NCZarr 1.0 (netCDF-C 4.8.0): a separate .nczarray document
        try:
            raw = array.store.get(f"{array.path}/.nczarray" if array.path else ".nczarray")
        except Exception:  # noqa: BLE001 - a store that can't hold such a key has none
            raw = None
        if raw is not None:
            try:
                refs = json.loads(raw).get("dimrefs")
            except (ValueError, AttributeError):
                refs = None
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        return None
    return [r.rstrip("/").rsplit("/", 1)[-1] for r in refs]


def _v2_codec(config: dict) -> Any:
    """A v2 codec as the numcodecs object zarr-python takes (and xarray's engine gives), else its JSON dict."""
    try:
        import numcodecs

        return numcodecs.get_codec(dict(config))
    except Exception:  # noqa: BLE001 - numcodecs missing or codec unknown to it
        return dict(config)


class ZarrfastDataStore(AbstractDataStore):
    """One zarrfast group as an xarray data store (read-only)."""

    def __init__(self, group: Group, *, mode: str = "r", use_zarr_fill_value_as_mask: bool | None = None,
                 root: Group | None = None) -> None:
        self.zarr_group = group
        self._root = root if root is not None else group
        self._mode = mode
        if use_zarr_fill_value_as_mask is None:
            use_zarr_fill_value_as_mask = self._root.zarr_format == 2
        self._fill_as_mask = use_zarr_fill_value_as_mask
        self._members = dict(group.members())

    @property
    def ds(self) -> Group:
        return self.zarr_group

    def arrays(self) -> list[tuple[str, Array]]:
        return [(k, v) for k, v in self._members.items() if isinstance(v, Array)]

    def groups(self) -> list[tuple[str, Group]]:
        return [(k, v) for k, v in self._members.items() if isinstance(v, Group)]

    # ---- per array ---------------------------------------------------------------------------------------
    def _dims_and_attrs(self, array: Array) -> tuple[tuple[str, ...], dict]:
        attrs = dict(array.attrs)
        if array.metadata.zarr_format == 3:
            dims = tuple(array.metadata.dimension_names or ())
            if len(dims) != array.ndim:
                raise KeyError(f"zarr array {array.name!r} has no `dimension_names` metadata, which xarray "
                               "needs to know the dimensions of the variable")
            return dims, attrs
        dims = attrs.get(DIMENSION_KEY)
        if dims is None:
            if self._mode == "r":
                dims = _nczarr_dimensions(array)
            if dims is None:
                raise KeyError(f"zarr array {array.name!r} has neither the attribute `{DIMENSION_KEY}` nor NCZarr "
                               "metadata, which xarray needs to know the dimensions of the variable")
        if isinstance(dims, str):
            dims = [dims]
        hidden = {k for k in attrs if k == DIMENSION_KEY or _is_nc_attr(k)}
        return tuple(dims), {k: v for k, v in attrs.items() if k not in hidden}

    def _raw_v2_fill(self, array: Array) -> Any:
        """The ``fill_value`` of a v2 ``.zarray`` as written (zarrfast reads ``null`` as ``""`` for strings)."""
        doc = None
        cm = self._root.metadata.consolidated_metadata
        if cm is not None and self._root.zarr_format == 2:
            rel = array.path[len(self._root.path):].strip("/")
            doc = (cm.get("metadata") or {}).get(f"{rel}/.zarray")
        if doc is None:
            raw = array.store.get(f"{array.path}/.zarray" if array.path else ".zarray")
            doc = json.loads(raw) if raw is not None else {}
        return doc.get("fill_value", array.fill_value)

    def open_store_variable(self, name: str) -> Variable:
        array = self._members[name]
        dims, attrs = self._dims_and_attrs(array)
        meta = array.metadata
        wrapper = ZarrfastBackendArray(array)
        data = indexing.LazilyIndexedArray(wrapper)
        chunks = tuple(array.chunks)
        shards = array.shards
        encoding: dict[str, Any] = {
            "chunks": chunks,
            "preferred_chunks": dict(zip(dims, shards if shards is not None else chunks)),
        }
        if wrapper.dtype.kind == "T":
            encoding["dtype"] = wrapper.dtype
        if meta.zarr_format == 3:
            encoding["compressors"] = tuple(c.to_v3() for c in array.compressors)
            encoding["filters"] = tuple(c.to_v3() for c in array.filters)
        else:
            encoding["compressors"] = (_v2_codec(meta.compressor),) if meta.compressor else ()
            encoding["filters"] = tuple(_v2_codec(f) for f in meta.filters or ())
        encoding["shards"] = shards
        if self._root.zarr_format == 3:
            encoding["serializer"] = array.serializer.to_v3() if array.serializer is not None else None

        fill = array.fill_value
        if meta.zarr_format == 2 and array.dtype.kind in "OT" and fill in ("", b""):
            fill = self._raw_v2_fill(array)
        if self._fill_as_mask:
            if fill is not None:
                attrs["_FillValue"] = fill
        else:
            if self._root.zarr_format == 3:
                encoding["fill_value"] = fill
            if "_FillValue" in attrs:
                attrs["_FillValue"] = _decode_v3_fill_attr(attrs["_FillValue"], array.dtype)
        return Variable(dims, data, attrs, encoding)

    # ---- AbstractDataStore -------------------------------------------------------------------------------
    def get_variables(self) -> dict[str, Variable]:
        return {k: self.open_store_variable(k) for k, _ in self.arrays()}

    def get_attrs(self) -> dict:
        return {k: v for k, v in dict(self.zarr_group.attrs).items() if not _is_nc_attr(k)}

    def get_dimensions(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for _, array in self.arrays():
            dims, _ = self._dims_and_attrs(array)
            if len(dims) != array.ndim:
                raise ValueError(f"zarr array {array.name!r} has {array.ndim} dimensions but {len(dims)} "
                                 f"dimension names {list(dims)}")
            for d, s in zip(dims, array.shape):
                if sizes.get(d, s) != s:
                    raise ValueError(f"found conflicting lengths for dimension {d} ({s} != {sizes[d]})")
                sizes[d] = s
        return sizes

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------- opening
def _as_store_like(obj: Any) -> Any:
    if isinstance(obj, os.PathLike):
        obj = os.fspath(obj)
    if isinstance(obj, str) and "://" not in obj:
        obj = os.path.expanduser(obj)
    return obj


def open_zarrfast_group(store: Any, *, group: str | None = None, mode: str = "r", consolidated: bool | None = None,
                        storage_options: dict | None = None, zarr_format: int | None = None
                        ) -> tuple[Group, Group]:
    """(root the consolidated metadata was read from, the group at ``group``), like xarray's zarr engine:
    ``consolidated=None`` uses consolidated metadata at the store's root when there is some, ``True`` requires
    it, ``False`` never reads it."""
    st = make_store(_as_store_like(store), mode=mode, storage_options=storage_options)
    path = (group or "").strip("/")
    try:
        if consolidated is False:
            grp = open_group(st, mode=mode, path=path, zarr_format=zarr_format, use_consolidated=False)
            return grp, grp
        try:
            root = open_group(st, mode=mode, zarr_format=zarr_format, use_consolidated=consolidated)
        except GroupNotFoundError:
            if not path or consolidated:
                raise
            grp = open_group(st, mode=mode, path=path, zarr_format=zarr_format, use_consolidated=False)
            return grp, grp
        if not path:
            return root, root
        sub = root[path]
        if not isinstance(sub, Group):
            raise GroupNotFoundError(f"path {path!r} in {st!r} holds an array, not a group")
        return root, sub
    except GroupNotFoundError as e:
        raise FileNotFoundError(f"no zarr group at {store!r} (group {group!r}): {e}") from e


def _iter_groups(group: Group, prefix: str = "/") -> Iterator[tuple[str, Group]]:
    yield prefix, group
    for name, sub in group.groups():
        yield from _iter_groups(sub, (prefix.rstrip("/") + "/" + name))


class ZarrfastBackendEntrypoint(BackendEntrypoint):
    """Open Zarr v2/v3 (and NCZarr) stores with zarrfast: ``xr.open_dataset(path, engine="zarrfast")``."""

    description = "Open Zarr (v2, v3) and NCZarr stores in xarray using zarrfast"
    url = "https://github.com/zarrfast/zarrfast"
    supports_groups = True
    open_dataset_parameters = (
        "filename_or_obj", "mask_and_scale", "decode_times", "concat_characters", "decode_coords",
        "drop_variables", "use_cftime", "decode_timedelta", "group", "mode", "consolidated", "storage_options",
        "zarr_format", "use_zarr_fill_value_as_mask",
    )

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        # xarray's own zarr engine claims *.zarr paths; do so only where it is not available
        import importlib.util

        if importlib.util.find_spec("zarr") is not None:
            return False
        if isinstance(filename_or_obj, (str, os.PathLike)):
            return os.path.splitext(str(filename_or_obj).rstrip("/"))[1] == ".zarr"
        return False

    def _decode(self, store: ZarrfastDataStore, **decode: Any) -> Dataset:
        return StoreBackendEntrypoint().open_dataset(store, **decode)

    def open_dataset(self, filename_or_obj: Any, *, mask_and_scale: bool = True, decode_times: Any = True,
                     concat_characters: bool = True, decode_coords: Any = True,
                     drop_variables: str | Iterable[str] | None = None, use_cftime: bool | None = None,
                     decode_timedelta: Any = None, group: str | None = None, mode: str = "r",
                     consolidated: bool | None = None, storage_options: dict | None = None,
                     zarr_format: int | None = None, use_zarr_fill_value_as_mask: bool | None = None) -> Dataset:
        root, grp = open_zarrfast_group(filename_or_obj, group=group, mode=mode, consolidated=consolidated,
                                        storage_options=storage_options, zarr_format=zarr_format)
        store = ZarrfastDataStore(grp, mode=mode, root=root, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask)
        return self._decode(store, mask_and_scale=mask_and_scale, decode_times=decode_times,
                            concat_characters=concat_characters, decode_coords=decode_coords,
                            drop_variables=drop_variables, use_cftime=use_cftime, decode_timedelta=decode_timedelta)

    def open_groups_as_dict(self, filename_or_obj: Any, *, mask_and_scale: bool = True, decode_times: Any = True,
                            concat_characters: bool = True, decode_coords: Any = True,
                            drop_variables: str | Iterable[str] | None = None, use_cftime: bool | None = None,
                            decode_timedelta: Any = None, group: str | None = None, mode: str = "r",
                            consolidated: bool | None = None, storage_options: dict | None = None,
                            zarr_format: int | None = None) -> dict[str, Dataset]:
        root, top = open_zarrfast_group(filename_or_obj, group=group, mode=mode, consolidated=consolidated,
                                        storage_options=storage_options, zarr_format=zarr_format)
        out: dict[str, Dataset] = {}
        for path, grp in _iter_groups(top):
            store = ZarrfastDataStore(grp, mode=mode, root=root)
            out[path] = self._decode(store, mask_and_scale=mask_and_scale, decode_times=decode_times,
                                     concat_characters=concat_characters, decode_coords=decode_coords,
                                     drop_variables=drop_variables, use_cftime=use_cftime,
                                     decode_timedelta=decode_timedelta)
        return out

    def open_datatree(self, filename_or_obj: Any, *, mask_and_scale: bool = True, decode_times: Any = True,
                      concat_characters: bool = True, decode_coords: Any = True,
                      drop_variables: str | Iterable[str] | None = None, use_cftime: bool | None = None,
                      decode_timedelta: Any = None, group: str | None = None, mode: str = "r",
                      consolidated: bool | None = None, storage_options: dict | None = None,
                      zarr_format: int | None = None) -> DataTree:
        groups = self.open_groups_as_dict(filename_or_obj, mask_and_scale=mask_and_scale, decode_times=decode_times,
                                          concat_characters=concat_characters, decode_coords=decode_coords,
                                          drop_variables=drop_variables, use_cftime=use_cftime,
                                          decode_timedelta=decode_timedelta, group=group, mode=mode,
                                          consolidated=consolidated, storage_options=storage_options,
                                          zarr_format=zarr_format)
        return DataTree.from_dict(groups)
