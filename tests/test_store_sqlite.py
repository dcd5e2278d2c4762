"""SQLiteStore: the conformance suite plus threads, read-only, errors, zarr-python-2 layout."""
from __future__ import annotations

import json
import os
import pickle
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import zarrfast
from zarrfast.errors import ReadOnlyError, StoreError, StoreNotFoundError, StoreTimeoutError
from zarrfast.storage import SQLiteStore, Store
from zarrfast.storage.sqlite import prefix_upper_bound
from zarrfast.testing.store_tests import StoreTests


class TestSQLiteStore(StoreTests):
    store_cls = SQLiteStore

    def make_store(self, tmp_path: Path) -> Store:
        return SQLiteStore(tmp_path / "data.sqlite")

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        with sqlite3.connect(store.path) as conn:  # type: ignore[attr-defined]
            conn.execute("REPLACE INTO zarr VALUES (?, ?)", (key, value))

    def get_raw(self, store: Store, key: str) -> bytes | None:
        conn = sqlite3.connect(store.path)  # type: ignore[attr-defined]
        try:
            row = conn.execute("SELECT v FROM zarr WHERE k = ?", (key,)).fetchone()
        finally:
            conn.close()
        return None if row is None else bytes(row[0])


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "db.sqlite")
    yield s
    s.close()


def test_layout_matches_zarr_python_2(store: SQLiteStore) -> None:
    store.set("a/.zarray", b"{}")
    conn = sqlite3.connect(store.path)
    try:
        cols = [(name, kind, pk) for _, name, kind, _, _, pk in conn.execute("PRAGMA table_info(zarr)")]
        assert cols == [("k", "TEXT", 1), ("v", "BLOB", 0)]
        assert conn.execute("SELECT k, typeof(v), v FROM zarr").fetchall() == [("a/.zarray", "blob", b"{}")]
    finally:
        conn.close()


def _write_v2_array_rows(path: Path, data: np.ndarray, chunks: tuple[int, int]) -> None:
    """Rows as zarr-python 2's SQLiteStore writes them: uncompressed v2 chunks, '.' keys."""
    meta = {
        "zarr_format": 2, "shape": list(data.shape), "chunks": list(chunks), "dtype": data.dtype.str,
        "compressor": None, "fill_value": 0, "filters": None, "order": "C",
    }
    rows = [(".zgroup", json.dumps({"zarr_format": 2}).encode()),
            ("arr/.zarray", json.dumps(meta).encode()), ("arr/.zattrs", b"{}")]
    for i in range(0, data.shape[0], chunks[0]):
        for j in range(0, data.shape[1], chunks[1]):
            block = np.zeros(chunks, data.dtype)
            part = data[i:i + chunks[0], j:j + chunks[1]]
            block[:part.shape[0], :part.shape[1]] = part
            rows.append((f"arr/{i // chunks[0]}.{j // chunks[1]}", block.tobytes()))
    conn = sqlite3.connect(path, isolation_level=None)  # zarr-python 2 opens it like this
    conn.execute("CREATE TABLE IF NOT EXISTS zarr(k TEXT PRIMARY KEY, v BLOB)")
    conn.executemany("REPLACE INTO zarr VALUES (?, ?)", rows)
    conn.close()


def test_opens_zarr_python_2_database(tmp_path: Path) -> None:
    data = np.arange(7 * 9, dtype="<i4").reshape(7, 9)
    _write_v2_array_rows(tmp_path / "v2.sqldb", data, (3, 4))
    with SQLiteStore(tmp_path / "v2.sqldb", read_only=True) as store:
        arr = zarrfast.open_array(store=store, path="arr", mode="r")
        np.testing.assert_array_equal(arr[...], data)


def test_array_round_trip(tmp_path: Path) -> None:
    data = np.random.default_rng(0).standard_normal((37, 23)).astype("<f8")
    with SQLiteStore(tmp_path / "a.db") as store:
        arr = zarrfast.create_array(store=store, shape=data.shape, chunks=(10, 8), dtype="f8")
        arr[...] = data
    with SQLiteStore(tmp_path / "a.db", read_only=True) as store:
        np.testing.assert_array_equal(zarrfast.open_array(store=store)[...], data)
        np.testing.assert_array_equal(zarrfast.open_array(store=store)[5:17, 3:9], data[5:17, 3:9])





def test_read_only_missing_path(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="nope.db") as info:
        SQLiteStore(tmp_path / "nope.db", read_only=True)
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "nope.db").exists()


def test_read_only_open(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "x.db") as writer:
        writer.set("a/b", b"1")
    ro = SQLiteStore(tmp_path / "x.db", read_only=True)
    assert ro.get("a/b") == b"1" and ro.read_only
    for call in (lambda: ro.set("a/c", b"2"), lambda: ro.delete("a/b"), lambda: ro.delete_prefix("")):
        with pytest.raises(ReadOnlyError, match="read-only"):
            call()
    assert list(ro.list()) == ["a/b"]
    ro.close()


def test_pickle_reopens_same_database(store: SQLiteStore) -> None:
    store.set("p", b"payload-on-disk")
    data = pickle.dumps(store)
    assert b"payload-on-disk" not in data
    other = pickle.loads(data)
    other.set("q", b"from the copy")
    assert store.get("q") == b"from the copy" and other == store
    other.close()


def test_busy_database_is_a_timeout_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "busy.db", timeout=0.05)
    blocker = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreTimeoutError, match="'k'") as info:
            store.set("k", b"1")
        assert repr(store) in str(info.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.set("k", b"1")  # the store recovers
    assert store.get("k") == b"1"
    store.close()


def test_not_a_database(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="junk.db"):
        SQLiteStore(tmp_path / "junk.db")


def test_closed_store_raises(tmp_path: Path) -> None:
    s = SQLiteStore(tmp_path / "c.db")
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.get("k")


def test_prefix_listing_uses_ranges_with_special_characters(store: SQLiteStore) -> None:
    keys = ["a%/x", "a_/y", "ab/z", "a%b", "é/1", "é0", "f"]
    store.set_many({k: b"v" for k in keys})
    assert sorted(store.list_prefix("a%")) == ["a%/x", "a%b"]
    assert sorted(store.list_prefix("a_/")) == ["a_/y"]
    assert sorted(store.list_prefix("é")) == ["é/1", "é0"]
    store.delete_prefix("a%")
    assert sorted(store.list()) == sorted(["a_/y", "ab/z", "é/1", "é0", "f"])
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("a\U0010ffff") == "b"


def test_text_values_from_other_writers(store: SQLiteStore) -> None:
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("REPLACE INTO zarr VALUES (?, ?)", ("t", "json text"))
    conn.close()
    assert store.get("t") == b"json text"
    assert store.get_range("t", -4) == b"text"
    assert store.get_many(["t"]) == [b"json text"]


def test_get_range_reads_part_of_a_large_value(store: SQLiteStore) -> None:
    value = os.urandom(1 << 20)
    store.set("big", value)
    assert store.get_ranges("big", [(0, 8), (-8, None), (500_000, 3)]) == [
        value[:8], value[-8:], value[500_000:500_003]
    ]


def test_wal_mode_and_invalid_options(store: SQLiteStore, tmp_path: Path) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with pytest.raises(ValueError):
        SQLiteStore(":memory:")
    with pytest.raises(ValueError):
        SQLiteStore(tmp_path / "j.db", journal_mode="wal; DROP TABLE zarr")
    with pytest.raises(TypeError):
        SQLiteStore(3)  # type: ignore[arg-type]


def test_cannot_create_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(StoreError, match="file"):
        SQLiteStore(tmp_path / "file" / "db.sqlite")
