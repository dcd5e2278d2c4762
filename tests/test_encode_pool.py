"""Uncompressed encode outputs are pooled: a chunk a chain without a compressor builds in place goes back to a
bounded pool when Python drops its view, and the next call reuses it.

Oracle: numpy for values. A reused buffer still holds the bytes of the chunk it held before, so these tests first
fill the pool with a marker pattern and check that it never shows through (edge-chunk padding, partial chunks,
skipped all-fill chunks), that views still held are never reused, and that the pool stays within its bounds.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast._ext.pipeline import ChunkProgram, encode_from, out_pool_state
from zarrfast.testing.threads import run_threads

CHUNK = (16, 8)
ITEM = 4
PROG = ChunkProgram(CHUNK, ITEM, (8 * ITEM, ITEM), 0, (7).to_bytes(4, "little"))  # fill value 7
MARK = 0xDEADBEEF


def _encode(src: np.ndarray, starts, counts, src_starts, complete, existing=None, write_empty=True):
    n = len(starts)
    status = np.zeros(n, dtype=np.int64)
    res = encode_from(PROG, src, np.array(starts, dtype=np.int64), np.array(counts, dtype=np.int64),
                      np.array(src_starts, dtype=np.int64), np.ones(2, dtype=np.int64),
                      existing if existing is not None else [None] * n, np.array(complete, dtype=np.uint8),
                      write_empty, status)
    assert not status.any()
    return res


def _poison_pool(rows: int = 40) -> None:
    """Leave pooled buffers that hold nothing but MARK."""
    src = np.full((CHUNK[0] * rows, CHUNK[1]), MARK, dtype="<u4")
    res = _encode(src, [[0, 0]] * rows, [list(CHUNK)] * rows, [[CHUNK[0] * k, 0] for k in range(rows)], [1] * rows)
    del res
    gc.collect()


def _chunk(view) -> np.ndarray:
    return np.frombuffer(bytes(view), dtype="<u4").reshape(CHUNK)


def test_dropped_outputs_return_to_a_bounded_pool():
    _poison_pool()
    n, kept = out_pool_state()
    assert 0 < n <= 32 and kept <= 16 * 2**20
    assert kept >= n * PROG.nbytes
    res = _encode(np.zeros(CHUNK, "<u4"), [[0, 0]] * 3, [list(CHUNK)] * 3, [[0, 0]] * 3, [1] * 3)
    assert out_pool_state()[0] == n - 3  # taken from the pool, not malloc'd
    del res
    gc.collect()
    assert out_pool_state()[0] == n


def test_buffers_of_another_chunk_size_are_evicted_oldest_first():
    other = ChunkProgram((32, 8), ITEM, (8 * ITEM, ITEM), 0, bytes(4))
    status = np.zeros(40, dtype=np.int64)
    res = encode_from(other, np.zeros((32 * 40, 8), "<u4"), np.zeros((40, 2), dtype=np.int64),
                      np.array([[32, 8]] * 40, dtype=np.int64), np.array([[32 * k, 0] for k in range(40)],
                                                                          dtype=np.int64),
                      np.ones(2, dtype=np.int64), [None] * 40, np.ones(40, dtype=np.uint8), True, status)
    del res
    gc.collect()
    assert out_pool_state() == (32, 32 * other.nbytes)
    _poison_pool()
    assert out_pool_state() == (32, 32 * PROG.nbytes)  # the full pool made room for the current chunk size


def test_held_outputs_are_not_reused():
    first = _encode(np.arange(128, dtype="<u4").reshape(CHUNK), [[0, 0]], [list(CHUNK)], [[0, 0]], [1])
    for _ in range(5):
        _poison_pool()
    assert (_chunk(first[0]) == np.arange(128, dtype="<u4").reshape(CHUNK)).all()


def test_edge_chunk_padding_is_the_fill_value_not_old_bytes():
    _poison_pool()
    src = np.arange(5 * 3, dtype="<u4").reshape(5, 3)
    (view,) = _encode(src, [[0, 0]], [[5, 3]], [[0, 0]], [1])
    expected = np.full(CHUNK, 7, "<u4")
    expected[:5, :3] = src
    assert (_chunk(view) == expected).all()


def test_partial_chunk_starts_from_the_old_chunk_or_the_fill_value():
    _poison_pool()
    old = np.arange(128, dtype="<u4").reshape(CHUNK) + 1000
    src = np.full((2, 2), 5, "<u4")
    with_old, without_old = _encode(src, [[3, 4], [3, 4]], [[2, 2], [2, 2]], [[0, 0], [0, 0]], [0, 0],
                                    existing=[old.tobytes(), None])
    e1 = old.copy()
    e1[3:5, 4:6] = 5
    e2 = np.full(CHUNK, 7, "<u4")
    e2[3:5, 4:6] = 5
    assert (_chunk(with_old) == e1).all() and (_chunk(without_old) == e2).all()


def test_skipped_all_fill_chunks_give_their_buffer_back():
    _poison_pool()
    before = out_pool_state()[0]
    src = np.full((CHUNK[0] * 4, CHUNK[1]), 7, "<u4")
    res = _encode(src, [[0, 0]] * 4, [list(CHUNK)] * 4, [[CHUNK[0] * k, 0] for k in range(4)], [1] * 4,
                  write_empty=False)
    assert res == [None] * 4
    assert out_pool_state()[0] == before


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 7), st.integers(1, 16), st.integers(1, 8),
                          st.booleans()), min_size=1, max_size=12), st.integers(0, 2**32 - 1))
def test_reused_buffers_match_numpy(rows, seed):
    """Random mixes of complete, partial and edge rows, after the pool was filled with MARK: numpy is the oracle."""
    _poison_pool()
    rng = np.random.default_rng(seed)
    starts, counts, src_starts, complete, existing, expected = [], [], [], [], [], []
    src = rng.integers(0, 2**31, (16 * len(rows), 8), dtype="<u4")
    for k, (r0, c0, nr, nc, has_old) in enumerate(rows):
        nr, nc = min(nr, 16 - r0), min(nc, 8 - c0)
        full = (r0, c0, nr, nc) == (0, 0, 16, 8)
        old = rng.integers(0, 2**31, CHUNK, dtype="<u4") if has_old else None
        chunk = old.copy() if old is not None else np.full(CHUNK, 7, "<u4")
        chunk[r0:r0 + nr, c0:c0 + nc] = src[16 * k:16 * k + nr, :nc]
        starts.append([r0, c0]); counts.append([nr, nc]); src_starts.append([16 * k, 0])
        complete.append(int(full)); existing.append(old.tobytes() if old is not None else None)
        expected.append(chunk)
    res = _encode(src, starts, counts, src_starts, complete, existing=existing)
    for view, chunk in zip(res, expected):
        got = _chunk(view)
        assert not (got == MARK).any()
        assert (got == chunk).all()


@pytest.mark.parametrize("chain", [None, [{"name": "crc32c"}]], ids=["bytes", "bytes-crc32c"])
def test_threads_writing_uncompressed_arrays_share_the_pool(tmp_path, chain):
    """Several threads write and read back different uncompressed arrays at once (local store, many batches)."""

    def work(t: int) -> None:
        data = np.random.default_rng(t).integers(0, 2**16, (96, 64, 32), dtype="<u2")
        a = zarrfast.create_array(store=str(tmp_path / f"a{t}.zarr"), shape=data.shape, chunks=(16, 16, 32),
                                  dtype="<u2", compressors=chain, filters=None, zarr_format=3)
        for rep in range(4):
            a[...] = data + rep
            assert (a[...] == data + rep).all()

    run_threads(work, 4)
    n, kept = out_pool_state()
    assert n <= 32 and kept <= 16 * 2**20
