"""An in-memory store: a dict of ``bytes``, thread-safe."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from zarrfast.storage.mapping import MappingStore

__all__ = ["MemoryStore"]


class MemoryStore(MappingStore):
    """A store that keeps every value in ``store_dict`` (a new ``dict`` by default).

    Passing your own dict shares it: values written through the store land in that dict.
    Reads from a plain ``dict`` take no lock (``dict`` lookups are atomic); writes, deletes and
    listings do. Two MemoryStores are equal when they share the same dict. Pickling copies the
    data (the dict is pickled with the store).
    """

    supports_partial_reads = True  # slicing in memory is as cheap as a range read can be

    def __init__(
        self, store_dict: MutableMapping[str, Any] | None = None, *, read_only: bool = False
    ) -> None:
        super().__init__({} if store_dict is None else store_dict, read_only=read_only)
        self._plain_dict = type(self._mapping) is dict

    @property
    def store_dict(self) -> MutableMapping[str, Any]:
        """The dict holding the data (shared, not copied)."""
        return self._mapping

    def _config(self) -> dict[str, Any]:
        return {"store_dict": self._mapping, "read_only": self._read_only}

    def _location_str(self) -> str:
        return f"memory://{id(self._mapping):#x}"

    def _get(self, key: str) -> bytes | None:
        if self._plain_dict:
            value = self._mapping.get(key)
            if value is None or type(value) is bytes:
                return value
            return bytes(value)
        return super()._get(key)

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        if self._plain_dict:
            get = self._mapping.get
            out = [get(key) for key in keys]
            return [v if v is None or type(v) is bytes else bytes(v) for v in out]
        return super()._get_many(keys)

    def _exists(self, key: str) -> bool:
        if self._plain_dict:
            return key in self._mapping
        return super()._exists(key)
