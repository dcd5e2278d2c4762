"""make_store: every kind of store-like resolves to the right zarrfast store."""
from __future__ import annotations

import zipfile
from collections import UserDict
from pathlib import Path

import numpy as np
import pytest

from zarrfast.errors import ReadOnlyError, StoreError
from zarrfast.storage import LocalStore, MappingStore, MemoryStore, ZipStore, make_store


def test_store_passes_through() -> None:
    store = MemoryStore()
    assert make_store(store) is store
    ro = make_store(store, mode="r")
    assert ro.read_only and ro == store
    assert make_store(ro, mode="a") is ro
    with pytest.raises(ReadOnlyError, match="'w'"):
        make_store(ro, mode="w")


def test_none_is_memory() -> None:
    s = make_store(None)
    assert isinstance(s, MemoryStore) and not s.read_only
    assert make_store(None, mode="r").read_only


@pytest.mark.parametrize("as_path", [False, True])
def test_paths_are_local(tmp_path: Path, as_path: bool) -> None:
    target = tmp_path / "data.zarr"
    s = make_store(target if as_path else str(target))
    assert isinstance(s, LocalStore) and s.root == target and not s.read_only
    assert make_store(str(target), mode="r").read_only


def test_file_url(tmp_path: Path) -> None:
    s = make_store(f"file://{tmp_path}/with%20space")
    assert isinstance(s, LocalStore) and s.root == tmp_path / "with space"
    with pytest.raises(StoreError, match="local path"):
        make_store("file://otherhost/x")


@pytest.mark.parametrize("url,protocol,read_only", [
    ("s3://bucket/x.zarr", "s3", False),
    ("https://example.org/x.zarr", "https", True),
    ("http://example.org/x.zarr", "http", True),
    ("memory://resolve-test/x", "memory", False),
])
def test_urls_dispatch_to_fsspec(url: str, protocol: str, read_only: bool) -> None:
    pytest.importorskip("fsspec")
    if protocol == "s3":
        pytest.importorskip("s3fs")
    from zarrfast.storage import FsspecStore

    s = make_store(url)  # no request is made here
    assert isinstance(s, FsspecStore) and s.url == url and s.read_only is read_only
    assert protocol in (s.fs.protocol if isinstance(s.fs.protocol, tuple) else (s.fs.protocol,))
    assert make_store(url, mode="r").read_only
    if read_only:
        with pytest.raises(ReadOnlyError, match="read-only"):
            make_store(url, mode="w")


def test_url_storage_options_passed() -> None:
    pytest.importorskip("s3fs")
    s = make_store("s3://bucket/x.zarr", storage_options={"anon": True, "endpoint_url": "http://127.0.0.1:9"})
    assert s.fs.anon is True and s.fs.endpoint_url == "http://127.0.0.1:9"
    assert s.storage_options == {"anon": True, "endpoint_url": "http://127.0.0.1:9"}


def test_url_errors() -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(StoreError, match="unknown URL protocol"):
        make_store("notaprotocol://b/x")
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install gcsfs"):
            make_store("gs://b/x")


def test_zip_paths(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    s = make_store(path, mode="w")
    assert isinstance(s, ZipStore) and s.mode == "w"
    s.set("zarr.json", b"{}")
    s.close()
    r = make_store(str(path), mode="r")
    assert isinstance(r, ZipStore) and r.read_only and r.get("zarr.json") == b"{}"
    r.close()
    a = make_store(path)
    assert isinstance(a, ZipStore) and a.mode == "a"
    a.close()
    x = make_store(tmp_path / "b.zip", mode="w-")
    assert isinstance(x, ZipStore) and x.mode == "x"
    x.close()
    (tmp_path / "dir.zip").mkdir()  # a directory named *.zip stays a directory store
    assert isinstance(make_store(tmp_path / "dir.zip"), LocalStore)
    assert zipfile.is_zipfile(path)


def test_mappings() -> None:
    data: dict[str, bytes] = {}
    s = make_store(data)
    assert isinstance(s, MemoryStore) and s.store_dict is data
    s.set("k", b"v")
    assert data == {"k": b"v"}
    ud: UserDict[str, bytes] = UserDict()
    m = make_store(ud, mode="r")
    assert type(m) is MappingStore and m.mapping is ud and m.read_only


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="mode"):
        make_store(None, mode="rw")
    with pytest.raises(TypeError, match="storage_options"):
        make_store(tmp_path, storage_options={"anon": True})
    with pytest.raises(TypeError, match="int"):
        make_store(42)


zarr = pytest.importorskip("zarr")


@pytest.mark.interop
def test_zarr_python_local_store(tmp_path: Path) -> None:
    zs = zarr.storage.LocalStore(tmp_path / "z", read_only=False)
    arr = zarr.create_array(zs, shape=(4,), chunks=(2,), dtype="i2")
    arr[:] = np.arange(4, dtype="i2")
    s = make_store(zs)
    assert isinstance(s, LocalStore) and s.root == tmp_path / "z"
    assert s.get("c/1") is not None and "zarr.json" in set(s.list())
    assert make_store(zarr.storage.LocalStore(tmp_path / "z", read_only=True)).read_only


@pytest.mark.interop
def test_zarr_python_memory_store_shares_data() -> None:
    zs = zarr.storage.MemoryStore()
    arr = zarr.create_array(zs, shape=(4,), chunks=(4,), dtype="u1", compressors=None)
    arr[:] = np.arange(4, dtype="u1")
    s = make_store(zs)
    assert s.get("c/0") == bytes(range(4))
    s.set("c/0", bytes([9, 9, 9, 9]))  # data lands in zarr-python's store
    np.testing.assert_array_equal(zarr.open_array(zs, mode="r")[:], [9, 9, 9, 9])
    assert sorted(s.list()) == ["c/0", "zarr.json"]


@pytest.mark.interop
def test_zarr_python_other_store_raises(tmp_path: Path) -> None:
    zs = zarr.storage.LoggingStore(zarr.storage.MemoryStore())
    with pytest.raises(StoreError, match="pass its location"):
        make_store(zs)
