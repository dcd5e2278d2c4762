"""Locks that serialise the read-modify-write of a stored chunk or shard, across threads and processes.

Writes that cover a chunk (or shard) completely need no lock: the store replaces the value atomically. A partial
update reads the old value, merges and writes it back; two writers doing that to the same key at once would lose
one update. :func:`key_locks` takes two levels, always in this order, each in ascending stripe order, so
concurrent callers can't deadlock:

1. striped in-process locks keyed by (store location, key): threads of this process (equal stores share stripes,
   so two ``Array`` objects over the same location are serialised too);
2. the store's cross-process lock (:meth:`Store.rmw_lock`) when it has one: ``LocalStore`` uses ``flock`` on lock
   files outside the store, released by the kernel even when a process is killed.

Stores without the hook (memory, zip, fsspec/S3, SQLite, LMDB, Redis ...) get level 1 only: several *processes*
writing to them must align their writes to chunks (shards), as ``zarrfast.dask.store`` does.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_LOCKS = [threading.Lock() for _ in range(256)]


def _stripe(store: Any, key: str) -> int:
    try:
        h = hash((store, key))
    except TypeError:
        h = hash((id(store), key))
    return h % len(_LOCKS)


@contextmanager
def key_locks(store: Any, keys: Iterable[str]) -> Iterator[None]:
    """Hold the read-modify-write locks of all ``keys`` of ``store`` (in-process, then cross-process)."""
    keys = list(keys)
    if not keys:
        yield
        return
    stripes = sorted({_stripe(store, k) for k in keys})
    taken: list[threading.Lock] = []
    try:
        for s in stripes:
            lock = _LOCKS[s]
            lock.acquire()
            taken.append(lock)
        hook = getattr(store, "rmw_lock", None)
        outer = hook(keys) if hook is not None else None
        if outer is None:
            yield
        else:
            with outer:
                yield
    finally:
        for lock in reversed(taken):
            lock.release()
