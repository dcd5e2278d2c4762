"""Streaming stores into large read outputs (``read_into`` with ``set_stream_threshold``) and the cache-line aligned
outputs of ``zarrfast.buffers.empty_output``.

Streaming only changes how the kernels store bytes, so every test checks the bytes against numpy: reads with
streaming forced on for every output size, into outputs at every offset from a cache line, with poisoned
neighbours that must stay untouched.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast._ext import pipeline
from zarrfast.buffers import ALIGN, ALIGN_MIN, empty_output

CODECS = [None, {"name": "zstd", "configuration": {"level": 1, "checksum": False}},
          {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle"}}]


@pytest.fixture
def always_stream():
    old = pipeline.set_stream_threshold(0)
    try:
        yield
    finally:
        pipeline.set_stream_threshold(old)


def test_threshold_setter_returns_the_previous_value():
    old = pipeline.set_stream_threshold(123)
    try:
        assert pipeline.set_stream_threshold(456) == 123
    finally:
        pipeline.set_stream_threshold(old)
    assert old == 16 * 1024 * 1024


def _poisoned_view(shape, dtype, offset):
    """A C-contiguous array of ``shape`` starting ``offset`` bytes past a cache line, inside a buffer of 0xAB."""
    dt = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dt.itemsize
    raw = np.full(nbytes + 3 * ALIGN, 0xAB, dtype=np.uint8)
    start = (-raw.ctypes.data % ALIGN) + ALIGN + offset
    return raw, start, raw[start:start + nbytes].view(dt).reshape(shape)


@pytest.mark.parametrize("codec", CODECS, ids=["raw", "zstd", "blosc"])
@pytest.mark.parametrize("offset", [0, 1, 8, 16, 48, 63])
@pytest.mark.parametrize("row_elems", [1, 31, 32, 33, 64, 65, 100, 129])
def test_streamed_rows_land_exactly(always_stream, codec, offset, row_elems):
    """Rows shorter than, equal to and longer than a cache line, at every alignment: the bytes equal numpy's and
    the bytes around the output keep their poison."""
    rng = np.random.default_rng(row_elems * 64 + offset)
    data = rng.integers(0, 60000, (5, 3, 3 * row_elems + 1)).astype("<u2")
    a = zarrfast.create_array(store={}, shape=data.shape, chunks=(2, 2, row_elems), dtype="<u2",
                              compressors=codec, fill_value=7, zarr_format=3)
    a[...] = data
    a[4, 2, :] = 7  # the fill value: keep one chunk row missing too
    data[4, 2, :] = 7
    raw, start, out = _poisoned_view(data.shape, "<u2", offset)
    a.get_basic_selection(Ellipsis, out=out)
    np.testing.assert_array_equal(out, data)
    assert (raw[:start] == 0xAB).all() and (raw[start + out.nbytes:] == 0xAB).all()


@pytest.mark.parametrize("dtype", ["|u1", "<u2", ">i4", "<f8", "<c16"])
def test_streamed_strided_selections_match_numpy(always_stream, dtype):
    rng = np.random.default_rng(3)
    data = (rng.normal(size=(40, 33, 70)) * 50).astype(dtype)
    a = zarrfast.create_array(store={}, shape=data.shape, chunks=(16, 11, 64), dtype=dtype, compressors=CODECS[1],
                              zarr_format=3)
    a[...] = data
    for sel in [(Ellipsis,), (slice(3, 37), slice(None, None, 2), slice(5, 69)), (slice(None, None, -1),) * 3,
                (7, slice(None), slice(1, 70))]:
        np.testing.assert_array_equal(a[sel], data[sel])


@st.composite
def _case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 40), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, n + 3)) for n in shape)
    dtype = draw(st.sampled_from(["|u1", "<u2", "<u4", "<f8"]))
    codec = draw(st.sampled_from(CODECS))
    offset = draw(st.integers(0, ALIGN - 1))
    sel = []
    for n in shape:
        start = draw(st.integers(0, n - 1))
        stop = draw(st.integers(start + 1, n))
        step = draw(st.sampled_from([1, 1, 1, 2, -1]))
        sel.append(slice(start, stop, step) if step > 0 else slice(stop - 1, None if start == 0 else start - 1, -1))
    return shape, chunks, dtype, codec, offset, tuple(sel)


@settings(max_examples=60, deadline=None)
@given(_case(), st.integers(0, 2**32 - 1))
def test_streamed_and_cached_stores_agree(case, seed):
    """Property: a read with streaming stores equals the same read with ordinary stores and numpy, for random
    shapes, chunkings, dtypes, codecs, selections and output alignments."""
    shape, chunks, dtype, codec, offset, sel = case
    data = np.random.default_rng(seed).integers(0, 250, shape).astype(dtype)
    a = zarrfast.create_array(store={}, shape=shape, chunks=chunks, dtype=dtype, compressors=codec, zarr_format=3)
    a[...] = data
    expected = data[sel]
    got = {}
    for threshold in (0, 1 << 62):
        old = pipeline.set_stream_threshold(threshold)
        try:
            raw, start, out = _poisoned_view(expected.shape, dtype, offset)
            a.get_basic_selection(sel, out=out)
        finally:
            pipeline.set_stream_threshold(old)
        assert (raw[:start] == 0xAB).all() and (raw[start + out.nbytes:] == 0xAB).all()
        got[threshold] = out.copy()
    np.testing.assert_array_equal(got[0], expected)
    assert got[0].tobytes() == got[1 << 62].tobytes()


def test_a_large_read_streams_with_the_default_threshold(tmp_path):
    """A 20 MB output (over the default threshold) read on two threads, raw and compressed, equals numpy."""
    data = np.arange(160 * 256 * 256, dtype="<u2").reshape(160, 256, 256) * np.uint16(7)
    assert data.nbytes >= 16 * 1024 * 1024
    for i, codec in enumerate(CODECS[:2]):
        with zarrfast.config.set(threads=2):
            a = zarrfast.create_array(store=str(tmp_path / f"a{i}"), shape=data.shape, chunks=(32, 64, 64),
                                      dtype="<u2", compressors=codec, zarr_format=3)
            a[...] = data
            got = a[...]
        assert got.ctypes.data % ALIGN == 0
        np.testing.assert_array_equal(got, data)
        np.testing.assert_array_equal(a[1:159, 3:250, 7:255], data[1:159, 3:250, 7:255])


@pytest.mark.parametrize("shape,dtype", [((1 << 20,), "|u1"), ((300, 1000), "<f8"), ((64, 64, 64), ">u2"),
                                         ((1000, 500), "<U3"), ((2000, 100), [("a", "<i4"), ("b", "<f8")])])
def test_empty_output_is_aligned_writable_and_c_contiguous(shape, dtype):
    out = empty_output(shape, dtype)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    assert out.flags.c_contiguous and out.flags.writeable
    if out.nbytes >= ALIGN_MIN:
        assert out.ctypes.data % ALIGN == 0
    out[...] = np.zeros(shape, dtype=dtype)  # every byte is writable
    assert out.nbytes == int(np.prod(shape)) * np.dtype(dtype).itemsize


@pytest.mark.parametrize("shape,dtype", [((10,), "<u2"), ((0, 5), "<f8"), ((200_000,), object), ((3,), "V0")])
def test_empty_output_small_object_and_empty_fall_back_to_numpy(shape, dtype):
    out = empty_output(shape, dtype)
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    assert out.base is None  # a plain np.empty
