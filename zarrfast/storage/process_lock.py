"""Cross-process locks for read-modify-write of stored keys: ``flock`` on striped lock files.

A lock is named by a string (``LocalStore`` uses the real path of its root joined with the key). Names are hashed
(crc32, the same in every process) onto ``STRIPES`` locks, held on files in one directory **outside** any store:
``$ZARRFAST_LOCK_DIR`` if set, else ``<tempfile.gettempdir()>/zarrfast-locks-<uid>`` (created with mode 0700 and
checked to be ours). So stores, read-only data and other tools never see extra files, and arrays opened through
different roots (``/data`` with key ``a/c/0``, ``/data/a`` with key ``c/0``) take the same lock.

On Linux every request opens ``stripes.lock`` and takes an exclusive open-file-description lock
(``F_OFD_SETLKW``) on one byte per stripe, in ascending order (so two callers can't deadlock). Elsewhere it takes
``all.lock`` shared, then one file per stripe with ``flock``, ascending; a request for more than ``MAX_FILES``
stripes takes ``all.lock`` exclusively instead (so a request never holds more than ``MAX_FILES + 1`` descriptors).
Files are opened afresh per request and locked on that new open file description, so threads of one process exclude
one another too. Release is ``LOCK_UN`` then ``close`` (``LOCK_UN`` first, so a child forked meanwhile, which
inherits the descriptor, does not keep the lock). The kernel drops ``flock`` locks when a process dies, even by
SIGKILL, so a killed writer never leaves a stale lock. The locks are advisory and machine-local: processes on other
machines (a shared network file system) or with a different ``TMPDIR`` are not serialised. Without ``fcntl``
(Windows), :func:`available` is false and stores give no cross-process lock. Not reentrant: a thread must not
request a lock it holds.
"""
from __future__ import annotations

import os
import stat
import struct
import sys
import tempfile
import threading
import zlib
from collections.abc import Iterable

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from zarrfast.errors import StoreError

__all__ = ["MAX_FILES", "STRIPES", "available", "lock_dir", "name_locks", "stripe"]

STRIPES = 1024  # distinct locks; unrelated keys share one with probability 1/STRIPES (only extra waiting)
MAX_FILES = 16  # a request for more stripes locks everything instead (bounded open files per request)
_dir_fds: dict[str, int] = {}
_NAMES = [f"{s:03x}.lock" for s in range(STRIPES)]
_ALL = "all.lock"
# Linux (64-bit): open file description locks, one byte of one file per stripe (struct flock: type, whence, start,
# len, pid). Elsewhere: flock on one file per stripe.
_OFD = fcntl is not None and hasattr(fcntl, "F_OFD_SETLKW") and sys.platform == "linux" and sys.maxsize > 2**32
_OFD_FILE = "stripes.lock"
if _OFD:
    _RANGES = [struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, s, 1, 0) for s in range(STRIPES)]
    _UNLOCK_ALL = struct.pack("hhqqi4x", fcntl.F_UNLCK, os.SEEK_SET, 0, 0, 0)
_O_LOCK = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
_dir_lock = threading.Lock()
_dir_for: tuple[str | None, str] = ("\0", "")  # (ZARRFAST_LOCK_DIR seen, lock_dir() for it)


def available() -> bool:
    """Whether this platform has ``flock`` (POSIX)."""
    return fcntl is not None


def lock_dir() -> str:
    """The directory of the lock files (see the module docstring)."""
    global _dir_for
    env = os.environ.get("ZARRFAST_LOCK_DIR")
    if _dir_for[0] == env:
        return _dir_for[1]
    path = os.path.abspath(env) if env else os.path.join(
        tempfile.gettempdir(), f"zarrfast-locks-{getattr(os, 'getuid', lambda: 0)()}")
    _dir_for = (env, path)
    return path


def _open_dir(path: str) -> int:
    """An ``O_DIRECTORY`` descriptor of ``path`` (created if needed), cached per process."""
    fd = _dir_fds.get(path)
    if fd is not None:
        return fd
    with _dir_lock:
        fd = _dir_fds.get(path)
        if fd is not None:
            return fd
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0) | os.O_NOFOLLOW)
            st = os.fstat(fd)
        except OSError as exc:
            raise StoreError(f"cannot use the lock directory {path!r} for cross-process write locks: {exc}; "
                             "set ZARRFAST_LOCK_DIR to a writable local directory") from exc
        if "ZARRFAST_LOCK_DIR" not in os.environ and (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid()):
            os.close(fd)
            raise StoreError(f"the lock directory {path!r} is not a directory owned by this user; remove it or set "
                             "ZARRFAST_LOCK_DIR to a private directory")
        _dir_fds[path] = fd
        return fd


def stripe(name: str) -> int:
    """The lock file number of ``name`` (stable across processes, unlike ``hash``)."""
    return zlib.crc32(name.encode("utf-8", "surrogateescape")) % STRIPES


class name_locks:  # noqa: N801 - used like a function returning a context manager
    """Hold the cross-process locks of all ``names`` (see the module docstring; released even on errors)."""

    __slots__ = ("_stripes", "_fds")

    def __init__(self, names: Iterable[str]) -> None:
        stripes = sorted({stripe(n) for n in names}) if fcntl is not None else []
        # many names: the whole lock directory exclusively (-1), so a request never holds more than MAX_FILES files
        self._stripes = [-1] if len(stripes) > MAX_FILES and not _OFD else stripes
        self._fds: list[int] = []

    def __enter__(self) -> None:
        if not self._stripes:
            return
        path = lock_dir()
        dfd = _dir_fds.get(path)
        if dfd is None:
            dfd = _open_dir(path)
        try:
            if _OFD:  # one descriptor, one byte-range lock per stripe
                fd = self._open(dfd, path, _OFD_FILE)
                for s in self._stripes:
                    fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _RANGES[s])
                return
            whole = self._stripes[0] == -1
            fcntl.flock(self._open(dfd, path, _ALL), fcntl.LOCK_EX if whole else fcntl.LOCK_SH)
            if not whole:
                for s in self._stripes:
                    fcntl.flock(self._open(dfd, path, _NAMES[s]), fcntl.LOCK_EX)
        except BaseException:
            self._release()
            raise

    def _open(self, dfd: int, path: str, name: str) -> int:
        try:
            fd = os.open(name, _O_LOCK, 0o600, dir_fd=dfd)
        except OSError as exc:
            raise StoreError(f"cannot open lock file {name} in {path!r}: {exc}") from exc
        self._fds.append(fd)
        return fd

    def __exit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in reversed(fds):
            try:
                if _OFD:
                    fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _UNLOCK_ALL)
                else:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)


def _reset_after_fork() -> None:
    global _dir_lock
    _dir_lock = threading.Lock()  # another thread may have held it at the fork; the cached descriptors stay valid


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
