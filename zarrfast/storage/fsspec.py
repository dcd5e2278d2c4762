"""A store over any fsspec filesystem: S3, GCS, Azure, HTTP(S), ``memory://``, chained URLs ...

``FsspecStore.from_url("s3://bucket/data.zarr", storage_options={...})`` opens the filesystem
with :func:`fsspec.core.url_to_fs` (chained URLs such as ``zip::s3://bucket/data.zip`` included);
``FsspecStore(fs, path)`` wraps a filesystem object you already have. fsspec is imported only when
such a store is made.

Batched reads are one fsspec call: ``get_many`` and ``get_ranges`` go through
``fs.cat_ranges``, which asynchronous filesystems (s3fs, gcsfs, adlfs, HTTP: ``fs.async_impl``)
run as concurrent requests on fsspec's event-loop thread; ``set_many`` uses ``fs.pipe`` and
``delete_many`` ``fs.rm`` (S3 deletes up to 1,000 keys per request). Writes are whole-object
PUTs (``fs.pipe_file``), which object stores apply atomically.

Errors: a missing key is not an error (``get`` returns ``None``). Everything else that fails in
the backend is raised as a :class:`~zarrfast.errors.StoreError` subclass naming the key and the
store: :class:`StorePermissionError` (access denied, bad or missing credentials),
:class:`StoreNotFoundError` (the bucket or container does not exist),
:class:`StoreConnectionError` (endpoint unreachable, connection dropped),
:class:`StoreTimeoutError`, or a plain :class:`StoreError`; the backend's exception is chained as
``__cause__``.

HTTP(S) stores, and stores inside archives (``zip::``, ``tar::``), are read-only; HTTP stores
cannot list keys (``supports_listing`` is False, listing raises
:class:`~zarrfast.storage.base.UnsupportedOperationError`), so arrays are opened by path and
groups through consolidated metadata.

Pickling keeps the URL and ``storage_options`` (or the fsspec filesystem, which fsspec pickles by
its constructor arguments), never the data.
"""
from __future__ import annotations

import inspect
import os
from collections.abc import Iterator
from typing import Any, Self

from zarrfast.errors import (
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
    StoreTimeoutError,
)
from zarrfast.storage.base import Store, UnsupportedOperationError, normalize_range

__all__ = ["PROTOCOL_PACKAGES", "FsspecStore"]

#: The pip package that provides an fsspec protocol (for "not installed" messages).
PROTOCOL_PACKAGES: dict[str, str] = {
    "s3": "s3fs", "s3a": "s3fs",
    "gs": "gcsfs", "gcs": "gcsfs",
    "az": "adlfs", "abfs": "adlfs", "abfss": "adlfs", "adl": "adlfs",
    "http": "aiohttp", "https": "aiohttp",
    "hf": "huggingface_hub",
    "sftp": "paramiko", "ssh": "paramiko",
    "webdav": "webdav4", "dav": "webdav4",
    "oci": "ocifs", "oss": "ossfs", "box": "boxfs", "dropbox": "dropboxdrivefs",
    "smb": "smbprotocol", "hdfs": "pyarrow", "gdrive": "gdrivefs", "lakefs": "lakefs-spec",
}

# Protocols whose stores never write: web servers and archives read through fsspec.
_READ_ONLY_PROTOCOLS = frozenset({"http", "https", "zip", "tar", "libarchive", "github", "git",
                                  "reference", "data"})
_NO_LISTING_PROTOCOLS = frozenset({"http", "https", "data"})

# Exception class names (checked along the MRO, so botocore/aiohttp need not be imported).
_TIMEOUT_NAMES = frozenset({"ConnectTimeoutError", "ReadTimeoutError", "ServerTimeoutError",
                            "ConnectionTimeoutError", "SocketTimeoutError", "TimeoutError"})
_CONNECTION_NAMES = frozenset({"EndpointConnectionError", "ConnectionClosedError", "ClientConnectionError",
                               "ClientConnectorError", "ServerDisconnectedError", "ClientOSError",
                               "ProxyConnectionError", "ClientPayloadError", "ConnectionError"})
_CREDENTIAL_NAMES = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError",
                               "ClientAuthenticationError", "RefreshError", "DefaultCredentialsError"})
_MISSING_CONTAINER_CODES = frozenset({"NoSuchBucket", "ContainerNotFound", "BucketNotFound"})
_MISSING_CONTAINER_TEXT = ("bucket does not exist", "container does not exist", "no such bucket",
                           "containernotfound")
_MISSING_KEY_TYPES = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
_MAGIC = frozenset("*?[")


def _import_fsspec() -> Any:
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec is a test dependency
        raise ImportError(
            "URL stores (s3://, gs://, http:// ...) need fsspec: pip install fsspec "
            "(plus the backend, e.g. s3fs, gcsfs, adlfs, aiohttp)"
        ) from exc
    return fsspec


def _protocols(url: str) -> list[str]:
    """The protocols named in a (possibly chained) URL, outermost first."""
    out = []
    for part in url.split("::"):
        scheme, sep, _ = part.partition("://")
        out.append((scheme if sep else part).lower())
    return [p for p in out if p]


def _main_protocol(fs: Any) -> str:
    protocol = fs.protocol
    if isinstance(protocol, (tuple, list)):
        protocol = protocol[0]
    return str(protocol).lower()


# ---------------------------------------------------------------------------------- errors
def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and its explicit causes (``raise ... from``), newest first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return getattr(exc, "error_code", None)


def _classify(exc: BaseException) -> type[StoreError] | None:
    """The StoreError subclass for a backend failure, or ``None`` when it is only a missing key."""
    found_missing_key = False
    for e in _chain(exc):
        names = _names(e)
        status = getattr(e, "status", None)
        if not isinstance(status, int):
            status = None
        code = _error_code(e)
        text = str(e).lower()
        if isinstance(e, TimeoutError) or names & _TIMEOUT_NAMES or code in ("RequestTimeout",):
            return StoreTimeoutError
        if code in _MISSING_CONTAINER_CODES or any(t in text for t in _MISSING_CONTAINER_TEXT):
            return StoreNotFoundError
        if isinstance(e, PermissionError) or names & _CREDENTIAL_NAMES or status in (401, 403):
            return StorePermissionError
        if isinstance(e, ConnectionError) or names & _CONNECTION_NAMES:
            return StoreConnectionError
        if isinstance(e, _MISSING_KEY_TYPES) or status in (404, 410):
            found_missing_key = True
            continue
        if status is not None and status >= 500:
            return StoreError
    return None if found_missing_key else StoreError


# ---------------------------------------------------------------------------------- the store
class FsspecStore(Store):
    """Keys as objects under ``path`` on an fsspec filesystem.

    Build it from a URL with :meth:`from_url` (or ``FsspecStore(url=..., storage_options=...)``),
    or from a filesystem object: ``FsspecStore(fs, "bucket/data.zarr")``. Filesystems created with
    ``asynchronous=True`` (as zarr-python makes them) are re-created in synchronous mode with the
    same options.
    """

    supports_writes = True
    supports_deletes = True
    supports_listing = True
    supports_partial_reads = True

    def __init__(
        self,
        fs: Any = None,
        path: str = "",
        *,
        url: str | None = None,
        storage_options: dict[str, Any] | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(read_only=read_only)
        self._url_arg = None if url is None else str(url)
        self._storage_options = dict(storage_options or {})
        if url is not None:
            if fs is not None:
                raise TypeError("FsspecStore takes either a filesystem or url=, not both")
            fs, path = self._open_url(self._url_arg, self._storage_options)  # type: ignore[arg-type]
        elif fs is None:
            raise TypeError("FsspecStore needs an fsspec filesystem or url=")
        elif self._storage_options:
            raise TypeError("storage_options are only used with url=; configure the filesystem instead")
        else:
            fs = _sync_filesystem(fs)
            if not isinstance(path, str):
                raise TypeError(f"FsspecStore path must be a str, not {type(path).__name__}")
            path = fs._strip_protocol(path) if path else ""
        self._fs = fs
        self._root = path.rstrip("/")
        self._path_arg = path
        protocol = _main_protocol(fs)
        self._protocol = protocol
        if protocol in _READ_ONLY_PROTOCOLS:
            self._read_only = True
            self.supports_writes = False
            self.supports_deletes = False
        if protocol in _NO_LISTING_PROTOCOLS:
            self.supports_listing = False
        self._async = bool(getattr(fs, "async_impl", False))
        # s3fs reads whole objects with a HEAD first unless told not to split them up.
        params = _parameters(getattr(fs, "_cat_file", None) or fs.cat_file)
        self._cat_kwargs: dict[str, Any] = {"max_concurrency": 1} if "max_concurrency" in params else {}
        self._find_takes_prefix = "prefix" in _parameters(getattr(fs, "_find", None) or fs.find)

    @staticmethod
    def _open_url(url: str, storage_options: dict[str, Any]) -> tuple[Any, str]:
        fsspec = _import_fsspec()
        try:
            fs, path = fsspec.core.url_to_fs(url, **storage_options)
        except ImportError as exc:
            missing = [p for p in _protocols(url) if _backend_missing(fsspec, p)]
            proto = missing[0] if missing else _protocols(url)[0]
            pkg = PROTOCOL_PACKAGES.get(proto)
            hint = f"pip install {pkg}" if pkg else "install the fsspec backend package for it"
            raise ImportError(
                f"cannot open {url!r}: the fsspec backend for {proto}:// is not installed ({hint}); "
                f"fsspec says: {exc}"
            ) from exc
        except ValueError as exc:
            if "protocol not known" in str(exc).lower():
                raise StoreError(
                    f"cannot open {url!r}: unknown URL protocol ({exc}); fsspec knows "
                    f"{', '.join(sorted(fsspec.available_protocols())[:40])} ..."
                ) from exc
            raise StoreError(f"cannot open {url!r}: {exc}") from exc
        except Exception as exc:
            kind = _classify(exc) or StoreNotFoundError
            raise kind(f"cannot open {url!r}: {type(exc).__name__}: {exc}") from exc
        return fs, path

    @classmethod
    def from_url(
        cls, url: str, storage_options: dict[str, Any] | None = None, read_only: bool = False
    ) -> Self:
        """A store for ``url`` (``s3://bucket/x.zarr``, ``https://host/x.zarr``, ``zip::s3://b/x.zip`` ...).

        ``storage_options`` go to the filesystem (for chained URLs, options for one level go
        under its protocol name, e.g. ``{"s3": {...}}``).
        """
        if not isinstance(url, str):
            url = os.fspath(url)
        return cls(url=url, storage_options=storage_options, read_only=read_only)

    @classmethod
    def from_mapper(cls, mapper: Any, read_only: bool = False) -> Self:
        """A store over the same data as an ``fsspec.FSMap`` (``fsspec.get_mapper(...)``)."""
        return cls(mapper.fs, mapper.root, read_only=read_only)

    # ---------------------------------------------------------------- identity
    @property
    def fs(self) -> Any:
        """The fsspec filesystem."""
        return self._fs

    @property
    def path(self) -> str:
        """The store's root path on the filesystem (no protocol, no trailing ``/``)."""
        return self._root

    @property
    def url(self) -> str:
        """The URL this store was opened with (or the filesystem's URL for its path)."""
        if self._url_arg is not None:
            return self._url_arg.rstrip("/") if not self._url_arg.endswith("://") else self._url_arg
        try:
            return self._fs.unstrip_protocol(self._root)
        except Exception:  # noqa: BLE001 - only for display
            return f"{self._protocol}://{self._root}"

    @property
    def storage_options(self) -> dict[str, Any]:
        return dict(self._storage_options)

    def _config(self) -> dict[str, Any]:
        if self._url_arg is not None:
            return {"url": self._url_arg, "storage_options": dict(self._storage_options),
                    "read_only": self._read_only}
        return {"fs": self._fs, "path": self._path_arg, "read_only": self._read_only}

    def _location(self) -> Any:
        return (type(self._fs).__name__, getattr(self._fs, "_fs_token", id(self._fs)), self._root)

    def _location_str(self) -> str:
        return repr(self.url)

    # ---------------------------------------------------------------- helpers
    def _full(self, key: str) -> str:
        return f"{self._root}/{key}" if self._root else key

    def _rel(self, path: str) -> str | None:
        """The key for a path listed by the filesystem (``None`` if it is outside the root)."""
        path = path.rstrip("/")
        if self._root:
            prefix = self._root + "/"
            return path[len(prefix):] if path.startswith(prefix) else None
        return path.lstrip("/") or None

    def _error(self, op: str, key: str, exc: BaseException, kind: type[StoreError] | None = None) -> StoreError:
        if isinstance(exc, StoreError):
            return exc
        kind = kind or _classify(exc) or StoreError
        detail = str(exc) or type(exc).__name__
        if kind is StoreNotFoundError:
            why = "the bucket/container does not exist"
        elif kind is StorePermissionError:
            why = "permission denied"
        elif kind is StoreTimeoutError:
            why = "the request timed out"
        elif kind is StoreConnectionError:
            why = "cannot reach the storage service"
        else:
            why = "the backend failed"
        return kind(f"{op} key {key!r} in store {self!r} failed: {why} ({type(exc).__name__}: {detail})")

    def _check_missing(self, op: str, key: str, exc: BaseException) -> None:
        """Return if ``exc`` only means that ``key`` is missing; raise the mapped error otherwise."""
        kind = _classify(exc)
        if kind is not None:
            raise self._error(op, key, exc, kind) from exc

    def _refuse_listing(self, prefix: str) -> None:
        if not self.supports_listing:
            raise UnsupportedOperationError(
                f"cannot list prefix {prefix!r}: store {self!r} ({self._protocol}://) does not support "
                "listing; open arrays by path, and groups through consolidated metadata"
            )

    # ---------------------------------------------------------------- reads
    def _get(self, key: str) -> bytes | None:
        try:
            return bytes(self._fs.cat_file(self._full(key), **self._cat_kwargs))
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("reading", key, exc)
            return None

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        if len(keys) <= 1:
            return [self._get(key) for key in keys]
        paths = [self._full(k) for k in keys]
        try:
            # One batched call; async filesystems run the requests concurrently. cat_ranges with
            # open bounds reads whole objects and keeps results in order (no glob expansion).
            results = self._fs.cat_ranges(paths, [None] * len(paths), [None] * len(paths),
                                          on_error="return", **self._cat_kwargs)
        except Exception as exc:
            raise self._error("reading", keys[0], exc) from exc
        out: list[bytes | None] = []
        for key, value in zip(keys, results):
            if isinstance(value, BaseException):
                self._check_missing("reading", key, value)
                out.append(None)
            else:
                out.append(value if type(value) is bytes else bytes(value))
        return out

    def _size(self, key: str) -> int | None:
        """The value's size in bytes, ``None`` when the key is missing."""
        try:
            info = self._fs.info(self._full(key))
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("reading", key, exc)
            return None
        if info.get("type", "file") != "file":
            return None
        size = info.get("size")
        if size is None:
            value = self._get(key)
            return None if value is None else len(value)
        return int(size)

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        out = self._get_ranges(key, [(start, length)])
        return None if out is None else out[0]

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        if not ranges:
            return [] if self._exists(key) else None
        size: int | None = None
        if any(start < 0 and length is not None for start, length in ranges):
            size = self._size(key)  # "n bytes from the k-th last byte" needs the size up front
            if size is None:
                return None
        out: list[bytes | None] = [None] * len(ranges)
        todo: list[int] = []
        starts: list[int] = []
        ends: list[int | None] = []
        for i, (start, length) in enumerate(ranges):
            if size is not None:
                begin, end = normalize_range(size, start, length)
                if end <= begin:
                    out[i] = b""
                    continue
                s, e = begin, end
            elif length == 0:
                out[i] = b""
                continue
            else:
                s, e = start, (None if length is None else start + length)
            todo.append(i)
            starts.append(s)
            ends.append(e)
        if not todo:
            return out if self._exists(key) else None  # type: ignore[return-value]
        path = self._full(key)
        try:
            results = self._fs.cat_ranges([path] * len(todo), starts, ends, on_error="return")
        except Exception as exc:
            raise self._error("reading", key, exc) from exc
        for i, value in zip(todo, results):
            if isinstance(value, BaseException):
                if not _maybe_range_error(value):
                    self._check_missing("reading", key, value)
                    return None  # the key is missing
                # A range starting past the end is refused by HTTP/S3 (416): then it is empty.
                if size is None:
                    size = self._size(key)
                    if size is None:
                        return None
                begin, end = normalize_range(size, *ranges[i])
                if end > begin:
                    raise self._error("reading", key, value) from value
                out[i] = b""
            else:
                out[i] = value if type(value) is bytes else bytes(value)
        return out  # type: ignore[return-value]

    def _exists(self, key: str) -> bool:
        return self._size(key) is not None

    # ---------------------------------------------------------------- writes
    def _set(self, key: str, value: bytes | memoryview) -> None:
        path = self._full(key)
        data = value if type(value) is bytes else bytes(value)
        try:
            self._fs.pipe_file(path, data)
        except Exception as exc:
            if _classify(exc) is not None:
                raise self._error("writing", key, exc) from exc
            # A missing parent directory (filesystems with real directories): make it and retry.
            try:
                self._fs.makedirs(self._fs._parent(path), exist_ok=True)
                self._fs.pipe_file(path, data)
            except Exception as exc2:
                raise self._error("writing", key, exc2) from exc2

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        if not self._async or len(items) <= 1:
            for key, value in items:
                self._set(key, value)
            return
        data = {self._full(k): (v if type(v) is bytes else bytes(v)) for k, v in items}
        try:
            self._fs.pipe(data)
        except Exception as exc:
            raise self._error("writing", items[0][0], exc) from exc

    def _delete(self, key: str) -> None:
        try:
            self._fs.rm_file(self._full(key))
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("deleting", key, exc)

    def _delete_many(self, keys: list[str]) -> None:
        if not self._async or len(keys) <= 1 or any(_MAGIC & set(k) for k in keys):
            for key in keys:
                self._delete(key)
            return
        try:
            self._fs.rm([self._full(k) for k in keys])
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("deleting", keys[0], exc)
            for key in keys:  # some backends refuse a batch with missing keys: go one by one
                self._delete(key)

    def _delete_prefix(self, prefix: str) -> None:
        self._delete_many(list(self._list_prefix(prefix)))

    # ---------------------------------------------------------------- listing
    def _list(self) -> Iterator[str]:
        return self._list_prefix("")

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        self._refuse_listing(prefix)
        directory, _, rest = prefix.rpartition("/")
        base = self._full(directory) if directory else self._root
        kwargs = {"prefix": rest} if rest and self._find_takes_prefix else {}
        try:
            paths = _retry_changed(lambda: self._fs.find(base, **kwargs))
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("listing", prefix or "''", exc)
            paths = []
        keys = []
        for p in paths:
            key = self._rel(p)
            if key and key.startswith(prefix):
                keys.append(key)
        return iter(keys)

    def _list_dir(self, prefix: str) -> Iterator[str]:
        self._refuse_listing(prefix)
        base = self._full(prefix.rstrip("/")) if prefix else self._root
        try:
            self._fs.invalidate_cache(base)
            entries = _retry_changed(lambda: self._fs.ls(base, detail=False))
        except Exception as exc:  # noqa: BLE001 - any backend exception is mapped to a StoreError
            self._check_missing("listing", prefix or "''", exc)
            entries = []
        names: list[str] = []
        seen: set[str] = set()
        for entry in entries:
            if isinstance(entry, dict):
                entry = entry.get("name", "")
            key = self._rel(str(entry))
            if not key or not key.startswith(prefix):
                continue
            name = key[len(prefix):].split("/", 1)[0]
            if name and name not in seen:
                seen.add(name)
                names.append(name)
        return iter(names)


def _maybe_range_error(exc: BaseException) -> bool:
    """Whether ``exc`` may be a server refusing a range past the end of an existing value."""
    for e in _chain(exc):
        if getattr(e, "status", None) == 416 or _error_code(e) == "InvalidRange":
            return True
        if "range" in str(e).lower():
            return True
    return False


def _parameters(func: Any) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return frozenset()


def _backend_missing(fsspec: Any, protocol: str) -> bool:
    try:
        fsspec.get_filesystem_class(protocol)
    except ImportError:
        return True
    except Exception:  # noqa: BLE001 - unknown protocols are reported elsewhere
        return False
    return False


def _sync_filesystem(fs: Any) -> Any:
    """``fs`` itself, or a synchronous twin of an ``asynchronous=True`` async filesystem."""
    if not (getattr(fs, "async_impl", False) and getattr(fs, "asynchronous", False)):
        return fs
    options = {k: v for k, v in getattr(fs, "storage_options", {}).items() if k not in ("asynchronous", "loop")}
    return type(fs)(**options)


def _retry_changed(listing: Any, attempts: int = 20) -> Any:
    """Run a listing call again when the backend iterated a dict that another thread changed (fsspec's
    in-memory filesystem lists by iterating its global dict; a listing is a snapshot, so retrying is correct)."""
    for n in range(attempts):
        try:
            return listing()
        except RuntimeError as exc:
            if "changed size during iteration" not in str(exc) or n == attempts - 1:
                raise
    return listing()  # pragma: no cover
