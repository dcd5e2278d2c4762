"""A store in a Redis database (needs redis-py: ``pip install zarrfast[redis]``).

The module is named ``redis_store`` so that it can never be mistaken for the ``redis`` package.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from zarrfast.errors import (
    StoreConnectionError,
    StoreError,
    StorePermissionError,
    StoreTimeoutError,
)
from zarrfast.storage.base import Store

__all__ = ["RedisStore"]

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")
_BATCH_KEYS = 1000  # keys per MGET / DEL / MSET command
_BATCH_BYTES = 64 << 20  # value bytes per MSET command

# Every requested range of one value in one atomic server-side call. ARGV holds start/length
# pairs (length -1 = to the end); returns false for a missing key, else {n, range1, ...}.
_RANGES_LUA = """
local n = redis.call('STRLEN', KEYS[1])
if n == 0 and redis.call('EXISTS', KEYS[1]) == 0 then return false end
local out = {n}
for i = 1, #ARGV, 2 do
  local s, len = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  local b
  if s < 0 then b = math.max(n + s, 0) else b = math.min(s, n) end
  local e = n
  if len >= 0 then e = math.min(b + len, n) end
  if e > b then out[#out + 1] = redis.call('GETRANGE', KEYS[1], b, e - 1)
  else out[#out + 1] = '' end
end
return out
"""


def _import_redis() -> Any:
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - redis is a test dependency
        raise ImportError(
            "RedisStore needs the 'redis' package (redis-py): pip install 'zarrfast[redis]'"
        ) from exc
    return redis


def _redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


class RedisStore(Store):
    """Keys as string values in the Redis database at ``url`` (``redis://host:port/db``).

    **Layout** (compatible with zarr-python 2's ``RedisStore``): the store key ``k`` is the
    Redis key ``"{prefix}:{k}"`` (UTF-8), or ``k`` itself when ``prefix`` is empty; values are
    the raw bytes as Redis strings. zarr-python 2's default prefix is ``"zarr"``, so its data
    opens with ``RedisStore(url, prefix="zarr")``. Keys outside the prefix are never touched,
    but with ``prefix=""`` the store is the whole database (``delete_prefix("")`` empties it).

    * Reads and writes are batched: ``get_many`` is MGET, ``set_many`` MSET, ``delete_many``
      DEL (1000 keys per command); ``get_range``/``get_ranges`` read only the requested
      bytes in one atomic server-side call (GETRANGE inside a small Lua script); listings
      and ``delete_prefix`` use SCAN with the prefix's glob characters escaped.
    * Thread-safe: one redis-py client (and its connection pool) is shared by all threads.
      Nothing connects until the first operation.
    * ``client_options`` are passed to ``redis.Redis.from_url`` (e.g. ``socket_timeout``).
    * Errors become :class:`StoreError` subclasses naming the key and the store (the URL with
      any password hidden): unreachable server -> :class:`StoreConnectionError`, time-outs ->
      :class:`StoreTimeoutError`, authentication or ACL refusals -> :class:`StorePermissionError`.
    * Pickling reconnects to the same URL and prefix.
    """

    def __init__(
        self,
        url: str = "redis://localhost:6379/0",
        prefix: str = "",
        *,
        read_only: bool = False,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        if not isinstance(url, str):
            raise TypeError(f"RedisStore url must be a str, not {type(url).__name__}")
        if not isinstance(prefix, str):
            raise TypeError(f"RedisStore prefix must be a str, not {type(prefix).__name__}")
        redis = _import_redis()
        super().__init__(read_only=read_only)
        self._url = url
        self._prefix = prefix
        self._head = f"{prefix}:".encode() if prefix else b""
        self._options = dict(client_options or {})
        self._redis = redis
        try:
            self._client = redis.Redis.from_url(url, **self._options)
        except (ValueError, redis.RedisError) as exc:
            raise StoreError(f"cannot open {self!r}: {exc}") from exc
        self._ranges_script = self._client.register_script(_RANGES_LUA)

    @property
    def url(self) -> str:
        return self._url

    @property
    def prefix(self) -> str:
        return self._prefix

    @property
    def client(self) -> Any:
        """The shared ``redis.Redis`` client."""
        return self._client

    def _config(self) -> dict[str, Any]:
        return {"url": self._url, "prefix": self._prefix, "read_only": self._read_only,
                "client_options": self._options}

    def _location(self) -> Any:
        return (self._url, self._prefix)

    def _location_str(self) -> str:
        text = repr(_redact(self._url))
        return f"{text}, prefix={self._prefix!r}" if self._prefix else text

    def close(self) -> None:
        super().close()
        with suppress(self._redis.RedisError, OSError):  # closing must not fail
            self._client.close()
            self._client.connection_pool.disconnect()

    # ---------------------------------------------------------------- plumbing
    def _rkey(self, key: str) -> bytes:
        return self._head + key.encode("utf-8")

    @contextmanager
    def _call(self, op: str, key: str) -> Iterator[Any]:
        if self._closed:
            raise StoreError(f"cannot {op} key {key!r}: store {self!r} is closed")
        ex = self._redis.exceptions
        try:
            yield self._client
        except ex.RedisError as exc:
            denied = tuple(getattr(ex, name) for name in (
                "AuthenticationError", "AuthorizationError", "NoPermissionError", "ReadOnlyError"
            ) if hasattr(ex, name))
            if isinstance(exc, denied):
                cls: type[StoreError] = StorePermissionError
            elif isinstance(exc, ex.TimeoutError):
                cls = StoreTimeoutError
            elif isinstance(exc, ex.ConnectionError):
                cls = StoreConnectionError
            else:
                cls = StoreError
            raise cls(f"cannot {op} key {key!r} in store {self!r}: {exc}") from exc

    def _pattern(self, prefix: str) -> bytes:
        escaped = _GLOB_SPECIAL.sub(r"\\\1", self._prefix + ":" + prefix if self._prefix else prefix)
        return escaped.encode("utf-8") + b"*"

    # ---------------------------------------------------------------- reads
    def _get(self, key: str) -> bytes | None:
        with self._call("read", key) as client:
            return client.get(self._rkey(key))

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        out: list[bytes | None] = []
        with self._call("read", keys[0] if keys else "") as client:
            for i in range(0, len(keys), _BATCH_KEYS):
                out.extend(client.mget([self._rkey(k) for k in keys[i:i + _BATCH_KEYS]]))
        return out

    def _exists(self, key: str) -> bool:
        with self._call("read", key) as client:
            return bool(client.exists(self._rkey(key)))

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        args: list[int] = []
        for start, length in ranges:
            args += [start, -1 if length is None else length]
        with self._call("read", key) as client:
            got = self._ranges_script(keys=[self._rkey(key)], args=args, client=client)
        if got is None:
            return None
        return [bytes(part) for part in got[1:]]

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        got = self._get_ranges(key, [(start, length)])
        return None if got is None else got[0]

    # ---------------------------------------------------------------- writes
    def _set(self, key: str, value: bytes | memoryview) -> None:
        with self._call("write", key) as client:
            client.set(self._rkey(key), value)

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        batch: dict[bytes, bytes | memoryview] = {}
        size = 0
        with self._call("write", items[0][0]) as client:
            for key, value in items:
                batch[self._rkey(key)] = value
                size += len(value) if type(value) is bytes else memoryview(value).nbytes
                if len(batch) >= _BATCH_KEYS or size >= _BATCH_BYTES:
                    client.mset(batch)
                    batch, size = {}, 0
            if batch:
                client.mset(batch)

    def _delete(self, key: str) -> None:
        with self._call("delete", key) as client:
            client.delete(self._rkey(key))

    def _delete_many(self, keys: list[str]) -> None:
        with self._call("delete", keys[0]) as client:
            for i in range(0, len(keys), _BATCH_KEYS):
                client.delete(*[self._rkey(k) for k in keys[i:i + _BATCH_KEYS]])

    def _delete_prefix(self, prefix: str) -> None:
        with self._call("delete", prefix) as client:
            batch: list[bytes] = []
            for rkey in client.scan_iter(match=self._pattern(prefix), count=_BATCH_KEYS):
                batch.append(rkey)
                if len(batch) >= _BATCH_KEYS:
                    client.delete(*batch)
                    batch = []
            if batch:
                client.delete(*batch)

    # ---------------------------------------------------------------- listing
    def _list_prefix(self, prefix: str) -> Iterator[str]:
        head = len(self._head)
        with self._call("list", prefix) as client:
            raw = set(client.scan_iter(match=self._pattern(prefix), count=_BATCH_KEYS))
        keys = []
        for rkey in raw:  # SCAN may repeat keys: the set removes duplicates
            try:
                keys.append(rkey[head:].decode("utf-8"))
            except UnicodeDecodeError:
                continue  # not a key this store could have written
        return iter(keys)

    def _list(self) -> Iterator[str]:
        return self._list_prefix("")
