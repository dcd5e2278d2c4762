"""Small names from ``zarr.storage`` for code moving over from zarr-python 3.

* :class:`WrapperStore`: a store that forwards everything to another store; subclass it and
  override the public methods you want to intercept.
* :class:`StorePath`: a store plus a path inside it, joined with ``/`` (synchronous, unlike
  zarr-python's).

``FsspecStore`` lives in :mod:`zarrfast.storage.fsspec` and is exported from
:mod:`zarrfast.storage`.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Self

from zarrfast.storage.base import BytesLike, ForwardingStore, Store
from zarrfast.storage.keys import validate_prefix

__all__ = ["StorePath", "WrapperStore"]


class WrapperStore(ForwardingStore):
    """Forwards every operation to ``store`` (keys are validated by the wrapped store too)."""

    def __init__(self, store: Store, *, read_only: bool | None = None) -> None:
        if not isinstance(store, Store):
            raise TypeError(f"{type(self).__name__} wraps a zarrfast Store, not {type(store).__name__}")
        if read_only is not None and bool(read_only) != store.read_only:
            store = store.with_read_only(bool(read_only))
        super().__init__(read_only=store.read_only)
        self._store = store

    def _config(self) -> dict[str, Any]:
        return {"store": self._store, "read_only": self._read_only}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._store!r})"

    def with_read_only(self, read_only: bool = True) -> Self:
        return type(self)(self._store.with_read_only(read_only))

    def close(self) -> None:
        self._store.close()
        super().close()

    # Hooks: the wrapped store's public methods (they validate and check read-only themselves).
    def _get(self, key: str) -> bytes | None:
        return self._store.get(key)

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        return self._store.get_many(keys)

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        return self._store.get_range(key, start, length)

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        return self._store.get_ranges(key, ranges)

    def _exists(self, key: str) -> bool:
        return self._store.exists(key)

    def _set(self, key: str, value: bytes | memoryview) -> None:
        self._store.set(key, value)

    def _set_parts(self, key: str, parts: list) -> None:
        self._store.set_parts(key, parts)

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        self._store.set_many(items)

    def _delete(self, key: str) -> None:
        self._store.delete(key)

    def _delete_many(self, keys: list[str]) -> None:
        self._store.delete_many(keys)

    def _delete_prefix(self, prefix: str) -> None:
        self._store.delete_prefix(prefix)

    def _list(self) -> Iterator[str]:
        return self._store.list()

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        return self._store.list_prefix(prefix)

    def _list_dir(self, prefix: str) -> Iterator[str]:
        return self._store.list_dir(prefix)


class StorePath:
    """A location inside a store: ``StorePath(store, "a/b") / "c"`` is ``StorePath(store, "a/b/c")``.

    ``get``/``set``/``delete``/``exists`` act on the key at the path (or at ``path/key`` when a
    ``key`` is given).
    """

    def __init__(self, store: Store, path: str = "") -> None:
        if not isinstance(store, Store):
            raise TypeError(f"StorePath needs a zarrfast Store, not {type(store).__name__}")
        path = str(path).strip("/")
        validate_prefix(path, store)
        self.store = store
        self.path = path

    def _key(self, key: str | None) -> str:
        if key:
            return f"{self.path}/{key}" if self.path else key
        return self.path

    def __truediv__(self, other: str) -> StorePath:
        other = str(other).strip("/")
        return StorePath(self.store, self._key(other) if other else self.path)

    def get(self, key: str | None = None) -> bytes | None:
        return self.store.get(self._key(key))

    def set(self, value: BytesLike, key: str | None = None) -> None:
        self.store.set(self._key(key), value)

    def delete(self, key: str | None = None) -> None:
        self.store.delete(self._key(key))

    def exists(self, key: str | None = None) -> bool:
        return self.store.exists(self._key(key))

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def __str__(self) -> str:
        return f"{self.store!r}/{self.path}" if self.path else repr(self.store)

    def __repr__(self) -> str:
        return f"StorePath({self.store!r}, {self.path!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StorePath):
            return NotImplemented
        return self.store == other.store and self.path == other.path

    def __hash__(self) -> int:
        return hash((self.store, self.path))
