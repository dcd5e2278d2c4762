"""The engine's per-thread read arenas: encoded chunks are read into a reused buffer, decoded, dropped.

Nothing read through an arena may outlive the batch it came in: results must not change when later reads reuse
the arena, whatever the batch size, thread count, codec chain or sharding."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import zarrfast
from zarrfast import engine
from zarrfast.storage.local import LocalStore

SHAPE, CHUNKS = (64, 48), (8, 8)
DATA = (np.arange(64 * 48, dtype="i4").reshape(SHAPE) * 7919) % 100003

CHAINS = {
    "raw": {"compressors": None},
    "zstd": {"compressors": [{"name": "zstd", "configuration": {"level": 1, "checksum": False}}]},
    "blosc": {"compressors": [{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                   "shuffle": "shuffle", "typesize": 4}}]},
}


def _make(tmp_path, chain: str, sharded: bool, name: str = "a"):
    a = zarrfast.create_array(store=str(tmp_path / name), shape=SHAPE, chunks=CHUNKS, dtype="i4",
                              shards=(16, 16) if sharded else None, **CHAINS[chain])
    a[...] = DATA
    return zarrfast.open_array(str(tmp_path / name), mode="r")


@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize("chain", list(CHAINS))
@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("batch_bytes", [1, 300, 2**20])
def test_results_survive_arena_reuse(tmp_path, chain, sharded, threads, batch_bytes):
    a = _make(tmp_path, chain, sharded)
    with zarrfast.config.set(threads=threads, batch_bytes=batch_bytes):
        first = a[...]
        parts = [a[i:i + 8] for i in range(0, 64, 8)]
        slab = a[3:61, 5:40]
        again = a[::-1, ::3]
    np.testing.assert_array_equal(first, DATA)
    np.testing.assert_array_equal(np.concatenate(parts), DATA)
    np.testing.assert_array_equal(slab, DATA[3:61, 5:40])
    np.testing.assert_array_equal(again, DATA[::-1, ::3])


def test_arena_grows_and_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "_ARENA_MAX", 4096)
    a = _make(tmp_path, "raw", False)
    done = {}

    def run():  # a fresh thread: a fresh arena
        with zarrfast.config.set(threads=1, batch_bytes=2**20):
            np.testing.assert_array_equal(a[...], DATA)
            np.testing.assert_array_equal(a[...], DATA)
            done["size"] = len(engine.thread_arena())

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert done["size"] == 4096  # 48 chunks of 256 bytes asked for 12 KiB: capped


def test_arena_grows_to_the_need_when_next_asked(tmp_path):
    """Growth waits for the next fetch (the last batch is dropped by then) and adds 1/8, not a doubling."""
    a = _make(tmp_path, "raw", False)
    done = {}

    def run():
        with zarrfast.config.set(threads=1, batch_bytes=2**20):
            np.testing.assert_array_equal(a[...], DATA)  # 48 chunks of 256 bytes: 12 KiB, arena still empty
            done["after_first"] = len(engine._arenas.buf)
            done["asked"] = len(engine.thread_arena())
            np.testing.assert_array_equal(a[...], DATA)
            done["after_second"] = len(engine._arenas.buf)

    t = threading.Thread(target=run)
    t.start()
    t.join()
    assert done["after_first"] == 0
    assert done["asked"] == done["after_second"] == 48 * 256 * 9 // 8


def test_threads_reading_different_arrays_at_once(tmp_path):
    arrays = [_make(tmp_path, c, s, name=f"{c}{s}") for c in CHAINS for s in (False, True)]
    errors: list[BaseException] = []

    def reader(arr):
        try:
            for _ in range(20):
                np.testing.assert_array_equal(arr[...], DATA)
                np.testing.assert_array_equal(arr[5:50, 7:33], DATA[5:50, 7:33])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with zarrfast.config.set(batch_bytes=1000):
        ts = [threading.Thread(target=reader, args=(arr,)) for arr in arrays]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    assert not errors, errors[0]


@pytest.mark.parametrize(("batch_bytes", "read_batch_bytes", "per_batch"), [
    (2**20, 1024, 4),      # read_batch_bytes caps reads: 1024 bytes = 4 chunks of 8x8 int32
    (512, 2**20, 2),       # batch_bytes (set lower, as conversions do to bound memory) caps them too
    (2**20, 2**20, 48),    # both larger than the 48 chunks: one batch
])
def test_read_batches_are_bounded(tmp_path, monkeypatch, batch_bytes, read_batch_bytes, per_batch):
    a = _make(tmp_path, "raw", False)
    sizes: list[int] = []
    original = LocalStore.get_many_into

    def counting(self, keys, arena):
        sizes.append(len(keys))
        return original(self, keys, arena)

    monkeypatch.setattr(LocalStore, "get_many_into", counting)
    with zarrfast.config.set(threads=1, batch_bytes=batch_bytes, read_batch_bytes=read_batch_bytes):
        np.testing.assert_array_equal(a[...], DATA)
    assert sum(sizes) == 48 and max(sizes) == per_batch, sizes
