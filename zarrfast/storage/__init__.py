"""Synchronous key/value stores: the layer every array and group reads and writes through.

Stores ``get`` / ``set`` / ``delete`` / ``list`` byte strings under ``"/"``-separated keys;
``_many`` variants batch. See :class:`Store` for the full interface.
"""
from __future__ import annotations

from zarrfast.storage.base import Store, UnsupportedOperationError
from zarrfast.storage.cache import CacheStore
from zarrfast.storage.compat import StorePath, WrapperStore
from zarrfast.storage.fsspec import FsspecStore
from zarrfast.storage.keys import validate_key, validate_prefix
from zarrfast.storage.lmdb_store import LMDBStore
from zarrfast.storage.local import LocalStore
from zarrfast.storage.mapping import MappingStore
from zarrfast.storage.memory import MemoryStore
from zarrfast.storage.redis_store import RedisStore
from zarrfast.storage.reference import ReferenceStore
from zarrfast.storage.resolve import StoreLike, make_store
from zarrfast.storage.sqlite import SQLiteStore
from zarrfast.storage.wrappers import CountingStore, LoggingStore
from zarrfast.storage.zip import ZipStore

__all__ = [
    "CacheStore",
    "CountingStore",
    "FsspecStore",
    "LMDBStore",
    "LocalStore",
    "LoggingStore",
    "MappingStore",
    "MemoryStore",
    "RedisStore",
    "ReferenceStore",
    "SQLiteStore",
    "Store",
    "StoreLike",
    "StorePath",
    "UnsupportedOperationError",
    "WrapperStore",
    "ZipStore",
    "make_store",
    "validate_key",
    "validate_prefix",
]
