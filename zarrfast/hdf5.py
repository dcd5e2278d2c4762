"""HDF5 / NetCDF4 files as copy sources (through h5py): datasets, groups, attributes and dimension names.

:class:`H5Dataset` reads one dataset and pickles as ``(filename, name)``, reopening the file in whichever process
uses it, so conversion blocks can run on dask workers. Dimension scales (how NetCDF4 stores dimensions) become
dimension names; the attributes HDF5 and NetCDF4 use for bookkeeping are left out.
"""
from __future__ import annotations

import os
import threading
from typing import Any, Iterator

import numpy as np

from .errors import NodeNotFoundError, StoreError

HDF5_EXTENSIONS = (".h5", ".hdf5", ".hdf", ".he5", ".nc", ".nc4", ".netcdf")
# bookkeeping attributes of HDF5 dimension scales and NetCDF4 that have no meaning in Zarr
HIDDEN_ATTRS = frozenset({"CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid",
                          "_Netcdf4Coordinates", "_NCProperties", "_nc3_strict", "_SuperblockVersion",
                          "_IsNetcdf4"})
_PHONY_DIM = "This is a netCDF dimension but not a netCDF variable"

_files: dict[tuple[str, int], Any] = {}
_files_lock = threading.Lock()


def is_hdf5(path: Any) -> bool:
    """True for an existing local file that starts with the HDF5 signature."""
    try:
        p = os.fspath(path)
    except TypeError:
        return False
    if not isinstance(p, str) or not os.path.isfile(p):
        return False
    with open(p, "rb") as f:
        head = f.read(8)
    if head == b"\x89HDF\r\n\x1a\n":
        return True
    # the signature may also sit at 512, 1024, ... (user block); trust the extension then
    return p.lower().endswith(HDF5_EXTENSIONS) and _h5py().is_hdf5(p)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a test dependency
        raise ImportError("reading HDF5/NetCDF4 files needs h5py: pip install h5py") from e
    return h5py


def open_file(filename: str) -> Any:
    """A shared read-only h5py File for this process."""
    key = (os.path.abspath(filename), os.getpid())
    with _files_lock:
        f = _files.get(key)
        if f is None or not f.id.valid:
            try:
                f = _h5py().File(filename, "r")
            except OSError as e:
                raise StoreError(f"cannot open HDF5 file {filename!r}: {e}") from None
            _files[key] = f
        return f


def json_attr(value: Any) -> Any:
    """An HDF5 attribute value as JSON (bytes decoded, numpy types to Python)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return json_attr(value[()])
        return [json_attr(v) for v in value.tolist()] if value.dtype.kind in "SOU" else _finite(value.tolist())
    if isinstance(value, np.generic):
        return json_attr(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return "NaN" if np.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (list, tuple)):
        return [json_attr(v) for v in value]
    return value


def _finite(values: Any) -> Any:
    if isinstance(values, list):
        return [_finite(v) for v in values]
    return json_attr(values) if isinstance(values, float) else values


def attributes(obj: Any) -> dict[str, Any]:
    """User attributes of an h5py object, without HDF5/NetCDF4 bookkeeping."""
    out = {}
    for k in obj.attrs:
        if k in HIDDEN_ATTRS:
            continue
        try:
            out[str(k)] = json_attr(obj.attrs[k])
        except (OSError, TypeError):  # attributes h5py can't read (e.g. references): skip
            continue
    return out


def dimension_names(ds: Any) -> tuple[str | None, ...] | None:
    """Names of the dimension scales attached to ``ds`` (NetCDF4 dimensions), or None if it has none."""
    names: list[str | None] = []
    try:
        dims = ds.dims
        for dim in dims:
            scales = list(dim.values()) if len(dim) else []
            if not scales:
                names.append(dim.label or None)
                continue
            scale = scales[0]
            name = scale.name.rsplit("/", 1)[-1]
            names.append(name)
    except (RuntimeError, TypeError, ValueError):
        return None
    if len(names) == 1 and names[0] is None and _h5py().h5ds.is_scale(ds.id):
        names[0] = ds.name.rsplit("/", 1)[-1]  # a coordinate variable: it is its own dimension
    return tuple(names) if any(n is not None for n in names) else None


def _zarr_dtype(dtype: np.dtype) -> np.dtype:
    h5py = _h5py()
    info = h5py.check_string_dtype(dtype)
    if info is not None and dtype.kind == "O":
        return np.dtypes.StringDType()  # variable-length strings -> Zarr "string" / vlen-utf8
    if h5py.check_vlen_dtype(dtype) is not None:
        raise TypeError(f"variable-length HDF5 sequences ({dtype}) have no Zarr data type")
    return dtype


class H5Dataset:
    """One HDF5 dataset as an array-like source: ``shape``, ``dtype``, ``chunks``, ``fill_value``, ``attrs``,
    ``dimension_names`` and ``[region]`` reads. Pickles as (filename, name)."""

    def __init__(self, filename: str, name: str) -> None:
        self.filename = os.fspath(filename)
        self.name = name
        ds = self._dataset()
        self.shape = tuple(int(n) for n in ds.shape)
        self.dtype = _zarr_dtype(ds.dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple(int(c) for c in ds.chunks) if ds.chunks else None
        fill = ds.fillvalue
        if "_FillValue" in ds.attrs:
            fill = ds.attrs["_FillValue"]
        self.fill_value = _fill(fill, self.dtype)
        self.attrs = attributes(ds)
        self.dimension_names = dimension_names(ds)
        self.compression = ds.compression

    def _dataset(self) -> Any:
        f = open_file(self.filename)
        try:
            return f[self.name]
        except KeyError:
            raise NodeNotFoundError(f"no dataset {self.name!r} in {self.filename!r}") from None

    def __getitem__(self, region: Any) -> np.ndarray:
        ds = self._dataset()
        if self.shape == ():
            return np.asarray(ds[()], dtype=self.dtype)
        if isinstance(self.dtype, np.dtypes.StringDType):
            return np.asarray(ds.asstr()[region], dtype=self.dtype)
        return np.asarray(ds[region])

    def __reduce__(self) -> tuple[Any, ...]:
        return (H5Dataset, (self.filename, self.name))

    def __repr__(self) -> str:
        return f"<H5Dataset {self.filename}:{self.name} shape={self.shape} dtype={self.dtype}>"


def _fill(value: Any, dtype: np.dtype) -> Any:
    if isinstance(dtype, np.dtypes.StringDType):
        return ""
    if value is None or dtype.kind in "OV":
        return None if dtype.kind == "O" else value
    arr = np.asarray(value)
    if arr.size != 1:
        return None
    v = arr.reshape(()).item()
    if isinstance(v, bytes) and dtype.kind == "S":
        return v
    return v


def walk(filename: str, root: str = "/") -> Iterator[tuple[str, str, Any]]:
    """``(kind, path, object)`` for the group at ``root`` and everything below it, parents first.

    ``kind`` is ``"group"`` (object: attributes dict) or ``"array"`` (object: :class:`H5Dataset`); ``path`` is
    relative to ``root`` (``""`` for the root itself). Phony NetCDF dimension datasets are skipped.
    """
    f = open_file(filename)
    start = f[root] if root not in ("", "/") else f
    base = start.name.rstrip("/")
    h5py = _h5py()
    if isinstance(start, h5py.Dataset):
        yield "array", "", H5Dataset(filename, start.name)
        return
    yield "group", "", attributes(start)
    names: list[str] = []
    start.visit(names.append)
    for name in names:
        obj = start[name]
        rel = name
        if isinstance(obj, h5py.Group):
            yield "group", rel, attributes(obj)
        elif isinstance(obj, h5py.Dataset):
            if _is_phony_dimension(obj):
                continue
            yield "array", rel, H5Dataset(filename, f"{base}/{name}" if base else f"/{name}")


def _is_phony_dimension(ds: Any) -> bool:
    name = ds.attrs.get("NAME")
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    return isinstance(name, str) and name.startswith(_PHONY_DIM)
