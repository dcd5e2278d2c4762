"""The abstract synchronous :class:`Store` every zarrfast store derives from.

A store maps string keys (see :mod:`zarrfast.storage.keys`) to byte strings. Reads return
``bytes`` (``None`` for a missing key); writes accept any C-contiguous bytes-like object.

Subclasses implement the underscore hooks (``_get``, ``_set``, ``_delete``, ``_list`` and, when
they can do better than the defaults, ``_get_many``, ``_get_range``, ``_get_ranges``,
``_set_many``, ``_delete_many``, ``_delete_prefix``, ``_list_prefix``, ``_list_dir``,
``_exists``). The public methods validate keys and the read-only flag once, then call the hooks
with already-validated keys and ``bytes``/``memoryview`` values.

Each subclass also implements ``_config()``: the constructor keyword arguments that rebuild an
equivalent store. It drives pickling, :meth:`Store.with_read_only`, ``__repr__`` and ``__eq__``
(two stores are equal when they are of the same type and point at the same location; the
read-only flag is not part of the location).
"""
from __future__ import annotations

import abc
import builtins
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Self

from zarrfast.errors import ReadOnlyError, StoreError
from zarrfast.storage.keys import validate_key, validate_prefix

__all__ = ["BytesLike", "Store", "UnsupportedOperationError", "as_buffer", "normalize_range"]

BytesLike = bytes | bytearray | memoryview | Any  # anything exporting a C-contiguous buffer


class UnsupportedOperationError(StoreError, NotImplementedError):
    """An operation the store cannot do at all (e.g. deleting from a zip archive)."""


def as_buffer(value: Any, key: str, store: object) -> bytes | memoryview:
    """Return ``value`` as ``bytes`` or a flat unsigned-byte ``memoryview`` (no copy)."""
    if type(value) is bytes:
        return value
    try:
        view = memoryview(value)
    except TypeError:
        raise TypeError(
            f"value for key {key!r} in store {store!r} must be bytes-like, "
            f"not {type(value).__name__}"
        ) from None
    if not view.c_contiguous:
        raise ValueError(
            f"value for key {key!r} in store {store!r} must be C-contiguous; "
            "pass a contiguous copy (e.g. numpy.ascontiguousarray)"
        )
    if view.ndim != 1 or view.format != "B":
        view = view.cast("B")
    return view


_callers = threading.local()


def in_parallel_part() -> bool:
    """True on a thread that runs one of several parallel parts of an array operation: a store called from it
    should not fan its batch out to threads of its own (the cores are already busy)."""
    return getattr(_callers, "parallel", False)


def set_parallel_part(value: bool) -> bool:
    """Mark (or unmark) the current thread as running a parallel part; returns the previous mark."""
    old = getattr(_callers, "parallel", False)
    _callers.parallel = value
    return old


def normalize_range(size: int, start: int, length: int | None) -> tuple[int, int]:
    """Return ``(begin, end)`` within a value of ``size`` bytes for ``value[start:][:length]``.

    A negative ``start`` selects a suffix of ``-start`` bytes (the whole value when it is
    shorter); ranges past the end are clipped, giving short or empty results.
    """
    begin = max(size + start, 0) if start < 0 else min(start, size)
    if length is None:
        return begin, size
    return begin, min(begin + length, size)


def _check_range(start: Any, length: Any, key: str, store: object) -> None:
    if not isinstance(start, int) or isinstance(start, bool):
        raise TypeError(f"range start for key {key!r} in store {store!r} must be int, not {start!r}")
    if length is not None and (
        not isinstance(length, int) or isinstance(length, bool) or length < 0
    ):
        raise ValueError(
            f"range length for key {key!r} in store {store!r} must be None or an int >= 0, "
            f"not {length!r}"
        )


def _rebuild(cls: type[Store], config: dict[str, Any]) -> Store:
    return cls(**config)


class Store(abc.ABC):
    """A synchronous key/value store of byte strings."""

    supports_writes: ClassVar[bool] = True
    supports_deletes: ClassVar[bool] = True
    supports_listing: ClassVar[bool] = True
    supports_partial_reads: ClassVar[bool] = True

    def __init__(self, *, read_only: bool = False) -> None:
        self._read_only = bool(read_only)
        self._closed = False

    # ---------------------------------------------------------------- identity and config
    @property
    def read_only(self) -> bool:
        """Whether writes and deletes raise :class:`ReadOnlyError`."""
        return self._read_only

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @abc.abstractmethod
    def _config(self) -> dict[str, Any]:
        """Constructor keyword arguments that rebuild an equivalent store (incl. read_only)."""

    def _location(self) -> Any:
        """A hashable value naming where the data lives (default: the config minus read_only)."""
        config = self._config()
        config.pop("read_only", None)
        return tuple(sorted((k, repr(v)) for k, v in config.items()))

    def _location_str(self) -> str:
        """The location as shown by ``repr``."""
        return ", ".join(f"{k}={v}" for k, v in self._location())

    def with_read_only(self, read_only: bool = True) -> Self:
        """A new store on the same data with the given read-only flag."""
        config = self._config()
        config["read_only"] = read_only
        return type(self)(**config)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._config()))

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        return self._location() == other._location()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._location()))

    def __repr__(self) -> str:
        ro = ", read_only=True" if self._read_only else ""
        return f"{type(self).__name__}({self._location_str()}{ro})"

    # ---------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Release resources (files, handles). Closing twice is harmless."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_writable(self, key: str, op: str = "write") -> None:
        if self._read_only:
            raise ReadOnlyError(f"cannot {op} key {key!r}: store {self!r} is read-only")
        if not self.supports_writes:
            raise UnsupportedOperationError(
                f"cannot {op} key {key!r}: store {self!r} does not support writes"
            )

    # ---------------------------------------------------------------- reads
    def get(self, key: str) -> bytes | None:
        """The value at ``key``, or ``None`` if there is none."""
        return self._get(validate_key(key, self))

    def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """The values at ``keys`` in order (``None`` for missing keys); batched where it pays."""
        keys = list(keys)
        for key in keys:
            validate_key(key, self)
        return self._get_many(keys)

    def get_range(self, key: str, start: int, length: int | None = None) -> bytes | None:
        """``value[start:][:length]`` without reading the rest of the value where possible.

        A negative ``start`` reads the last ``-start`` bytes; ``length=None`` reads to the end;
        ranges past the end give short or empty results. ``None`` if ``key`` is missing.
        """
        validate_key(key, self)
        _check_range(start, length, key, self)
        return self._get_range(key, start, length)

    def get_ranges(self, key: str, ranges: Sequence[tuple[int, int | None]]) -> list[bytes] | None:
        """Several :meth:`get_range` results from one value (one open where the store has files)."""
        validate_key(key, self)
        ranges = [(start, length) for start, length in ranges]
        for start, length in ranges:
            _check_range(start, length, key, self)
        return self._get_ranges(key, ranges)

    def exists(self, key: str) -> bool:
        """Whether ``key`` holds a value."""
        return self._exists(validate_key(key, self))

    # ---------------------------------------------------------------- writes
    def set(self, key: str, value: BytesLike) -> None:
        """Store ``value`` (any C-contiguous bytes-like object) at ``key``."""
        self._check_writable(key)
        validate_key(key, self)
        self._set(key, as_buffer(value, key, self))

    def set_parts(self, key: str, parts: Sequence[BytesLike]) -> None:
        """Store the concatenation of ``parts`` at ``key`` (stores that can write a list of buffers skip the join)."""
        self._check_writable(key)
        validate_key(key, self)
        views = [as_buffer(p, key, self) for p in parts]
        self._set_parts(key, views)

    def _set_parts(self, key: str, parts: list) -> None:
        self._set(key, b"".join(parts))

    def set_many(self, items: Mapping[str, BytesLike] | Iterable[tuple[str, BytesLike]]) -> None:
        """Store several values; every key is validated before anything is written."""
        pairs = list(items.items() if isinstance(items, Mapping) else items)
        if not pairs:
            return
        self._check_writable(pairs[0][0])
        prepared = [(validate_key(k, self), as_buffer(v, k, self)) for k, v in pairs]
        self._set_many(prepared)

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        self._check_writable(key, "delete")
        self._delete(validate_key(key, self))

    def delete_many(self, keys: Iterable[str]) -> None:
        """Remove several keys; missing keys are skipped."""
        keys = list(keys)
        if not keys:
            return
        self._check_writable(keys[0], "delete")
        for key in keys:
            validate_key(key, self)
        self._delete_many(keys)

    def delete_prefix(self, prefix: str) -> None:
        """Remove every key that starts with ``prefix`` (``""`` empties the store)."""
        self._check_writable(prefix, "delete")
        self._delete_prefix(validate_prefix(prefix, self))

    # ---------------------------------------------------------------- cross-process locking
    def rmw_lock(self, keys: Sequence[str]) -> AbstractContextManager[None] | None:
        """A lock that other *processes* honour, held around the read-modify-write of ``keys``; ``None`` if none.

        ``zarrfast.locks.key_locks`` takes it (after its in-process locks) around every partial chunk or shard
        update, so processes writing disjoint regions of one chunk or shard don't lose updates. Whole-chunk and
        whole-shard writes take no lock. The default is ``None``: only threads of one process are serialised, so
        processes writing to such a store must align their writes to chunks (shards). ``LocalStore`` overrides it
        (``flock`` on lock files outside the store; see :mod:`zarrfast.storage.process_lock`).
        """
        return None

    # ---------------------------------------------------------------- listing
    def list(self) -> Iterator[str]:
        """Every key in the store (in no particular order)."""
        return self._list()

    def list_prefix(self, prefix: str) -> Iterator[str]:
        """Every key that starts with ``prefix`` (a plain string prefix, full keys returned)."""
        return self._list_prefix(validate_prefix(prefix, self))

    def list_dir(self, prefix: str) -> Iterator[str]:
        """Names of the immediate children of the directory ``prefix`` (``"a"`` or ``"a/"``).

        Over keys ``a/x`` and ``a/b/y``, ``list_dir("a/")`` yields ``"x"`` and ``"b"``.
        """
        validate_prefix(prefix, self)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return self._list_dir(prefix)

    # ---------------------------------------------------------------- hooks
    @abc.abstractmethod
    def _get(self, key: str) -> bytes | None: ...

    @abc.abstractmethod
    def _set(self, key: str, value: bytes | memoryview) -> None: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def _list(self) -> Iterator[str]: ...

    def _get_many(self, keys: builtins.list[str]) -> builtins.list[bytes | None]:
        get = self._get
        return [get(key) for key in keys]

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        value = self._get(key)
        if value is None:
            return None
        begin, end = normalize_range(len(value), start, length)
        return value[begin:end]

    def _get_ranges(
        self, key: str, ranges: builtins.list[tuple[int, int | None]]
    ) -> builtins.list[bytes] | None:
        value = self._get(key)
        if value is None:
            return None
        size = len(value)
        out = []
        for start, length in ranges:
            begin, end = normalize_range(size, start, length)
            out.append(value[begin:end])
        return out

    def _exists(self, key: str) -> bool:
        return self._get(key) is not None

    def _set_many(self, items: builtins.list[tuple[str, bytes | memoryview]]) -> None:
        for key, value in items:
            self._set(key, value)

    def _delete_many(self, keys: builtins.list[str]) -> None:
        for key in keys:
            self._delete(key)

    def _delete_prefix(self, prefix: str) -> None:
        self._delete_many(list(self._list_prefix(prefix)))

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        if not prefix:
            return self._list()
        return (key for key in self._list() if key.startswith(prefix))

    def _list_dir(self, prefix: str) -> Iterator[str]:
        seen: set[str] = set()
        start = len(prefix)
        for key in self._list_prefix(prefix):
            name = key[start:].split("/", 1)[0]
            if name and name not in seen:
                seen.add(name)
                yield name


class ForwardingStore(Store):
    """Base of stores that wrap another store (``self._store``): capabilities and identity come from it."""

    _store: Store

    @property
    def store(self) -> Store:
        """The wrapped store."""
        return self._store

    @property
    def supports_writes(self) -> bool:  # type: ignore[override]
        return self._store.supports_writes

    @property
    def supports_deletes(self) -> bool:  # type: ignore[override]
        return self._store.supports_deletes

    @property
    def supports_listing(self) -> bool:  # type: ignore[override]
        return self._store.supports_listing

    @property
    def supports_partial_reads(self) -> bool:  # type: ignore[override]
        return self._store.supports_partial_reads

    def _location(self) -> Any:
        return (type(self._store).__name__, self._store._location())

    def rmw_lock(self, keys: Sequence[str]) -> AbstractContextManager[None] | None:
        return self._store.rmw_lock(keys)  # wrappers pass keys through unchanged
