"""Sharded arrays end to end: fast engine == reference codec == numpy, minimal store traffic, thread safety,
and interop with zarr-python, tensorstore and zarrs in both directions."""
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import zarrfast
from zarrfast.errors import ChunkDecodeError, MetadataError
from zarrfast.storage import LoggingStore, MemoryStore

INNER_CODECS = [
    [{"name": "bytes", "configuration": {"endian": "little"}}],
    [{"name": "bytes", "configuration": {"endian": "big"}},
     {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
    [{"name": "transpose", "configuration": {"order": "REVERSED"}}, {"name": "bytes", "configuration": {"endian": "little"}},
     {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}],
    [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "gzip", "configuration": {"level": 1}}],
    [{"name": "bytes", "configuration": {"endian": "little"}},
     {"name": "zstd", "configuration": {"level": 1, "checksum": False}}, {"name": "crc32c"}],
]
INDEX_CODECS = [
    [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
    [{"name": "bytes", "configuration": {"endian": "little"}}],
]


def sharded_meta_codecs(ndim, inner_chunks, inner_codecs, index_codecs, index_location, nested=False):
    codecs = []
    for c in inner_codecs:
        if c["name"] == "transpose":
            c = {"name": "transpose", "configuration": {"order": list(range(ndim))[::-1]}}
        codecs.append(c)
    if nested:
        codecs = [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": [max(1, c // 2) if c % 2 == 0 else c for c in inner_chunks], "codecs": codecs,
            "index_codecs": INDEX_CODECS[0], "index_location": "end"}}]
    return [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(inner_chunks), "codecs": codecs, "index_codecs": index_codecs,
        "index_location": index_location}}]


def make_array(store, shape, inner, per_shard, dtype, codecs, index_codecs, location, nested=False):
    from zarrfast.array import Array
    from zarrfast.metadata import ArrayMetadata
    from zarrfast.nodes import write_metadata
    from zarrfast.storage import make_store

    store = make_store(store)
    shard = tuple(i * p for i, p in zip(inner, per_shard))
    meta = ArrayMetadata(zarr_format=3, shape=shape, chunk_shape=shard, dtype=np.dtype(dtype), fill_value=0,
                         codecs=tuple(sharded_meta_codecs(len(shape), inner, codecs, index_codecs, location, nested)))
    write_metadata(store, "", meta)
    return Array(store, "", meta)


@st.composite
def sharded_case(draw):
    ndim = draw(st.integers(1, 3))
    inner = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    per_shard = tuple(draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim)))
    shape = tuple(draw(st.lists(st.integers(1, 14), min_size=ndim, max_size=ndim)))
    dtype = draw(st.sampled_from(["<u2", "<f8", "|i1", "<c8"]))
    codecs = draw(st.sampled_from(INNER_CODECS))
    index_codecs = draw(st.sampled_from(INDEX_CODECS))
    location = draw(st.sampled_from(["start", "end"]))
    nested = draw(st.booleans()) and all(i % 2 == 0 for i in inner)
    return shape, inner, per_shard, dtype, codecs, index_codecs, location, nested


@st.composite
def region(draw, shape):
    sel = []
    for n in shape:
        a = draw(st.integers(0, n))
        b = draw(st.integers(0, n))
        step = draw(st.sampled_from([1, 1, 1, 2, -1, -3]))
        sel.append(slice(min(a, b), max(a, b), step) if step > 0 else slice(max(a, b), min(a, b), step))
    return tuple(sel)


@given(case=sharded_case(), data=st.data())
def test_sharded_fast_equals_reference_equals_numpy(case, data):
    shape, inner, per_shard, dtype, codecs, index_codecs, location, nested = case
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    expected = np.zeros(shape, dtype=dtype)
    arrays, stores = {}, {}
    for engine in ("auto", "python"):
        stores[engine] = {}
        with zarrfast.config.set(engine=engine):
            arrays[engine] = make_array(stores[engine], shape, inner, per_shard, dtype, codecs, index_codecs,
                                        location, nested)
    for _ in range(data.draw(st.integers(1, 4))):  # random partial writes over existing shards
        sel = data.draw(region(shape))
        value = (rng.integers(0, 3, size=expected[sel].shape) * data.draw(st.sampled_from([0, 1, 7]))).astype(dtype)
        expected[sel] = value
        for engine in ("auto", "python"):
            with zarrfast.config.set(engine=engine):
                arrays[engine][sel] = value
    for engine in ("auto", "python"):
        with zarrfast.config.set(engine=engine):
            np.testing.assert_array_equal(arrays[engine][...], expected)
            sel = data.draw(region(shape))
            np.testing.assert_array_equal(arrays[engine][sel], expected[sel])
    # both paths store the same set of shards; all-fill shards are deleted
    assert set(stores["auto"]) == set(stores["python"])
    # each path reads what the other wrote
    with zarrfast.config.set(engine="python"):
        np.testing.assert_array_equal(arrays["auto"][...], expected)
    np.testing.assert_array_equal(arrays["python"][...], expected)


def test_empty_inner_chunks_and_empty_shards(tmp_path):
    a = zarrfast.create_array(store=str(tmp_path / "a"), shape=(8, 8), chunks=(2, 2), shards=(4, 4), dtype="u1")
    a[0:2, 0:2] = 5
    data = (tmp_path / "a" / "c" / "0" / "0").read_bytes()
    from zarrfast.codecs.sharding import decode_index

    index = decode_index(data[-(16 * 4 + 4):], (2, 2))
    assert index[0, 0, 1] > 0
    assert (index.reshape(-1, 2)[1:] == 2**64 - 1).all()
    assert not (tmp_path / "a" / "c" / "1").exists()
    a[0:2, 0:2] = 0  # back to fill: the whole shard goes away
    assert not (tmp_path / "a" / "c" / "0" / "0").exists()


def test_partial_read_requests_are_minimal():
    base = MemoryStore()
    store = LoggingStore(base)
    x = np.arange(64 * 64, dtype="u2").reshape(64, 64)
    a = zarrfast.create_array(store=store, shape=x.shape, chunks=(4, 4), shards=(32, 32), dtype=x.dtype,
                              compressors=None)
    a[...] = x
    store.reset()
    # 3 adjacent inner chunks of one shard: one index range + one coalesced range request
    np.testing.assert_array_equal(a[0:4, 0:12], x[0:4, 0:12])
    c = store.counter
    assert c["get_range"] == 1 and c["get_ranges"] == 1 and c.get("get", 0) == 0 and c.get("get_many", 0) == 0
    assert store.bytes_read <= (16 * 64 + 4) + 3 * 32 + 64  # index + the three inner chunks (no whole shard)
    store.reset()
    # four shards touched, one inner chunk each: one index + one range request per shard
    np.testing.assert_array_equal(a[30:34, 30:34], x[30:34, 30:34])
    assert store.counter["get_range"] == 4 and store.counter["get_ranges"] == 4
    store.reset()
    # a whole shard: a single request for the shard
    np.testing.assert_array_equal(a[0:32, 32:64], x[0:32, 32:64])
    assert store.counter.get("get_range", 0) == 0 and store.counter["get"] == 1


def test_partial_write_copies_untouched_chunks_without_reencoding():
    store = MemoryStore()
    x = np.random.default_rng(0).integers(0, 1000, size=(16, 16)).astype("<u4")
    a = zarrfast.create_array(store=store, shape=x.shape, chunks=(4, 4), shards=(16, 16), dtype=x.dtype)
    a[...] = x
    from zarrfast.codecs.sharding import decode_index

    before = store.get("c/0/0")
    idx0 = decode_index(before[-(16 * 16 + 4):], (4, 4)).reshape(-1, 2)
    a[5, 5] = 1  # inner chunk (1, 1) only
    x[5, 5] = 1
    after = store.get("c/0/0")
    idx1 = decode_index(after[-(16 * 16 + 4):], (4, 4)).reshape(-1, 2)
    for i in range(16):
        if i == 5:
            continue
        o0, n0 = idx0[i]
        o1, n1 = idx1[i]
        assert before[o0:o0 + n0] == after[o1:o1 + n1]  # same stored bytes, copied forward
    np.testing.assert_array_equal(a[...], x)


def test_threads_writing_one_shard_lose_nothing():
    store = MemoryStore()
    a = zarrfast.create_array(store=store, shape=(64, 64), chunks=(4, 4), shards=(64, 64), dtype="i4",
                              compressors=None)
    expected = np.zeros((64, 64), dtype="i4")
    rng = np.random.default_rng(3)
    regions = []
    for t in range(16):  # disjoint rows of inner chunks, random columns
        r0 = 4 * t
        c0, c1 = sorted(rng.integers(0, 65, size=2))
        regions.append((slice(r0, r0 + 4), slice(int(c0), int(c1)), t + 1))
        expected[r0:r0 + 4, c0:c1] = t + 1

    def writer(sel_r, sel_c, v):
        for _ in range(5):
            a[sel_r, sel_c] = v

    threads = [threading.Thread(target=writer, args=r) for r in regions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(a[...], expected)


def test_chunks_must_divide_shards():
    with pytest.raises(MetadataError, match="divide"):
        zarrfast.create_array(store={}, shape=(10,), chunks=(3,), shards=(10,), dtype="u1")


def test_corrupt_shard_index_is_reported():
    store = {}
    a = zarrfast.create_array(store=store, shape=(16,), chunks=(4,), shards=(16,), dtype="u1")
    a[...] = np.arange(16, dtype="u1")
    good = store["c/0"]
    store["c/0"] = good[:-1] + bytes([good[-1] ^ 1])  # crc of the index
    with pytest.raises(ChunkDecodeError, match="c/0"):
        a[...]
    with pytest.raises(ChunkDecodeError, match="c/0"):
        a[0:2]
    store["c/0"] = good[:-70]
    with pytest.raises(ChunkDecodeError):
        a[...]


@pytest.mark.parametrize("index_codecs", INDEX_CODECS, ids=["crc", "nocrc"])
@pytest.mark.parametrize("location", ["start", "end"])
def test_index_cache_never_serves_a_stale_index(tmp_path, location, index_codecs):
    """Partial reads reuse a parsed shard index only while the index bytes are unchanged: a shard rewritten by
    another writer (another Array object here, with a different layout of the same size), or damaged, is seen."""
    codecs = [{"name": "sharding_indexed", "configuration": {
        "chunk_shape": [4, 4], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "index_codecs": index_codecs, "index_location": location}}]
    path = str(tmp_path / "a")
    a = zarrfast.create_array(store=path, shape=(8, 8), chunks=(8, 8), serializer=codecs[0], compressors=None, dtype="i4",
                              fill_value=-1)
    model = np.arange(64, dtype="i4").reshape(8, 8)
    a[...] = model
    reader = zarrfast.open_array(path, mode="r")
    np.testing.assert_array_equal(reader[0:4, 4:8], model[0:4, 4:8])  # parses and caches the index
    np.testing.assert_array_equal(reader[4:8, 0:4], model[4:8, 0:4])  # served from the cache
    writer = zarrfast.open_array(path, mode="r+")
    writer[0:4, 0:4] = -1  # that inner chunk becomes empty: every offset in the index moves
    model[0:4, 0:4] = -1
    writer[4:8, 4:8] = 7
    model[4:8, 4:8] = 7
    for sel in [(slice(0, 4), slice(4, 8)), (slice(4, 8), slice(0, 4)), (slice(4, 8), slice(4, 8)),
                (slice(0, 4), slice(0, 4)), (slice(2, 6), slice(3, 5))]:
        np.testing.assert_array_equal(reader[sel], model[sel])
    # damage the index after it was cached: the next read must not trust the cached copy
    store_file = tmp_path / "a" / "c" / "0" / "0"
    raw = bytearray(store_file.read_bytes())
    at = 0 if location == "start" else len(raw) - (16 * 4 + 4 * len(index_codecs) - 4)
    raw[at:at + 8] = (2**40).to_bytes(8, "little")  # inner chunk (0, 0)'s offset far past the end
    store_file.write_bytes(bytes(raw))
    with pytest.raises(ChunkDecodeError, match="c/0/0"):
        if len(index_codecs) == 2:
            reader[0:4, 4:8]  # checksum mismatch
        else:
            reader[0:4, 0:4]  # offset past the end


@pytest.mark.parametrize("location", ["start", "end"])
def test_zarr_python_reads_our_shards_and_we_read_theirs(tmp_path, location):
    zarr = pytest.importorskip("zarr")
    x = np.random.default_rng(1).normal(size=(37, 23)).astype("f4")
    ours = make_array(str(tmp_path / "ours"), (37, 23), (4, 5), (3, 2), "f4", INNER_CODECS[1],
                      INDEX_CODECS[0], location)
    ours[...] = x
    ours[3:9, 2] = np.nan
    x[3:9, 2] = np.nan
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "ours"), mode="r")[...], x)
    theirs = zarr.create_array(store=str(tmp_path / "theirs"), shape=x.shape, chunks=(4, 5), shards=(12, 10),
                               dtype="f4", fill_value=np.nan)
    theirs[...] = x
    theirs[20:30, 0:7] = np.nan  # partial write, some inner chunks back to fill
    y = x.copy()
    y[20:30, 0:7] = np.nan
    got = zarrfast.open_array(str(tmp_path / "theirs"), mode="r")
    np.testing.assert_array_equal(got[...], y)
    np.testing.assert_array_equal(got[5:30:3, ::-2], y[5:30:3, ::-2])


def test_tensorstore_and_zarrs_interop(tmp_path):
    ts = pytest.importorskip("tensorstore")
    x = np.random.default_rng(2).integers(0, 60000, size=(50, 40)).astype("u2")
    a = zarrfast.create_array(store=str(tmp_path / "zf"), shape=x.shape, chunks=(8, 8), shards=(16, 24),
                              dtype=x.dtype, compressors={"name": "zstd", "configuration": {"level": 1}})
    a[...] = x
    a[1:3, 1:3] = 0
    x[1:3, 1:3] = 0
    t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "zf")}}).result()
    np.testing.assert_array_equal(t.read().result(), x)
    # tensorstore writes, index at start, partial shards
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path / "ts")},
            "metadata": {"shape": [50, 40], "data_type": "uint16", "chunk_grid": {
                "name": "regular", "configuration": {"chunk_shape": [16, 24]}},
                "codecs": [{"name": "sharding_indexed", "configuration": {
                    "chunk_shape": [8, 8], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}},
                                                      {"name": "zstd", "configuration": {"level": 1}}],
                    "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                    "index_location": "start"}}]}}
    t2 = ts.open(spec, create=True).result()
    t2[0:30, 5:33] = x[0:30, 5:33]
    y = np.zeros_like(x)
    y[0:30, 5:33] = x[0:30, 5:33]
    np.testing.assert_array_equal(zarrfast.open_array(str(tmp_path / "ts"))[...], y)
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("zarrs")
    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}):
        np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "zf"), mode="r")[...], x)
        z = zarr.create_array(store=str(tmp_path / "zs"), shape=x.shape, chunks=(8, 8), shards=(16, 16),
                              dtype=x.dtype)
        z[...] = x
        z[10:20, 10:20] = 0
    y = x.copy()
    y[10:20, 10:20] = 0
    np.testing.assert_array_equal(zarrfast.open_array(str(tmp_path / "zs"))[...], y)


def test_partial_shard_reads_are_split_evenly_across_threads(tmp_path):
    """A slab that takes 64 inner chunks from one shard and 4 from another is cut into pieces so both threads
    get work; every selected inner chunk is read exactly once and the values are numpy's."""
    x = np.arange(128 * 128, dtype="i4").reshape(128, 128)
    a = zarrfast.create_array(store=str(tmp_path / "a"), shape=x.shape, chunks=(8, 8), shards=(64, 64),
                              dtype=x.dtype)
    a[...] = x
    sel = (slice(0, 64), slice(40, 72))  # shard (0, 0): 8 x 3 inner chunks, shard (0, 1): 8 x 1
    with zarrfast.config.set(threads=2):
        np.testing.assert_array_equal(a[sel], x[sel])
        engine = a._engine
        from zarrfast.indexing import normalize_basic

        _, (coords, *_), _ = engine._plan(normalize_basic(sel, x.shape), for_write=False)
        groups, _, _ = engine._shard_groups(coords)
        pieces = engine._balanced_pieces(groups, len(coords))
    rows = np.sort(np.concatenate([r for _, r in pieces]))
    np.testing.assert_array_equal(rows, np.arange(len(coords)))  # each inner chunk once
    assert len(pieces) > len(groups) and max(len(r) for _, r in pieces) <= 8
    with zarrfast.config.set(threads=1):
        assert len(engine._balanced_pieces(groups, len(coords))) == len(groups)  # one thread: shards stay whole
