"""LMDBStore: the conformance suite plus threads, map growth, read-only, zarr-python-2 layout."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import zarrfast
from zarrfast.errors import ReadOnlyError, StoreError, StoreNotFoundError
from zarrfast.storage import LMDBStore, Store
from zarrfast.testing.store_tests import StoreTests, run_mixed_thread_workload

lmdb = pytest.importorskip("lmdb", reason="LMDBStore needs the lmdb package (pip install zarrfast[lmdb])")


def _raw_env(store: Store) -> object:
    return store._shared.env  # type: ignore[attr-defined]  # the environment the store shares


class TestLMDBStore(StoreTests):
    store_cls = LMDBStore

    def make_store(self, tmp_path: Path) -> Store:
        return LMDBStore(tmp_path / "data.lmdb")

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        with _raw_env(store).begin(write=True) as txn:  # type: ignore[attr-defined]
            txn.put(key.encode(), value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        with _raw_env(store).begin() as txn:  # type: ignore[attr-defined]
            return txn.get(key.encode())


@pytest.fixture
def store(tmp_path: Path) -> LMDBStore:
    s = LMDBStore(tmp_path / "db")
    yield s
    s.close()


def _v2_rows(data: np.ndarray, chunks: tuple[int, int]) -> dict[str, bytes]:
    """The entries zarr-python 2 writes for an uncompressed v2 array at 'arr' ('.' chunk keys)."""
    meta = {
        "zarr_format": 2, "shape": list(data.shape), "chunks": list(chunks), "dtype": data.dtype.str,
        "compressor": None, "fill_value": 0, "filters": None, "order": "C",
    }
    rows = {".zgroup": json.dumps({"zarr_format": 2}).encode(), "arr/.zarray": json.dumps(meta).encode()}
    for i in range(0, data.shape[0], chunks[0]):
        for j in range(0, data.shape[1], chunks[1]):
            block = np.zeros(chunks, data.dtype)
            part = data[i:i + chunks[0], j:j + chunks[1]]
            block[:part.shape[0], :part.shape[1]] = part
            rows[f"arr/{i // chunks[0]}.{j // chunks[1]}"] = block.tobytes()
    return rows


def test_opens_zarr_python_2_environment(tmp_path: Path) -> None:
    data = np.arange(6 * 10, dtype="<u2").reshape(6, 10)
    env = lmdb.open(str(tmp_path / "v2.mdb"), map_size=1 << 24)  # zarr-python 2: a directory
    with env.begin(write=True) as txn:  # ASCII keys in the default database, raw values
        for key, value in _v2_rows(data, (4, 3)).items():
            txn.put(key.encode("ascii"), value)
    env.close()
    assert sorted(os.listdir(tmp_path / "v2.mdb")) == ["data.mdb", "lock.mdb"]
    with LMDBStore(tmp_path / "v2.mdb", read_only=True) as store:
        np.testing.assert_array_equal(zarrfast.open_array(store=store, path="arr", mode="r")[...], data)


def test_layout_written_for_zarr_python_2(store: LMDBStore) -> None:
    store.set_many({"a/.zarray": b"{}", "a/0.0": b"\x01\x02"})
    store.close()
    env = lmdb.open(store.path, readonly=True)
    with env.begin() as txn:
        assert list(txn.cursor()) == [(b"a/.zarray", b"{}"), (b"a/0.0", b"\x01\x02")]
    env.close()


def test_array_round_trip(tmp_path: Path) -> None:
    data = np.random.default_rng(1).integers(-1000, 1000, size=(41, 19)).astype("<i8")
    with LMDBStore(tmp_path / "arr") as store:
        arr = zarrfast.create_array(store=store, shape=data.shape, chunks=(8, 8), dtype="i8")
        arr[...] = data
    with LMDBStore(tmp_path / "arr", read_only=True) as store:
        np.testing.assert_array_equal(zarrfast.open_array(store=store)[...], data)
        np.testing.assert_array_equal(zarrfast.open_array(store=store)[3:30:2, 7], data[3:30:2, 7])


def test_map_grows_when_full(tmp_path: Path) -> None:
    store = LMDBStore(tmp_path / "small", map_size=1 << 16)
    values = {f"c/{i}": os.urandom(20_000) for i in range(100)}  # ~2 MB into a 64 KiB map
    store.set_many(values)
    store.set("one/more", os.urandom(300_000))
    assert store.get_many(list(values)) == list(values.values())
    assert _raw_env(store).info()["map_size"] > 1 << 21  # type: ignore[attr-defined]
    store.close()


def test_many_threads_write_and_read_while_the_map_grows(tmp_path: Path) -> None:
    store = LMDBStore(tmp_path / "threads", map_size=1 << 16)  # the workload needs the map to grow many times
    run_mixed_thread_workload(store, threads=10, items=25, value_size=500)
    store.close()


def test_read_only_missing_path(tmp_path: Path) -> None:
    with pytest.raises(StoreNotFoundError, match="missing.lmdb") as info:
        LMDBStore(tmp_path / "missing.lmdb", read_only=True)
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "missing.lmdb").exists()


def test_read_only_open_and_shared_environment(tmp_path: Path) -> None:
    writer = LMDBStore(tmp_path / "x")
    writer.set("a/b", b"1")
    reader = LMDBStore(tmp_path / "x", read_only=True)  # same path, same process: one env
    assert _raw_env(reader) is _raw_env(writer)
    assert reader.get("a/b") == b"1"
    with pytest.raises(ReadOnlyError, match="'a/c'"):
        reader.set("a/c", b"2")
    writer.close()  # the reader keeps the shared environment open
    assert reader.get("a/b") == b"1"
    reader.close()
    with pytest.raises(StoreError, match="closed"):
        reader.get("a/b")


def test_pickle_reopens_same_environment(store: LMDBStore) -> None:
    store.set("p", b"payload-on-disk")
    data = pickle.dumps(store)
    assert b"payload-on-disk" not in data
    other = pickle.loads(data)
    other.set("q", b"from the copy")
    assert store.get("q") == b"from the copy" and other == store
    other.close()
    assert store.get("p") == b"payload-on-disk"


def test_subdir_false_is_a_single_file(tmp_path: Path) -> None:
    with LMDBStore(tmp_path / "file.mdb", subdir=False) as store:
        store.set("k", b"v")
    assert (tmp_path / "file.mdb").is_file()
    with LMDBStore(tmp_path / "file.mdb", subdir=False, read_only=True) as store:
        assert store.get("k") == b"v"


def test_unicode_keys_and_prefix_listing(store: LMDBStore) -> None:
    store.set_many({"é/1": b"a", "é0": b"b", "e/1": b"c", "f": b"d"})
    assert sorted(store.list_prefix("é")) == ["é/1", "é0"]
    store.delete_prefix("é")
    assert sorted(store.list()) == ["e/1", "f"]
    store.delete_prefix("f")
    assert list(store.list()) == ["e/1"]


def test_errors_name_key_and_store(tmp_path: Path) -> None:
    (tmp_path / "notdir").write_bytes(b"x")
    with pytest.raises(StoreError, match="notdir"):
        LMDBStore(tmp_path / "notdir" / "db")
    with pytest.raises(TypeError):
        LMDBStore(5)  # type: ignore[arg-type]


def test_environment_released_when_last_store_goes(tmp_path: Path) -> None:
    import gc

    from zarrfast.storage import lmdb_store

    a = LMDBStore(tmp_path / "gc")
    b = a.with_read_only()
    a.set("k", b"v")
    key = os.path.realpath(a.path)
    assert lmdb_store._envs[key].refs == 2
    del a
    gc.collect()
    assert lmdb_store._envs[key].refs == 1 and b.get("k") == b"v"
    b.close()
    b.close()  # closing twice is harmless
    assert key not in lmdb_store._envs
    with LMDBStore(tmp_path / "gc", read_only=True) as again:  # reopens; data was flushed
        assert again.get("k") == b"v"
