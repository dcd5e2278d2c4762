"""ZipStore: the conformance suite plus zarr-python interop, append mode and zip specifics."""
from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zarrfast.storage.zip as zip_mod
from zarrfast.errors import StoreError
from zarrfast.storage import Store, UnsupportedOperationError, ZipStore
from zarrfast.testing.store_tests import StoreTests

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")


class TestZipStore(StoreTests):
    store_cls = ZipStore

    def make_store(self, tmp_path: Path) -> Store:
        return ZipStore(tmp_path / "store.zip", mode="w")

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        assert isinstance(store, ZipStore)
        with store._lock:
            store._zf.writestr(key, value)
            store._index[key] = store._zf.getinfo(key)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        assert isinstance(store, ZipStore)
        store.close()
        with zipfile.ZipFile(store.path) as zf:
            return zf.read(key) if key in zf.namelist() else None

    def test_pickle(self, store: Store) -> None:
        # A zip being written has no central directory yet: pickle it once closed.
        assert isinstance(store, ZipStore)
        store.set("p/k", b"pickled")
        store.close()
        reader = ZipStore(store.path, mode="r")
        loaded = pickle.loads(pickle.dumps(reader))
        assert loaded == reader and loaded.read_only and loaded.get("p/k") == b"pickled"
        assert pickle.loads(pickle.dumps(ZipStore(store.path, mode="a"))).mode == "a"


class TestZipStoreDeflated(TestZipStore):
    """Compressed members go through zipfile's decompressor, ranges included."""

    def make_store(self, tmp_path: Path) -> Store:
        return ZipStore(tmp_path / "store.zip", mode="w", compression=zipfile.ZIP_DEFLATED)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data.zip"


def test_modes(path: Path) -> None:
    with ZipStore(path, mode="x") as s:
        assert not s.read_only
        s.set("a", b"1")
    with pytest.raises(StoreError, match="data.zip"):
        ZipStore(path, mode="x")
    with ZipStore(path, mode="a") as s:
        assert s.get("a") == b"1"
        s.set("b", b"2")
    with ZipStore(path) as s:  # mode "r" is read-only
        assert s.read_only
        assert sorted(s.list()) == ["a", "b"]
        assert s.get_many(["a", "b"]) == [b"1", b"2"]
    with ZipStore(path, mode="w") as s:  # truncates
        assert list(s.list()) == []
    with pytest.raises(ValueError, match="mode"):
        ZipStore(path, mode="q")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="read-only"):
        ZipStore(path, mode="r", read_only=False)
    with pytest.raises(StoreError, match="missing.zip"):
        ZipStore(path.parent / "missing.zip")


def test_duplicate_write_warns_and_newest_wins(path: Path) -> None:
    with ZipStore(path, mode="w") as s:
        s.set("k", b"old")
        with pytest.warns(UserWarning, match="Duplicate name"):
            s.set("k", b"newer")
        assert s.get("k") == b"newer"
        assert list(s.list()) == ["k"]
    with ZipStore(path) as s:
        assert s.get("k") == b"newer"
        assert s.get_range("k", 1, 2) == b"ew"
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["k", "k"]


def test_delete_not_supported(path: Path) -> None:
    with ZipStore(path, mode="w") as s:
        s.set("a/b", b"1")
        s.delete("missing")
        s.delete_prefix("zz/")
        for call in (lambda: s.delete("a/b"), lambda: s.delete_prefix("a/"), lambda: s.delete_many(["a/b"])):
            with pytest.raises(UnsupportedOperationError, match="'a/b'.*does not support deletes"):
                call()
        assert isinstance(UnsupportedOperationError("x"), NotImplementedError)
        assert s.supports_deletes is False


def test_closed_store_raises(path: Path) -> None:
    s = ZipStore(path, mode="w")
    s.set("a", b"1")
    view = s.with_read_only()
    view.close()  # closing a view leaves the archive open
    assert s.get("a") == b"1"
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.get("a")
    with pytest.raises(StoreError, match="closed"):
        view.get("a")


def test_read_zip_with_directory_entries(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("grp/", b"")
        zf.writestr("grp/zarr.json", b"{}")
    with ZipStore(path) as s:
        assert list(s.list()) == ["grp/zarr.json"]
        assert list(s.list_dir("")) == ["grp"]


def test_range_reads_do_not_read_member(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = np.arange(1 << 18, dtype="<u4").tobytes()  # 1 MiB
    with ZipStore(path, mode="w") as s:
        s.set("shard", payload)
    with ZipStore(path) as s:
        sizes: list[int] = []
        real_pread = os.pread

        def spy_pread(fd: int, n: int, offset: int) -> bytes:
            sizes.append(n)
            return real_pread(fd, n, offset)

        monkeypatch.setattr(zip_mod.os, "pread", spy_pread)
        monkeypatch.setattr(s._zf, "read", lambda *a: pytest.fail("read through zipfile"))
        assert s.get_range("shard", -16) == payload[-16:]
        assert s.get_ranges("shard", [(4, 8), (-4, None)]) == [payload[4:12], payload[-4:]]
        assert sizes == [30, 16, 8, 4]  # the local header once, then just the ranges


def test_corrupt_member_detected(path: Path) -> None:
    with ZipStore(path, mode="w") as s:
        s.set("k", b"A" * 100)
    raw = bytearray(path.read_bytes())
    raw[raw.index(b"A" * 100) + 50] = ord("B")
    path.write_bytes(bytes(raw))
    with ZipStore(path) as s, pytest.raises(StoreError, match="'k'.*corrupt"):
        s.get("k")


# ---------------------------------------------------------------- zarr-python interop
zarr = pytest.importorskip("zarr")


@pytest.mark.interop
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_read_zip_written_by_zarr_python(path: Path, zarr_format: int) -> None:
    data = np.arange(60, dtype="<i4").reshape(6, 10)
    zstore = zarr.storage.ZipStore(path, mode="w")
    arr = zarr.create_array(zstore, name="x", shape=data.shape, chunks=(4, 4), dtype=data.dtype,
                            zarr_format=zarr_format, compressors=None)
    arr[:] = data
    zstore.close()
    with zipfile.ZipFile(path) as zf:
        expected = {name: zf.read(name) for name in zf.namelist()}
    with ZipStore(path) as s:
        assert sorted(s.list()) == sorted(expected)
        assert s.get_many(list(expected)) == list(expected.values())
        chunk = "x/c/0/0" if zarr_format == 3 else "x/0.0"
        assert s.get(chunk) == data[:4, :4].tobytes()
        assert s.get_range(chunk, -4) == data[3, 3].tobytes()
        assert "x" in set(s.list_dir(""))


@pytest.mark.interop
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("mode", ["w", "a"])
def test_zarr_python_reads_zip_written_by_us(tmp_path: Path, path: Path, zarr_format: int, mode: str) -> None:
    data = np.linspace(0, 1, 77, dtype="<f8").reshape(7, 11)
    mem = zarr.storage.MemoryStore()
    arr = zarr.create_array(mem, name="g/y", shape=data.shape, chunks=(3, 5), dtype=data.dtype,
                            zarr_format=zarr_format)
    arr[:] = data
    keys = [k for k in zarr.core.sync.sync(_alist(mem.list()))]
    proto = zarr.core.buffer.default_buffer_prototype()
    values = {k: zarr.core.sync.sync(mem.get(k, proto)).to_bytes() for k in keys}
    if mode == "a":
        with ZipStore(path, mode="w") as s:
            s.set("first.bin", b"already there")
    with ZipStore(path, mode=mode) as s:  # type: ignore[arg-type]
        s.set_many(values)
    zstore = zarr.storage.ZipStore(path, mode="r")
    try:
        got = zarr.open_array(zstore, path="g/y", mode="r", zarr_format=zarr_format)
        np.testing.assert_array_equal(got[:], data)
    finally:
        zstore.close()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        if mode == "a":
            assert zf.read("first.bin") == b"already there"


async def _alist(agen):
    return [x async for x in agen]
