"""LoggingStore (CountingStore): the conformance suite plus counting and logging."""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import pytest

from zarrfast.errors import ReadOnlyError
from zarrfast.storage import CountingStore, LocalStore, LoggingStore, MemoryStore, Store
from zarrfast.testing.store_tests import StoreTests


class TestLoggingStore(StoreTests):
    store_cls = LoggingStore

    def make_store(self, tmp_path: Path) -> Store:
        return LoggingStore(LocalStore(tmp_path / "store"))

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        assert isinstance(store, LoggingStore)
        inner = store.store
        assert isinstance(inner, LocalStore)
        path = inner.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        assert isinstance(store, LoggingStore)
        return store.store.get(key)


def test_counts_operations_and_bytes() -> None:
    store = CountingStore(MemoryStore())
    assert CountingStore is LoggingStore
    store.set("a", b"123")
    store.set_many({"b": b"45", "c": bytearray(b"6")})
    assert store.get("a") == b"123"
    assert store.get_many(["a", "b", "missing"]) == [b"123", b"45", None]
    assert store.get_range("a", -1) == b"3"
    assert store.get_ranges("a", [(0, 1), (1, 1)]) == [b"1", b"2"]
    assert store.exists("a")
    store.delete("c")
    store.delete_many(["a", "b"])
    store.delete_prefix("x/")
    assert list(store.list()) == []
    list(store.list_prefix(""))
    list(store.list_dir(""))
    c = store.counter
    assert c["set"] == 1 and c["set_many"] == 1 and c["keys_written"] == 3
    assert c["get"] == 1 and c["get_many"] == 1 and c["get_range"] == 1 and c["get_ranges"] == 1
    assert c["keys_read"] == 1 + 3 + 1 + 1
    assert c["exists"] == 1 and c["delete"] == 1 and c["delete_many"] == 1 and c["delete_prefix"] == 1
    assert c["keys_deleted"] == 3
    assert c["list"] == 1 and c["list_prefix"] == 1 and c["list_dir"] == 1
    assert store.bytes_written == 6
    assert store.bytes_read == 3 + 5 + 1 + 2
    store.reset()
    assert not store.counter and store.bytes_read == 0 and store.bytes_written == 0


def test_record_calls() -> None:
    store = LoggingStore(MemoryStore(), record=True)
    store.set("a", b"1")
    store.get_many(["a", "b"])
    assert store.calls == [("set", "a"), ("get_many", ["a", "b"])]
    store.reset()
    assert store.calls == []


def test_log_targets(caplog: pytest.LogCaptureFixture) -> None:
    lines: list[str] = []
    store = LoggingStore(MemoryStore(), log=lines.append)
    store.set("k", b"abc")
    store.get("k")
    assert len(lines) == 2 and "set('k')" in lines[0] and "wrote 3 B" in lines[0]
    assert "get('k')" in lines[1] and "read 3 B" in lines[1]
    logger = logging.getLogger("zarrfast.test.store")
    with caplog.at_level(logging.DEBUG, logger="zarrfast.test.store"):
        LoggingStore(MemoryStore(), log=logger).get("x")
    assert "get('x')" in caplog.text


def test_read_only_view_shares_counters() -> None:
    store = LoggingStore(MemoryStore({"a": b"1"}))
    view = store.with_read_only()
    assert view.read_only and not store.read_only
    view.get("a")
    with pytest.raises(ReadOnlyError):
        view.set("b", b"2")
    assert store.counter["get"] == 1
    assert store.supports_deletes and store.supports_partial_reads


def test_pickle_drops_log_keeps_store(tmp_path: Path) -> None:
    store = LoggingStore(LocalStore(tmp_path), log=print)
    loaded = pickle.loads(pickle.dumps(store))
    assert loaded == store and loaded.store == store.store


def test_wraps_only_stores() -> None:
    with pytest.raises(TypeError):
        LoggingStore({})  # type: ignore[arg-type]
