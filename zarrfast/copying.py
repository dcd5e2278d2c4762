"""``copy`` / ``copy_all``: copy arrays and groups between hierarchies (zarrfast, zarr-python or h5py sources).

Data moves in blocks of whole destination chunks along the first axis (at most ``block_bytes`` decoded bytes at a
time), so copying an array larger than memory works. Returns ``(n_copied, n_skipped, n_bytes_copied)`` like
zarr-python 2.x.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import ContainsNodeError

BLOCK_BYTES = 64 * 2**20


def _is_group(obj: Any) -> bool:
    return hasattr(obj, "keys") and not hasattr(obj, "shape")


def _json_attr(value: Any) -> Any:
    """h5py attributes as JSON-able values (numpy scalars/arrays, bytes)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray):
        return [_json_attr(v) for v in value.tolist()] if value.dtype.kind in "SO" else value.tolist()
    if isinstance(value, np.generic):
        return _json_attr(value.item())
    if isinstance(value, list):
        return [_json_attr(v) for v in value]
    return value


def _attrs(source: Any) -> dict:
    return {str(k): _json_attr(v) for k, v in dict(source.attrs).items()}


def _basename(source: Any) -> str:
    name = str(getattr(source, "name", "") or "")
    return name.rstrip("/").rsplit("/", 1)[-1]


def _copy_array(source: Any, dest: Any, name: str, without_attrs: bool, log: Callable[[str], None] | None,
                dry_run: bool, create_kws: dict) -> int:
    if log:
        log(f"copy {getattr(source, 'name', name)} {source.shape} {source.dtype}")
    if dry_run:
        return 0
    kws = dict(create_kws)
    chunks = getattr(source, "chunks", None)
    kws.setdefault("chunks", chunks if chunks else "auto")
    fill = getattr(source, "fill_value", getattr(source, "fillvalue", None))
    if fill is not None:
        kws.setdefault("fill_value", fill)
    if not without_attrs:
        kws.setdefault("attributes", _attrs(source))
    arr = dest.create_array(name, shape=source.shape, dtype=source.dtype, **kws)
    if not source.shape or 0 in source.shape:
        if not source.shape:
            arr[...] = source[()]
        return arr.nbytes
    rows = max(1, arr.chunks[0] * max(1, BLOCK_BYTES // max(1, arr.nbytes // source.shape[0] * arr.chunks[0])))
    for start in range(0, source.shape[0], rows):
        block = np.asarray(source[start:start + rows])
        arr[start:start + len(block)] = block
    return arr.nbytes


def copy(source: Any, dest: Any, name: str | None = None, shallow: bool = False, without_attrs: bool = False,
         log: Callable[[str], None] | None = None, if_exists: str = "raise", dry_run: bool = False,
         **create_kws: Any) -> tuple[int, int, int]:
    """Copy the array or group ``source`` into the group ``dest`` as ``name`` (default: the source's name).

    ``if_exists``: 'raise', 'skip' or 'replace'. ``shallow`` copies a group without its members.
    """
    if if_exists not in ("raise", "skip", "replace"):
        raise ValueError(f"if_exists must be 'raise', 'skip' or 'replace', not {if_exists!r}")
    name = name or _basename(source)
    if not name:
        raise ValueError("copy needs a name for a source without one (e.g. a root group)")
    if name in dest:
        if if_exists == "raise":
            raise ContainsNodeError(f"{name!r} already exists in {getattr(dest, 'name', dest)!r} (if_exists='raise')")
        if if_exists == "skip":
            return 0, 1, 0
        if not dry_run:
            del dest[name]
    if not _is_group(source):
        return 1, 0, _copy_array(source, dest, name, without_attrs, log, dry_run, create_kws)
    if log:
        log(f"copy {getattr(source, 'name', name)} (group)")
    if dry_run:
        sub = dest
    else:
        sub = dest.create_group(name, attributes=None if without_attrs else _attrs(source))
    copied, skipped, nbytes = 1, 0, 0
    if not shallow:
        for key in list(source.keys()):
            c, s, b = copy(source[key], sub, name=key, shallow=False, without_attrs=without_attrs, log=log,
                           if_exists=if_exists, dry_run=dry_run, **create_kws)
            copied, skipped, nbytes = copied + c, skipped + s, nbytes + b
    return copied, skipped, nbytes


def copy_all(source: Any, dest: Any, shallow: bool = False, without_attrs: bool = False,
             log: Callable[[str], None] | None = None, if_exists: str = "raise", dry_run: bool = False,
             **create_kws: Any) -> tuple[int, int, int]:
    """Copy every member of the group ``source`` (zarrfast, zarr-python or h5py) into the group ``dest``,
    and its attributes unless ``without_attrs``."""
    copied = skipped = nbytes = 0
    for key in list(source.keys()):
        c, s, b = copy(source[key], dest, name=key, shallow=shallow, without_attrs=without_attrs, log=log,
                       if_exists=if_exists, dry_run=dry_run, **create_kws)
        copied, skipped, nbytes = copied + c, skipped + s, nbytes + b
    if not without_attrs and not dry_run:
        dest.attrs.update(_attrs(source))
    return copied, skipped, nbytes
