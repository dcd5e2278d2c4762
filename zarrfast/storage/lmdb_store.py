"""A store in an LMDB environment (needs the ``lmdb`` package: ``pip install zarrfast[lmdb]``).

The module is named ``lmdb_store`` so that it can never be mistaken for the ``lmdb`` package.
"""
from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from zarrfast.errors import (
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
)
from zarrfast.storage.base import Store, normalize_range

__all__ = ["LMDBStore"]

T = TypeVar("T")
_DEFAULT_MAP_SIZE = 1 << 30  # grows (doubling) whenever a write finds the map full


def _import_lmdb() -> Any:
    try:
        import lmdb
    except ImportError as exc:  # pragma: no cover - lmdb is a test dependency
        raise ImportError(
            "LMDBStore needs the 'lmdb' package: pip install 'zarrfast[lmdb]'"
        ) from exc
    return lmdb


class _SharedEnv:
    """One LMDB environment per database path and process, shared by the stores using it.

    LMDB must not open the same environment twice in one process (its file locks are
    per process), so stores on the same path (``with_read_only`` views, unpickled copies)
    share this object. ``active()`` is held by every transaction; ``grow()`` waits until no
    transaction is active before enlarging the memory map.
    """

    def __init__(self, env: Any, key: str) -> None:
        self.env = env
        self.key = key
        self.refs = 0
        self._cond = threading.Condition()
        self._active = 0
        self._growing = False

    @contextmanager
    def active(self) -> Iterator[Any]:
        with self._cond:
            while self._growing:
                self._cond.wait()
            self._active += 1
        try:
            yield self.env
        finally:
            with self._cond:
                self._active -= 1
                if not self._active:
                    self._cond.notify_all()

    def grow(self, seen_size: int) -> None:
        with self._cond:
            while self._growing or self._active:
                self._cond.wait()
            self._growing = True
            try:
                size = self.env.info()["map_size"]
                if size <= seen_size:  # another thread may have grown it already
                    self.env.set_mapsize(size * 2)
            finally:
                self._growing = False
                self._cond.notify_all()


_envs: dict[str, _SharedEnv] = {}
_envs_lock = threading.Lock()


def _release(shared: _SharedEnv) -> None:
    """Drop one store's reference; the last one flushes and closes the environment."""
    with _envs_lock:
        shared.refs -= 1
        if shared.refs > 0:
            return
        if _envs.get(shared.key) is shared:
            del _envs[shared.key]
    with shared.active() as env:
        if not env.flags()["readonly"]:
            env.sync(True)
    env.close()


class LMDBStore(Store):
    """Keys as entries of the LMDB environment at ``path``.

    **Layout** (the one zarr-python 2's ``LMDBStore`` uses, so its databases open here and ours
    open there): keys are the UTF-8 bytes of the store key (zarr-python 2 keys are ASCII, a
    subset), values the raw bytes, all in the environment's default (unnamed) database. With
    ``subdir=True`` (the default, as in zarr-python 2) ``path`` is a directory holding
    ``data.mdb`` and ``lock.mdb``; with ``subdir=False`` it is the data file itself.

    * The environment is created on construction unless ``read_only``; a read-only store on a
      missing path raises :class:`StoreNotFoundError`.
    * ``map_size`` is the initial memory-map size; a write that finds the map full grows it
      (doubling) and retries, so it only bounds address space, not the data size.
    * ``sync=False`` (default, as in zarr-python 2) skips the fsync at each commit; ``close()``
      flushes. A crash of the machine (not just the process) may lose the last commits.
    * Thread-safe: every read runs in a read transaction (``get_many`` in one), every write in
      one write transaction (``set_many``/``delete_many``/``delete_prefix`` atomic). Stores on
      the same path in one process share one environment; ``close()`` closes it when the last
      of them closes. Pickling reopens the same path.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        subdir: bool = True,
        map_size: int = _DEFAULT_MAP_SIZE,
        sync: bool = False,
        max_readers: int = 126,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"LMDBStore path must be a str or Path, not {type(path).__name__}")
        lmdb = _import_lmdb()
        super().__init__(read_only=read_only)
        self._path = os.path.abspath(os.fspath(path))
        self._subdir = bool(subdir)
        self._map_size = int(map_size)
        self._sync = bool(sync)
        self._max_readers = int(max_readers)
        self._lmdb = lmdb
        self._shared: _SharedEnv | None = None
        data_file = os.path.join(self._path, "data.mdb") if subdir else self._path
        exists = os.path.isfile(data_file)
        if read_only and not exists:
            raise StoreNotFoundError(
                f"cannot open {self!r} read-only: no LMDB database at {self._path!r}"
            )
        if not read_only:
            try:
                os.makedirs(self._path if subdir else os.path.dirname(self._path), exist_ok=True)
            except OSError as exc:
                raise self._error("open", "", exc) from exc
        key = os.path.realpath(self._path)
        with _envs_lock:
            shared = _envs.get(key)
            if shared is None:
                # A read-only store still opens the environment writable when it can, so a
                # writable store on the same path in this process can share it.
                env_read_only = exists and not os.access(
                    self._path if subdir else os.path.dirname(self._path), os.W_OK
                )
                shared = _SharedEnv(self._open(lmdb, env_read_only), key)
                _envs[key] = shared
            elif not read_only and shared.env.flags()["readonly"]:
                raise StorePermissionError(
                    f"cannot open {self!r} for writing: the database is open read-only here"
                )
            shared.refs += 1
        self._shared = shared
        self._release = weakref.finalize(self, _release, shared)

    def _open(self, lmdb: Any, env_read_only: bool) -> Any:
        try:
            return lmdb.open(
                self._path, subdir=self._subdir, map_size=self._map_size, readonly=env_read_only,
                create=not self._read_only, lock=True, sync=self._sync, metasync=self._sync,
                max_readers=self._max_readers, max_spare_txns=4, meminit=False,
            )
        except (lmdb.Error, OSError) as exc:
            raise self._error("open", "", exc) from exc

    @property
    def path(self) -> str:
        """The environment's directory (or data file with ``subdir=False``), absolute."""
        return self._path

    def _config(self) -> dict[str, Any]:
        return {
            "path": self._path, "read_only": self._read_only, "subdir": self._subdir,
            "map_size": self._map_size, "sync": self._sync, "max_readers": self._max_readers,
        }

    def _location(self) -> Any:
        return self._path

    def _location_str(self) -> str:
        return repr(self._path)

    # ---------------------------------------------------------------- plumbing
    def _error(self, op: str, key: str, exc: Exception) -> StoreError:
        lmdb = self._lmdb
        msg = f"cannot {op} key {key!r} in store {self!r}: {exc}"
        if isinstance(exc, (lmdb.ReadonlyError, PermissionError)) or "Permission denied" in str(exc):
            return StorePermissionError(msg)
        if isinstance(exc, FileNotFoundError) or "No such file" in str(exc):
            return StoreNotFoundError(msg)
        return StoreError(msg)

    def _env(self, key: str, op: str) -> _SharedEnv:
        shared = self._shared
        if shared is None or self._closed:
            raise StoreError(f"cannot {op} key {key!r}: store {self!r} is closed")
        return shared

    def _read(self, key: str, fn: Callable[[Any], T]) -> T:
        shared = self._env(key, "read")
        try:
            with shared.active() as env, env.begin(buffers=False) as txn:
                return fn(txn)
        except self._lmdb.Error as exc:
            raise self._error("read", key, exc) from exc

    def _write(self, key: str, fn: Callable[[Any], None], op: str = "write") -> None:
        shared = self._env(key, op)
        MapFullError = self._lmdb.MapFullError
        while True:
            try:
                with shared.active() as env:
                    size = env.info()["map_size"]
                    with env.begin(write=True) as txn:
                        fn(txn)
                return
            except MapFullError:
                shared.grow(size)  # the transaction was aborted: enlarge the map and retry
            except self._lmdb.Error as exc:
                raise self._error(op, key, exc) from exc

    def close(self) -> None:
        self._shared = None
        super().close()
        release = getattr(self, "_release", None)
        if release is not None:
            release()  # runs once; also runs when the store is garbage-collected unclosed

    # ---------------------------------------------------------------- reads
    def _get(self, key: str) -> bytes | None:
        k = key.encode("utf-8")
        return self._read(key, lambda txn: txn.get(k))

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        encoded = [k.encode("utf-8") for k in keys]

        def read(txn: Any) -> list[bytes | None]:
            get = txn.get
            return [get(k) for k in encoded]

        return self._read(keys[0] if keys else "", read)

    def _exists(self, key: str) -> bool:
        k = key.encode("utf-8")

        def read(txn: Any) -> bool:
            with txn.cursor() as cursor:
                return cursor.set_key(k)

        return self._read(key, read)

    def _get_ranges(
        self, key: str, ranges: list[tuple[int, int | None]]
    ) -> list[bytes] | None:
        k = key.encode("utf-8")
        shared = self._env(key, "read")
        try:
            with shared.active() as env, env.begin(buffers=True) as txn:
                view = txn.get(k)  # a view into the memory map: slice before the txn ends
                if view is None:
                    return None
                size = len(view)
                return [bytes(view[b:e]) for b, e in (normalize_range(size, s, n) for s, n in ranges)]
        except self._lmdb.Error as exc:
            raise self._error("read", key, exc) from exc

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        got = self._get_ranges(key, [(start, length)])
        return None if got is None else got[0]

    # ---------------------------------------------------------------- writes
    def _set(self, key: str, value: bytes | memoryview) -> None:
        k = key.encode("utf-8")
        self._write(key, lambda txn: txn.put(k, value))

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        encoded = [(k.encode("utf-8"), v) for k, v in items]

        def write(txn: Any) -> None:
            put = txn.put
            for k, v in encoded:
                put(k, v)

        self._write(items[0][0], write)

    def _delete(self, key: str) -> None:
        k = key.encode("utf-8")
        self._write(key, lambda txn: txn.delete(k), "delete")

    def _delete_many(self, keys: list[str]) -> None:
        encoded = [k.encode("utf-8") for k in keys]

        def write(txn: Any) -> None:
            for k in encoded:
                txn.delete(k)

        self._write(keys[0], write, "delete")

    def _delete_prefix(self, prefix: str) -> None:
        p = prefix.encode("utf-8")

        def write(txn: Any) -> None:
            with txn.cursor() as cursor:
                found = cursor.set_range(p) if p else cursor.first()
                while found:
                    k = cursor.key()  # b"" once the cursor ran past the last entry
                    if not k or not k.startswith(p):
                        break
                    found = cursor.delete()  # moves to the next entry

        self._write(prefix, write, "delete")

    # ---------------------------------------------------------------- listing
    def _list_prefix(self, prefix: str) -> Iterator[str]:
        p = prefix.encode("utf-8")

        def read(txn: Any) -> list[str]:
            out = []
            with txn.cursor() as cursor:
                found = cursor.set_range(p) if p else cursor.first()
                while found:
                    k = cursor.key()
                    if not k.startswith(p):
                        break
                    out.append(k.decode("utf-8", "surrogateescape"))
                    found = cursor.next()
            return out

        return iter(self._read(prefix, read))

    def _list(self) -> Iterator[str]:
        return self._list_prefix("")
