"""The Cython kernels against independent oracles: numpy for copies, the crc32c package and a pure-Python CRC,
zstandard for zstd frames; and the plan validation that keeps kernels inside their buffers."""
import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st

from zarrfast._ext import bytecodecs
from zarrfast._ext.pipeline import ChunkProgram, encode_from, read_into
from zarrfast.codecs.crc32c import crc32c_py


@given(st.binary(max_size=2000))
def test_crc32c_hw_table_and_python_agree(data):
    expected = crc32c_py(data)
    assert bytecodecs.crc32c(data) == expected
    assert bytecodecs.crc32c_table(data) == expected


def test_crc32c_known_value():
    import crc32c

    assert bytecodecs.crc32c(b"123456789") == 0xE3069283
    blob = np.random.default_rng(0).bytes(100_000)
    assert bytecodecs.crc32c(blob) == crc32c.crc32c(blob)


@given(st.binary(max_size=5000), st.integers(-5, 9), st.booleans())
def test_zstd_kernel_matches_zstandard(data, level, checksum):
    frame = bytecodecs.zstd_compress(data, level, checksum)
    assert zstandard.ZstdDecompressor().decompress(frame) == data
    assert bytecodecs.zstd_decompress(frame, len(data)) == data
    no_size = zstandard.ZstdCompressor(write_content_size=False).compress(data)
    assert bytecodecs.zstd_decompress(no_size, len(data)) == data


def test_zstd_kernel_refuses_wrong_sizes():
    frame = zstandard.ZstdCompressor().compress(b"x" * 1000)
    with pytest.raises(ValueError):
        bytecodecs.zstd_decompress(frame, 999)
    with pytest.raises(ValueError):
        bytecodecs.zstd_decompress(frame, 1001)
    bomb = zstandard.ZstdCompressor(write_content_size=False).compress(b"\0" * 10_000_000)
    with pytest.raises(ValueError):
        bytecodecs.zstd_decompress(bomb, 100)
    with pytest.raises(ValueError):
        bytecodecs.zstd_decompress(frame[:-3], 1000)


def _c_strides(shape, itemsize):
    return list(np.empty(shape, dtype=np.dtype(f"V{itemsize}")).strides)


@st.composite
def region(draw):
    ndim = draw(st.integers(1, 4))
    chunk = tuple(draw(st.lists(st.integers(1, 5), min_size=ndim, max_size=ndim)))
    steps, starts, counts = [], [], []
    for n in chunk:
        step = draw(st.sampled_from([1, 1, 2, -1, -2, 3]))
        count = draw(st.integers(0, n))
        if count == 0:
            starts.append(0)
        elif step > 0:
            starts.append(draw(st.integers(0, n - 1 - (count - 1) * step)) if n - 1 - (count - 1) * step >= 0 else None)
        else:
            lo = (count - 1) * (-step)
            starts.append(draw(st.integers(lo, n - 1)) if lo <= n - 1 else None)
        steps.append(step)
        counts.append(count)
    if None in starts:
        counts = [0 if s is None else c for s, c in zip(starts, counts)]
        starts = [0 if s is None else s for s in starts]
    dtype = np.dtype(draw(st.sampled_from(["u1", "<u2", ">i4", "<f8", "<c16", "V3"])))
    transpose = draw(st.permutations(range(ndim)))
    return chunk, tuple(starts), tuple(steps), tuple(counts), dtype, list(transpose)


@given(region(), st.integers(0, 2**32 - 1))
def test_read_into_matches_numpy(case, seed):
    chunk, starts, steps, counts, dtype, perm = case
    rng = np.random.default_rng(seed)
    logical = np.frombuffer(rng.bytes(int(np.prod(chunk)) * dtype.itemsize), dtype=dtype).reshape(chunk)
    stored = np.ascontiguousarray(logical.transpose(perm))
    cs = _c_strides(stored.shape, dtype.itemsize)
    layout = [0] * len(chunk)
    for k, p in enumerate(perm):
        layout[p] = cs[k]
    fill = bytes(range(dtype.itemsize))
    prog = ChunkProgram(chunk, dtype.itemsize, layout, 0, fill)
    out = np.zeros(tuple(c + 2 for c in counts), dtype=dtype)
    expected = out.copy()
    sel = tuple(slice(s, (s + c * st) if (s + c * st) >= 0 else None, st) for s, c, st in zip(starts, counts, steps))
    expected[tuple(slice(1, 1 + c) for c in counts)] = logical[sel]
    plan = [np.array([x], dtype=np.int64) for x in (starts, counts, [1] * len(chunk))]
    status = np.zeros(1, dtype=np.int64)
    assert read_into(prog, out, plan[0], plan[1], plan[2], np.array(steps, dtype=np.int64), [stored.tobytes()],
                     status) == 0
    assert out.tobytes() == expected.tobytes()
    # a missing chunk fills the same region with the fill element
    out2 = np.zeros_like(out)
    read_into(prog, out2, plan[0], plan[1], plan[2], np.array(steps, dtype=np.int64), [None], status)
    region_bytes = out2[tuple(slice(1, 1 + c) for c in counts)].tobytes()
    assert region_bytes == fill * int(np.prod(counts))


@given(region(), st.integers(0, 2**32 - 1))
def test_encode_from_matches_numpy(case, seed):
    chunk, starts, steps, counts, dtype, perm = case
    rng = np.random.default_rng(seed)
    src = np.frombuffer(rng.bytes(int(np.prod(counts)) * dtype.itemsize), dtype=dtype).reshape(counts)
    old = np.frombuffer(rng.bytes(int(np.prod(chunk)) * dtype.itemsize), dtype=dtype).reshape(chunk)
    stored_old = np.ascontiguousarray(old.transpose(perm))
    cs = _c_strides(stored_old.shape, dtype.itemsize)
    layout = [0] * len(chunk)
    for k, p in enumerate(perm):
        layout[p] = cs[k]
    prog = ChunkProgram(chunk, dtype.itemsize, layout, 0, bytes(dtype.itemsize))
    expected = old.copy()
    sel = tuple(slice(s, (s + c * st) if (s + c * st) >= 0 else None, st) for s, c, st in zip(starts, counts, steps))
    expected[sel] = src
    status = np.zeros(1, dtype=np.int64)
    plan = [np.array([x], dtype=np.int64) for x in (starts, counts, [0] * len(chunk))]
    res = encode_from(prog, src, plan[0], plan[1], plan[2], np.array(steps, dtype=np.int64), [stored_old.tobytes()],
                      np.zeros(1, dtype=np.uint8), True, status)
    assert status[0] == 0
    assert res[0] == np.ascontiguousarray(expected.transpose(perm)).tobytes()


@pytest.mark.parametrize("n_crc", [0, 1, 2])
@pytest.mark.parametrize("expander,params", [(0, ()), (1, (1, 0))], ids=["raw", "zstd"])
def test_encode_from_returns_owned_read_only_views(expander, params, n_crc):
    """Encoded chunks come back as read-only memoryviews over kernel-allocated memory: they outlive everything
    else of the call, can't be written through, and hold the chunk (plus its crc32c) exactly."""
    import gc

    prog = ChunkProgram((4, 4), 4, (16, 4), 0, bytes(4), expander=expander, params=params, n_crc=n_crc)
    src = np.arange(32, dtype="<u4").reshape(8, 4)
    plan = [np.array(x, dtype=np.int64) for x in ([[0, 0], [0, 0]], [[4, 4], [4, 4]], [[0, 0], [4, 0]])]
    status = np.zeros(2, dtype=np.int64)
    res = encode_from(prog, src, plan[0], plan[1], plan[2], np.ones(2, dtype=np.int64), [None, None],
                      np.ones(2, dtype=np.uint8), True, status)
    del src, plan, prog
    gc.collect()
    for k, view in enumerate(res):
        assert isinstance(view, memoryview) and view.readonly and view.format == "B" and view.c_contiguous
        with pytest.raises(TypeError):
            view[0] = 1
        payload = bytes(view)
        for _ in range(n_crc):  # each crc32c covers everything before it
            payload, crc = payload[:-4], payload[-4:]
            assert crc == crc32c_py(payload).to_bytes(4, "little")
        raw = payload if expander == 0 else zstandard.ZstdDecompressor().decompress(payload)
        assert raw == np.arange(16 * k, 16 * k + 16, dtype="<u4").tobytes()
    copies = [memoryview(v) for v in res]
    del res
    gc.collect()
    assert bytes(copies[1])[:4] == bytes(copies[1][:4])  # a view of a view keeps the memory alive


def test_plans_outside_the_buffers_are_rejected():
    prog = ChunkProgram((4, 4), 1, (4, 1), 0, b"\0")
    out = np.zeros((4, 4), dtype="u1")
    status = np.zeros(1, dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    bad_cases = [
        ([[3, 0]], [[2, 1]], [[0, 0]], [1, 1]),   # runs past the chunk
        ([[0, 0]], [[2, 1]], [[3, 0]], [1, 1]),   # runs past the output
        ([[0, 0]], [[2, 1]], [[0, 0]], [-1, 1]),  # negative step walks below 0
        ([[0, 0]], [[-1, 1]], [[0, 0]], [1, 1]),  # negative count
    ]
    for cstart, count, ostart, steps in bad_cases:
        with pytest.raises((IndexError, ValueError)):
            read_into(prog, out, np.array(cstart, dtype=np.int64), np.array(count, dtype=np.int64),
                      np.array(ostart, dtype=np.int64), np.array(steps, dtype=np.int64), [bytes(16)], status)
    with pytest.raises(ValueError):  # dtype size mismatch
        read_into(prog, np.zeros((4, 4), dtype="u2"), np.zeros((1, 2), dtype=np.int64),
                  np.ones((1, 2), dtype=np.int64), np.zeros((1, 2), dtype=np.int64), one.repeat(2), [None], status)


def test_raw_chunk_of_wrong_size_is_an_error_status():
    prog = ChunkProgram((4,), 2, (2,), 0, b"\0\0")
    out = np.zeros(4, dtype="u2")
    status = np.zeros(1, dtype=np.int64)
    z = np.zeros((1, 1), dtype=np.int64)
    assert read_into(prog, out, z, np.full((1, 1), 4, dtype=np.int64), z, np.ones(1, dtype=np.int64), [b"abc"],
                     status) == 1
    assert status[0] < 0


_ROW_BYTES = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 127, 128, 129, 200, 255, 256, 257,
              300]


@pytest.mark.parametrize("dtype,row_bytes", [(dt, rb) for dt in ("u1", "<u2", "<f8") for rb in _ROW_BYTES
                                             if rb % np.dtype(dt).itemsize == 0])
def test_short_rows_scatter_and_gather_exactly(row_bytes, dtype):
    """Rows of every length around the inline short-row copy's size classes (and past its 256-byte limit) land
    exactly where numpy puts them, without touching the neighbouring bytes: read into a poisoned output, write from
    a strided source."""
    import zarrfast

    n = row_bytes // np.dtype(dtype).itemsize
    rng = np.random.default_rng(row_bytes)
    data = rng.integers(0, 200, (7, 3 * n + 1)).astype(dtype)
    a = zarrfast.create_array(store={}, shape=data.shape, chunks=(3, n), dtype=dtype, compressors=None,
                              fill_value=0, zarr_format=3)
    a[...] = data[:, ::-1][:, ::-1]  # a strided view of the same values: the gather copies rows of `n` elements
    out = np.full((9, 3 * n + 3), 99, dtype=dtype)
    a.get_basic_selection(Ellipsis, out=out[1:8, 1:3 * n + 2])
    expected = np.full_like(out, 99)
    expected[1:8, 1:3 * n + 2] = data
    assert out.tobytes() == expected.tobytes()
    assert a[2:6, 1:2 * n + 1].tobytes() == data[2:6, 1:2 * n + 1].tobytes()
