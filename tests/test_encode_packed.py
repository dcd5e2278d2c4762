"""``encode_from(..., packed=True)``: every row is encoded into one buffer (what the sharded writer uses for the inner
chunks of a shard) and the views returned are slices of it.

Oracles: the same kernel without ``packed`` (byte for byte, row for row), the Python reference chain decoding each
view, and numpy for the values. A packed row must never overlap another, skipped rows (all fill) take no space, and
the buffer outlives every view of it.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast.pipeline import CodecChain

CHUNK = (8, 6, 5)  # 240 elements, an odd chunk so that rows never align by accident

CHAINS = {
    "raw": [{"name": "bytes", "configuration": {"endian": "little"}}],
    "raw_big_crc": [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "crc32c"}],
    "zstd": [{"name": "bytes", "configuration": {"endian": "little"}},
             {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    "zstd_crc": [{"name": "bytes", "configuration": {"endian": "little"}},
                 {"name": "zstd", "configuration": {"level": 3, "checksum": True}}, {"name": "crc32c"}],
    "blosc_lz4": [{"name": "bytes", "configuration": {"endian": "little"}},
                  {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                      "typesize": 4, "blocksize": 0}}],
    "transpose_zstd": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}},
                       {"name": "bytes", "configuration": {"endian": "little"}},
                       {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
}


def _chain(name: str, dtype: str = "<i4", fill: int = 3) -> CodecChain:
    chain = CodecChain.from_v3(CHAINS[name], CHUNK, np.dtype(dtype), fill)
    assert chain.write_program is not None, "the native kernel must handle this chain"
    return chain


def _rows(rng: np.random.Generator, n: int, src_shape: tuple[int, ...]):
    """n plan rows over `src_shape`: whole chunks, partial regions (edge-like) and a few all-fill ones."""
    starts, counts, sstarts, complete = [], [], [], []
    for k in range(n):
        whole = k % 3 != 1
        cnt = list(CHUNK) if whole else [int(rng.integers(1, c + 1)) for c in CHUNK]
        cst = [0, 0, 0] if whole else [int(rng.integers(0, c - m + 1)) for c, m in zip(CHUNK, cnt)]
        sst = [int(rng.integers(0, s - m + 1)) for s, m in zip(src_shape, cnt)]
        starts.append(cst)
        counts.append(cnt)
        sstarts.append(sst)
        complete.append(1 if whole else 0)
    return (np.array(starts, dtype=np.int64), np.array(counts, dtype=np.int64), np.array(sstarts, dtype=np.int64),
            np.array(complete, dtype=np.uint8))


def _encode(chain: CodecChain, src, plan, existing, write_empty: bool, packed: bool):
    from zarrfast._ext.pipeline import encode_from

    starts, counts, sstarts, complete = plan
    status = np.zeros(len(starts), dtype=np.int64)
    out = encode_from(chain.write_program, src, starts, counts, sstarts, np.ones(3, dtype=np.int64), existing,
                      complete, write_empty, status, packed)
    assert not status.any()
    return out


def _expected(chain: CodecChain, src, plan, existing, fill, dtype):
    """numpy: what each chunk must hold after its row is written."""
    starts, counts, sstarts, _ = plan
    chunks = []
    for k in range(len(starts)):
        base = chain.decode(bytes(existing[k])) if existing[k] is not None else np.full(CHUNK, fill, dtype=dtype)
        base = np.array(base, dtype=dtype).reshape(CHUNK)
        dst = tuple(slice(s, s + c) for s, c in zip(starts[k], counts[k]))
        srcs = tuple(slice(s, s + c) for s, c in zip(sstarts[k], counts[k]))
        base[dst] = src[srcs]
        chunks.append(base)
    return chunks


def _base_of(view: memoryview):
    return view.obj


@pytest.mark.parametrize("name", sorted(CHAINS))
@pytest.mark.parametrize("write_empty", [True, False])
def test_packed_rows_equal_unpacked_rows_and_decode(name, write_empty):
    rng = np.random.default_rng(7)
    dtype, fill = ("<i4" if "big" not in name else ">i4"), 3
    chain = _chain(name, dtype, fill)
    src = rng.integers(-500, 500, size=(20, 14, 11)).astype(dtype)
    src[:8, :6, :5] = fill  # a source region equal to the fill value everywhere
    plan = _rows(rng, 13, src.shape)
    plan[2][0] = 0  # row 0 copies the all-fill region (whole chunk): skipped unless write_empty
    old_chunk = rng.integers(-9, 9, size=CHUNK).astype(dtype)
    existing = [None if k % 2 else memoryview(chain.encode(old_chunk)) for k in range(13)]
    existing = [None if plan[3][k] else existing[k] for k in range(13)]

    plain = _encode(chain, src, plan, existing, write_empty, packed=False)
    packed = _encode(chain, src, plan, existing, write_empty, packed=True)

    assert [p is None for p in packed] == [p is None for p in plain]
    assert (packed[0] is None) == (not write_empty)
    want = _expected(chain, src, plan, existing, fill, np.dtype(dtype))
    for k, (p, q) in enumerate(zip(packed, plain)):
        if p is None:
            assert (want[k] == fill).all()
            continue
        assert bytes(p) == bytes(q), f"row {k}"
        np.testing.assert_array_equal(np.asarray(chain.decode(bytes(p))).reshape(CHUNK), want[k])


def test_packed_rows_are_disjoint_slices_of_one_buffer_in_row_order():
    chain = _chain("zstd")
    rng = np.random.default_rng(3)
    src = rng.integers(0, 1000, size=(16, 12, 10)).astype("<i4")
    plan = _rows(rng, 9, src.shape)
    out = _encode(chain, src, plan, [None] * 9, True, packed=True)
    bases = {id(_base_of(v)) for v in out}
    assert len(bases) == 1
    whole = bytes(_base_of(out[0]))
    assert whole == b"".join(bytes(v) for v in out)  # back to back, no gaps, row order


def test_packed_buffer_outlives_the_call_and_every_other_view():
    chain = _chain("raw_big_crc", ">i4")
    src = np.arange(16 * 12 * 10, dtype=">i4").reshape(16, 12, 10)
    plan = (np.zeros((4, 3), np.int64), np.array([CHUNK] * 4, np.int64),
            np.array([[0, 0, 0], [8, 0, 0], [0, 6, 5], [8, 6, 5]], np.int64), np.ones(4, np.uint8))
    out = _encode(chain, src, plan, [None] * 4, True, packed=True)
    last = out[3]
    del out
    gc.collect()
    for _ in range(3):  # other allocations must not land on the held pack
        _encode(chain, src + 1, plan, [None] * 4, True, packed=True)
    np.testing.assert_array_equal(np.asarray(chain.decode(bytes(last))).reshape(CHUNK), src[8:16, 6:12, 5:10])


def test_packed_with_no_rows_and_all_rows_skipped():
    chain = _chain("zstd")
    empty = (np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64), np.zeros((0, 3), np.int64), np.zeros(0, np.uint8))
    assert _encode(chain, np.zeros(CHUNK, "<i4"), empty, [], False, packed=True) == []
    fills = np.full(CHUNK, 3, "<i4")
    plan = (np.zeros((3, 3), np.int64), np.array([CHUNK] * 3, np.int64), np.zeros((3, 3), np.int64), np.ones(3, np.uint8))
    assert _encode(chain, fills, plan, [None] * 3, False, packed=True) == [None] * 3


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(CHAINS)), n=st.integers(1, 12), seed=st.integers(0, 2**31),
       write_empty=st.booleans())
def test_packed_matches_unpacked_property(name, n, seed, write_empty):
    rng = np.random.default_rng(seed)
    dtype = ">i4" if "big" in name else "<i4"
    chain = _chain(name, dtype, 0)
    src = (rng.integers(0, 3, size=(12, 9, 7)) * rng.integers(0, 2)).astype(dtype)  # often all zero (= fill)
    plan = _rows(rng, n, src.shape)
    existing = [None if plan[3][k] or rng.integers(0, 2) else memoryview(chain.encode(
        rng.integers(0, 5, size=CHUNK).astype(dtype))) for k in range(n)]
    plain = _encode(chain, src, plan, existing, write_empty, packed=False)
    packed = _encode(chain, src, plan, existing, write_empty, packed=True)
    assert [None if v is None else bytes(v) for v in packed] == [None if v is None else bytes(v) for v in plain]


@pytest.mark.parametrize("name", ["raw", "zstd_crc", "blosc_lz4"])
def test_sharded_array_round_trip_after_packed_writes(tmp_path, name):
    """End to end: whole, partial and emptied shards written with the packed kernel read back as numpy says."""
    codecs = CHAINS[name]
    a = zarrfast.create_array(store=str(tmp_path / "s.zarr"), shape=(40, 30, 20), chunks=(8, 6, 5),
                              shards=(16, 12, 10), dtype="<i4", fill_value=3,
                              serializer=codecs[0], compressors=codecs[1:])
    rng = np.random.default_rng(1)
    want = rng.integers(-100, 100, size=(40, 30, 20)).astype("<i4")
    a[...] = want
    want[5:21, 2:9, 3:17] = 3  # crosses shards, empties some inner chunks
    a[5:21, 2:9, 3:17] = 3
    want[30:, 20:, 15:] = rng.integers(0, 9, size=(10, 10, 5))
    a[30:, 20:, 15:] = want[30:, 20:, 15:]
    np.testing.assert_array_equal(zarrfast.open_array(store=str(tmp_path / "s.zarr"), mode="r")[...], want)
