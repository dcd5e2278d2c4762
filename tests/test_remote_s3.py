"""FsspecStore over S3 (s3fs) against a moto server on 127.0.0.1, and interop with zarr-python.

The moto server runs in a subprocess for the whole module; fake credentials only live in the
storage options built by the fixture.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto.server")
pytest.importorskip("boto3")

import zarrfast
from zarrfast.errors import StoreConnectionError, StoreNotFoundError, StorePermissionError
from zarrfast.storage import CountingStore, FsspecStore, Store, make_store
from zarrfast.testing.servers import S3Server
from zarrfast.testing.store_tests import RANGE_CASES, StoreTests

BUCKET = "zarrfast-tests"


@pytest.fixture(scope="session")
def s3() -> Any:
    with S3Server() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture
def opts(s3: S3Server) -> dict[str, Any]:
    return s3.storage_options()


def _url() -> str:
    return f"s3://{BUCKET}/{uuid.uuid4().hex}"


# ---------------------------------------------------------------------------------- conformance
class TestFsspecS3Store(StoreTests):
    mixed_workload = (4, 10)  # every operation is an HTTP request to moto
    store_cls = FsspecStore

    @pytest.fixture(autouse=True)
    def _server(self, s3: S3Server) -> None:
        self.s3 = s3

    def make_store(self, tmp_path: Path) -> Store:
        return FsspecStore.from_url(_url(), storage_options=self.s3.storage_options())

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        bucket, _, prefix = store.path.partition("/")  # type: ignore[attr-defined]
        self.s3.client().put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        bucket, _, prefix = store.path.partition("/")  # type: ignore[attr-defined]
        client = self.s3.client()
        try:
            return client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
        except client.exceptions.NoSuchKey:
            return None


# ---------------------------------------------------------------------------------- concurrency
def test_get_many_is_one_concurrent_batch(opts: dict[str, Any]) -> None:
    store = FsspecStore.from_url(_url(), storage_options=opts)
    values = {f"c/{i}": np.full(50, i, dtype="i4").tobytes() for i in range(60)}
    store.set_many(values)
    fs = store.fs
    assert fs.async_impl
    real = fs._cat_file
    state = {"now": 0, "max": 0, "calls": 0}

    async def spy(path: str, *args: Any, **kwargs: Any) -> Any:
        state["calls"] += 1
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        try:
            await asyncio.sleep(0.01)
            return await real(path, *args, **kwargs)
        finally:
            state["now"] -= 1

    real_info = fs._info

    async def info_spy(path: str, *args: Any, **kwargs: Any) -> Any:
        state["heads"] = state.get("heads", 0) + 1
        return await real_info(path, *args, **kwargs)

    fs._cat_file = spy
    fs._info = info_spy
    try:
        got = store.get_many(list(values) + ["c/missing"])
    finally:
        del fs._cat_file, fs._info
    assert got == list(values.values()) + [None]
    assert state["calls"] == 61 and state.get("heads", 0) == 0  # one GET per key, no HEAD first
    assert state["max"] >= 10  # the requests overlapped


def test_many_threads_reading(opts: dict[str, Any]) -> None:
    store = FsspecStore.from_url(_url(), storage_options=opts)
    values = {f"c/{i}": bytes([i]) * 100 for i in range(40)}
    store.set_many(values)
    keys = list(values)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            batch = keys[t::4]
            assert store.get_many(batch) == [values[k] for k in batch]
            assert store.get(keys[t]) == values[keys[t]]
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors


# ---------------------------------------------------------------------------------- zarr-python interop
zarr = pytest.importorskip("zarr")

CASES = {
    "v2": {"zarr_format": 2, "chunks": (7, 9)},
    "v3": {"zarr_format": 3, "chunks": (7, 9)},
    "v3-sharded": {"zarr_format": 3, "chunks": (4, 5), "shards": (8, 10)},
}


def _data() -> np.ndarray:
    return np.arange(20 * 30, dtype="i4").reshape(20, 30) * 3 - 100


@pytest.mark.interop
@pytest.mark.parametrize("case", list(CASES))
def test_zarrfast_reads_zarr_python(opts: dict[str, Any], case: str) -> None:
    url = _url()
    data = _data()
    z = zarr.create_array(url, shape=data.shape, dtype="i4", storage_options=opts, fill_value=0, **CASES[case])
    z[...] = data
    arr = zarrfast.open_array(url, mode="r", storage_options=opts)
    assert isinstance(arr.store, FsspecStore)
    np.testing.assert_array_equal(arr[...], data)
    np.testing.assert_array_equal(arr[3:17, 5:11], data[3:17, 5:11])
    if case == "v3-sharded":  # partial shard reads go through get_ranges
        counting = CountingStore(FsspecStore.from_url(url, storage_options=opts, read_only=True))
        sub = zarrfast.open_array(counting, mode="r")
        np.testing.assert_array_equal(sub[0:4, 0:5], data[0:4, 0:5])
        assert counting.counter["get_ranges"] >= 1
        assert counting.counter["get"] + counting.counter["get_many"] <= 1  # only the metadata


@pytest.mark.interop
@pytest.mark.parametrize("case", list(CASES))
def test_zarr_python_reads_zarrfast(opts: dict[str, Any], case: str) -> None:
    url = _url()
    data = _data()
    arr = zarrfast.create_array(url, shape=data.shape, dtype="i4", storage_options=opts, **CASES[case])
    arr[...] = data
    z = zarr.open_array(url, mode="r", storage_options=opts)
    np.testing.assert_array_equal(z[...], data)
    assert z.metadata.zarr_format == CASES[case]["zarr_format"]


@pytest.mark.interop
def test_groups_and_zarr_python_fsspec_store(opts: dict[str, Any]) -> None:
    url = _url()
    g = zarrfast.open_group(url, mode="w", storage_options=opts)
    g.create_array("a", shape=(10,), chunks=(3,), dtype="f4")[...] = np.linspace(0, 1, 10, dtype="f4")
    g.create_group("sub").attrs["k"] = "v"
    zg = zarr.open_group(url, mode="r", storage_options=opts)
    assert sorted(zg.array_keys()) == ["a"] and dict(zg["sub"].attrs) == {"k": "v"}
    again = zarrfast.open_group(zg.store, mode="r")  # zarr-python's FsspecStore converts
    assert isinstance(again.store, FsspecStore)
    assert sorted(n for n, _ in again.members()) == ["a", "sub"]
    np.testing.assert_array_equal(again["a"][...], np.linspace(0, 1, 10, dtype="f4"))


@pytest.mark.interop
def test_zip_over_s3(opts: dict[str, Any], s3: S3Server, tmp_path: Path) -> None:
    data = _data()
    z = zarr.create_array(zarr.storage.ZipStore(tmp_path / "x.zip", mode="w"), shape=data.shape, chunks=(5, 5),
                          dtype="i4")
    z[...] = data
    z.store.close()
    key = f"{uuid.uuid4().hex}/x.zip"
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=(tmp_path / "x.zip").read_bytes())
    url = f"zip::s3://{BUCKET}/{key}"
    arr = zarrfast.open_array(url, mode="r", storage_options={"s3": opts})
    assert arr.store.read_only
    np.testing.assert_array_equal(arr[...], data)


# ---------------------------------------------------------------------------------- errors
def test_missing_bucket(opts: dict[str, Any]) -> None:
    store = make_store("s3://no-such-bucket-zf/x.zarr", storage_options=opts)
    for call in (lambda: store.get("zarr.json"), lambda: store.get_many(["zarr.json", "c/0"]),
                 lambda: store.exists("zarr.json"), lambda: store.set("zarr.json", b"{}"),
                 lambda: list(store.list())):
        with pytest.raises(StoreNotFoundError) as info:
            call()
        assert "no-such-bucket-zf" in str(info.value)
    with pytest.raises(StoreNotFoundError, match="zarr.json"):
        zarrfast.open_array("s3://no-such-bucket-zf/x.zarr", mode="r", storage_options=opts)


def test_unreachable_endpoint() -> None:
    from zarrfast.testing.servers import free_port

    opts = {"key": "k", "secret": "s", "endpoint_url": f"http://127.0.0.1:{free_port()}",
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    store = make_store(f"s3://{BUCKET}/x.zarr", storage_options=opts)
    store.fs.retries = 1  # s3fs's own retry loop (not a constructor option)
    with pytest.raises(StoreConnectionError, match="'zarr.json'") as info:
        store.get("zarr.json")
    assert repr(store) in str(info.value) and isinstance(info.value, ConnectionError)


def test_range_past_end_is_empty(opts: dict[str, Any]) -> None:
    # S3 answers 416 InvalidRange for a start past the end; the store turns that into b"".
    store = FsspecStore.from_url(_url(), storage_options=opts)
    store.set("v", bytes(range(16)))
    store.set("empty", b"")
    assert store.get_ranges("v", RANGE_CASES) == [bytes(range(16))[s:][:n] if n is not None
                                                  else bytes(range(16))[s:] for s, n in RANGE_CASES]
    assert store.get_range("empty", 0) == b"" and store.get_range("empty", -4) == b""
    assert store.get_range("v", 16, 4) == b""
    assert store.get_range("missing", 100) is None


def test_access_denied() -> None:
    # A moto server that checks credentials (IAM auth from the first request): the fake key is
    # unknown to it, so every request is refused with 403 InvalidAccessKeyId.
    with S3Server(env={"INITIAL_NO_AUTH_ACTION_COUNT": "0"}) as locked:
        opts = locked.storage_options()
        store = make_store(f"s3://{BUCKET}/x.zarr", storage_options=opts)
        for call in (lambda: store.get("zarr.json"), lambda: store.get_many(["zarr.json", "c/0"]),
                     lambda: store.set("zarr.json", b"{}")):
            with pytest.raises(StorePermissionError, match="'zarr.json'") as info:
                call()
            assert repr(store) in str(info.value) and isinstance(info.value, PermissionError)
