"""Synchronous key/value stores: the layer every array and group reads and writes through.

Stores ``get`` / ``set`` / ``delete`` / ``list`` byte strings under ``"/"``-separated keys;
``_many`` variants batch. See :class:`Store` for the full interface.
"""
from __future__ import annotations

from zarrfast.storage.base import Store, UnsupportedOperationError
from zarrfast.storage.keys import validate_key, validate_prefix
from zarrfast.storage.local import LocalStore
from zarrfast.storage.mapping import MappingStore
from zarrfast.storage.memory import MemoryStore
from zarrfast.storage.resolve import StoreLike, make_store
from zarrfast.storage.wrappers import CountingStore, LoggingStore
from zarrfast.storage.zip import ZipStore

__all__ = [
    "CountingStore",
    "LocalStore",
    "LoggingStore",
    "MappingStore",
    "MemoryStore",
    "Store",
    "StoreLike",
    "UnsupportedOperationError",
    "ZipStore",
    "make_store",
    "validate_key",
    "validate_prefix",
]
