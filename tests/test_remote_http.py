"""FsspecStore over HTTP against a local threaded server with Range support (read-only, no listing).

zarr-python writes into the served directory; zarrfast reads it back over HTTP.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("fsspec")
zarr = pytest.importorskip("zarr")

import zarrfast
from zarrfast.errors import (
    ReadOnlyError,
    StoreConnectionError,
    StorePermissionError,
    StoreTimeoutError,
)
from zarrfast.storage import CountingStore, FsspecStore, make_store
from zarrfast.storage.base import UnsupportedOperationError
from zarrfast.testing.servers import RangeHTTPServer, free_port, max_overlap


@pytest.fixture(scope="session")
def http(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with RangeHTTPServer(tmp_path_factory.mktemp("served")) as server:
        yield server


@pytest.fixture
def server(http: RangeHTTPServer) -> Any:
    http.latency = 0.0
    http.forbidden.clear()
    http.clear_log()
    yield http
    http.latency = 0.0
    http.forbidden.clear()


def _data() -> np.ndarray:
    return (np.arange(24 * 30, dtype="<f8").reshape(24, 30) / 7.0) - 5


CASES = {
    "v2": {"zarr_format": 2, "chunks": (5, 7)},
    "v3": {"zarr_format": 3, "chunks": (5, 7)},
    "v3-sharded": {"zarr_format": 3, "chunks": (4, 5), "shards": (8, 10)},
}


def _write(server: RangeHTTPServer, case: str) -> tuple[str, np.ndarray]:
    name = f"{case}-{uuid.uuid4().hex[:8]}.zarr"
    data = _data()
    z = zarr.create_array(str(server.root / name), shape=data.shape, dtype="<f8", fill_value=0.0, **CASES[case])
    z[...] = data
    return f"{server.url}/{name}", data


# ---------------------------------------------------------------------------------- reading
@pytest.mark.interop
@pytest.mark.parametrize("case", list(CASES))
def test_read_zarr_python_data(server: RangeHTTPServer, case: str) -> None:
    url, data = _write(server, case)
    arr = zarrfast.open_array(url)  # default mode "a": an HTTP store is read-only, reading works
    assert isinstance(arr.store, FsspecStore) and arr.store.read_only
    np.testing.assert_array_equal(arr[...], data)
    np.testing.assert_array_equal(arr[2:19, 3:25], data[2:19, 3:25])
    np.testing.assert_array_equal(zarrfast.open(url, mode="r")[...], data)
    with pytest.raises(ReadOnlyError):
        arr[0, 0] = 1.0


@pytest.mark.interop
def test_sharded_reads_use_range_requests(server: RangeHTTPServer) -> None:
    url, data = _write(server, "v3-sharded")
    counting = CountingStore(make_store(url, mode="r"))
    arr = zarrfast.open_array(counting, mode="r")
    server.clear_log()
    np.testing.assert_array_equal(arr[0:4, 0:5], data[0:4, 0:5])
    assert counting.counter["get_ranges"] >= 1
    chunk_gets = [r for r in server.log if r.method == "GET" and "/c/" in r.path]
    assert chunk_gets and all(r.range is not None and r.status == 206 for r in chunk_gets)


def test_get_many_overlaps_requests(server: RangeHTTPServer) -> None:
    name = f"chunks-{uuid.uuid4().hex[:8]}"
    (server.root / name).mkdir()
    for i in range(100):
        (server.root / name / str(i)).write_bytes(i.to_bytes(4, "little") * 10)
    store = FsspecStore.from_url(f"{server.url}/{name}")
    assert store.fs.async_impl
    server.latency = 0.05
    server.clear_log()
    t0 = time.perf_counter()
    got = store.get_many([str(i) for i in range(100)] + ["missing"])
    elapsed = time.perf_counter() - t0
    assert got == [i.to_bytes(4, "little") * 10 for i in range(100)] + [None]
    log = list(server.log)
    assert len(log) == 101 and all(r.method == "GET" for r in log)  # one request per key
    assert elapsed < 0.25 * 101 * 0.05  # sequential would take > 5 s
    assert max_overlap(log) >= 20


@pytest.mark.interop
def test_consolidated_group_without_listing(server: RangeHTTPServer) -> None:
    name = f"group-{uuid.uuid4().hex[:8]}.zarr"
    g = zarr.open_group(str(server.root / name), mode="w")
    g.create_array("a", shape=(6,), chunks=(4,), dtype="i2")[...] = np.arange(6, dtype="i2")
    g.create_group("sub").attrs["x"] = 1
    zarr.consolidate_metadata(str(server.root / name))
    url = f"{server.url}/{name}"
    group = zarrfast.open_group(url, mode="r")
    assert sorted(n for n, _ in group.members()) == ["a", "sub"]
    np.testing.assert_array_equal(group["a"][...], np.arange(6))
    assert dict(group["sub"].attrs) == {"x": 1}
    # without consolidated metadata, arrays open by path; enumerating members needs listing
    plain = f"plain-{uuid.uuid4().hex[:8]}.zarr"
    pg = zarr.open_group(str(server.root / plain), mode="w")
    pg.create_array("b", shape=(3,), chunks=(3,), dtype="u1")[...] = [1, 2, 3]
    np.testing.assert_array_equal(zarrfast.open_array(f"{server.url}/{plain}", path="b", mode="r")[...], [1, 2, 3])
    with pytest.raises(UnsupportedOperationError, match="listing"):
        list(zarrfast.open_group(f"{server.url}/{plain}", mode="r").members())


@pytest.mark.interop
def test_zip_over_http(server: RangeHTTPServer) -> None:
    data = _data()
    name = f"{uuid.uuid4().hex[:8]}.zip"
    z = zarr.create_array(zarr.storage.ZipStore(server.root / name, mode="w"), shape=data.shape, chunks=(6, 6),
                          dtype="<f8")
    z[...] = data
    z.store.close()
    arr = zarrfast.open_array(f"zip::{server.url}/{name}", mode="r")
    np.testing.assert_array_equal(arr[...], data)


# ---------------------------------------------------------------------------------- errors and limits
def test_missing_keys_and_ranges(server: RangeHTTPServer) -> None:
    (server.root / "v").write_bytes(bytes(range(16)))
    store = FsspecStore.from_url(server.url)
    assert store.get("nothing/here") is None
    assert store.exists("v") and not store.exists("nothing")
    assert store.get_range("v", 3, 4) == bytes(range(3, 7))
    assert store.get_range("v", -3) == bytes(range(13, 16))
    assert store.get_range("v", 100) == b""
    assert store.get_ranges("v", [(0, 2), (-100, None), (14, 10)]) == [b"\x00\x01", bytes(range(16)), b"\x0e\x0f"]
    assert store.get_range("nothing", 0, 4) is None


def test_writes_refused(server: RangeHTTPServer) -> None:
    store = make_store(f"{server.url}/x.zarr")
    assert store.read_only
    with pytest.raises(ReadOnlyError, match="'zarr.json'"):
        store.set("zarr.json", b"{}")
    with pytest.raises(ReadOnlyError):
        zarrfast.create_array(f"{server.url}/new.zarr", shape=(2,), dtype="i1", mode="w")
    with pytest.raises(ReadOnlyError):
        make_store(f"{server.url}/x.zarr", mode="w")


def test_forbidden(server: RangeHTTPServer) -> None:
    (server.root / "secret").mkdir(exist_ok=True)
    (server.root / "secret" / "zarr.json").write_bytes(b"{}")
    server.forbidden.add("secret")
    store = FsspecStore.from_url(f"{server.url}/secret")
    for call in (lambda: store.get("zarr.json"), lambda: store.get_many(["zarr.json", "c/0"]),
                 lambda: store.exists("zarr.json"), lambda: store.get_range("zarr.json", 0, 1)):
        with pytest.raises(StorePermissionError, match="'zarr.json'") as info:
            call()
        assert repr(store) in str(info.value) and isinstance(info.value, PermissionError)


def test_unreachable() -> None:
    store = FsspecStore.from_url(f"http://127.0.0.1:{free_port()}/x.zarr")
    with pytest.raises(StoreConnectionError, match="'zarr.json'"):
        store.get("zarr.json")
    with pytest.raises(StoreConnectionError):
        zarrfast.open_array(store.url, mode="r")


def test_timeout(server: RangeHTTPServer) -> None:
    import aiohttp

    (server.root / "slow").write_bytes(b"x")
    server.latency = 0.5
    store = FsspecStore.from_url(server.url, storage_options={
        "client_kwargs": {"timeout": aiohttp.ClientTimeout(total=0.1)}})
    with pytest.raises(StoreTimeoutError, match="'slow'"):
        store.get("slow")
