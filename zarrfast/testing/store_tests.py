"""A conformance suite every store's tests inherit.

Subclass :class:`StoreTests`, set ``store_cls`` and implement the hooks::

    class TestMyStore(StoreTests):
        store_cls = MyStore

        def make_store(self, tmp_path):              # a new, empty, writable store
            return MyStore(tmp_path / "data")

        def set_raw(self, store, key, value):        # write bytes behind the store's back
            ...

        def get_raw(self, store, key):               # read bytes behind the store's back
            ...

Class attributes tune expectations: ``pickle_keeps_equality`` (False for stores whose location
is an object in memory), ``check_raw`` (False to skip the raw-backend tests).
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from zarrfast.errors import InvalidKeyError, ReadOnlyError, StoreError
from zarrfast.storage.base import Store, UnsupportedOperationError
from zarrfast.testing.threads import run_threads

__all__ = ["INVALID_KEYS", "RANGE_CASES", "StoreTests", "run_mixed_thread_workload"]

INVALID_KEYS = ["", "/a", "a/", "a//b", "./a", "a/./b", "a/..", "../x", "a\\b", "a\x00b", "..", "."]

RANGE_CASES = [
    (0, None), (0, 0), (0, 5), (3, 4), (3, None), (15, 10), (16, None), (100, None), (100, 3),
    (-1, None), (-5, None), (-5, 2), (-16, None), (-100, None), (-100, 4), (0, 1000),
]

VALUE = bytes(range(16))


def _bytes_likes() -> list[tuple[str, Any]]:
    raw = b"\x00\x01\xffabc" * 7
    return [
        ("bytes", raw),
        ("empty", b""),
        ("bytearray", bytearray(raw)),
        ("memoryview", memoryview(raw)),
        ("numpy-u1", np.frombuffer(raw, dtype="u1")),
        ("numpy-f8-2d", np.arange(12, dtype="<f8").reshape(3, 4)),
        ("memoryview-i4", np.arange(5, dtype="<i4").data),
    ]


def run_mixed_thread_workload(store: Store, threads: int = 12, items: int = 30, value_size: int = 1) -> None:
    """Threads that each set, set_many, get, get_many, get_range, list_prefix and delete_prefix their own keys
    (reading a neighbour's too) at once; then the store must hold exactly the expected keys and values."""
    partial = store.supports_partial_reads

    def value(t: int, i: int) -> bytes:
        return bytes([t, i % 256]) * value_size * (i + 1)

    def work(t: int) -> None:
        for i in range(items):
            store.set(f"t{t}/{i}", value(t, i))
            if i % 5 == 4:
                store.set_many({f"m{t}/{i}/{j}": bytes([t, i % 256, j]) * value_size for j in range(4)})
            assert store.get(f"t{t}/{i}") == value(t, i)
            store.get_many([f"t{(t + 1) % threads}/{i}", f"t{t}/{i}"])
            if partial:
                assert store.get_range(f"t{t}/{i}", -1) == value(t, i)[-1:]
            list(store.list_prefix(f"t{t}/"))
        store.delete_prefix(f"t{t}/2")  # t{t}/2 and t{t}/20..29

    run_threads(work, threads)
    expected: dict[str, bytes] = {}
    for t in range(threads):
        for i in range(items):
            if not str(i).startswith("2"):
                expected[f"t{t}/{i}"] = value(t, i)
            if i % 5 == 4:
                expected.update({f"m{t}/{i}/{j}": bytes([t, i % 256, j]) * value_size for j in range(4)})
    assert sorted(store.list()) == sorted(expected)
    assert store.get_many(list(expected)) == list(expected.values())


class StoreTests:
    """Inherited tests for any :class:`~zarrfast.storage.base.Store` implementation."""

    store_cls: ClassVar[type[Store]]
    pickle_keeps_equality: ClassVar[bool] = True
    check_raw: ClassVar[bool] = True
    # (threads, items per thread) of test_mixed_thread_workload; shrink it for slow (remote) backends
    mixed_workload: ClassVar[tuple[int, int]] = (12, 30)

    # ---------------------------------------------------------------- hooks
    def make_store(self, tmp_path: Path) -> Store:
        raise NotImplementedError

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        raise NotImplementedError

    def get_raw(self, store: Store, key: str) -> bytes | None:
        raise NotImplementedError

    def make_other_store(self, tmp_path: Path) -> Store:
        """A store at a different location than ``make_store(tmp_path)``."""
        other = tmp_path / "other"
        other.mkdir(exist_ok=True)
        return self.make_store(other)

    # ---------------------------------------------------------------- fixtures
    @pytest.fixture
    def store(self, tmp_path: Path) -> Any:
        s = self.make_store(tmp_path)
        yield s
        s.close()

    @staticmethod
    def fill(store: Store, keys: list[str], value: bytes = VALUE) -> None:
        for key in keys:
            store.set(key, value)

    # ---------------------------------------------------------------- basics
    def test_type_and_flags(self, store: Store) -> None:
        assert isinstance(store, self.store_cls)
        assert isinstance(store, Store)
        for flag in ("supports_writes", "supports_deletes", "supports_listing", "supports_partial_reads"):
            assert isinstance(getattr(store, flag), bool)
        assert store.read_only is False

    def test_get_missing(self, store: Store) -> None:
        assert store.get("missing") is None
        assert store.get("a/b/missing") is None
        assert store.exists("missing") is False

    @pytest.mark.parametrize("name,value", _bytes_likes(), ids=lambda x: x if isinstance(x, str) else "")
    def test_roundtrip_bytes_likes(self, store: Store, name: str, value: Any) -> None:
        key = f"a/{name}"
        store.set(key, value)
        got = store.get(key)
        assert type(got) is bytes
        assert got == memoryview(value).tobytes()

    @pytest.mark.parametrize("key", ["zarr.json", "a/.zarray", "a/b/c/0/1", "c/0.0", "ü/ñ", "x" * 120])
    def test_key_shapes(self, store: Store, key: str) -> None:
        store.set(key, VALUE)
        assert store.get(key) == VALUE
        assert store.exists(key)
        assert key in set(store.list())

    def test_overwrite(self, store: Store) -> None:
        store.set("k", b"first")
        store.set("k", b"second value")
        assert store.get("k") == b"second value"

    def test_value_is_copied(self, store: Store) -> None:
        buf = bytearray(b"abcd")
        store.set("k", buf)
        buf[:] = b"zzzz"
        assert store.get("k") == b"abcd"

    @pytest.mark.parametrize("value", ["text", 12, None, [1, 2]])
    def test_set_rejects_non_bytes(self, store: Store, value: Any) -> None:
        with pytest.raises(TypeError, match="'k'"):
            store.set("k", value)

    def test_set_rejects_non_contiguous(self, store: Store) -> None:
        with pytest.raises(ValueError, match="contiguous"):
            store.set("k", np.arange(10, dtype="u1")[::2])

    def test_set_writes_backend(self, store: Store) -> None:
        if not self.check_raw:
            pytest.skip("no raw access")
        store.set("a/b", b"payload")
        assert self.get_raw(store, "a/b") == b"payload"

    def test_get_reads_backend(self, store: Store) -> None:
        if not self.check_raw:
            pytest.skip("no raw access")
        self.set_raw(store, "x/y", b"raw value")
        assert store.get("x/y") == b"raw value"

    # ---------------------------------------------------------------- batched reads
    def test_get_many(self, store: Store) -> None:
        store.set_many({f"c/{i}": bytes([i]) * (i + 1) for i in range(0, 10, 2)})
        keys = [f"c/{i}" for i in range(10)] + ["c/0", "nope/x"]
        got = store.get_many(keys)
        expected = [bytes([i]) * (i + 1) if i % 2 == 0 else None for i in range(10)] + [b"\x00", None]
        assert got == expected
        assert store.get_many([]) == []

    def test_get_many_large_batch(self, store: Store) -> None:
        items = {f"big/{i // 50}/{i % 50}": i.to_bytes(4, "little") * 3 for i in range(300)}
        store.set_many(items)
        keys = list(items) + [f"big/9/{i}" for i in range(50)]
        got = store.get_many(keys)
        assert got[:300] == list(items.values())
        assert got[300:] == [None] * 50

    # ---------------------------------------------------------------- ranges
    @pytest.mark.parametrize("start,length", RANGE_CASES)
    def test_get_range(self, store: Store, start: int, length: int | None) -> None:
        store.set("r/v", VALUE)
        expected = VALUE[start:] if length is None else VALUE[start:][:length]
        assert store.get_range("r/v", start, length) == expected

    def test_get_range_missing(self, store: Store) -> None:
        assert store.get_range("r/missing", 0, 4) is None
        assert store.get_range("r/missing", -4) is None
        assert store.get_ranges("r/missing", [(0, 1)]) is None

    def test_get_ranges(self, store: Store) -> None:
        store.set("r/v", VALUE)
        ranges = list(RANGE_CASES)
        expected = [VALUE[s:] if n is None else VALUE[s:][:n] for s, n in ranges]
        assert store.get_ranges("r/v", ranges) == expected
        assert store.get_ranges("r/v", []) == []

    @pytest.mark.parametrize("start,length", [(0, -1), (0, 1.5), (1.0, None), ("0", None)])
    def test_get_range_bad_arguments(self, store: Store, start: Any, length: Any) -> None:
        store.set("r/v", VALUE)
        with pytest.raises((TypeError, ValueError), match="r/v"):
            store.get_range("r/v", start, length)

    # ---------------------------------------------------------------- writes
    def test_set_many(self, store: Store) -> None:
        store.set_many({"m/a": b"1", "m/b": bytearray(b"22")})
        store.set_many([("m/c", b"333"), ("m/d/e", memoryview(b"4444"))])
        store.set_many(iter([("m/f", b"5")]))
        store.set_many({})
        assert store.get_many(["m/a", "m/b", "m/c", "m/d/e", "m/f"]) == [b"1", b"22", b"333", b"4444", b"5"]

    def test_set_many_validates_first(self, store: Store) -> None:
        with pytest.raises(InvalidKeyError):
            store.set_many([("ok/1", b"1"), ("bad//key", b"2"), ("ok/2", b"3")])
        assert store.get("ok/1") is None
        assert store.get("ok/2") is None

    def _check_unsupported_delete(self, store: Store, call: Any) -> None:
        with pytest.raises(UnsupportedOperationError, match="d/"):
            call()

    def test_delete(self, store: Store) -> None:
        self.fill(store, ["d/a", "d/b/c"])
        store.delete("d/missing")  # no error
        store.delete("zz/missing")
        if not store.supports_deletes:
            self._check_unsupported_delete(store, lambda: store.delete("d/a"))
            return
        store.delete("d/a")
        assert store.get("d/a") is None
        assert not store.exists("d/a")
        store.delete("d/b/c")
        assert list(store.list()) == []
        store.delete("d/b/c")

    def test_delete_many(self, store: Store) -> None:
        self.fill(store, ["d/a", "d/b", "d/c/d", "keep"])
        store.delete_many([])
        if not store.supports_deletes:
            self._check_unsupported_delete(store, lambda: store.delete_many(["d/a", "d/missing"]))
            return
        store.delete_many(["d/a", "d/c/d", "d/missing"])
        assert sorted(store.list()) == ["d/b", "keep"]

    def test_delete_prefix(self, store: Store) -> None:
        self.fill(store, ["d/a", "d/b/c", "db/x", "d.json", "e/f"])
        store.delete_prefix("nothing/here/")
        if not store.supports_deletes:
            self._check_unsupported_delete(store, lambda: store.delete_prefix("d/"))
            return
        store.delete_prefix("d/")
        assert sorted(store.list()) == ["d.json", "db/x", "e/f"]
        store.delete_prefix("d")
        assert sorted(store.list()) == ["e/f"]
        store.delete_prefix("")
        assert list(store.list()) == []

    def test_exists(self, store: Store) -> None:
        store.set("e/x", b"")
        assert store.exists("e/x")
        assert not store.exists("e")  # a "directory" is not a key
        assert not store.exists("e/y")

    # ---------------------------------------------------------------- listing
    KEYS: ClassVar[list[str]] = [
        "zarr.json", "a/zarr.json", "a/b/c/0/0", "a/b/c/0/1", "a/bc", "ab/x", "a.json"
    ]

    def test_list(self, store: Store) -> None:
        assert list(store.list()) == []
        self.fill(store, self.KEYS)
        assert sorted(store.list()) == sorted(self.KEYS)

    def test_list_prefix(self, store: Store) -> None:
        self.fill(store, self.KEYS)
        assert sorted(store.list_prefix("")) == sorted(self.KEYS)
        assert sorted(store.list_prefix("a/")) == ["a/b/c/0/0", "a/b/c/0/1", "a/bc", "a/zarr.json"]
        assert sorted(store.list_prefix("a/b")) == ["a/b/c/0/0", "a/b/c/0/1", "a/bc"]
        assert sorted(store.list_prefix("a")) == sorted(k for k in self.KEYS if k.startswith("a"))
        assert list(store.list_prefix("nope/")) == []

    def test_list_dir(self, store: Store) -> None:
        self.fill(store, self.KEYS)
        assert sorted(store.list_dir("")) == ["a", "a.json", "ab", "zarr.json"]
        assert sorted(store.list_dir("a/")) == ["b", "bc", "zarr.json"]
        assert sorted(store.list_dir("a")) == ["b", "bc", "zarr.json"]
        assert sorted(store.list_dir("a/b/c")) == ["0"]
        assert sorted(store.list_dir("a/b/c/0/")) == ["0", "1"]
        assert list(store.list_dir("missing/")) == []
        assert list(store.list_dir("a/bc/")) == []  # a key is not a directory

    # ---------------------------------------------------------------- read-only
    def test_read_only(self, store: Store) -> None:
        store.set("ro/a", b"1")
        ro = store.with_read_only(True)
        assert ro.read_only and not store.read_only
        assert ro.get("ro/a") == b"1"
        assert list(ro.list()) == ["ro/a"]
        calls = [
            lambda: ro.set("ro/b", b"2"),
            lambda: ro.set_many({"ro/b": b"2"}),
            lambda: ro.delete("ro/a"),
            lambda: ro.delete_many(["ro/a"]),
            lambda: ro.delete_prefix("ro/"),
        ]
        for call in calls:
            with pytest.raises(ReadOnlyError, match="ro/") as info:
                call()
            assert repr(ro) in str(info.value)
            assert isinstance(info.value, PermissionError)
        assert ro.get("ro/b") is None
        store.set("ro/c", b"3")  # the original stays writable and the view sees its writes
        assert ro.get("ro/c") == b"3"
        assert store.with_read_only(False).read_only is False

    # ---------------------------------------------------------------- keys
    @pytest.mark.parametrize("key", INVALID_KEYS)
    def test_invalid_keys(self, store: Store, key: str) -> None:
        calls = [
            lambda: store.get(key),
            lambda: store.get_many(["ok", key]),
            lambda: store.get_range(key, 0, 1),
            lambda: store.exists(key),
            lambda: store.set(key, b"x"),
            lambda: store.delete(key),
        ]
        for call in calls:
            with pytest.raises(InvalidKeyError) as info:
                call()
            assert repr(key) in str(info.value) and repr(store) in str(info.value)
            assert isinstance(info.value, (ValueError, StoreError))

    def test_non_str_key(self, store: Store) -> None:
        with pytest.raises(InvalidKeyError):
            store.get(b"k")  # type: ignore[arg-type]

    # ---------------------------------------------------------------- threads
    def test_concurrent_set_get(self, store: Store) -> None:
        def work(t: int) -> None:
            for i in range(40):
                key = f"t/{t}/{i % 5}"
                value = bytes([t, i]) * 64
                store.set(key, value)
                got = store.get(key)
                assert got is not None and len(got) == 128
                store.get_many([f"t/{(t + 1) % 8}/{i % 5}", key])
                store.set("shared", value)

        run_threads(work, 8)
        for t in range(8):
            assert store.get_many([f"t/{t}/{i}" for i in range(5)]) == [
                bytes([t, i]) * 64 for i in range(35, 40)
            ]
        shared = store.get("shared")
        assert shared is not None and len(shared) == 128 and shared[:2] * 64 == shared

    def test_mixed_thread_workload(self, store: Store) -> None:
        if not (store.supports_deletes and store.supports_listing):
            pytest.skip("the workload deletes and lists")
        threads, items = self.mixed_workload
        run_mixed_thread_workload(store, threads, items)

    # ---------------------------------------------------------------- identity
    def test_pickle(self, store: Store) -> None:
        store.set("p/k", b"pickled")
        loaded = pickle.loads(pickle.dumps(store))
        assert type(loaded) is type(store)
        assert loaded.get("p/k") == b"pickled"
        assert loaded.read_only == store.read_only
        if self.pickle_keeps_equality:
            assert loaded == store
        loaded.close()

    def test_eq_and_hash(self, store: Store, tmp_path: Path) -> None:
        view = store.with_read_only(True)
        assert store == view and hash(store) == hash(view)
        other = self.make_other_store(tmp_path)
        try:
            assert store != other
        finally:
            other.close()
        assert store != object()

    def test_repr(self, store: Store) -> None:
        text = repr(store)
        assert text.startswith(type(store).__name__ + "(")
        assert "read_only=True" in repr(store.with_read_only(True))

    def test_context_manager(self, tmp_path: Path) -> None:
        with self.make_store(tmp_path) as s:
            s.set("k", b"v")
            assert s.get("k") == b"v"
        assert s.closed
