"""An LRU cache by bytes in front of another (slow) store: :class:`CacheStore`."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Self

from zarrfast.storage.base import ForwardingStore, Store, normalize_range

__all__ = ["CacheStore"]

_MISSING_COST = 64  # bytes charged for remembering that a key is missing


class _Cache:
    """The LRU state, shared by a CacheStore and its ``with_read_only`` views.

    Every invalidation bumps ``seq``. A read notes ``seq`` when it starts and, when it ends,
    caches its result only if no invalidation touched its key in between (``stamps`` keep the
    last invalidation of each key, and prefix invalidations, while any read is in flight).
    So a value read before a concurrent write finished is never cached over the new value.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.values: OrderedDict[str, bytes | None] = OrderedDict()
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.seq = 0
        self.inflight = 0
        self.stamps: dict[str, int] = {}
        self.prefix_stamps: list[tuple[str, int]] = []

    @staticmethod
    def cost(key: str, value: bytes | None) -> int:
        return _MISSING_COST if value is None else len(value)

    def lookup(self, key: str) -> tuple[bool, bytes | None]:
        """``(True, value)`` on a hit (counted), ``(False, None)`` otherwise (not counted)."""
        values = self.values
        if key in values:
            values.move_to_end(key)
            self.hits += 1
            return True, values[key]
        return False, None

    def begin(self) -> int:
        self.inflight += 1
        return self.seq

    def end(self, started: int, results: list[tuple[str, bytes | None]]) -> None:
        for key, value in results:
            if self.stamps.get(key, -1) > started:
                continue
            if any(s > started and key.startswith(p) for p, s in self.prefix_stamps):
                continue
            self.put(key, value)
        self.inflight -= 1
        if not self.inflight:
            self.stamps.clear()
            self.prefix_stamps.clear()

    def put(self, key: str, value: bytes | None) -> None:
        cost = self.cost(key, value)
        if cost > self.max_bytes:
            return
        self.drop(key)
        self.values[key] = value
        self.size += cost
        while self.size > self.max_bytes:
            old_key, old = self.values.popitem(last=False)
            self.size -= self.cost(old_key, old)

    def drop(self, key: str) -> None:
        if key in self.values:
            self.size -= self.cost(key, self.values.pop(key))

    def invalidate(self, keys: list[str]) -> None:
        self.seq += 1
        for key in keys:
            self.drop(key)
            if self.inflight:
                self.stamps[key] = self.seq

    def invalidate_prefix(self, prefix: str) -> None:
        self.seq += 1
        for key in [k for k in self.values if k.startswith(prefix)]:
            self.drop(key)
        if self.inflight:
            self.prefix_stamps.append((prefix, self.seq))


class CacheStore(ForwardingStore):
    """Keeps recently read values of ``store`` in memory, up to ``max_bytes`` of value bytes.

    * Reads (``get``, ``get_many``) are served from the cache when possible; misses go to the
      backing store (``get_many`` in one batched call) and are cached, least recently used
      values evicted first. Missing keys are remembered too (charged 64 bytes each); a value
      larger than ``max_bytes`` is never cached.
    * ``get_range``/``get_ranges``/``exists`` are served from a cached whole value when there
      is one; otherwise they go to the backing store (and cache nothing).
    * Writes and deletes go to the backing store first, then invalidate the cached entries
      (``delete_prefix`` every entry under the prefix), so reads after a write return the new
      value. A read racing a write never caches the value it read if the write's invalidation
      happened meanwhile. Thread-safe; backing-store calls are made outside the cache lock.
    * ``hits`` counts lookups answered from the cache, ``misses`` the keys ``get``/``get_many``
      had to read from the backing store; ``invalidate()`` empties the cache. Listings are
      not cached.
    * Changes made to the backing store behind the cache's back are not seen until the
      entries are invalidated or evicted. Pickling keeps the backing store, not the cache.
      ``with_read_only`` views share the cache.
    """

    def __init__(self, store: Store, max_bytes: int, *, read_only: bool | None = None) -> None:
        if not isinstance(store, Store):
            raise TypeError(f"CacheStore wraps a zarrfast Store, not {type(store).__name__}")
        if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
            raise ValueError(f"CacheStore max_bytes must be an int >= 0, not {max_bytes!r}")
        if read_only is not None and read_only != store.read_only:
            store = store.with_read_only(read_only)
        super().__init__(read_only=store.read_only)
        self._store = store
        self._cache = _Cache(max_bytes)

    # ---------------------------------------------------------------- identity and stats
    @property
    def max_bytes(self) -> int:
        return self._cache.max_bytes

    @property
    def hits(self) -> int:
        """Lookups answered from the cache (``get``/``get_many`` keys, ranges, ``exists``)."""
        return self._cache.hits

    @property
    def misses(self) -> int:
        """Whole-value reads that went to the backing store."""
        return self._cache.misses

    @property
    def cached_bytes(self) -> int:
        """Bytes currently charged to the cache."""
        return self._cache.size

    @property
    def cached_keys(self) -> list[str]:
        """The cached keys, least recently used first."""
        with self._cache.lock:
            return list(self._cache.values)

    def invalidate(self) -> None:
        """Forget every cached value (counters are kept)."""
        cache = self._cache
        with cache.lock:
            cache.invalidate_prefix("")

    def _config(self) -> dict[str, Any]:
        return {"store": self._store, "max_bytes": self._cache.max_bytes}

    def __repr__(self) -> str:
        return f"CacheStore({self._store!r}, max_bytes={self._cache.max_bytes})"

    def with_read_only(self, read_only: bool = True) -> Self:
        view = type(self)(self._store.with_read_only(read_only), self._cache.max_bytes)
        view._cache = self._cache
        return view

    def close(self) -> None:
        self._store.close()
        self.invalidate()
        super().close()

    # ---------------------------------------------------------------- reads
    def _get(self, key: str) -> bytes | None:
        return self._get_many([key])[0]

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        cache = self._cache
        out: list[bytes | None] = [None] * len(keys)
        todo: dict[str, list[int]] = {}
        with cache.lock:
            for i, key in enumerate(keys):
                hit, value = cache.lookup(key)
                if hit:
                    out[i] = value
                else:
                    todo.setdefault(key, []).append(i)
            if not todo:
                return out
            cache.misses += len(todo)
            started = cache.begin()
        results: list[tuple[str, bytes | None]] = []
        try:
            missing = list(todo)
            values = self._store.get_many(missing)
            results = list(zip(missing, values))
        finally:
            with cache.lock:
                cache.end(started, results)
        for key, value in results:
            for i in todo[key]:
                out[i] = value
        return out

    def _cached(self, key: str) -> tuple[bool, bytes | None]:
        with self._cache.lock:
            return self._cache.lookup(key)

    def _exists(self, key: str) -> bool:
        hit, value = self._cached(key)
        return value is not None if hit else self._store.exists(key)

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        hit, value = self._cached(key)
        if not hit:
            return self._store.get_range(key, start, length)
        if value is None:
            return None
        begin, end = normalize_range(len(value), start, length)
        return value[begin:end]

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        hit, value = self._cached(key)
        if not hit:
            return self._store.get_ranges(key, ranges)
        if value is None:
            return None
        size = len(value)
        return [value[b:e] for b, e in (normalize_range(size, s, n) for s, n in ranges)]

    # ---------------------------------------------------------------- writes
    def _invalidate(self, keys: list[str]) -> None:
        with self._cache.lock:
            self._cache.invalidate(keys)

    def _set(self, key: str, value: bytes | memoryview) -> None:
        try:
            self._store.set(key, value)
        finally:  # also after a failed write: the backing value may have changed
            self._invalidate([key])

    def _set_parts(self, key: str, parts: list) -> None:
        try:
            self._store.set_parts(key, parts)
        finally:
            self._invalidate([key])

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        try:
            self._store.set_many(items)
        finally:
            self._invalidate([k for k, _ in items])

    def _delete(self, key: str) -> None:
        try:
            self._store.delete(key)
        finally:
            self._invalidate([key])

    def _delete_many(self, keys: list[str]) -> None:
        try:
            self._store.delete_many(keys)
        finally:
            self._invalidate(keys)

    def _delete_prefix(self, prefix: str) -> None:
        try:
            self._store.delete_prefix(prefix)
        finally:
            with self._cache.lock:
                self._cache.invalidate_prefix(prefix)

    # ---------------------------------------------------------------- listing (not cached)
    def _list(self) -> Iterator[str]:
        return self._store.list()

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        return self._store.list_prefix(prefix)

    def _list_dir(self, prefix: str) -> Iterator[str]:
        return self._store.list_dir(prefix)
