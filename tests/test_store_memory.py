"""MemoryStore: the conformance suite plus dict sharing."""
from __future__ import annotations

import pickle
import threading
from pathlib import Path

from zarrfast.storage import MemoryStore, Store
from zarrfast.testing.store_tests import StoreTests


class TestMemoryStore(StoreTests):
    store_cls = MemoryStore
    pickle_keeps_equality = False  # equality is identity of the dict; pickling copies it

    def make_store(self, tmp_path: Path) -> Store:
        return MemoryStore()

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        assert isinstance(store, MemoryStore)
        store.store_dict[key] = value

    def get_raw(self, store: Store, key: str) -> bytes | None:
        assert isinstance(store, MemoryStore)
        return store.store_dict.get(key)


def test_shares_user_dict() -> None:
    data: dict[str, bytes] = {"zarr.json": b"{}"}
    store = MemoryStore(data)
    assert store.get("zarr.json") == b"{}"
    store.set("a/b", bytearray(b"xy"))
    assert data["a/b"] == b"xy" and type(data["a/b"]) is bytes
    store.delete("zarr.json")
    assert "zarr.json" not in data
    assert MemoryStore(data) == store
    assert MemoryStore(dict(data)) != store


def test_pickle_copies_data() -> None:
    store = MemoryStore({"k": b"v"}, read_only=True)
    loaded = pickle.loads(pickle.dumps(store))
    assert loaded.get("k") == b"v" and loaded.read_only
    assert loaded.store_dict is not store.store_dict


def test_non_bytes_values_in_dict_are_returned_as_bytes() -> None:
    store = MemoryStore({"a": bytearray(b"12"), "b": memoryview(b"34")})
    assert store.get("a") == b"12" and type(store.get("a")) is bytes
    assert store.get_many(["a", "b", "c"]) == [b"12", b"34", None]
    assert store.get_range("b", -1) == b"4"


def test_list_while_writing() -> None:
    store = MemoryStore()
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            store.set(f"w/{i}", b"x")
            store.delete(f"w/{i - 50}")
            i += 1

    th = threading.Thread(target=writer)
    th.start()
    try:
        for _ in range(200):
            list(store.list())
            list(store.list_dir("w/"))
    finally:
        stop.set()
        th.join()


def test_repr_shows_location() -> None:
    store = MemoryStore()
    assert repr(store) == f"MemoryStore(memory://{id(store.store_dict):#x})"
