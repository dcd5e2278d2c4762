"""Striped in-process locks that serialise read-modify-write of one stored chunk or shard.

Writes that cover a chunk (or shard) completely need no lock; partial updates read the old value, merge and write
it back, and two threads doing that to the same key at once would lose one update. Equal stores share stripes, so
two ``Array`` objects over the same location are serialised too. Other processes are not: see docs/reliability
notes in docs/user-guide.md (align writes to chunks or shards, as ``zarrfast.dask.store`` does).
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


def key_lock(store: Any, key: str) -> threading.Lock:
    """The lock for read-modify-write of ``key`` in ``store``."""
    return _LOCKS[_stripe(store, key)]


@contextmanager
def key_locks(store: Any, keys: Iterable[str]) -> Iterator[None]:
    """Hold the locks of all ``keys`` (taken in a fixed order, so concurrent callers can't deadlock)."""
    stripes = sorted({_stripe(store, k) for k in keys})
    taken: list[threading.Lock] = []
    try:
        for s in stripes:
            lock = _LOCKS[s]
            lock.acquire()
            taken.append(lock)
        yield
    finally:
        for lock in reversed(taken):
            lock.release()
