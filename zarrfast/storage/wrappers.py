"""Stores that wrap another store: :class:`LoggingStore` (also exported as ``CountingStore``).

A read-only wrapper is not needed: every store has ``with_read_only()``.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Self

from zarrfast.storage.base import BytesLike, ForwardingStore, Store
from zarrfast.storage.keys import validate_key, validate_prefix

__all__ = ["CountingStore", "LoggingStore"]

LogTarget = logging.Logger | Callable[[str], Any] | None


class _Stats:
    """Counters shared by a LoggingStore and its ``with_read_only`` views."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counter: Counter[str] = Counter()
        self.bytes_read = 0
        self.bytes_written = 0
        self.calls: list[tuple[str, Any]] = []


def _nbytes(value: Any) -> int:
    return len(value) if type(value) is bytes else memoryview(value).nbytes


class LoggingStore(ForwardingStore):
    """Delegates to ``store`` and counts every operation and the bytes moved.

    * ``counter`` (a :class:`collections.Counter`): one count per call under the method's name
      (``"get"``, ``"get_many"``, ``"set_many"`` ...), plus ``"keys_read"``, ``"keys_written"``
      and ``"keys_deleted"``: how many keys those calls named (``get_many`` of 10 keys adds 1 to
      ``"get_many"`` and 10 to ``"keys_read"``).
    * ``bytes_read`` / ``bytes_written``: value bytes returned by reads / passed to writes.
    * ``calls``: with ``record=True``, every call as ``(method, key or list of keys)``.
    * ``log``: a :class:`logging.Logger` (messages at DEBUG) or any ``callable(str)``; one
      line per call with its arguments, result size and duration.
    * ``reset()`` zeroes all of it. Views from ``with_read_only`` share the counters.

    Keys and the read-only flag are checked here too, so errors name the LoggingStore.
    """

    def __init__(self, store: Store, log: LogTarget = None, *, record: bool = False) -> None:
        if not isinstance(store, Store):
            raise TypeError(f"LoggingStore wraps a zarrfast Store, not {type(store).__name__}")
        super().__init__(read_only=store.read_only)
        self._store = store
        self._log = log
        self._record = record
        self._stats = _Stats()

    # ---------------------------------------------------------------- stats
    @property
    def counter(self) -> Counter[str]:
        return self._stats.counter

    @property
    def bytes_read(self) -> int:
        return self._stats.bytes_read

    @property
    def bytes_written(self) -> int:
        return self._stats.bytes_written

    @property
    def calls(self) -> list[tuple[str, Any]]:
        return self._stats.calls

    def reset(self) -> None:
        """Zero the counters and forget recorded calls."""
        stats = self._stats
        with stats.lock:
            stats.counter.clear()
            stats.bytes_read = 0
            stats.bytes_written = 0
            stats.calls.clear()

    def _note(
        self, op: str, arg: Any, *, keys: int = 0, kind: str = "", read: int = 0,
        written: int = 0, started: float | None = None,
    ) -> None:
        stats = self._stats
        with stats.lock:
            stats.counter[op] += 1
            if keys:
                stats.counter[kind] += keys
            stats.bytes_read += read
            stats.bytes_written += written
            if self._record:
                stats.calls.append((op, arg))
        if self._log is not None:
            elapsed = "" if started is None else f" in {(time.perf_counter() - started) * 1e3:.3f} ms"
            moved = f" read {read} B" if read else (f" wrote {written} B" if written else "")
            msg = f"{self._store!r}.{op}({arg!r}){moved}{elapsed}"
            if isinstance(self._log, logging.Logger):
                self._log.debug(msg)
            else:
                self._log(msg)

    # ---------------------------------------------------------------- identity
    @property
    def read_only(self) -> bool:  # type: ignore[override]
        return self._store.read_only

    def _config(self) -> dict[str, Any]:
        return {"store": self._store, "record": self._record}  # the log target is not kept

    def __repr__(self) -> str:
        return f"LoggingStore({self._store!r})"

    def with_read_only(self, read_only: bool = True) -> Self:
        view = type(self)(self._store.with_read_only(read_only), self._log, record=self._record)
        view._stats = self._stats
        return view

    def close(self) -> None:
        self._note("close", None)
        self._store.close()
        super().close()

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> bytes | None:
        t = time.perf_counter()
        value = self._store.get(validate_key(key, self))
        self._note("get", key, keys=1, kind="keys_read", read=len(value or b""), started=t)
        return value

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        keys = [validate_key(key, self) for key in keys]
        t = time.perf_counter()
        values = self._store.get_many(keys)
        read = sum(len(v) for v in values if v is not None)
        self._note("get_many", keys, keys=len(keys), kind="keys_read", read=read, started=t)
        return values

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        t = time.perf_counter()
        value = self._store.get_range(validate_key(key, self), start, length)
        self._note("get_range", (key, start, length), keys=1, kind="keys_read",
                   read=len(value or b""), started=t)
        return value

    def get_ranges(self, key: str, ranges: Sequence[tuple[int, int | None]]) -> list[bytes] | None:
        ranges = list(ranges)
        t = time.perf_counter()
        values = self._store.get_ranges(validate_key(key, self), ranges)
        read = sum(len(v) for v in values) if values is not None else 0
        self._note("get_ranges", (key, ranges), keys=1, kind="keys_read", read=read, started=t)
        return values

    def exists(self, key: str) -> bool:
        t = time.perf_counter()
        result = self._store.exists(validate_key(key, self))
        self._note("exists", key, started=t)
        return result

    # ---------------------------------------------------------------- writes
    def set(self, key: str, value: BytesLike) -> None:
        self._check_writable(key)
        t = time.perf_counter()
        self._store.set(validate_key(key, self), value)
        self._note("set", key, keys=1, kind="keys_written", written=_nbytes(value), started=t)

    def set_many(self, items: Mapping[str, BytesLike] | Iterable[tuple[str, BytesLike]]) -> None:
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        if pairs:
            self._check_writable(pairs[0][0])
        for key, _ in pairs:
            validate_key(key, self)
        t = time.perf_counter()
        self._store.set_many(pairs)
        written = sum(_nbytes(v) for _, v in pairs)
        self._note("set_many", [k for k, _ in pairs], keys=len(pairs), kind="keys_written",
                   written=written, started=t)

    def delete(self, key: str) -> None:
        self._check_writable(key, "delete")
        t = time.perf_counter()
        self._store.delete(validate_key(key, self))
        self._note("delete", key, keys=1, kind="keys_deleted", started=t)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = [validate_key(key, self) for key in keys]
        if keys:
            self._check_writable(keys[0], "delete")
        t = time.perf_counter()
        self._store.delete_many(keys)
        self._note("delete_many", keys, keys=len(keys), kind="keys_deleted", started=t)

    def delete_prefix(self, prefix: str) -> None:
        self._check_writable(prefix, "delete")
        t = time.perf_counter()
        self._store.delete_prefix(validate_prefix(prefix, self))
        self._note("delete_prefix", prefix, started=t)

    # ---------------------------------------------------------------- listing
    def list(self) -> Iterator[str]:
        self._note("list", None)
        return self._store.list()

    def list_prefix(self, prefix: str) -> Iterator[str]:
        self._note("list_prefix", prefix)
        return self._store.list_prefix(validate_prefix(prefix, self))

    def list_dir(self, prefix: str) -> Iterator[str]:
        self._note("list_dir", prefix)
        return self._store.list_dir(validate_prefix(prefix, self))

    # ---------------------------------------------------------------- hooks (not used: the
    # public methods above delegate to the wrapped store, which validates keys itself)
    def _get(self, key: str) -> bytes | None:
        return self._store.get(key)

    def _set(self, key: str, value: bytes | memoryview) -> None:
        self._store.set(key, value)

    def _delete(self, key: str) -> None:
        self._store.delete(key)

    def _list(self) -> Iterator[str]:
        return self._store.list()


CountingStore = LoggingStore
