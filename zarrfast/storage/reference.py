"""A read-only store over a kerchunk reference set: HDF5/NetCDF/TIFF chunks read in place.

A reference set maps store keys to values (kerchunk spec versions 0 and 1):

* a string: inline data, UTF-8 text (e.g. a ``.zarray`` document), or ``"base64:..."`` bytes;
* a JSON object: inline metadata, stored as its JSON encoding;
* ``[url]``: the whole target file; ``[url, offset, length]``: a byte range of it.

Version 1 wraps these as ``{"version": 1, "templates": {...}, "gen": [...], "refs": {...}}``:
``{{name}}`` in URLs is replaced from ``templates``, and each ``gen`` entry generates keys over
the product of its ``dimensions`` (see :mod:`zarrfast.storage.reference_gen`; no jinja needed).

Local targets (plain paths, relative to ``base_dir``, or ``file://`` URLs) are read with
``os.pread`` through a small thread-safe LRU of open files. Other URLs (``s3://``, ``https://``,
``memory://`` ...) go through fsspec (imported on first use) with ``remote_options``; URLs with
no protocol use ``remote_protocol`` when it is given. ``get_many`` groups the ranges it needs by
target, merges ranges closer than ``max_gap`` bytes (while the merged read stays below
``max_request`` bytes), reads the merged ranges concurrently (a thread pool for local files, one
``cat_ranges`` call per remote filesystem) and slices each value out. ``read_count`` counts the
reads sent to targets.
"""
from __future__ import annotations

import collections
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote, urlsplit

from zarrfast.errors import ReadOnlyError, StoreError, StoreNotFoundError
from zarrfast.storage.base import Store, normalize_range
from zarrfast.storage.reference_gen import ReferenceFormatError, iter_entries, load_refs

__all__ = ["ReferenceFormatError", "ReferenceStore"]

MAX_GAP = 64 * 1024
MAX_REQUEST = 32 * 1024 * 1024
_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(8, thread_name_prefix="zarrfast-refs")
    return _pool


def _reset_after_fork() -> None:
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _pread(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes at ``offset`` (fewer only at the end of the file)."""
    data = os.pread(fd, size, offset)
    if len(data) == size or not data:
        return data
    parts, got = [data], len(data)
    while got < size:  # one pread returns at most ~2 GiB
        chunk = os.pread(fd, size - got, offset + got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class _Target:
    """One referenced file: a local path (``protocol is None``) or a fsspec URL."""

    __slots__ = ("path", "protocol", "url")

    def __init__(self, url: str, path: str, protocol: str | None) -> None:
        self.url, self.path, self.protocol = url, path, protocol


class _OpenFiles:
    """An LRU of open file descriptors; a descriptor in use is closed only once released."""

    def __init__(self, limit: int) -> None:
        self._limit = max(1, limit)
        self._lock = threading.Lock()
        self._open: collections.OrderedDict[str, list[Any]] = collections.OrderedDict()

    def acquire(self, path: str) -> list[Any]:
        with self._lock:
            rec = self._open.get(path)
            if rec is not None:
                self._open.move_to_end(path)
                rec[1] += 1
                return rec
        fd = os.open(path, _O_READ)  # outside the lock: opening may be slow
        with self._lock:
            rec = self._open.get(path)
            if rec is not None:  # another thread opened it meanwhile
                os.close(fd)
                rec[1] += 1
                return rec
            rec = [fd, 1, False]  # fd, users, evicted
            self._open[path] = rec
            while len(self._open) > self._limit:
                _, old = self._open.popitem(last=False)
                old[2] = True
                if old[1] == 0:
                    os.close(old[0])
            return rec

    def release(self, rec: list[Any]) -> None:
        with self._lock:
            rec[1] -= 1
            if rec[2] and rec[1] == 0:
                os.close(rec[0])

    def close(self) -> None:
        with self._lock:
            for rec in self._open.values():
                rec[2] = True
                if rec[1] == 0:
                    os.close(rec[0])
            self._open.clear()


class ReferenceStore(Store):
    """Keys of a kerchunk reference set (``refs``: dict, JSON text/bytes, or a path/URL to JSON).

    Options: ``storage_options`` for opening ``refs`` through fsspec; ``remote_protocol`` and
    ``remote_options`` for the referenced URLs; ``base_dir`` for relative local paths (default:
    the current directory); ``max_open_files`` for the LRU of open local files; ``max_gap`` and
    ``max_request`` for coalescing ranges. Always read-only; pickles by ``refs`` and options.
    """

    supports_writes = False
    supports_deletes = False

    def __init__(
        self,
        refs: Any,
        *,
        read_only: bool = True,
        storage_options: dict[str, Any] | None = None,
        remote_protocol: str | None = None,
        remote_options: dict[str, Any] | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        max_open_files: int = 64,
        max_gap: int = MAX_GAP,
        max_request: int = MAX_REQUEST,
    ) -> None:
        if not read_only:
            raise ReadOnlyError("ReferenceStore is always read-only: reference sets cannot be written")
        super().__init__(read_only=True)
        self._refs_arg = refs
        self.storage_options = dict(storage_options or {})
        self.remote_protocol = remote_protocol
        self.remote_options = dict(remote_options or {})
        self.base_dir = os.path.abspath(os.fspath(base_dir) if base_dir is not None else os.getcwd())
        self.max_open_files, self.max_gap, self.max_request = max_open_files, max_gap, max_request
        self._files = _OpenFiles(max_open_files)
        self._fs: dict[str | None, Any] = {}
        self._lock = threading.Lock()
        self._reads = 0
        self._digest: str | None = None
        loaded, self._source = load_refs(refs, self.storage_options)
        if self._source is not None and "://" not in self._source and "::" not in self._source:
            self._source = self._refs_arg = os.path.abspath(self._source)  # pickles work from any cwd
        self._targets: dict[str, _Target] = {}
        self._refs: dict[str, bytes | tuple[_Target, int, int | None]] = {}
        self._parse(loaded)

    # ---------------------------------------------------------------- parsing
    def _parse(self, loaded: Mapping[str, Any]) -> None:
        refs, target = self._refs, self._target
        for key, value in iter_entries(loaded):
            refs[key] = value if type(value) is bytes else (target(value[0], key), *value[1:])

    def _target(self, url: str, key: str) -> _Target:
        target = self._targets.get(url)
        if target is not None:
            return target
        if "://" in url or "::" in url:
            # the filesystem key: the protocol, or the whole chain ("simplecache::s3") of a chained URL
            scheme = "::".join(part.split("://", 1)[0] for part in url.split("::"))
            if scheme.lower() == "file":
                parts = urlsplit(url)
                if parts.netloc not in ("", "localhost"):
                    raise ReferenceFormatError(f"reference key {key!r}: {url!r} is not a local file URL")
                target = _Target(url, unquote(parts.path), None)
            else:
                target = _Target(url, url, scheme)
        elif self.remote_protocol and self.remote_protocol not in ("file", "local"):
            full = f"{self.remote_protocol}://{url}"
            target = _Target(full, full, self.remote_protocol)
        else:
            target = _Target(url, os.path.join(self.base_dir, url), None)
        self._targets[url] = target
        return target

    # ---------------------------------------------------------------- identity
    def _config(self) -> dict[str, Any]:
        return {
            "refs": self._refs_arg,
            "read_only": True,
            "storage_options": self.storage_options,
            "remote_protocol": self.remote_protocol,
            "remote_options": self.remote_options,
            "base_dir": self.base_dir,
            "max_open_files": self.max_open_files,
            "max_gap": self.max_gap,
            "max_request": self.max_request,
        }

    def _location(self) -> Any:
        if self._digest is None:
            if self._source is not None:
                self._digest = self._source
            else:
                text = json.dumps(self._refs_arg, sort_keys=True, default=repr)
                self._digest = hashlib.sha256(text.encode()).hexdigest()
        return (self._digest, self.base_dir, self.remote_protocol, repr(sorted(self.remote_options.items())))

    def _location_str(self) -> str:
        return repr(self._source) if self._source is not None else f"<{len(self._refs)} references>"

    @property
    def read_count(self) -> int:
        """How many reads this store has sent to referenced files (merged ranges count once)."""
        return self._reads

    def close(self) -> None:
        """Close the open local files (later reads reopen them)."""
        self._files.close()
        super().close()

    def _count(self, n: int) -> None:
        with self._lock:
            self._reads += n

    # ---------------------------------------------------------------- reading targets
    def _filesystem(self, target: _Target) -> tuple[Any, str]:
        fs = self._fs.get(target.protocol)
        if fs is None:
            from fsspec.core import url_to_fs  # type: ignore[import-untyped]

            fs, _ = url_to_fs(target.url, **self.remote_options)
            self._fs[target.protocol] = fs
        return fs, fs._strip_protocol(target.url)

    def _missing(self, key: str, target: _Target) -> StoreNotFoundError:
        return StoreNotFoundError(
            f"reference key {key!r} in store {self!r}: target file {target.url!r} does not exist"
        )

    def _failed(self, key: str, target: _Target, exc: BaseException) -> StoreError:
        if isinstance(exc, FileNotFoundError):
            return self._missing(key, target)
        if isinstance(exc, StoreError):
            return exc
        return StoreError(f"reference key {key!r} in store {self!r}: reading {target.url!r} failed: {exc}")

    def _read(self, key: str, target: _Target, offset: int, size: int | None) -> bytes:
        """``size`` bytes of ``target`` at ``offset`` (``None``: to the end); may be short."""
        self._count(1)
        try:
            if target.protocol is None:
                rec = self._files.acquire(target.path)
                try:
                    if size is None:
                        size = max(os.fstat(rec[0]).st_size - offset, 0)
                    return _pread(rec[0], size, offset)
                finally:
                    self._files.release(rec)
            fs, path = self._filesystem(target)
            return fs.cat_file(path, offset, None if size is None else offset + size)  # type: ignore[no-any-return]
        except Exception as exc:
            raise self._failed(key, target, exc) from exc

    def _size(self, key: str, target: _Target) -> int:
        try:
            if target.protocol is None:
                return os.stat(target.path).st_size
            fs, path = self._filesystem(target)
            return int(fs.size(path))
        except Exception as exc:
            raise self._failed(key, target, exc) from exc

    def _run(self, requests: list[tuple[str, _Target, int, int | None]]) -> list[bytes]:
        """Perform reads ``(key, target, offset, size)``: local ones on threads, remote ones batched."""
        results: list[Any] = [None] * len(requests)
        local = [i for i, r in enumerate(requests) if r[1].protocol is None]
        remote: dict[str | None, list[int]] = {}
        for i, r in enumerate(requests):
            if r[1].protocol is not None:
                remote.setdefault(r[1].protocol, []).append(i)
        for indices in remote.values():
            whole = [i for i in indices if requests[i][3] is None]
            ranged = [i for i in indices if requests[i][3] is not None]
            for i in whole:
                results[i] = self._read(*requests[i])
            if ranged:
                fs, _ = self._filesystem(requests[ranged[0]][1])
                paths = [self._filesystem(requests[i][1])[1] for i in ranged]
                starts = [requests[i][2] for i in ranged]
                ends = [requests[i][2] + requests[i][3] for i in ranged]  # type: ignore[operator]
                self._count(len(ranged))
                try:
                    out = fs.cat_ranges(paths, starts, ends, on_error="return")
                except Exception as exc:
                    raise self._failed(requests[ranged[0]][0], requests[ranged[0]][1], exc) from exc
                for i, data in zip(ranged, out):
                    if isinstance(data, BaseException):
                        raise self._failed(requests[i][0], requests[i][1], data) from data
                    results[i] = data
        if len(local) == 1:
            results[local[0]] = self._read(*requests[local[0]])
        elif local:
            for i, data in zip(local, _get_pool().map(lambda i: self._read(*requests[i]), local)):
                results[i] = data
        return results

    def _fetch(self, wants: list[tuple[str, _Target, int, int | None]]) -> list[bytes]:
        """Values for ``(key, target, offset, length)``: ranges to one target merged, then sliced."""
        requests: list[tuple[str, _Target, int, int | None]] = []
        pieces: list[tuple[int, int]] = []  # per want: request number, offset inside it
        by_target: dict[int, list[int]] = {}
        for n, want in enumerate(wants):
            pieces.append((-1, 0))
            if want[3] is None:
                pieces[n] = (len(requests), 0)
                requests.append(want)
            else:
                by_target.setdefault(id(want[1]), []).append(n)
        for members in by_target.values():
            members.sort(key=lambda n: wants[n][2])
            start = end = -1
            for n in members:
                key, target, offset, length = wants[n]
                if requests and start >= 0 and offset - end <= self.max_gap and \
                        max(end, offset + length) - start <= self.max_request:  # type: ignore[operator]
                    end = max(end, offset + length)  # type: ignore[operator]
                    requests[-1] = (requests[-1][0], target, start, end - start)
                else:
                    start, end = offset, offset + length  # type: ignore[operator]
                    requests.append((key, target, offset, length))
                pieces[n] = (len(requests) - 1, offset - start)
        data = self._run(requests)
        out = []
        for (key, target, offset, length), (r, within) in zip(wants, pieces):
            if length is None:
                out.append(data[r])
                continue
            value = data[r][within:within + length]
            if len(value) < length:
                raise StoreError(
                    f"reference key {key!r} in store {self!r}: short read from {target.url!r} "
                    f"(wanted {length} bytes at offset {offset}, got only {len(value)})"
                )
            out.append(bytes(value))
        return out

    # ---------------------------------------------------------------- store hooks
    def _get(self, key: str) -> bytes | None:
        return self._get_many([key])[0]

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        out: list[bytes | None] = [None] * len(keys)
        wants: list[tuple[str, _Target, int, int | None]] = []
        slots: list[int] = []
        refs = self._refs
        for i, key in enumerate(keys):
            entry = refs.get(key)
            if entry is None:
                continue
            if type(entry) is bytes:
                out[i] = entry
            else:
                wants.append((key, *entry))  # type: ignore[arg-type]
                slots.append(i)
        if wants:
            for i, value in zip(slots, self._fetch(wants)):
                out[i] = value
        return out

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        result = self._get_ranges(key, [(start, length)])
        return None if result is None else result[0]

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        entry = self._refs.get(key)
        if entry is None:
            return None
        if isinstance(entry, bytes):
            spans = [normalize_range(len(entry), s, n) for s, n in ranges]
            return [entry[a:b] for a, b in spans]
        target, offset, size = entry
        if size is None:
            size = self._size(key, target)
        spans = [normalize_range(size, s, n) for s, n in ranges]
        wants: list[tuple[str, _Target, int, int | None]] = [
            (key, target, offset + a, b - a) for a, b in spans if b > a
        ]
        values = iter(self._fetch(wants)) if wants else iter(())
        return [next(values) if b > a else b"" for a, b in spans]

    def _exists(self, key: str) -> bool:
        return key in self._refs

    def _set(self, key: str, value: bytes | memoryview) -> None:  # pragma: no cover - read-only
        raise AssertionError("unreachable: ReferenceStore is read-only")

    def _delete(self, key: str) -> None:  # pragma: no cover - read-only
        raise AssertionError("unreachable: ReferenceStore is read-only")

    def _list(self) -> Iterator[str]:
        return iter(list(self._refs))

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        return iter([key for key in self._refs if key.startswith(prefix)])
