"""A store over a directory of files: one file per key, ``"/"`` in keys maps to subdirectories.

Writes are atomic: a value goes to a temporary file next to its key
(``.<name>.<pid>-<token>-<n>.partial``), which is renamed onto the key with ``os.replace`` once
fully written. A reader therefore sees either the old or the new value, never a torn one; a
failed write removes its temporary file and leaves the old value in place. Temporary files are
never listed; a writer killed mid-write leaves its own behind (invisible and harmless;
:meth:`LocalStore.clean_temp_files` removes old ones). With ``fsync=True`` the data (and then the
directory) is flushed to disk before the write returns; that is off by default, as in
zarr-python, because it costs a disk round trip per key and only matters for crashes of the
whole machine.

Partial chunk/shard updates by several processes are serialised by :meth:`LocalStore.rmw_lock`
(``flock`` on lock files outside the store, :mod:`zarrfast.storage.process_lock`).

Keys never leave the root: :func:`~zarrfast.storage.keys.validate_key` rejects ``..`` and
absolute paths, and symlinks are resolved (once per directory, cached; always for a symlinked
file) so a link pointing outside the root raises :class:`InvalidKeyError`.

Reads use ``os.open``/``os.fstat``/``os.read`` (no file objects; every call releases the GIL).
``get_many`` and ``set_many`` fan large batches out to a shared thread pool.
"""
from __future__ import annotations

import errno
import itertools
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

try:  # batch file reads without the GIL (Linux/POSIX build)
    from zarrfast._ext.fileio import read_files as _read_files
    from zarrfast._ext.fileio import read_keys as _read_keys
    from zarrfast._ext.fileio import write_files as _write_files
except ImportError:  # pragma: no cover
    _read_files = None
    _read_keys = None
    _write_files = None

from zarrfast.errors import InvalidKeyError, StoreError
from zarrfast.storage import process_lock
from zarrfast.storage.base import Store, in_parallel_part, normalize_range
from zarrfast.storage.keys import validate_key

__all__ = ["LocalStore"]

_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_TEMP = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0) | _O_NOFOLLOW
)
_TOKEN = os.urandom(4).hex()
_COUNTER = itertools.count()
_TEMP_RE = re.compile(r"\..+\.[0-9a-f]+-[0-9a-f]{8}-[0-9a-f]+\.partial")
_MAX_NAME_IN_TEMP = 160  # keep temp names under NAME_MAX (255) for long key names
_VERIFIED_CACHE_LIMIT = 1 << 16

# Batches at least this long go to a shared thread pool. Measured on a 2-core VM with 1,000
# 8 KB files: warm page cache, sequential get_many 14.5 us/key vs 18 us/key threaded (the
# syscalls are short, threads only add hand-offs); cold cache, 88 us/key vs 50 us/key threaded;
# set_many (file creation dominates) ~110 us/key sequential vs ~60 us/key threaded.
PARALLEL_THRESHOLD = 64
_MAX_WORKERS = min(8, 4 * (os.cpu_count() or 1))
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(_MAX_WORKERS, thread_name_prefix="zarrfast-io")
    return _pool


def _reset_pool_after_fork() -> None:
    global _pool
    _pool = None  # the parent's worker threads do not exist in a forked child


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_after_fork)


def _is_temp_name(name: str) -> bool:
    return name.endswith(".partial") and name[0] == "." and _TEMP_RE.fullmatch(name) is not None


def _read_all(fd: int, size: int) -> bytes:
    data = os.read(fd, size) if size else b""
    if len(data) == size:
        return data
    # Short read: very large files (Linux caps one read at ~2 GiB) or a file that changed.
    parts = [data]
    got = len(data)
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 30))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class LocalStore(Store):
    """Keys as files under ``root`` (created on the first write).

    ``fsync=True`` makes each write durable before it returns (see the module docstring).
    ``parallel_threshold`` is the batch length from which ``get_many``/``set_many`` use threads
    (``None`` never uses them).
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        read_only: bool = False,
        fsync: bool = False,
        parallel_threshold: int | None = PARALLEL_THRESHOLD,
    ) -> None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(f"LocalStore root must be a str or Path, not {type(root).__name__}")
        super().__init__(read_only=read_only)
        root_str = os.fspath(root)
        if not isinstance(root_str, str):
            raise TypeError(f"LocalStore root must be a text path, not {root_str!r}")
        self._root = os.path.abspath(root_str)
        self._root_real = os.path.realpath(self._root)
        self._root_b = os.fsencode(self._root)
        self._fsync = bool(fsync)
        self._parallel_threshold = parallel_threshold
        # Directories (relative, "" = root) known to resolve inside the root, and those this
        # store has created or found existing when writing (both only caches, cleared on prune).
        self._verified: set[str] = {""}
        self._dirs_made: set[str] = set()

    @property
    def root(self) -> Path:
        """The store's directory (absolute)."""
        return Path(self._root)

    @property
    def fsync(self) -> bool:
        """Whether writes are flushed to disk before they return."""
        return self._fsync

    def _config(self) -> dict[str, Any]:
        return {
            "root": self._root,
            "read_only": self._read_only,
            "fsync": self._fsync,
            "parallel_threshold": self._parallel_threshold,
        }

    def _location(self) -> Any:
        return self._root

    def _location_str(self) -> str:
        return repr(self._root)

    def rmw_lock(self, keys: Sequence[str]) -> AbstractContextManager[None] | None:
        """``flock`` locks named by the real root path and each key (see :mod:`~zarrfast.storage.process_lock`)."""
        if not process_lock.available():
            return None
        root = self._root_real
        return process_lock.name_locks([f"{root}/{key}" for key in keys])

    # ---------------------------------------------------------------- paths and containment
    def _path(self, key: str) -> str:
        return f"{self._root}/{key}" if key else self._root

    def _inside(self, real: str) -> bool:
        root = self._root_real
        return real == root or real.startswith(root + os.sep) or root == os.sep

    def _escape_error(self, key: str) -> InvalidKeyError:
        return InvalidKeyError(f"key {key!r} resolves outside the root of store {self!r}")

    def _verify_dir(self, dirkey: str, key: str) -> None:
        """Raise unless directory ``dirkey`` (existing or not) resolves inside the root."""
        if dirkey in self._verified:
            return
        if not self._inside(os.path.realpath(self._path(dirkey))):
            raise self._escape_error(key)
        if len(self._verified) > _VERIFIED_CACHE_LIMIT:
            self._verified = {""}
        self._verified.add(dirkey)

    def _forget_dirs(self) -> None:
        self._verified = {""}
        self._dirs_made = set()

    def _os_error(self, op: str, key: str, exc: OSError) -> StoreError:
        return StoreError(f"{op} key {key!r} in store {self!r} failed: {exc}")

    # ---------------------------------------------------------------- reads
    def _open(self, key: str) -> int | None:
        """Open ``key`` for reading; ``None`` if it is missing. Checks containment."""
        path = f"{self._root}/{key}"
        try:
            fd = os.open(path, _O_READ | _O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # the key itself is a symlink: resolve it fully
                if not self._inside(os.path.realpath(path)):
                    raise self._escape_error(key) from None
                try:
                    fd = os.open(path, _O_READ)
                except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                    return None
            elif exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG):
                return None
            else:
                raise self._os_error("reading", key, exc) from exc
        dirkey = key.rpartition("/")[0]
        if dirkey not in self._verified:
            try:
                self._verify_dir(dirkey, key)
            except BaseException:
                os.close(fd)
                raise
        return fd

    def _get(self, key: str) -> bytes | None:
        fd = self._open(key)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            return _read_all(fd, st.st_size)
        except OSError as exc:
            raise self._os_error("reading", key, exc) from exc
        finally:
            os.close(fd)

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        keys = list(keys)
        if _read_files is not None and not self._wants_pool(len(keys)):
            values = self._get_checked(keys, None)  # key rules checked in the native reader
            if values is not None:
                return values
        for key in keys:
            validate_key(key, self)
        return self._get_many(keys)

    def get_many_into(self, keys: Sequence[str], arena: bytearray) -> tuple[list[bytes | memoryview | None], int]:
        """:meth:`get_many` that reads the values into ``arena`` where they fit (memoryviews of it, valid until
        the arena is reused), and the arena size that would have held them all. For the engine, which decodes a
        batch and drops it before it fetches the next into the same arena: no fresh pages per batch."""
        keys = list(keys)
        if _read_files is None:
            for key in keys:
                validate_key(key, self)
            return self._get_batch_py(keys), 0
        result = self._get_checked(keys, arena)
        if result is not None:
            return result
        for key in keys:
            validate_key(key, self)
        return self._get_encoded(keys, arena)

    def _wants_pool(self, n: int) -> bool:
        threshold = self._parallel_threshold
        return threshold is not None and n >= threshold and not in_parallel_part()

    def _get_checked(self, keys: list[str], arena: bytearray | None) -> Any:
        """One native batch read that also checks the keys; None if some key needs the Python checks (which
        then name what is wrong with it, or accept it)."""
        result = _read_keys(self._root_b, keys, arena)
        if result is None:
            return None
        values, needed, found_dirs, retry = result
        return self._finish_batch(keys, values, found_dirs, retry) if arena is None else \
            (self._finish_batch(keys, values, found_dirs, retry), needed)

    def _finish_batch(self, keys: list[str], values: list, found_dirs: list, retry: list) -> list:
        """Check the directories of the files found, and re-read on the careful path what the reader left."""
        verified = self._verified
        for dirkey, i in found_dirs:
            if dirkey not in verified:
                self._verify_dir(dirkey, keys[i])
        for i in retry:  # a symlink, an error, a file that changed
            values[i] = self._get(keys[i])
        return values

    def _get_batch(self, keys: list[str], arena: bytearray | None = None) -> Any:
        """One batch of keys already checked: the native reader, else the Python one."""
        if _read_files is None:
            return self._get_batch_py(keys)
        result = self._get_checked(keys, arena)
        return result if result is not None else self._get_encoded(keys, arena)

    def _get_encoded(self, keys: list[str], arena: bytearray | None) -> Any:
        """The native reader for valid keys that ``read_keys`` leaves to Python (names that are not UTF-8)."""
        root = self._root
        fsencode = os.fsencode
        values, status, needed = _read_files([fsencode(f"{root}/{key}") for key in keys], arena)
        found_dirs = [(keys[i].rpartition("/")[0], i) for i, st in enumerate(status) if st == 0]
        retry = [i for i, st in enumerate(status) if st != 0 and st != 1]
        values = self._finish_batch(keys, values, found_dirs, retry)
        return values if arena is None else (values, needed)

    def _get_batch_py(self, keys: list[str]) -> list[bytes | None]:
        # Within a batch, a key whose directory is missing costs no syscall once one key of
        # that directory has been found missing (sparse arrays with "c/i/j" keys).
        out: list[bytes | None] = []
        missing_dirs: set[str] = set()
        present_dirs: set[str] = set()
        get = self._get
        for key in keys:
            dirkey = key.rpartition("/")[0]
            if dirkey in missing_dirs:
                out.append(None)
                continue
            value = get(key)
            if value is None and dirkey and dirkey not in present_dirs:
                if os.path.isdir(self._path(dirkey)):
                    present_dirs.add(dirkey)
                else:
                    missing_dirs.add(dirkey)
            out.append(value)
        return out

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        if not self._wants_pool(len(keys)):
            return self._get_batch(keys)
        step = -(-len(keys) // _MAX_WORKERS)
        step = max(step, 8)
        parts = [keys[i:i + step] for i in range(0, len(keys), step)]
        out: list[bytes | None] = []
        for part in _get_pool().map(self._get_batch, parts):
            out.extend(part)
        return out

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        if start < 0 or length is None:  # needs the file size
            result = self._get_ranges(key, [(start, length)])
            return None if result is None else result[0]
        fd = self._open(key)
        if fd is None:
            return None
        try:
            return os.pread(fd, length, start) if length else b""  # short past the end
        except IsADirectoryError:
            return None
        except OSError as exc:
            raise self._os_error("reading", key, exc) from exc
        finally:
            os.close(fd)

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        fd = self._open(key)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None
            size = st.st_size
            out = []
            for start, length in ranges:
                begin, end = normalize_range(size, start, length)
                out.append(os.pread(fd, end - begin, begin) if end > begin else b"")
            return out
        except OSError as exc:
            raise self._os_error("reading", key, exc) from exc
        finally:
            os.close(fd)

    def _exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                if not self._inside(os.path.realpath(path)):
                    raise self._escape_error(key)
                st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except StoreError:
            raise
        except OSError as exc:
            raise self._os_error("checking", key, exc) from exc
        if not stat.S_ISREG(st.st_mode):
            return False
        self._verify_dir(key.rpartition("/")[0], key)
        return True

    # ---------------------------------------------------------------- writes
    def _prepare_dir(self, dirkey: str, key: str) -> str:
        """Create directory ``dirkey`` if needed (after checking containment); return its path."""
        dirpath = self._path(dirkey)
        if dirkey in self._dirs_made:
            return dirpath
        self._verify_dir(dirkey, key)  # realpath also resolves the part that already exists
        try:
            os.makedirs(dirpath, exist_ok=True)
        except OSError as exc:
            raise self._os_error("writing", key, exc) from exc
        if len(self._dirs_made) > _VERIFIED_CACHE_LIMIT:
            self._dirs_made = set()
        self._dirs_made.add(dirkey)
        return dirpath

    def _set_parts(self, key: str, parts: list) -> None:
        self._set(key, parts)  # type: ignore[arg-type]  # written with writev, no joined copy

    def _set(self, key: str, value: bytes | memoryview | list) -> None:
        dirkey, _, name = key.rpartition("/")
        dirpath = self._prepare_dir(dirkey, key)
        tmp = self._temp_path(dirpath, name)
        for attempt in range(8):
            try:
                fd = os.open(tmp, _O_TEMP, 0o666)
                break
            except FileNotFoundError as exc:
                # The directory was removed by a concurrent delete: create it again.
                self._dirs_made.discard(dirkey)
                if attempt == 7:
                    raise self._os_error("writing", key, exc) from exc
                dirpath = self._prepare_dir(dirkey, key)
            except OSError as exc:
                raise self._os_error("writing", key, exc) from exc
        try:
            try:
                _write_all(fd, value if isinstance(value, list) else [value])
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, f"{dirpath}/{name}")
        except BaseException as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError) and not isinstance(exc, StoreError):
                raise self._os_error("writing", key, exc) from exc
            raise
        if self._fsync:
            self._fsync_dir(dirpath)

    @staticmethod
    def _fsync_dir(dirpath: str) -> None:
        try:
            dfd = os.open(dirpath, os.O_RDONLY)
        except OSError:  # e.g. Windows cannot open directories
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)

    def _temp_path(self, dirpath: str, name: str) -> str:
        return f"{dirpath}/.{name[:_MAX_NAME_IN_TEMP]}.{os.getpid():x}-{_TOKEN}-{next(_COUNTER):x}.partial"

    def _set_batch(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        if _write_files is None or len(items) < 2:
            return self._set_batch_py(items)
        fsencode = os.fsencode
        tmps: list[bytes] = []
        finals: list[bytes] = []
        values: list[bytes | memoryview] = []
        slow: list[tuple[str, bytes | memoryview]] = []
        dirpaths: dict[str, str] = {}
        for key, value in items:
            if isinstance(value, list):  # parts: Python writes them with writev
                slow.append((key, value))
                continue
            dirkey, _, name = key.rpartition("/")
            dirpath = dirpaths.get(dirkey)
            if dirpath is None:
                dirpath = dirpaths[dirkey] = self._prepare_dir(dirkey, key)
            tmps.append(fsencode(self._temp_path(dirpath, name)))
            finals.append(fsencode(f"{dirpath}/{name}"))
            values.append(value)
        fast = [item for item in items if not isinstance(item[1], list)]
        for (key, value), err in zip(fast, _write_files(tmps, finals, values, self._fsync)):
            if err:  # e.g. the directory vanished under a concurrent delete: the careful path retries or raises
                slow.append((key, value))
        if self._fsync:
            for dirpath in dirpaths.values():
                self._fsync_dir(dirpath)
        self._set_batch_py(slow)

    def _set_batch_py(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        for key, value in items:
            self._set(key, value)

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        threshold = self._parallel_threshold
        if threshold is None or len(items) < threshold or in_parallel_part():
            return self._set_batch(items)
        # Create each directory once, up front, so workers do not race on makedirs.
        for dirkey in {key.rpartition("/")[0] for key, _ in items}:
            self._prepare_dir(dirkey, dirkey)
        step = max(-(-len(items) // _MAX_WORKERS), 8)
        parts = [items[i:i + step] for i in range(0, len(items), step)]
        for _ in _get_pool().map(self._set_batch, parts):
            pass

    # ---------------------------------------------------------------- deletes
    def _unlink(self, key: str) -> bool:
        """Remove the file at ``key``; whether something was removed."""
        self._verify_dir(key.rpartition("/")[0], key)
        try:
            os.unlink(self._path(key))
            return True
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.EPERM) and os.path.isdir(self._path(key)):
                return False  # a directory is not a key
            raise self._os_error("deleting", key, exc) from exc

    def _prune(self, dirkey: str) -> None:
        """Remove ``dirkey`` and its parents while they are empty (never the root)."""
        while dirkey:
            try:
                os.rmdir(self._path(dirkey))
            except OSError:
                return
            self._verified.discard(dirkey)
            self._dirs_made.discard(dirkey)
            dirkey = dirkey.rpartition("/")[0]

    def _delete(self, key: str) -> None:
        if self._unlink(key):
            self._prune(key.rpartition("/")[0])

    def _delete_many(self, keys: list[str]) -> None:
        dirs = {key.rpartition("/")[0] for key in keys if self._unlink(key)}
        for dirkey in sorted(dirs, key=len, reverse=True):
            self._prune(dirkey)

    def _delete_prefix(self, prefix: str) -> None:
        if prefix and not prefix.endswith("/"):
            self._delete_many(list(self._list_prefix(prefix)))
            return
        dirkey = prefix[:-1]
        self._verify_dir(dirkey, prefix)
        dirpath = self._path(dirkey)
        self._forget_dirs()
        try:
            if dirkey:
                if os.path.islink(dirpath):
                    os.unlink(dirpath)
                elif os.path.isdir(dirpath):
                    shutil.rmtree(dirpath)
                else:
                    return  # nothing, or a key "a" (which is not under "a/")
                self._prune(dirkey.rpartition("/")[0])
            else:
                with os.scandir(dirpath) as entries:
                    for entry in entries:
                        if entry.is_dir(follow_symlinks=False):
                            shutil.rmtree(entry.path)
                        else:
                            os.unlink(entry.path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._os_error("deleting prefix", prefix, exc) from exc

    # ---------------------------------------------------------------- orphan temporary files
    def clean_temp_files(self, older_than: float = 3600.0) -> int:
        """Remove temporary files left by killed writers, if last modified ``older_than`` seconds ago or more.

        A writer killed mid-write (SIGKILL, power loss) leaves its ``.partial`` file behind: never listed and never
        read, it only takes space (and keeps an otherwise empty directory). Nothing removes them automatically
        (that would mean walking the whole store); call this when convenient. A live writer's temp file is younger
        than any sensible ``older_than``, and this process's own are never removed. Returns how many were removed.
        """
        self._check_writable("", "clean")
        cutoff = time.time() - older_than
        own = f"{os.getpid():x}-{_TOKEN}-"
        removed = 0
        for dirpath, _dirs, files in os.walk(self._root):
            for name in files:
                if not _is_temp_name(name) or own in name:
                    continue
                path = os.path.join(dirpath, name)
                try:
                    if os.lstat(path).st_mtime <= cutoff:
                        os.unlink(path)
                        removed += 1
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise self._os_error("cleaning", os.path.relpath(path, self._root), exc) from exc
        return removed

    # ---------------------------------------------------------------- listing
    def _scan(self, dirkey: str) -> list[tuple[str, bool]]:
        """``(name, is_dir)`` for the entries of directory ``dirkey``, temp files left out."""
        try:
            with os.scandir(self._path(dirkey)) as entries:
                return [
                    (e.name, e.is_dir(follow_symlinks=False))
                    for e in entries
                    if not _is_temp_name(e.name)
                ]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _walk(self, dirkey: str) -> Iterator[str]:
        stack = [dirkey]
        while stack:
            current = stack.pop()
            base = f"{current}/" if current else ""
            for name, is_dir in self._scan(current):
                if is_dir:
                    stack.append(base + name)
                else:
                    yield base + name

    def _list(self) -> Iterator[str]:
        return self._walk("")

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        dirkey, _, stem = prefix.rpartition("/")
        self._verify_dir(dirkey, prefix)
        base = f"{dirkey}/" if dirkey else ""
        for name, is_dir in self._scan(dirkey):
            if name.startswith(stem):
                if is_dir:
                    yield from self._walk(base + name)
                else:
                    yield base + name

    def _list_dir(self, prefix: str) -> Iterator[str]:
        dirkey = prefix[:-1]
        self._verify_dir(dirkey, prefix)
        return iter([name for name, _ in self._scan(dirkey)])


_IOV_MAX = 512


def _write_all(fd: int, parts: list) -> None:
    """Write every buffer of ``parts`` to ``fd`` (``os.writev`` in groups, resuming after short writes)."""
    views = [memoryview(p).cast("B") for p in parts if len(p)]
    i = 0
    while i < len(views):
        group = views[i:i + _IOV_MAX]
        n = os.writev(fd, group)
        total = sum(len(v) for v in group)
        if n == total:
            i += len(group)
            continue
        for v in group:  # short write: skip what was written, continue inside the current buffer
            if n >= len(v):
                n -= len(v)
                i += 1
            else:
                views[i] = v[n:]
                break
