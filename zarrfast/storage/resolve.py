"""Turn whatever a user passed as ``store=`` into a zarrfast :class:`Store`."""
from __future__ import annotations

import os
import re
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from zarrfast.errors import ReadOnlyError, StoreError
from zarrfast.storage.base import Store
from zarrfast.storage.local import LocalStore
from zarrfast.storage.mapping import MappingStore
from zarrfast.storage.memory import MemoryStore
from zarrfast.storage.zip import ZipStore

__all__ = ["MODES", "StoreLike", "make_store"]

StoreLike = Store | str | os.PathLike | MutableMapping | None | Any
MODES = ("r", "r+", "a", "w", "w-", "x")
_WRITE_MODES = ("w", "w-", "x")
_ZIP_MODES = {"r": "r", "r+": "a", "a": "a", "w": "w", "w-": "x", "x": "x"}
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://|::")


def make_store(
    store_like: StoreLike, *, mode: str | None = "a", storage_options: dict[str, Any] | None = None
) -> Store:
    """Return a zarrfast :class:`Store` for ``store_like``.

    * a zarrfast ``Store``: itself (``mode="r"`` on a writable store gives a read-only view;
      ``"w"``/``"w-"``/``"x"`` on a read-only store raise :class:`ReadOnlyError`);
    * ``None``: a new :class:`MemoryStore`;
    * ``str`` / ``os.PathLike``: a :class:`LocalStore`, or a :class:`ZipStore` when the path ends
      in ``.zip`` (zip mode from ``mode``: r->r, r+/a->a, w->w, w-/x->x, or a if the archive exists); ``file://`` URLs are
      local paths; every other URL (``s3://``, ``gs://``, ``az://``, ``http(s)://``,
      ``memory://``, chained ones such as ``zip::s3://b/x.zip``) opens an
      :class:`~zarrfast.storage.fsspec.FsspecStore` with ``storage_options``. Read-only backends
      (HTTP, archives) give a read-only store; asking them for ``"w"``/``"w-"``/``"x"`` raises
      :class:`ReadOnlyError`;
    * an ``fsspec.FSMap`` (``fsspec.get_mapper``): an ``FsspecStore`` over its filesystem and root;
    * a plain ``dict``: a :class:`MemoryStore` over it (data lands in that dict); any other
      ``MutableMapping``: a :class:`MappingStore`;
    * zarr-python 3 ``LocalStore`` / ``MemoryStore`` / ``FsspecStore``: the zarrfast equivalent over the
      same data.

    ``mode="r"`` opens read-only; ``None`` means ``"a"``. The store layer never deletes data because of ``mode``; what
    ``"w"`` means for existing nodes is decided by the array/group API.
    """
    if mode is None:
        mode = "a"
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    read_only = mode == "r"

    if isinstance(store_like, Store):
        if storage_options:
            raise TypeError(_unused_options(store_like))
        if read_only and not store_like.read_only:
            return store_like.with_read_only(True)
        if mode in _WRITE_MODES and store_like.read_only:
            raise ReadOnlyError(f"store {store_like!r} is read-only, but mode is {mode!r}")
        return store_like

    if store_like is None:
        if storage_options:
            raise TypeError(_unused_options(store_like))
        return MemoryStore(read_only=read_only)

    if isinstance(store_like, (str, os.PathLike)):
        path = os.fspath(store_like)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(store_like, str) and _URL_RE.search(path):
            if not _is_plain_file_url(path):
                return _fsspec_store(path, mode, read_only, storage_options)
            path = _local_path_from_url(path)
        if storage_options:
            raise TypeError(_unused_options(store_like))
        if path.lower().endswith(".zip") and not os.path.isdir(path):
            zip_mode = _ZIP_MODES[mode]
            if zip_mode == "x" and os.path.exists(path):
                # an existing archive is opened for appending: the node check then refuses an existing array or
                # group (ContainsArrayError, a FileExistsError) and creates a new node, as in a directory
                zip_mode = "a"
            return ZipStore(path, mode=zip_mode, read_only=read_only)  # type: ignore[arg-type]
        return LocalStore(path, read_only=read_only)

    if _is_fsspec_mapper(store_like):
        if storage_options:
            raise TypeError(_unused_options(store_like))
        from zarrfast.storage.fsspec import FsspecStore

        return _check_mode(FsspecStore.from_mapper(store_like, read_only=read_only), mode)

    if isinstance(store_like, MutableMapping):
        if storage_options:
            raise TypeError(_unused_options(store_like))
        if type(store_like) is dict:
            return MemoryStore(store_like, read_only=read_only)
        return MappingStore(store_like, read_only=read_only)

    converted = _from_zarr_python(store_like, read_only)
    if converted is not None:
        return converted
    raise TypeError(
        f"cannot use {type(store_like).__name__} {store_like!r} as a store: pass a zarrfast "
        "Store, a path, a dict or other MutableMapping, or None"
    )


def _unused_options(store_like: Any) -> str:
    return f"storage_options were given but are not used by {store_like!r} (only fsspec URLs take them)"


def _is_plain_file_url(url: str) -> bool:
    return "::" not in url and urlsplit(url).scheme.lower() == "file"


def _local_path_from_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise StoreError(f"cannot open {url!r}: file:// URLs must name a local path")
    return unquote(parts.path)


def _check_mode(store: Store, mode: str) -> Store:
    if mode in _WRITE_MODES and store.read_only:
        raise ReadOnlyError(
            f"store {store!r} is read-only (its backend cannot be written), but mode is {mode!r}"
        )
    return store


def _fsspec_store(url: str, mode: str, read_only: bool, storage_options: dict[str, Any] | None) -> Store:
    """An FsspecStore for a non-``file://`` URL (fsspec is imported here, not before)."""
    from zarrfast.storage.fsspec import FsspecStore

    return _check_mode(FsspecStore.from_url(url, storage_options=storage_options, read_only=read_only), mode)


def _is_fsspec_mapper(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("fsspec") and hasattr(obj, "fs") and hasattr(obj, "root")


class _ZarrBufferDict(MutableMapping[str, Any]):
    """A bytes view of a zarr-python MemoryStore's dict of ``Buffer`` objects."""

    def __init__(self, buffers: MutableMapping[str, Any]) -> None:
        from zarr.core.buffer import default_buffer_prototype

        self._buffers = buffers
        self._from_bytes = default_buffer_prototype().buffer.from_bytes

    def __getitem__(self, key: str) -> bytes:
        return self._buffers[key].to_bytes()

    def __setitem__(self, key: str, value: Any) -> None:
        self._buffers[key] = self._from_bytes(bytes(value))

    def __delitem__(self, key: str) -> None:
        del self._buffers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._buffers))

    def __len__(self) -> int:
        return len(self._buffers)


def _from_zarr_python(store_like: Any, read_only: bool) -> Store | None:
    """The zarrfast equivalent of a zarr-python 3 store, or ``None`` if it is not one."""
    module = type(store_like).__module__ or ""
    if not module.startswith("zarr."):
        return None
    import zarr.storage as zs

    read_only = read_only or bool(getattr(store_like, "read_only", False))
    if isinstance(store_like, zs.LocalStore):
        return LocalStore(Path(store_like.root), read_only=read_only)
    if isinstance(store_like, zs.MemoryStore):
        buffers = getattr(store_like, "_store_dict", None)
        if isinstance(buffers, MutableMapping):
            return MappingStore(_ZarrBufferDict(buffers), read_only=read_only)
    if isinstance(store_like, zs.FsspecStore):
        from zarrfast.storage.fsspec import FsspecStore

        return FsspecStore(store_like.fs, store_like.path, read_only=read_only)
    raise StoreError(
        f"cannot use zarr-python store {store_like!r} directly; pass its location instead "
        "(a path or URL, or a zarrfast Store such as zarrfast.storage.ZipStore)"
    )
