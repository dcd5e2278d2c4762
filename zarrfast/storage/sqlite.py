"""A store in one SQLite database file (standard library :mod:`sqlite3`)."""
from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from zarrfast.errors import (
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
    StoreTimeoutError,
)
from zarrfast.storage.base import Store, normalize_range

__all__ = ["SQLiteStore", "prefix_upper_bound"]

_BATCH = 500  # keys per "IN (...)" query (well below SQLite's bound-parameter limit)
_TABLE_SQL = "CREATE TABLE IF NOT EXISTS zarr(k TEXT PRIMARY KEY, v BLOB)"


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``.

    SQLite compares TEXT with the BINARY collation (UTF-8 bytes), which orders like code
    points, so ``prefix <= k < upper`` selects exactly the keys starting with ``prefix``.
    ``None`` when there is no such bound (the prefix ends in U+10FFFF).
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if 0xD800 <= code <= 0xDFFF:  # surrogates cannot be encoded as UTF-8
            code = 0xE000
        if code <= 0x10FFFF:
            return "".join(chars) + chr(code)
    return None


def _error_class(exc: sqlite3.Error) -> type[StoreError]:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return StoreTimeoutError
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")) or "readonly" in text:
        return StorePermissionError
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return StoreNotFoundError
    return StoreError


class SQLiteStore(Store):
    """Keys as rows of one SQLite database file at ``path``.

    **Layout** (the one zarr-python 2's ``SQLiteStore`` uses, so its databases open here and
    ours open there): one table ``zarr(k TEXT PRIMARY KEY, v BLOB)``; ``k`` is the store key,
    ``v`` the raw value bytes. Other tables in the file are ignored.

    * The file (and its parent directories) is created on construction unless ``read_only``;
      a read-only store on a missing file raises :class:`StoreNotFoundError`.
    * ``journal_mode`` (default ``"wal"``, ``None`` keeps the file's mode) is set when the
      store is writable; WAL lets readers proceed while one writer commits. ``timeout`` is the
      busy timeout in seconds when another connection or process holds the write lock.
    * Thread-safe: each operation borrows a connection from a small pool (one connection per
      concurrently active thread); writes in this process are serialized by a lock and every
      write (``set``, ``set_many``, ``delete_prefix`` ...) is one transaction.
    * ``get_range`` reads only the requested bytes (SQLite incremental blob I/O).
    * Pickling reopens the same file. SQLite errors become :class:`StoreError` subclasses
      naming the key and the store (busy -> :class:`StoreTimeoutError`, read-only file ->
      :class:`StorePermissionError`, cannot open -> :class:`StoreNotFoundError`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        timeout: float = 30.0,
        journal_mode: str | None = "wal",
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"SQLiteStore path must be a str or Path, not {type(path).__name__}")
        path = os.fspath(path)
        if path == ":memory:" or path == "":
            raise ValueError("SQLiteStore needs a file path; use MemoryStore for data in memory")
        if journal_mode is not None and not str(journal_mode).isalpha():
            raise ValueError(f"invalid SQLite journal_mode {journal_mode!r}")
        super().__init__(read_only=read_only)
        self._path = os.path.abspath(path)
        self._timeout = float(timeout)
        self._journal_mode = journal_mode
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        if read_only:
            if not os.path.isfile(self._path):
                raise StoreNotFoundError(
                    f"cannot open {self!r} read-only: no database file at {self._path!r}"
                )
        else:
            try:
                os.makedirs(os.path.dirname(self._path), exist_ok=True)
            except OSError as exc:
                cls = StorePermissionError if isinstance(exc, PermissionError) else StoreError
                raise cls(f"cannot create the directory of {self!r}: {exc}") from exc
        with self._conn("", "open") as conn:
            if not read_only:
                if journal_mode:
                    conn.execute(f"PRAGMA journal_mode={journal_mode}")
                conn.execute(_TABLE_SQL)
            else:
                conn.execute("SELECT 1 FROM zarr LIMIT 1")  # fails early if the table is missing

    @property
    def path(self) -> str:
        """The database file (absolute)."""
        return self._path

    def _config(self) -> dict[str, Any]:
        return {
            "path": self._path,
            "read_only": self._read_only,
            "timeout": self._timeout,
            "journal_mode": self._journal_mode,
        }

    def _location(self) -> Any:
        return self._path

    def _location_str(self) -> str:
        return repr(self._path)

    # ---------------------------------------------------------------- connections
    def _connect(self) -> sqlite3.Connection:
        if self._read_only:
            uri = "file:" + self._path.replace("?", "%3f").replace("#", "%23") + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
        else:
            conn = sqlite3.connect(self._path, timeout=self._timeout, isolation_level=None,
                                   check_same_thread=False)
        with self._pool_lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def _conn(self, key: str, op: str) -> Iterator[sqlite3.Connection]:
        """Borrow a pooled connection; map SQLite errors to StoreErrors naming ``key``."""
        if self._closed:
            raise StoreError(f"cannot {op} key {key!r}: store {self!r} is closed")
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = None
        try:
            if conn is None:
                conn = self._connect()
            yield conn
        except sqlite3.Error as exc:
            cls = _error_class(exc)
            raise cls(f"cannot {op} key {key!r} in store {self!r}: {exc}") from exc
        finally:
            if conn is not None:
                if conn.in_transaction:  # an error or interruption inside a transaction
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if self._closed:
                    conn.close()
                else:
                    self._pool.put(conn)

    @contextmanager
    def _write(self, key: str, op: str = "write") -> Iterator[sqlite3.Connection]:
        """A connection inside one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction."""
        with self._write_lock, self._conn(key, op) as conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")

    def close(self) -> None:
        super().close()
        with self._pool_lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # ---------------------------------------------------------------- reads
    @staticmethod
    def _as_bytes(value: Any) -> bytes | None:
        if value is None or type(value) is bytes:
            return value
        if isinstance(value, str):  # a TEXT value written by another program
            return value.encode("utf-8")
        return bytes(value) if isinstance(value, (bytearray, memoryview)) else str(value).encode()

    def _get(self, key: str) -> bytes | None:
        with self._conn(key, "read") as conn:
            row = conn.execute("SELECT v FROM zarr WHERE k = ?", (key,)).fetchone()
        return None if row is None else self._as_bytes(row[0])

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        found: dict[str, bytes | None] = {}
        unique = list(dict.fromkeys(keys))
        with self._conn(unique[0] if unique else "", "read") as conn:
            for i in range(0, len(unique), _BATCH):
                batch = unique[i:i + _BATCH]
                marks = ",".join("?" * len(batch))
                for k, v in conn.execute(f"SELECT k, v FROM zarr WHERE k IN ({marks})", batch):
                    found[k] = self._as_bytes(v)
        return [found.get(key) for key in keys]

    def _exists(self, key: str) -> bool:
        with self._conn(key, "read") as conn:
            return conn.execute("SELECT 1 FROM zarr WHERE k = ?", (key,)).fetchone() is not None

    def _read_ranges(
        self, key: str, ranges: list[tuple[int, int | None]]
    ) -> list[bytes] | None:
        with self._conn(key, "read") as conn:
            conn.execute("BEGIN")  # one snapshot for the size and every range
            try:
                row = conn.execute(
                    "SELECT rowid, length(v), typeof(v) FROM zarr WHERE k = ?", (key,)
                ).fetchone()
                if row is None:
                    return None
                rowid, size, kind = row
                if kind != "blob":  # TEXT/NULL values: read whole, slice in Python
                    row = conn.execute("SELECT v FROM zarr WHERE rowid = ?", (rowid,)).fetchone()
                    value = self._as_bytes(row[0]) or b""
                    spans = [normalize_range(len(value), s, n) for s, n in ranges]
                    return [value[b:e] for b, e in spans]
                out = []
                with conn.blobopen("zarr", "v", rowid, readonly=True) as blob:
                    for start, length in ranges:
                        begin, end = normalize_range(size, start, length)
                        if end <= begin:
                            out.append(b"")
                            continue
                        blob.seek(begin)
                        out.append(blob.read(end - begin))
                return out
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        got = self._read_ranges(key, [(start, length)])
        return None if got is None else got[0]

    def _get_ranges(
        self, key: str, ranges: list[tuple[int, int | None]]
    ) -> list[bytes] | None:
        return self._read_ranges(key, ranges)

    # ---------------------------------------------------------------- writes
    def _set(self, key: str, value: bytes | memoryview) -> None:
        with self._write(key) as conn:
            conn.execute("INSERT OR REPLACE INTO zarr(k, v) VALUES (?, ?)", (key, value))

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        with self._write(items[0][0]) as conn:
            conn.executemany("INSERT OR REPLACE INTO zarr(k, v) VALUES (?, ?)", items)

    def _delete(self, key: str) -> None:
        with self._write(key, "delete") as conn:
            conn.execute("DELETE FROM zarr WHERE k = ?", (key,))

    def _delete_many(self, keys: list[str]) -> None:
        with self._write(keys[0], "delete") as conn:
            conn.executemany("DELETE FROM zarr WHERE k = ?", [(k,) for k in keys])

    def _delete_prefix(self, prefix: str) -> None:
        sql, args = self._prefix_query("DELETE FROM zarr", prefix)
        with self._write(prefix, "delete") as conn:
            conn.execute(sql, args)

    # ---------------------------------------------------------------- listing
    @staticmethod
    def _prefix_query(head: str, prefix: str) -> tuple[str, tuple[str, ...]]:
        if not prefix:
            return head, ()
        upper = prefix_upper_bound(prefix)
        if upper is None:
            return f"{head} WHERE k >= ?", (prefix,)
        return f"{head} WHERE k >= ? AND k < ?", (prefix, upper)

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        sql, args = self._prefix_query("SELECT k FROM zarr", prefix)
        with self._conn(prefix, "list") as conn:
            keys = [k for (k,) in conn.execute(sql, args)]
        return iter([k for k in keys if isinstance(k, str) and k.startswith(prefix)])

    def _list(self) -> Iterator[str]:
        return self._list_prefix("")
