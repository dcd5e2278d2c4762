"""Concurrent writers and readers of one array, in threads and in processes (issue #9, item 6).

Writers own disjoint regions (chunk-aligned, or arbitrary so that several writers share chunks and shards) and
write their final values in several partial writes; readers read at the same time. Every element of every read
must be the fill value or its final value; the end result must equal the numpy model exactly. Across processes
this needs LocalStore's cross-process lock: a run with the lock disabled shows lost updates.
"""
from __future__ import annotations

import multiprocessing
import threading
import zlib

import numpy as np
import pytest

import crash_writer as cw
import zarrfast
from zarrfast.testing.threads import run_threads
from zarrfast.storage.local import LocalStore
from zarrfast.storage.memory import MemoryStore

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["numpy", "zarrfast", "crash_writer"])
FILL = cw.FILL
LAYOUTS = {
    "v2": dict(zarr_format=2, chunks=(6, 5)),
    "v3": dict(zarr_format=3, chunks=(6, 5)),
    "v3-sharded": dict(zarr_format=3, chunks=(6, 5), shards=(12, 10)),
}


def _boxes(shape, unit, aligned, rng):
    """Disjoint boxes tiling ``shape``: cuts at random multiples of ``unit`` or at random positions."""
    cuts = []
    for n, u in zip(shape, unit):
        candidates = np.arange(u, n, u) if aligned else np.arange(1, n)
        inner = np.sort(rng.choice(candidates, size=min(len(candidates), max(2, n // 6)), replace=False))
        cuts.append([0, *inner.tolist(), n])
    return [((r0, r1), (c0, c1)) for r0, r1 in zip(cuts[0], cuts[0][1:]) for c0, c1 in zip(cuts[1], cuts[1][1:])]


def _finals(shape, boxes):
    """The model: box ``i`` holds ``i + 1`` (never the fill value)."""
    finals = np.empty(shape, dtype="i4")
    for i, ((r0, r1), (c0, c1)) in enumerate(boxes):
        finals[r0:r1, c0:c1] = i + 1
    return finals


def _make(store, layout, shape):
    return zarrfast.create_array(store=store, name="a", shape=shape, dtype="i4", fill_value=FILL,
                                 **LAYOUTS[layout])


# ---------------------------------------------------------------------------------------------- threads
@pytest.mark.parametrize("aligned", [True, False], ids=["aligned", "arbitrary"])
@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("store_kind", ["memory", "local"])
def test_threads_write_disjoint_regions_while_reading(tmp_path, store_kind, layout, engine, aligned):
    store = MemoryStore() if store_kind == "memory" else LocalStore(tmp_path / "data.zarr")
    shape = (50, 47)
    rng = np.random.default_rng(zlib.crc32(f"{store_kind}{layout}{engine}{aligned}".encode()))
    boxes = _boxes(shape, LAYOUTS[layout]["chunks"], aligned, rng)
    finals = _finals(shape, boxes)
    n_writers = 12
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()
    start = threading.Barrier(n_writers + 2)

    with zarrfast.config.set(engine=engine):
        arr = _make(store, layout, shape)

        def writer(t):
            try:
                start.wait()
                for i in range(t, len(boxes), n_writers):
                    (r0, r1), (c0, c1) = boxes[i]
                    mid = (r0 + r1 + 1) // 2  # two partial writes per box
                    arr[r0:mid, c0:c1] = i + 1
                    arr[mid:r1, c0:c1] = i + 1
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        def reader(seed):
            r = np.random.default_rng(seed)
            try:
                start.wait()
                while writing.is_set():
                    r0, c0 = int(r.integers(0, shape[0])), int(r.integers(0, shape[1]))
                    sel = (slice(r0, None), slice(c0, None)) if seed else (Ellipsis,)
                    got = arr[sel]
                    want = finals[sel]
                    bad = (got != FILL) & (got != want)
                    assert not bad.any(), f"read {sel} saw {got[bad][:5]} where {want[bad][:5]} or fill"
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_writers)]
        readers = [threading.Thread(target=reader, args=(s,)) for s in range(2)]
        for th in threads + readers:
            th.start()
        for th in threads:
            th.join()
        writing.clear()
        for th in readers:
            th.join()
        assert not errors, errors[0]
        np.testing.assert_array_equal(arr[...], finals)
        np.testing.assert_array_equal(zarrfast.open_array(store, path="a", mode="r")[...], finals)


@pytest.mark.parametrize("how", ["vindex", "oindex", "mask"])
@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("store_kind", ["memory", "local"])
def test_threads_advanced_index_writes_lose_nothing(tmp_path, store_kind, layout, engine, how):
    """Coordinate, orthogonal and mask writes read whole chunks, merge and write them back: threads writing
    interleaved, disjoint elements of the same chunks (and shards) must not lose one another's updates."""
    store = MemoryStore() if store_kind == "memory" else LocalStore(tmp_path / "data.zarr")
    shape, n_writers = (12, 10), 8
    with zarrfast.config.set(engine=engine):
        arr = _make(store, layout, shape)

        def writer(t):
            for rep in range(3):
                if how == "vindex":  # element (i, j) belongs to writer (i * 10 + j) % n_writers
                    flat = np.arange(t, shape[0] * shape[1], n_writers)
                    arr.vindex[np.unravel_index(flat, shape)] = t + 1
                elif how == "oindex":  # rows t, t + 8 ... (every chunk row band is shared)
                    rows = np.arange(t, shape[0], n_writers)
                    arr.oindex[rows, :] = t + 1
                else:
                    mask = (np.arange(shape[0] * shape[1]).reshape(shape) % n_writers) == t
                    arr.vindex[mask] = t + 1

        run_threads(writer, n_writers)
        if how == "oindex":
            want = np.broadcast_to((np.arange(shape[0]) % n_writers + 1)[:, None], shape)
        else:
            want = (np.arange(shape[0] * shape[1]).reshape(shape) % n_writers + 1)
        np.testing.assert_array_equal(arr[...], want)


# ---------------------------------------------------------------------------------------------- processes
def _run_processes(path, boxes, finals, lock=True, steps=6, n_proc=4):
    """``n_proc`` writer processes (boxes dealt round-robin) and one reader process; returns the array's contents."""
    jobs = [CTX.Process(target=cw.write_boxes_job, args=(path, boxes[p::n_proc], p, n_proc, lock, steps))
            for p in range(n_proc)]
    reader = CTX.Process(target=cw.read_job, args=(path, finals, 15))
    for j in jobs + [reader]:
        j.start()
    for j in jobs + [reader]:
        j.join(120)
    assert [j.exitcode for j in jobs + [reader]] == [0] * (n_proc + 1)
    return zarrfast.open_array(LocalStore(path), path="a", mode="r")[...]


def _proc_finals(shape, boxes, n_proc=4):
    finals = np.empty(shape, dtype="i4")
    for i, ((r0, r1), (c0, c1)) in enumerate(boxes):
        p, k = i % n_proc, i // n_proc
        finals[r0:r1, c0:c1] = p + 1 + n_proc * k
    return finals


@pytest.mark.parametrize("layout,aligned", [("v2", True), ("v3", False), ("v3-sharded", False)],
                         ids=["v2-chunk-aligned", "v3-arbitrary", "sharded-arbitrary"])
def test_processes_write_disjoint_regions(tmp_path, layout, aligned):
    shape = (48, 40)
    for rnd in range(3):
        path = str(tmp_path / f"r{rnd}.zarr")
        _make(LocalStore(path), layout, shape)
        boxes = _boxes(shape, LAYOUTS[layout]["chunks"], aligned, np.random.default_rng(rnd))
        finals = _proc_finals(shape, boxes)
        np.testing.assert_array_equal(_run_processes(path, boxes, finals), finals)


def test_processes_without_the_lock_lose_updates(tmp_path):
    """The control: the same workload with LocalStore's cross-process lock disabled loses updates (one shard,
    four processes each owning some columns of it)."""
    shape = (48, 40)
    boxes = [((0, 48), (c, c + 10)) for c in range(0, 40, 10)]  # inside one 48x40 shard: all share it
    finals = _proc_finals(shape, boxes)
    lost = 0
    for rnd in range(4):
        path = str(tmp_path / f"r{rnd}.zarr")
        zarrfast.create_array(store=LocalStore(path), name="a", shape=shape, dtype="i4", fill_value=FILL,
                              chunks=(4, 5), shards=(48, 40))
        got = _run_processes(path, boxes, finals, lock=False, steps=24)
        assert ((got == FILL) | (got == finals)).all()
        lost += int((got == FILL).sum())
        if lost:
            break
    assert lost > 0, "no lost update without the lock: the workload no longer exercises the race"
    path = str(tmp_path / "locked.zarr")  # the same workload with the lock: exact
    zarrfast.create_array(store=LocalStore(path), name="a", shape=shape, dtype="i4", fill_value=FILL,
                          chunks=(4, 5), shards=(48, 40))
    np.testing.assert_array_equal(_run_processes(path, boxes, finals, steps=24), finals)
