"""CacheStore: the conformance suite plus hit/miss accounting, invalidation, threads."""
from __future__ import annotations

import pickle
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import zarrfast
from zarrfast.errors import ReadOnlyError
from zarrfast.storage import CacheStore, LocalStore, LoggingStore, MemoryStore, SQLiteStore, Store
from zarrfast.testing.store_tests import StoreTests


class TestCacheStore(StoreTests):
    store_cls = CacheStore

    def make_store(self, tmp_path: Path) -> Store:
        return CacheStore(LocalStore(tmp_path / "store"), max_bytes=1 << 20)

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        path = store.store.root / key  # type: ignore[attr-defined]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        path = store.store.root / key  # type: ignore[attr-defined]
        return path.read_bytes() if path.is_file() else None


class TestCacheStoreTiny(TestCacheStore):
    """A budget of 100 bytes: constant eviction, big values never cached."""

    def make_store(self, tmp_path: Path) -> Store:
        return CacheStore(SQLiteStore(tmp_path / "store.db"), max_bytes=100)

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        store.store.set(key, value)  # type: ignore[attr-defined]

    def get_raw(self, store: Store, key: str) -> bytes | None:
        return store.store.get(key)  # type: ignore[attr-defined]


def _counted(max_bytes: int = 1 << 20) -> tuple[CacheStore, LoggingStore]:
    slow = LoggingStore(MemoryStore())
    return CacheStore(slow, max_bytes=max_bytes), slow


def test_second_read_of_array_chunks_skips_the_backing_store() -> None:
    cache, slow = _counted()
    data = np.arange(40 * 30, dtype="<i4").reshape(40, 30)
    arr = zarrfast.create_array(store=cache, shape=data.shape, chunks=(10, 10), dtype="i4")
    arr[...] = data
    reader = zarrfast.open_array(store=cache)
    np.testing.assert_array_equal(reader[...], data)
    slow.reset()
    hits = cache.hits
    np.testing.assert_array_equal(reader[...], data)  # every chunk now comes from the cache
    np.testing.assert_array_equal(reader[5:25, 3:17], data[5:25, 3:17])
    assert slow.counter["keys_read"] == 0 and slow.bytes_read == 0
    assert cache.hits >= hits + 12


def test_reads_after_writes_return_new_values() -> None:
    cache, slow = _counted()
    arr = zarrfast.create_array(store=cache, shape=(20,), chunks=(5,), dtype="f8")
    arr[...] = np.arange(20.0)
    np.testing.assert_array_equal(arr[...], np.arange(20.0))
    arr[3:12] = -1.0
    expected = np.arange(20.0)
    expected[3:12] = -1.0
    np.testing.assert_array_equal(arr[...], expected)
    np.testing.assert_array_equal(zarrfast.open_array(store=cache)[...], expected)
    np.testing.assert_array_equal(zarrfast.open_array(store=slow.store)[...], expected)  # written through


def test_hits_misses_and_missing_keys() -> None:
    cache, slow = _counted()
    cache.set("a", b"123")
    assert slow.counter["set"] == 1  # write-through
    assert cache.get("a") == b"123" and (cache.hits, cache.misses) == (0, 1)
    assert cache.get("a") == b"123" and (cache.hits, cache.misses) == (1, 1)
    assert cache.get("nope") is None and cache.get("nope") is None  # a miss is remembered
    assert (cache.hits, cache.misses) == (2, 2)
    assert cache.get_many(["a", "nope", "b", "b"]) == [b"123", None, None, None]
    assert (cache.hits, cache.misses) == (4, 3)
    assert slow.counter["keys_read"] == 3  # a, nope, b once each
    assert cache.exists("a") and not cache.exists("nope")
    assert slow.counter["exists"] == 0


def test_ranges_served_from_cached_value() -> None:
    cache, slow = _counted()
    cache.set("v", bytes(range(16)))
    assert cache.get_range("v", 2, 3) == b"\x02\x03\x04"  # not cached yet: a backing range read
    assert slow.counter["get_range"] == 1
    cache.get("v")
    slow.reset()
    assert cache.get_range("v", -2) == b"\x0e\x0f"
    assert cache.get_ranges("v", [(0, 2), (14, 10)]) == [b"\x00\x01", b"\x0e\x0f"]
    assert not slow.counter
    cache.get("gone")
    assert cache.get_range("gone", 0, 1) is None and cache.get_ranges("gone", [(0, 1)]) is None
    assert slow.counter["get_range"] == 0


def test_writes_and_deletes_invalidate() -> None:
    cache, slow = _counted()
    cache.set_many({"g/a": b"1", "g/b": b"2", "h": b"3"})
    assert cache.get_many(["g/a", "g/b", "h", "g/c"]) == [b"1", b"2", b"3", None]
    cache.set("g/a", b"new")
    cache.set_parts("g/c", [b"pa", b"rts"])  # a remembered miss is invalidated by a write
    assert cache.get_many(["g/a", "g/c"]) == [b"new", b"parts"]
    cache.delete("h")
    assert cache.get("h") is None
    cache.delete_many(["g/a"])
    assert cache.get("g/a") is None
    cache.get_many(["g/b", "g/c"])
    cache.delete_prefix("g/")
    assert cache.get_many(["g/b", "g/c"]) == [None, None]
    assert list(cache.list()) == []
    cache.set("x", b"1")
    cache.get("x")
    slow.store.set("x", b"behind the cache's back")
    assert cache.get("x") == b"1"
    cache.invalidate()
    assert cache.get("x") == b"behind the cache's back"


def test_lru_eviction_by_bytes() -> None:
    cache, slow = _counted(max_bytes=250)
    cache.set_many({f"k{i}": bytes([i]) * 100 for i in range(4)})
    cache.set("big", b"x" * 251)
    cache.get_many(["k0", "k1"])
    assert cache.cached_keys == ["k0", "k1"] and cache.cached_bytes == 200
    cache.get("k0")  # k1 is now the least recently used
    cache.get("k2")
    assert cache.cached_keys == ["k0", "k2"] and cache.cached_bytes == 200
    assert cache.get("big") == b"x" * 251  # bigger than the budget: never cached
    assert cache.cached_keys == ["k0", "k2"]
    slow.reset()
    cache.get_many(["k0", "k2", "big"])
    assert slow.counter["keys_read"] == 1
    assert CacheStore(MemoryStore(), max_bytes=0).get("k") is None
    with pytest.raises(ValueError):
        CacheStore(MemoryStore(), max_bytes=-1)
    with pytest.raises(TypeError):
        CacheStore({}, max_bytes=10)  # type: ignore[arg-type]


class _SlowStore(MemoryStore):
    """A memory store whose reads take a while (to let writes overtake them)."""

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        values = super()._get_many(keys)
        time.sleep(0.02)
        return values


def test_read_racing_a_write_does_not_cache_stale_value() -> None:
    backing = _SlowStore()
    backing.set("k", b"old")
    cache = CacheStore(backing, max_bytes=1000)
    reader = threading.Thread(target=cache.get, args=("k",))
    reader.start()
    time.sleep(0.005)  # the reader has read "old" and is sleeping in the backing store
    cache.set("k", b"new")
    reader.join()
    assert cache.get("k") == b"new"


def test_threads_reading_and_writing() -> None:
    backing = MemoryStore()
    cache = CacheStore(backing, max_bytes=4000)  # small: constant eviction
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(60):
                own = f"t{t}/{i % 6}"
                cache.set(own, bytes([t, i]) * 20)
                assert cache.get(own) == bytes([t, i]) * 20
                cache.get_many([f"t{(t + 1) % 10}/{i % 6}", own, "shared"])
                if i % 10 == 0:
                    cache.set("shared", bytes([t]) * 50)
                if i % 15 == 0:
                    cache.delete_prefix(f"t{t}/5")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(10)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    keys = sorted(backing.list())
    assert cache.get_many(keys) == backing.get_many(keys)  # cache agrees with the backing store
    for t in range(10):
        assert cache.get_many([f"t{t}/{j}" for j in range(5)]) == [
            bytes([t, i]) * 20 for i in range(54, 59)
        ]
        assert cache.get(f"t{t}/5") == bytes([t, 59]) * 20
    assert cache.cached_bytes <= 4000


def test_read_only_views_share_the_cache() -> None:
    cache, slow = _counted()
    cache.set("a", b"1")
    view = cache.with_read_only()
    assert view.read_only and not cache.read_only
    view.get("a")
    with pytest.raises(ReadOnlyError, match="'b'"):
        view.set("b", b"2")
    cache.set("a", b"2")
    assert view.get("a") == b"2"
    slow.reset()
    assert cache.get("a") == b"2" and slow.counter["keys_read"] == 0
    ro = CacheStore(MemoryStore({"x": b"1"}), max_bytes=10, read_only=True)
    assert ro.read_only and ro.store.read_only
    with pytest.raises(ReadOnlyError):
        ro.delete("x")


def test_pickle_keeps_backing_store_not_cache(tmp_path: Path) -> None:
    cache = CacheStore(LocalStore(tmp_path), max_bytes=1 << 16)
    cache.set("k", b"value")
    cache.get("k")
    loaded = pickle.loads(pickle.dumps(cache))
    assert loaded == cache and loaded.max_bytes == 1 << 16
    assert loaded.cached_keys == [] and loaded.get("k") == b"value"
