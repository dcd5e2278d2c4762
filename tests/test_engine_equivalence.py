"""Fast path (Cython kernels) == reference path (pure Python) == numpy, for reads and writes.

Random shapes, chunk shapes, dtypes, byte orders, orders, codecs and basic selections (negative steps included);
after the same writes, both paths leave byte-identical stores for deterministic codecs.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import zarrfast
from zarrfast.indexing import normalize_basic, project_basic_py
from zarrfast._ext.selection import project_basic

DTYPES = ["|b1", "|i1", "<u2", ">u2", "<i4", ">i8", "<f2", ">f4", "<f8", "<c8", ">c16", "|u1", "<u8"]
V3_COMPRESSORS = [None, {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                  {"name": "zstd", "configuration": {"level": 3, "checksum": True}},
                  {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}},
                  {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "bitshuffle"}},
                  {"name": "gzip", "configuration": {"level": 1}}, "crc32c_only", "zstd_crc32c"]
V2_COMPRESSORS = [None, {"id": "zstd", "level": 1}, {"id": "lz4", "acceleration": 1},
                  {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
                  {"id": "blosc", "cname": "zlib", "clevel": 1, "shuffle": 2}, {"id": "zlib", "level": 1},
                  {"id": "gzip", "level": 1}]


@st.composite
def array_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(0, 13), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.lists(st.integers(1, 6), min_size=ndim, max_size=ndim)))
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    fmt = draw(st.sampled_from([2, 3]))
    return ndim, shape, chunks, dtype, fmt


@st.composite
def basic_selection(draw, shape):
    sel = []
    for n in shape:
        kind = draw(st.sampled_from(["slice", "slice", "int", "full"]))
        if kind == "int" and n > 0:
            sel.append(draw(st.integers(-n, n - 1)))
        elif kind == "full":
            sel.append(slice(None))
        else:
            start = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            step = draw(st.one_of(st.none(), st.integers(-4, 4).filter(lambda s: s != 0)))
            sel.append(slice(start, stop, step))
    return tuple(sel)


def make(store, case, compressor, order, engine):
    ndim, shape, chunks, dtype, fmt = case
    kwargs = dict(store=store, shape=shape, chunks=chunks, dtype=dtype, zarr_format=fmt, fill_value=0)
    if fmt == 2:
        kwargs["compressors"] = compressor
        kwargs["order"] = order
    else:
        if compressor == "crc32c_only":
            kwargs["compressors"] = [{"name": "crc32c"}]
        elif compressor == "zstd_crc32c":
            kwargs["compressors"] = [{"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                                     {"name": "crc32c"}]
        else:
            kwargs["compressors"] = compressor
        if dtype.byteorder == ">":
            kwargs["dtype"] = dtype.newbyteorder("=")
            kwargs["serializer"] = {"name": "bytes", "configuration": {"endian": "big"}}
        if order == "F" and ndim > 1:
            kwargs["filters"] = [{"name": "transpose", "configuration": {"order": list(range(ndim))[::-1]}}]
    return zarrfast.create_array(**kwargs)


def random_data(shape, dtype, rng):
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    if dtype.kind == "f":
        return rng.normal(scale=100, size=shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -1000), min(info.max, 1000), size=shape, endpoint=True).astype(dtype)


@given(case=array_case(), data=st.data())
def test_projection_fast_equals_reference(case, data):
    ndim, shape, chunks, dtype, fmt = case
    sel = normalize_basic(data.draw(basic_selection(shape)), shape)
    fast = project_basic(np.array(chunks, dtype=np.int64), np.array(sel.starts, dtype=np.int64),
                         np.array(sel.steps, dtype=np.int64), np.array(sel.lengths, dtype=np.int64))
    ref = project_basic_py(chunks, sel)
    if sel.size == 0:
        return
    for f, r in zip(fast, ref):
        np.testing.assert_array_equal(f, r)


@given(case=array_case(), data=st.data())
def test_fast_equals_python_equals_numpy(case, data):
    ndim, shape, chunks, dtype, fmt = case
    compressor = data.draw(st.sampled_from(V2_COMPRESSORS if fmt == 2 else V3_COMPRESSORS))
    order = data.draw(st.sampled_from(["C", "F"]))
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    expected = np.zeros(shape, dtype=dtype)
    stores = {}
    arrays = {}
    for engine in ("auto", "python"):
        stores[engine] = {}
        with zarrfast.config.set(engine=engine):
            arrays[engine] = make(stores[engine], case, compressor, order, engine)
    # a few random writes, the same on both paths, mirrored on numpy
    for _ in range(data.draw(st.integers(1, 3))):
        sel = data.draw(basic_selection(shape))
        target_shape = expected[sel].shape
        if data.draw(st.booleans()):
            value = random_data(target_shape, dtype, rng)
        else:
            value = random_data((), dtype, rng)
        expected[sel] = value
        for engine in ("auto", "python"):
            with zarrfast.config.set(engine=engine):
                arrays[engine][sel] = value
    for engine in ("auto", "python"):
        with zarrfast.config.set(engine=engine):
            got = arrays[engine][...]
            np.testing.assert_array_equal(got, expected)
            sel = data.draw(basic_selection(shape))
            np.testing.assert_array_equal(arrays[engine][sel], expected[sel])
    if compressor is None or compressor == "crc32c_only":
        assert stores["auto"] == stores["python"]
    assert set(stores["auto"]) == set(stores["python"])


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_threads_agree(threads, tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 1000, size=(67, 45, 9)).astype("<u2")
    with zarrfast.config.set(threads=threads, batch_bytes=1000):
        a = zarrfast.create_array(store=str(tmp_path / "a"), shape=x.shape, chunks=(8, 7, 4), dtype=x.dtype)
        a[...] = x
        np.testing.assert_array_equal(a[...], x)
        np.testing.assert_array_equal(a[60:2:-3, 1:40:5, ::-1], x[60:2:-3, 1:40:5, ::-1])
