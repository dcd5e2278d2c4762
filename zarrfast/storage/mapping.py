"""A store over any ``MutableMapping[str, bytes]`` (a dict, a ``shelve``, a user's class ...).

This is how zarr-python 2 let users pass a plain ``dict`` as a store; values written by the
store are ``bytes`` copies, so later changes to a caller's ``bytearray`` or array do not leak in.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, MutableMapping
from typing import Any

from zarrfast.storage.base import Store

__all__ = ["MappingStore"]


def _to_bytes(value: Any) -> bytes:
    return value if type(value) is bytes else bytes(value)


class MappingStore(Store):
    """A store whose keys and values live in ``mapping``.

    All operations on the mapping are made under one lock, so the store is thread-safe even
    when the mapping itself is not. Values found in the mapping that are not ``bytes`` (for
    example ``bytearray`` or numpy arrays put there by the user) are returned as ``bytes``.
    Equality is identity of the mapping; pickling pickles the mapping.
    """

    supports_partial_reads = False  # ranges are served by slicing the whole value

    def __init__(self, mapping: MutableMapping[str, Any], *, read_only: bool = False) -> None:
        if not isinstance(mapping, MutableMapping):
            raise TypeError(f"MappingStore needs a MutableMapping, not {type(mapping).__name__}")
        super().__init__(read_only=read_only)
        self._mapping = mapping
        self._lock = threading.RLock()

    @property
    def mapping(self) -> MutableMapping[str, Any]:
        """The underlying mapping (shared, not copied)."""
        return self._mapping

    def _config(self) -> dict[str, Any]:
        return {"mapping": self._mapping, "read_only": self._read_only}

    def _location(self) -> Any:
        return id(self._mapping)

    def _location_str(self) -> str:
        return f"<{type(self._mapping).__name__} at {id(self._mapping):#x}>"

    # ---------------------------------------------------------------- hooks
    def _get(self, key: str) -> bytes | None:
        with self._lock:
            try:
                value = self._mapping[key]
            except KeyError:
                return None
        return _to_bytes(value)

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        mapping = self._mapping
        out: list[Any] = []
        with self._lock:
            for key in keys:
                try:
                    out.append(mapping[key])
                except KeyError:
                    out.append(None)
        return [v if v is None or type(v) is bytes else bytes(v) for v in out]

    def _exists(self, key: str) -> bool:
        with self._lock:
            return key in self._mapping

    def _set(self, key: str, value: bytes | memoryview) -> None:
        value = _to_bytes(value)
        with self._lock:
            self._mapping[key] = value

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        converted = [(k, _to_bytes(v)) for k, v in items]
        with self._lock:
            for key, value in converted:
                self._mapping[key] = value

    def _delete(self, key: str) -> None:
        with self._lock:
            self._mapping.pop(key, None)

    def _delete_many(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                self._mapping.pop(key, None)

    def _delete_prefix(self, prefix: str) -> None:
        with self._lock:
            if not prefix:
                self._mapping.clear()
                return
            for key in [k for k in self._mapping if k.startswith(prefix)]:
                del self._mapping[key]

    def _snapshot(self) -> list[str]:
        with self._lock:
            return list(self._mapping)

    def _list(self) -> Iterator[str]:
        return iter(self._snapshot())

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        keys = self._snapshot()
        if not prefix:
            return iter(keys)
        return iter([k for k in keys if k.startswith(prefix)])
