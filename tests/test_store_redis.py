"""RedisStore against a real redis-server started for the session (see redis_server.py)."""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from redis_server import free_port, redis_url  # noqa: F401 - redis_url is a fixture

import zarrfast
from zarrfast.errors import (
    ReadOnlyError,
    StoreConnectionError,
    StoreError,
    StorePermissionError,
)
from zarrfast.storage import RedisStore, Store
from zarrfast.testing.store_tests import StoreTests

redis = pytest.importorskip("redis", reason="RedisStore needs redis-py (pip install zarrfast[redis])")


def _db_url(url: str, db: int) -> str:
    return url.rsplit("/", 1)[0] + f"/{db}"


class TestRedisStore(StoreTests):
    """A prefixed store; the prefix holds glob characters to check SCAN escaping."""

    store_cls = RedisStore

    @pytest.fixture(autouse=True)
    def _server(self, redis_url: str) -> None:  # noqa: F811
        self.url = redis_url

    def make_store(self, tmp_path: Path) -> Store:
        tag = hashlib.sha1(str(tmp_path).encode()).hexdigest()[:12]
        return RedisStore(self.url, prefix=f"t*[{tag}]?")

    def _raw(self, store: Store) -> redis.Redis:
        return store.client  # type: ignore[attr-defined]

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        self._raw(store).set(f"{store.prefix}:{key}".encode(), value)  # type: ignore[attr-defined]

    def get_raw(self, store: Store, key: str) -> bytes | None:
        return self._raw(store).get(f"{store.prefix}:{key}".encode())  # type: ignore[attr-defined]


class TestRedisStoreNoPrefix(TestRedisStore):
    """With ``prefix=""`` the store is a whole (flushed) database."""

    def make_store(self, tmp_path: Path) -> Store:
        db = 2 if tmp_path.name == "other" else 1
        store = RedisStore(_db_url(self.url, db))
        store.client.flushdb()
        return store

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        self._raw(store).set(key.encode(), value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        return self._raw(store).get(key.encode())


@pytest.fixture
def store(redis_url: str, request: pytest.FixtureRequest) -> RedisStore:  # noqa: F811
    s = RedisStore(redis_url, prefix=f"test:{request.node.name}")
    s.delete_prefix("")
    yield s
    s.delete_prefix("")
    s.close()


def test_layout_matches_zarr_python_2(store: RedisStore) -> None:
    store.set("a/.zarray", b"{}")
    assert store.client.get(f"{store.prefix}:a/.zarray".encode()) == b"{}"
    assert store.client.keys(f"{store.prefix}:*".encode()) == [f"{store.prefix}:a/.zarray".encode()]


def test_opens_zarr_python_2_data(redis_url: str) -> None:  # noqa: F811
    data = np.arange(5 * 8, dtype="<f4").reshape(5, 8) / 3
    meta = {"zarr_format": 2, "shape": [5, 8], "chunks": [2, 8], "dtype": "<f4", "compressor": None,
            "fill_value": 0.0, "filters": None, "order": "C"}
    client = redis.Redis.from_url(_db_url(redis_url, 3))
    client.flushdb()
    # zarr-python 2's RedisStore(prefix="zarr") names each key "zarr:<key>"
    client.set("zarr:.zgroup", json.dumps({"zarr_format": 2}))
    client.set("zarr:arr/.zarray", json.dumps(meta))
    for i in range(3):
        block = np.zeros((2, 8), "<f4")
        block[:len(data[2 * i:2 * i + 2])] = data[2 * i:2 * i + 2]
        client.set(f"zarr:arr/{i}.0", block.tobytes())
    client.set("other:arr/.zarray", b"not ours")
    store = RedisStore(_db_url(redis_url, 3), prefix="zarr", read_only=True)
    np.testing.assert_array_equal(zarrfast.open_array(store=store, path="arr", mode="r")[...], data)
    assert sorted(store.list_dir("")) == [".zgroup", "arr"]
    store.close()
    client.flushdb()
    client.close()


def test_array_round_trip(store: RedisStore) -> None:
    data = np.random.default_rng(2).integers(0, 255, size=(30, 17, 3)).astype("u1")
    arr = zarrfast.create_array(store=store, shape=data.shape, chunks=(7, 5, 3), dtype="u1")
    arr[...] = data
    again = pickle.loads(pickle.dumps(store))  # a new connection to the same data
    np.testing.assert_array_equal(zarrfast.open_array(store=again)[...], data)
    np.testing.assert_array_equal(zarrfast.open_array(store=again)[4:20, ::3, 1], data[4:20, ::3, 1])
    again.close()





def test_batches_are_single_commands(store: RedisStore) -> None:
    items = {f"c/{i}": i.to_bytes(2, "little") for i in range(2500)}
    store.set_many(items)
    monitor: list[str] = []
    real = store.client.execute_command

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        monitor.append(args[0])
        return real(*args, **kwargs)

    store.client.execute_command = spy  # type: ignore[method-assign]
    try:
        assert store.get_many(list(items)) == list(items.values())
        store.delete_many(list(items)[:1500])
    finally:
        del store.client.execute_command
    assert monitor == ["MGET", "MGET", "MGET", "DEL", "DEL"]
    assert len(list(store.list_prefix("c/"))) == 1000


def test_prefix_isolation_and_glob_escaping(redis_url: str) -> None:  # noqa: F811
    a = RedisStore(redis_url, prefix="iso[a]")
    b = RedisStore(redis_url, prefix="isoa")  # would match the glob "iso[a]:*" unescaped
    for s in (a, b):
        s.delete_prefix("")
    a.set_many({"x*": b"1", "x?/y": b"2", "x[1]": b"3", "xy": b"4"})
    b.set("x*", b"b")
    assert sorted(a.list_prefix("x*")) == ["x*"]
    assert sorted(a.list_prefix("x[")) == ["x[1]"]
    assert sorted(a.list_prefix("x?")) == ["x?/y"]
    a.delete_prefix("x?")
    assert sorted(a.list()) == ["x*", "x[1]", "xy"]
    a.delete_prefix("")
    assert list(a.list()) == [] and list(b.list()) == ["x*"]
    b.delete_prefix("")
    a.close()
    b.close()


def test_unreachable_server(redis_url: str) -> None:  # noqa: F811
    url = f"redis://127.0.0.1:{free_port()}/0"
    store = RedisStore(url, client_options={"socket_connect_timeout": 0.5})  # no connection yet
    for call in (lambda: store.get("a/b"), lambda: store.set("a/b", b"1"),
                 lambda: store.get_many(["a/b"]), lambda: list(store.list_prefix("a/b"))):
        with pytest.raises(StoreConnectionError, match="a/b") as info:
            call()
        assert url in str(info.value)
        assert isinstance(info.value, ConnectionError)
    store.close()


def test_password_is_hidden_and_auth_errors(redis_url: str) -> None:  # noqa: F811
    url = redis_url.replace("redis://", "redis://someone:s3cret@")
    store = RedisStore(url)
    assert "s3cret" not in repr(store) and "***" in repr(store)
    with pytest.raises(StorePermissionError, match="'k'") as info:
        store.get("k")  # the test server has no such user
    assert "s3cret" not in str(info.value)
    store.close()


def test_read_only(store: RedisStore) -> None:
    store.set("a", b"1")
    ro = RedisStore(store.url, prefix=store.prefix, read_only=True)
    assert ro.get("a") == b"1" and ro == store
    with pytest.raises(ReadOnlyError, match="'b'"):
        ro.set("b", b"2")
    with pytest.raises(ReadOnlyError):
        ro.delete_prefix("")
    assert store.get("a") == b"1"
    ro.close()


def test_closed_and_bad_arguments(redis_url: str) -> None:  # noqa: F811
    s = RedisStore(redis_url, prefix="closed")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.get("k")
    with pytest.raises(TypeError):
        RedisStore(123)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        RedisStore("notaurl://x")
