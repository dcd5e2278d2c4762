"""dask integration: lock-free parallel reads, aligned parallel writes, pickling, a process-worker cluster."""
from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest

import zarrfast
from zarrfast.dask import AlignmentError, aligned_chunks, check_aligned, store, to_dask, write_unit
from zarrfast.errors import ReadOnlyError, SelectionError
from zarrfast.storage import LocalStore, LoggingStore

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

LAYOUTS = [
    pytest.param(dict(zarr_format=2, chunks=(7, 11)), id="v2"),
    pytest.param(dict(zarr_format=3, chunks=(7, 11)), id="v3"),
    pytest.param(dict(zarr_format=3, chunks=(5, 6), shards=(10, 12)), id="v3-sharded"),
]


def _make(tmp_path, layout, shape=(53, 61), dtype="f8", name="a.zarr", **kw):
    return zarrfast.create_array(tmp_path / name, shape=shape, dtype=dtype, fill_value=-1, **layout, **kw)


def _data(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_from_array_reads_in_parallel(tmp_path, layout):
    arr = _make(tmp_path, layout)
    ref = _data(arr.shape)
    arr[...] = ref
    x = da.from_array(arr, chunks=arr.chunks)
    with dask.config.set(scheduler="threads"):
        np.testing.assert_array_equal(x.compute(), ref)
        np.testing.assert_allclose(float(x.sum().compute()), ref.sum())
        np.testing.assert_array_equal(x[3:40:3, ::-2].compute(), ref[3:40:3, ::-2])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_to_dask_blocks_are_whole_write_units(tmp_path, layout):
    arr = _make(tmp_path, layout)
    ref = _data(arr.shape, 1)
    arr[...] = ref
    unit = write_unit(arr)
    assert unit == (arr.shards or arr.chunks)
    for target in (1, 8 * 400, 10**9):
        x = to_dask(arr, target_bytes=target)
        check_aligned(x.chunks, arr)  # no block boundary splits a chunk / shard
        np.testing.assert_array_equal(x.compute(scheduler="threads"), ref)
    assert to_dask(arr, chunks="native").chunksize == tuple(min(u, n) for u, n in zip(unit, arr.shape))
    assert to_dask(arr, chunks=(20, 20)).chunksize == (20, 20)
    # the name is deterministic: same array, same chunks -> same dask token
    assert to_dask(arr).name == to_dask(zarrfast.open_array(tmp_path / "a.zarr", mode="r")).name


def test_to_dask_opens_paths_read_only(tmp_path):
    arr = _make(tmp_path, dict(zarr_format=3, chunks=(10, 10)))
    arr[...] = 3.0
    x = to_dask(str(tmp_path / "a.zarr"))
    assert x.dtype == np.float64 and x.shape == arr.shape
    assert float(x.sum().compute()) == 3.0 * arr.size
    with pytest.raises(TypeError):
        to_dask(arr, mode="r")


def test_to_dask_is_lazy(tmp_path):
    arr = _make(tmp_path, dict(zarr_format=3, chunks=(10, 10)))
    arr[...] = 1.0
    logged = LoggingStore(LocalStore(tmp_path / "a.zarr"))
    x = to_dask(zarrfast.open_array(logged, mode="r"), chunks="native")
    logged.reset()
    y = x[:10, :10] * 2
    assert sum(logged.counter.values()) == 0  # building the graph reads nothing
    assert y.compute().sum() == 200
    assert logged.counter["get_many"] + logged.counter["get"] >= 1


@pytest.mark.parametrize("layout", LAYOUTS)
def test_da_store_aligned_lock_free(tmp_path, layout):
    arr = _make(tmp_path, layout)
    ref = _data(arr.shape, 2)
    x = da.from_array(ref, chunks=aligned_chunks(arr, target_bytes=1))
    da.store(x, arr, lock=False, scheduler="threads")
    np.testing.assert_array_equal(arr[...], ref)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_misaligned_threaded_da_store_is_still_correct(tmp_path, layout):
    """In one process zarrfast serialises read-modify-write per chunk/shard, so odd dask blocks can't lose updates."""
    arr = _make(tmp_path, layout)
    ref = _data(arr.shape, 3)
    x = da.from_array(ref, chunks=(3, 4))  # every chunk is shared by several blocks
    with dask.config.set(scheduler="threads", num_workers=8):
        da.store(x, arr, lock=False)
    np.testing.assert_array_equal(arr[...], ref)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_store_rechunks_misaligned_blocks(tmp_path, layout):
    arr = _make(tmp_path, layout)
    ref = _data(arr.shape, 4)
    x = da.from_array(ref, chunks=(9, 13))
    with pytest.raises(AlignmentError, match="splits a (chunk|shard)"):
        store(x, arr, align="raise")
    store(x, arr, scheduler="threads")
    np.testing.assert_array_equal(arr[...], ref)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_store_into_region(tmp_path, layout):
    arr = _make(tmp_path, layout)
    expect = np.full(arr.shape, -1.0)
    region = (slice(3, 50), slice(5, 61))
    val = _data((47, 56), 5)
    store(da.from_array(val, chunks=(10, 10)), arr, region=region, scheduler="threads")
    expect[region] = val
    np.testing.assert_array_equal(arr[...], expect)
    chunks = aligned_chunks(arr, region=region, target_bytes=1)
    check_aligned(chunks, arr, region)
    assert sum(chunks[0]) == 47 and sum(chunks[1]) == 56


def test_store_checks_shapes_and_modes(tmp_path):
    arr = _make(tmp_path, dict(zarr_format=3, chunks=(10, 10)))
    with pytest.raises(SelectionError, match="does not match"):
        store(da.zeros((5, 5)), arr)
    with pytest.raises(SelectionError, match="step 1"):
        store(da.zeros((5, 61)), arr, region=(slice(0, 10, 2),))
    with pytest.raises(ValueError, match="align"):
        store(da.zeros(arr.shape), arr, align="sometimes")  # type: ignore[arg-type]
    ro = zarrfast.open_array(tmp_path / "a.zarr", mode="r")
    with pytest.raises(ReadOnlyError):
        store(da.zeros(arr.shape), ro)


def test_store_lazy_returns_delayed(tmp_path):
    arr = _make(tmp_path, dict(zarr_format=2, chunks=(10, 10)))
    ref = _data(arr.shape, 6)
    d = store(da.from_array(ref, chunks=(10, 10)), arr, compute=False)
    assert float(arr[0, 0]) == -1.0  # nothing written yet
    d.compute(scheduler="threads")
    np.testing.assert_array_equal(arr[...], ref)


def test_aligned_chunks_layout():
    arr = zarrfast.create_array({}, shape=(100, 130), chunks=(10, 20), dtype="f8")
    assert aligned_chunks(arr, target_bytes=10 * 20 * 8 * 4) == ((10,) * 10, (80, 50))
    assert aligned_chunks(arr, region=(slice(5, 95), slice(7, 130)), target_bytes=10 * 20 * 8 * 4) == (
        (5,) + (10,) * 8 + (5,), (73, 50))
    assert aligned_chunks(arr, target_bytes=10**12) == ((100,), (130,))
    empty = zarrfast.create_array({}, shape=(0, 4), chunks=(3, 3), dtype="i1")
    assert aligned_chunks(empty) == ((0,), (4,))


# ---- pickling ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
def test_array_pickles_as_location_not_data(tmp_path, layout):
    arr = _make(tmp_path, layout, shape=(200, 300))
    arr[...] = _data(arr.shape, 7)
    blob = pickle.dumps(arr)
    assert len(blob) < 4000  # metadata and a path, not 480 kB of chunks
    back = pickle.loads(blob)
    assert back.store == arr.store and back.path == arr.path and back.metadata == arr.metadata
    np.testing.assert_array_equal(back[...], arr[...])
    back[0, 0] = 42.0
    assert arr[0, 0] == 42.0
    ro = pickle.loads(pickle.dumps(zarrfast.open_array(tmp_path / "a.zarr", mode="r")))
    assert ro.read_only
    with pytest.raises(ReadOnlyError):
        ro[0, 0] = 1.0


def test_group_and_member_arrays_pickle(tmp_path):
    g = zarrfast.open_group(tmp_path / "g.zarr", mode="w")
    a = g.create_array("sub/x", shape=(4,), chunks=(2,), dtype="i2")
    a[:] = [1, 2, 3, 4]
    g2 = pickle.loads(pickle.dumps(g))
    assert g2.path == g.path and list(g2["sub/x"][:]) == [1, 2, 3, 4]
    a2 = pickle.loads(pickle.dumps(g["sub/x"]))
    assert a2.path == "sub/x" and list(a2[:]) == [1, 2, 3, 4]


def test_concurrent_partial_writes_from_threads_keep_every_update(tmp_path):
    """Disjoint single-element writes into shared chunks from many threads: nothing is lost."""
    arr = zarrfast.create_array(tmp_path / "t.zarr", shape=(400,), chunks=(50,), dtype="i4", fill_value=0)

    def writer(i: int) -> None:
        for j in range(i, 400, 8):
            arr[j] = j + 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(arr[:], np.arange(1, 401))


# ---- dask.distributed with process workers -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
def test_process_cluster_reads_and_writes(tmp_path, cluster_client, layout):
    src = _make(tmp_path, layout, name="src.zarr")
    ref = _data(src.shape, 8)
    src[...] = ref
    dst = _make(tmp_path, layout, name="dst.zarr")
    x = to_dask(src, chunks=(9, 13))  # misaligned on purpose: store() must realign before writing
    y = x * 2 + 1
    store(y, dst, scheduler=cluster_client)
    np.testing.assert_array_equal(dst[...], ref * 2 + 1)
    # reads on the workers see what was written
    total = cluster_client.compute(to_dask(dst).sum()).result()
    np.testing.assert_allclose(total, (ref * 2 + 1).sum())
    pids = set(cluster_client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2 and __import__("os").getpid() not in pids  # really other processes
