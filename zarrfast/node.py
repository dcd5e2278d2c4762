"""What arrays and groups share: where they live and what they are called."""
from __future__ import annotations

from typing import Any


class Node:
    """Base of :class:`~zarrfast.Array` and :class:`~zarrfast.Group` (needs ``_store``, ``_path``,
    ``_read_only`` and ``_metadata`` set by the subclass)."""

    _store: Any
    _path: str
    _read_only: bool
    _metadata: Any

    @property
    def metadata(self) -> Any:
        return self._metadata

    @property
    def store(self) -> Any:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        return "/" + self._path

    @property
    def basename(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def zarr_format(self) -> int:
        return self._metadata.zarr_format
