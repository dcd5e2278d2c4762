"""FsspecStore over ``memory://``: the conformance suite, URL handling, error mapping, pickling.

Remote backends (S3 via moto, HTTP) are in test_remote_s3.py and test_remote_http.py.
"""
from __future__ import annotations

import pickle
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

fsspec = pytest.importorskip("fsspec")

import zarrfast
from zarrfast.errors import (
    ReadOnlyError,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    StorePermissionError,
    StoreTimeoutError,
)
from zarrfast.storage import FsspecStore, Store, make_store
from zarrfast.storage.base import UnsupportedOperationError
from zarrfast.storage.fsspec import _classify
from zarrfast.testing.store_tests import StoreTests


def _memory_url() -> str:
    return f"memory://zarrfast-tests/{uuid.uuid4().hex}"


class TestFsspecMemoryStore(StoreTests):
    store_cls = FsspecStore

    def make_store(self, tmp_path: Path) -> Store:
        return FsspecStore.from_url(_memory_url())

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        fsspec.filesystem("memory").pipe_file(f"{store.path}/{key}", value)  # type: ignore[attr-defined]

    def get_raw(self, store: Store, key: str) -> bytes | None:
        fs = fsspec.filesystem("memory")
        path = f"{store.path}/{key}"  # type: ignore[attr-defined]
        return fs.cat_file(path) if fs.isfile(path) else None


class TestFsspecMemoryStoreFromFilesystem(TestFsspecMemoryStore):
    """The same suite for a store built from a filesystem object and a path."""

    def make_store(self, tmp_path: Path) -> Store:
        return FsspecStore(fsspec.filesystem("memory"), f"/zarrfast-tests/{uuid.uuid4().hex}")


# ---------------------------------------------------------------------------------- construction
def test_from_url_and_filesystem_agree() -> None:
    url = _memory_url()
    a = FsspecStore.from_url(url)
    fs, path = fsspec.core.url_to_fs(url)
    b = FsspecStore(fs, path)
    assert a == b and hash(a) == hash(b)
    assert a.url == url and a.path == path and a.fs is fs
    assert repr(a) == f"FsspecStore({url!r})"
    assert repr(a.with_read_only()) == f"FsspecStore({url!r}, read_only=True)"
    a.set("k", b"v")
    assert b.get("k") == b"v"
    assert FsspecStore.from_url(url + "/") == a  # a trailing slash names the same place
    assert FsspecStore.from_url(_memory_url()) != a


def test_from_mapper() -> None:
    url = _memory_url()
    mapper = fsspec.get_mapper(url)
    mapper["a/b"] = b"1"
    store = FsspecStore.from_mapper(mapper)
    assert store.get("a/b") == b"1"
    resolved = make_store(mapper, mode="r")
    assert isinstance(resolved, FsspecStore) and resolved.read_only and resolved.get("a/b") == b"1"


def test_bad_construction() -> None:
    with pytest.raises(TypeError):
        FsspecStore()
    with pytest.raises(TypeError):
        FsspecStore(fsspec.filesystem("memory"), url="memory://x")
    with pytest.raises(TypeError, match="storage_options"):
        FsspecStore(fsspec.filesystem("memory"), "x", storage_options={"a": 1})


def test_pickle_keeps_url_and_options_not_data() -> None:
    url = _memory_url()
    store = FsspecStore.from_url(url, storage_options={"skip_instance_cache": False})
    store.set("big", bytes(1 << 20))
    blob = pickle.dumps(store)
    assert len(blob) < 2000  # the URL and options, not the megabyte of data
    loaded = pickle.loads(blob)
    assert loaded == store and loaded.url == url and loaded.storage_options == store.storage_options
    assert loaded.get("big") == bytes(1 << 20)
    ro = pickle.loads(pickle.dumps(store.with_read_only()))
    assert ro.read_only
    with pytest.raises(ReadOnlyError):
        ro.set("x", b"1")


def test_many_threads_reading() -> None:
    store = FsspecStore.from_url(_memory_url())
    values = {f"c/{i}": np.full(100, i, dtype="i4").tobytes() for i in range(200)}
    store.set_many(values)
    keys = list(values)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for _ in range(5):
                batch = keys[t::4]
                assert store.get_many(batch) == [values[k] for k in batch]
                assert store.get_range(keys[t], 4, 8) == values[keys[t]][4:12]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


# ---------------------------------------------------------------------------------- URL dispatch
@pytest.mark.parametrize("mode", ["a", "r", "r+", "w", "w-"])
def test_make_store_memory_url(mode: str) -> None:
    url = _memory_url()
    store = make_store(url, mode=mode)
    assert isinstance(store, FsspecStore)
    assert store.read_only is (mode == "r")
    assert store.url == url


def test_arrays_and_groups_over_memory_url() -> None:
    url = _memory_url()
    data = np.arange(200, dtype="f8").reshape(10, 20)
    arr = zarrfast.create_array(url, shape=data.shape, chunks=(3, 7), dtype="f8")
    arr[...] = data
    assert isinstance(arr.store, FsspecStore)
    np.testing.assert_array_equal(zarrfast.open_array(url, mode="r")[...], data)
    g = zarrfast.open_group(url + "/grp", mode="w")
    g.create_array("x", shape=(5,), chunks=(2,), dtype="i2")[...] = np.arange(5, dtype="i2")
    g2 = zarrfast.open_group(url + "/grp", mode="r")
    assert [k for k, _ in g2.members()] == ["x"]
    np.testing.assert_array_equal(g2["x"][...], np.arange(5))


def test_unknown_protocol() -> None:
    with pytest.raises(StoreError, match="unknown URL protocol"):
        make_store("nosuchproto://bucket/x.zarr")


@pytest.mark.parametrize("url,package", [("gs://bucket/x.zarr", "gcsfs"), ("az://container/x.zarr", "adlfs"),
                                         ("zip::gs://bucket/x.zip", "gcsfs")])
def test_missing_backend_names_package(url: str, package: str) -> None:
    from zarrfast.storage.fsspec import _backend_missing

    if not _backend_missing(fsspec, url.split("::")[-1].split(":")[0]):
        pytest.skip(f"{package} is installed")
    with pytest.raises(ImportError, match=f"pip install {package}"):
        make_store(url)


def test_storage_options_reach_filesystem() -> None:
    fs_cls = fsspec.get_filesystem_class("memory")
    url = _memory_url()
    # skip_instance_cache is a filesystem option: it gives a new filesystem instead of the cached one
    s = make_store(url, storage_options={"skip_instance_cache": True})
    assert isinstance(s.fs, fs_cls) and s.storage_options == {"skip_instance_cache": True}
    assert s.fs is not fsspec.filesystem("memory")
    assert make_store(url).fs is fsspec.filesystem("memory")


# ---------------------------------------------------------------------------------- errors
class _FakeClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}}


class _FakeResponseError(OSError):
    def __init__(self, status: int) -> None:
        super().__init__(f"{status}, message='x'")
        self.status = status


class ClientConnectorError(OSError):  # named like aiohttp's
    pass


class EndpointConnectionError(Exception):  # named like botocore's
    pass


class ReadTimeoutError(Exception):  # named like botocore's
    pass


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize("exc,expected", [
    (FileNotFoundError("k"), None),
    (_caused(FileNotFoundError("u"), _FakeResponseError(404)), None),
    (_caused(FileNotFoundError("The specified bucket does not exist"), _FakeClientError("NoSuchBucket")),
     StoreNotFoundError),
    (_caused(FileNotFoundError("u"), _FakeResponseError(403)), StorePermissionError),
    (PermissionError("Access Denied"), StorePermissionError),
    (_FakeResponseError(401), StorePermissionError),
    (ClientConnectorError("Cannot connect"), StoreConnectionError),
    (EndpointConnectionError("Could not connect"), StoreConnectionError),
    (ConnectionResetError(), StoreConnectionError),
    (ReadTimeoutError("read timeout"), StoreTimeoutError),
    (TimeoutError(), StoreTimeoutError),
    (_FakeResponseError(500), StoreError),
    (OSError(22, "invalid"), StoreError),
])
def test_classify(exc: BaseException, expected: type | None) -> None:
    assert _classify(exc) is expected


class _FailingFS(fsspec.AbstractFileSystem):
    protocol = "failing"

    def __init__(self, exc: BaseException, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.exc = exc

    def cat_file(self, path, start=None, end=None, **kwargs):
        raise self.exc

    def pipe_file(self, path, value, **kwargs):
        raise self.exc

    def info(self, path, **kwargs):
        raise self.exc


@pytest.mark.parametrize("exc,expected", [
    (PermissionError("Access Denied"), StorePermissionError),
    (ConnectionRefusedError("refused"), StoreConnectionError),
    (TimeoutError("slow"), StoreTimeoutError),
])
def test_errors_name_key_and_store(exc: BaseException, expected: type) -> None:
    store = FsspecStore(_FailingFS(exc, skip_instance_cache=True), "root")
    for call in (lambda: store.get("c/0"), lambda: store.get_many(["c/0", "c/1"]),
                 lambda: store.get_range("c/0", 0, 4), lambda: store.exists("c/0"),
                 lambda: store.set("c/0", b"x")):
        with pytest.raises(expected) as info:
            call()
        assert "'c/0'" in str(info.value) and repr(store) in str(info.value)
        assert info.value.__cause__ is exc


def test_missing_key_is_not_an_error() -> None:
    store = FsspecStore(_FailingFS(FileNotFoundError("root/k"), skip_instance_cache=True), "root")
    assert store.get("k") is None
    assert store.get_many(["k", "j"]) == [None, None]
    assert store.get_range("k", 0, 1) is None
    assert store.exists("k") is False


def test_zip_chained_over_memory(tmp_path: Path) -> None:
    data = np.arange(60, dtype="u2").reshape(6, 10)
    local = zarrfast.create_array(tmp_path / "a.zip", shape=data.shape, chunks=(4, 4), dtype="u2")
    local[...] = data
    local.store.close()
    name = f"/zarrfast-tests/{uuid.uuid4().hex}.zip"
    fsspec.filesystem("memory").pipe_file(name, (tmp_path / "a.zip").read_bytes())
    url = f"zip::memory://{name}"
    store = make_store(url)
    assert isinstance(store, FsspecStore) and store.read_only and not store.supports_writes
    assert sorted(store.list_dir("")) == ["c", "zarr.json"]
    np.testing.assert_array_equal(zarrfast.open_array(url, mode="r")[...], data)
    with pytest.raises(ReadOnlyError, match="'w'"):
        make_store(url, mode="w")
    with pytest.raises(StoreNotFoundError, match="nothing.zip"):
        make_store("zip::memory://nothing.zip", mode="r")


def test_listing_unsupported_message() -> None:
    store = FsspecStore.from_url("http://127.0.0.1:9/x.zarr")  # never contacted
    assert store.read_only and not store.supports_listing and not store.supports_writes
    for call in (store.list, lambda: store.list_prefix("a/"), lambda: store.list_dir("")):
        with pytest.raises(UnsupportedOperationError, match="does not support listing"):
            call()
    with pytest.raises(ReadOnlyError, match="'k'"):
        store.set("k", b"1")
    with pytest.raises(ReadOnlyError):
        make_store("https://127.0.0.1:9/x.zarr", mode="w-")


# ---------------------------------------------------------------------------------- compat names
from zarrfast.storage.compat import StorePath, WrapperStore


class TestWrapperStore(StoreTests):
    store_cls = WrapperStore

    def make_store(self, tmp_path: Path) -> Store:
        return WrapperStore(FsspecStore.from_url(_memory_url()))

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        store.store.set(key, value)  # type: ignore[attr-defined]

    def get_raw(self, store: Store, key: str) -> bytes | None:
        return store.store.get(key)  # type: ignore[attr-defined]


def test_store_path() -> None:
    store = FsspecStore.from_url(_memory_url())
    root = StorePath(store)
    p = root / "a" / "b/"
    assert p == StorePath(store, "a/b") and p.path == "a/b" and hash(p) == hash(StorePath(store, "/a/b/"))
    p.set(b"meta", "zarr.json")
    assert store.get("a/b/zarr.json") == b"meta" and (p / "zarr.json").get() == b"meta"
    assert p.exists("zarr.json") and not p.exists("nope")
    (p / "zarr.json").delete()
    assert store.get("a/b/zarr.json") is None
    assert repr(p) == f"StorePath({store!r}, 'a/b')"
