"""Writers killed with SIGKILL at random moments never leave a broken array (issue #9, item 5).

A writer process (tests/crash_writer.py) applies a known sequence of operations (whole-array, chunk-aligned and
arbitrary region writes, so partial chunks and partial shards, resizes and attribute updates) and logs each one's
begin and end. After the kill the array must open, every chunk decode, every stored key (chunk or shard) hold the
numpy model's state before the last begun operation or after it (never a mix, never garbage), shape and attributes be
the old or the new ones, no temp file be listed, and no chunk be stored outside the shape. The next writer continues
on the same store (stale temp files and the killed writer's locks don't block it); a last writer runs to completion
and the array must equal the model exactly.
"""
from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import random
import signal
import threading
import time

import numpy as np
import pytest

import crash_writer as cw
import zarrfast
from zarrfast import errors as E
from zarrfast.storage import process_lock
from zarrfast.storage.local import LocalStore, _is_temp_name

CTX = multiprocessing.get_context("forkserver")
CTX.set_forkserver_preload(["numpy", "zarrfast", "crash_writer"])

CASES = [  # (store kind, layout, kills)
    ("local", "v2", 8),
    ("local", "v3", 8),
    ("local", "v3-sharded", 10),
    ("sqlite", "v3-sharded", 4),
    ("lmdb", "v2", 4),
]


def _store_path(tmp_path, kind):
    return str(tmp_path / {"local": "data.zarr", "sqlite": "data.sqlite", "lmdb": "data.lmdb"}[kind])


def _log(path):
    """(last completed op, last begun op) from the writer's log."""
    ended = begun = -1
    with open(path) as f:
        for line in f:
            tag, _, g = line.strip().partition(" ")
            if tag == "E":
                ended = int(g)
            elif tag == "B":
                begun = int(g)
    return ended, begun


def _grid(layout):
    meta = cw.LAYOUTS[layout]
    return meta.get("shards", meta["chunks"])


def _key_regions(shape, unit):
    for idx in itertools.product(*(range(-(-n // u)) for n, u in zip(shape, unit))):
        yield idx, tuple(slice(i * u, min((i + 1) * u, n)) for i, u, n in zip(idx, unit, shape))


def _chunk_key(layout, idx):
    return "a/" + (".".join(map(str, idx)) if layout == "v2" else "c/" + "/".join(map(str, idx)))


def _check(kind, path, layout, states, elementwise=False):
    """Assert the store holds, per key, one of ``states`` (before / after the last begun op); return what it holds.

    ``elementwise``: a resize resets the outside parts of edge chunks in up to one write per axis, so a killed resize
    may leave an edge chunk (shard) with some of them reset: there every *element* must be old or new."""
    store = cw.make_store(kind, path)
    try:
        for doc in ([".zarray", ".zattrs"] if layout == "v2" else ["zarr.json"]):
            raw = store.get(f"a/{doc}")
            if raw is not None or doc != ".zattrs":
                json.loads(raw)  # every metadata document parses
        arr = zarrfast.open_array(store, path="a", mode="r")
        assert any(arr.shape == s.shape for s in states), (arr.shape, [s.shape for s in states])
        assert any(dict(arr.attrs) == s.attrs for s in states)
        data = arr[...]  # every chunk inside the shape decodes
        for idx, region in _key_regions(arr.shape, _grid(layout)):
            got = data[region]
            ok = any(np.array_equal(got, s.values[region]) for s in states) or (elementwise and np.logical_or.reduce(
                [got == s.values[region] for s in states]).all())
            assert ok, (
                f"key {_chunk_key(layout, idx)} holds neither the old nor the new value: {got.tolist()} vs "
                f"{[s.values[region].tolist() for s in states]} shapes {[s.shape for s in states]} {arr.shape}")
        listed = list(store.list())
        assert not any(_is_temp_name(k.rpartition("/")[2]) for k in listed)
        inside = {_chunk_key(layout, idx) for idx, _ in _key_regions(arr.shape, _grid(layout))}
        chunks = [k for k in listed if k.rpartition("/")[2] not in (".zarray", ".zattrs", "zarr.json")]
        assert set(chunks) <= inside, f"chunks outside the shape {arr.shape}: {sorted(set(chunks) - inside)[:5]}"
        return cw.Model.observe(arr)
    finally:
        store.close()


def _kill_after(proc, delay):
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL


@pytest.mark.parametrize("kind,layout,kills", CASES, ids=[f"{k}-{lay}" for k, lay, _ in CASES])
def test_killed_writers_leave_old_or_new(tmp_path, kind, layout, kills):
    if kind == "lmdb":
        pytest.importorskip("lmdb")
    path = _store_path(tmp_path, kind)
    store, _ = cw.create(kind, path, layout)
    store.close()
    model = cw.Model.initial()
    log = str(tmp_path / "log")
    rng = random.Random(f"{kind}-{layout}")
    start = 0
    torn = 0  # kills that landed inside an operation
    for _ in range(kills):
        open(log, "w").close()
        proc = CTX.Process(target=cw.run, args=(kind, path, start, log))
        proc.start()
        _kill_after(proc, rng.uniform(0.05, 0.35))
        ended, begun = _log(log)
        for g in range(start, ended + 1):  # replay what completed
            model = model.after(cw.plan_op(g, model.shape))
        states, resize = [model], False
        if begun > ended:
            torn += 1
            op = cw.plan_op(begun, model.shape)
            states.append(model.after(op))
            resize = op["kind"] == "resize"
        model = _check(kind, path, layout, states, elementwise=resize)
        start = max(begun, ended) + 1
    assert start > kills and torn  # the writers made progress; kills landed inside operations
    # a new writer continues and finishes: nothing stale blocks it; the result is exactly the model
    open(log, "w").close()
    proc = CTX.Process(target=cw.run, args=(kind, path, start, log, 12))
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0
    for g in range(start, start + 12):
        model = model.after(cw.plan_op(g, model.shape))
    final = _check(kind, path, layout, [model])
    np.testing.assert_array_equal(final.values, model.values)


def test_orphan_temp_files_are_invisible_and_cleanable(tmp_path):
    """Kill writers until one leaves a temp file; it is never listed or read, and clean_temp_files removes it."""
    path = _store_path(tmp_path, "local")
    cw.create("local", path, "v3-sharded")
    log = str(tmp_path / "log")
    orphans: list[str] = []
    start, rng = 0, random.Random(7)
    for _ in range(25):
        open(log, "w").close()
        proc = CTX.Process(target=cw.run, args=("local", path, start, log))
        proc.start()
        _kill_after(proc, rng.uniform(0.05, 0.2))
        ended, begun = _log(log)
        start = max(begun, ended) + 1
        orphans = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if _is_temp_name(f)]
        if orphans:
            break
    store = LocalStore(path)
    before = zarrfast.open_array(store, path="a", mode="r")[...]
    assert store.clean_temp_files() == 0  # younger than the default age: kept (could belong to a live writer)
    if not orphans:  # the kills never landed inside a file write: make one as a killed writer would
        orphans = [os.path.join(path, "a", ".zarr.json.1f-0123abcd-0.partial")]
        with open(orphans[0], "wb") as f:
            f.write(b"{torn")
    assert all(os.path.exists(p) for p in orphans)
    assert not any(_is_temp_name(k.rpartition("/")[2]) for k in store.list())
    assert store.clean_temp_files(older_than=0) == len(orphans)
    assert not any(os.path.exists(p) for p in orphans)
    np.testing.assert_array_equal(zarrfast.open_array(store, path="a", mode="r")[...], before)


def _hold_lock(name, ready):
    with process_lock.name_locks([name]):
        ready.set()
        time.sleep(60)


def test_lock_of_killed_process_is_released(tmp_path):
    """flock locks die with their process: a SIGKILLed holder never blocks the next writer."""
    name = f"{os.path.realpath(tmp_path)}/a/c/0/0"
    ready = CTX.Event()
    proc = CTX.Process(target=_hold_lock, args=(name, ready))
    proc.start()
    assert ready.wait(30)
    got = threading.Event()

    def take():
        with process_lock.name_locks([name]):
            got.set()

    waiter = threading.Thread(target=take)
    waiter.start()
    assert not got.wait(0.5)  # held by the child
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(30)
    assert got.wait(30)  # free once the holder is dead
    waiter.join()
    # and a partial write through the store takes it normally
    arr = zarrfast.create_array(store=LocalStore(tmp_path), name="a", shape=(8, 8), chunks=(4, 4), dtype="i4")
    arr[1:3, 1:3] = 5
    assert arr[...].sum() == 20


def test_killed_zip_writer_gives_a_clear_error(tmp_path):
    """A zip archive's central directory is written on close: a killed writer leaves an archive without one. Opening
    it raises a StoreError naming the file (no crash, no hang); this is documented, not crash-safe."""
    path = str(tmp_path / "data.zip")
    log = str(tmp_path / "log")
    open(log, "w").close()
    proc = CTX.Process(target=cw.run_zip, args=(path, log))
    proc.start()
    deadline = time.monotonic() + 30
    while "E 3" not in open(log).read() and time.monotonic() < deadline:
        time.sleep(0.01)
    _kill_after(proc, 0.05)
    assert os.path.getsize(path) > 0
    from zarrfast.storage.zip import ZipStore

    with pytest.raises(E.StoreError, match="data.zip"):
        ZipStore(path, mode="r")
    t = time.monotonic()
    with pytest.raises(E.ZarrfastError, match="data.zip"):
        zarrfast.open_array(path, path="a", mode="r")
    assert time.monotonic() - t < 10
