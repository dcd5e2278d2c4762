"""Orthogonal (oindex), coordinate (vindex), mask and block selections: numpy is the value oracle, zarr-python the
behaviour oracle; a counting store shows every touched chunk is fetched once."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import zarrfast
from zarrfast.errors import BoundsCheckError, ReadOnlyError, SelectionError, ShapeMismatchError
from zarrfast.storage import LoggingStore, MemoryStore

LAYOUTS = ["v2", "v3", "v3-python", "sharded", "sharded-gzip", "v2-F"]


def make(layout, shape, chunks, dtype="i4", store=None):
    store = MemoryStore() if store is None else store
    kw = dict(store=store, shape=shape, dtype=dtype, fill_value=-7)
    if layout.startswith("v2"):
        a = zarrfast.create_array(chunks=chunks, zarr_format=2, order="F" if layout == "v2-F" else "C", **kw)
    elif layout.startswith("sharded"):
        inner = tuple(max(1, c // 2) for c in chunks)
        shards = tuple(i * 2 for i in inner)
        comp = [{"name": "gzip", "configuration": {"level": 1}}] if layout == "sharded-gzip" else "auto"
        a = zarrfast.create_array(chunks=inner, shards=shards, compressors=comp, **kw)
    else:
        if layout == "v3-python":
            zarrfast.config.set(engine="python")
        a = zarrfast.create_array(chunks=chunks, **kw)
    return a


def filled(layout, shape, chunks, dtype="i4", store=None):
    a = make(layout, shape, chunks, dtype, store)
    x = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    a[...] = x
    return a, x


@st.composite
def shape_chunks(draw, max_ndim=3):
    ndim = draw(st.integers(1, max_ndim))
    shape = tuple(draw(st.integers(1, 13)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, max(1, s))) for s in shape)
    return shape, chunks


@st.composite
def axis_selector(draw, n, allow_int=True):
    kind = draw(st.sampled_from(["int", "slice", "ints", "bools"] if allow_int else ["slice", "ints", "bools"]))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "slice":
        start = draw(st.none() | st.integers(-n - 2, n + 2))
        stop = draw(st.none() | st.integers(-n - 2, n + 2))
        step = draw(st.none() | st.integers(-4, 4).filter(lambda s: s != 0))
        return slice(start, stop, step)
    if kind == "ints":
        vals = draw(st.lists(st.integers(-n, n - 1), min_size=0, max_size=8))
        return np.asarray(vals, dtype=draw(st.sampled_from([np.int64, np.int32, np.intp])))
    return np.asarray(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)


def ortho_oracle(x, selection):
    idx, drop = [], []
    for s, n in zip(selection, x.shape):
        if isinstance(s, slice):
            idx.append(np.arange(*s.indices(n)))
            drop.append(False)
        elif isinstance(s, (int, np.integer)):
            idx.append(np.asarray([s % n]))
            drop.append(True)
        elif s.dtype == bool:
            idx.append(np.flatnonzero(s))
            drop.append(False)
        else:
            idx.append(np.asarray(s) % n if len(s) else np.asarray(s, dtype=np.intp))
            drop.append(False)
    ix = np.ix_(*idx)
    full_shape = tuple(len(i) for i in idx)
    rshape = tuple(len(i) for i, d in zip(idx, drop) if not d)
    return ix, full_shape, rshape


# ---- orthogonal ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_oindex_get_matches_numpy(layout, data):
    shape, chunks = data.draw(shape_chunks())
    a, x = filled(layout, shape, chunks)
    sel = tuple(data.draw(axis_selector(n)) for n in shape)
    ix, _, rshape = ortho_oracle(x, sel)
    want = x[ix].reshape(rshape)
    got = a.oindex[sel]
    np.testing.assert_array_equal(got, want)
    assert got.shape == want.shape
    np.testing.assert_array_equal(a.get_orthogonal_selection(sel), want)
    out = np.empty(rshape, dtype=a.dtype)
    assert a.get_orthogonal_selection(sel, out=out) is out
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_oindex_set_matches_numpy(layout, data):
    shape, chunks = data.draw(shape_chunks())
    a, x = filled(layout, shape, chunks)
    sel = tuple(data.draw(axis_selector(n)) for n in shape)
    ix, full, rshape = ortho_oracle(x, sel)
    if data.draw(st.booleans()):
        value = -np.arange(int(np.prod(rshape)), dtype="i4").reshape(rshape) - 100
    else:
        value = -3
    a.oindex[sel] = value
    x[ix] = np.broadcast_to(value, rshape).reshape(full)
    np.testing.assert_array_equal(a[...], x)


def test_oindex_fill_value_chunks_dropped_and_ellipsis():
    a = make("v3", (8, 8), (4, 4))
    a.oindex[[0, 5], ...] = 3
    x = np.full((8, 8), -7, dtype="i4")
    x[[0, 5], :] = 3
    np.testing.assert_array_equal(a[...], x)
    a.oindex[[0, 5], :] = -7  # back to fill everywhere: chunks deleted
    assert a.nchunks_initialized == 0
    np.testing.assert_array_equal(a.oindex[..., [1, 1]], np.full((8, 2), -7))


def test_oindex_errors():
    a, _ = filled("v3", (5, 6), (2, 3))
    with pytest.raises(BoundsCheckError):
        a.oindex[[0, 5], :]
    with pytest.raises(IndexError):
        a.oindex[[-6], :]
    with pytest.raises(IndexError):
        a.oindex[np.ones(4, dtype=bool), :]
    with pytest.raises(IndexError):
        a.oindex[[[0, 1]], :]
    with pytest.raises(IndexError):
        a.oindex[0, 0, 0]
    with pytest.raises(ValueError):
        a.oindex[[0, 1], [0, 1]] = np.zeros((3, 2))
    with pytest.raises(ValueError):
        a.get_orthogonal_selection(([0, 1], slice(None)), out=np.empty((2, 5), dtype="i4"))
    r = zarrfast.open_array(a.store.with_read_only(True))
    with pytest.raises(ReadOnlyError):
        r.oindex[[0], :] = 1


# ---- coordinate / mask --------------------------------------------------------------------------------------------
@st.composite
def coordinates(draw, shape):
    bshape = draw(st.sampled_from([(), (0,), (1,), (5,), (3, 4), (2, 1, 3)]))
    sel = []
    for n in shape:
        own = draw(st.sampled_from(["full", "scalar", "bcast"]))
        if own == "scalar":
            sel.append(draw(st.integers(-n, n - 1)))
            continue
        s = bshape if own == "full" or not bshape else tuple(1 if i % 2 else d for i, d in enumerate(bshape))
        vals = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(s)), max_size=int(np.prod(s))))
        sel.append(np.asarray(vals, dtype=np.int64).reshape(s))
    return tuple(sel)


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_vindex_coordinates_match_numpy(layout, data):
    shape, chunks = data.draw(shape_chunks())
    a, x = filled(layout, shape, chunks)
    sel = data.draw(coordinates(shape))
    if all(isinstance(s, int) for s in sel):
        sel = (np.asarray([sel[0]]),) + sel[1:]
    want = x[sel]
    if want.shape == ():
        want = want.reshape(1)  # zarr-python: a 0-d coordinate selection gives a 1-d result
    got = a.vindex[sel]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    out = np.empty(want.shape, dtype=a.dtype)
    assert a.get_coordinate_selection(sel, out=out) is out
    np.testing.assert_array_equal(out, want)
    value = (np.arange(want.size, dtype="i4").reshape(want.shape) + 1000) if data.draw(st.booleans()) else 99
    a.vindex[sel] = value
    x[sel] = value.reshape(x[sel].shape) if isinstance(value, np.ndarray) else value
    np.testing.assert_array_equal(a[...], x)


@pytest.mark.parametrize("layout", LAYOUTS)
@given(data=st.data())
def test_mask_selection_matches_numpy(layout, data):
    shape, chunks = data.draw(shape_chunks())
    a, x = filled(layout, shape, chunks)
    density = data.draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    mask = rng.random(shape) < density
    np.testing.assert_array_equal(a.vindex[mask], x[mask])
    np.testing.assert_array_equal(a.get_mask_selection(mask), x[mask])
    np.testing.assert_array_equal(a[mask], x[mask])
    value = np.arange(int(mask.sum()), dtype="i4") + 500
    which = data.draw(st.sampled_from(["vindex", "method", "setitem"]))
    if which == "vindex":
        a.vindex[mask] = value
    elif which == "method":
        a.set_mask_selection(mask, value)
    else:
        a[mask] = value
    x[mask] = value
    np.testing.assert_array_equal(a[...], x)


def test_dispatch_like_zarr_python():
    zarr = pytest.importorskip("zarr")
    x = np.arange(60, dtype="i4").reshape(6, 10)
    a = zarrfast.create_array(store=MemoryStore(), shape=x.shape, chunks=(4, 3), dtype="i4")
    z = zarr.create_array(store={}, shape=x.shape, chunks=(4, 3), dtype="i4")
    a[...] = x
    z[...] = x
    m = x % 3 == 0
    for sel in [[1, 3], np.array([5, 0, 0]), ([1, 3], [2, 9]), (np.array([[1], [2]]), np.array([0, 1, 2])),
                ([1, 3], slice(2, 8)), (slice(None), [True] * 5 + [False] * 5), m, (2, [1, 2]),
                (np.array([True, False] * 3), 4), (1, np.array([2, 3]))]:
        np.testing.assert_array_equal(a[sel], z[sel])
        assert a[sel].shape == z[sel].shape
    for sel in [(1, 2), 1]:
        np.testing.assert_array_equal(a.oindex[sel], z.oindex[sel])
        assert a.oindex[sel].shape == z.oindex[sel].shape
    assert a.vindex[1, 2].shape == z.vindex[1, 2].shape == (1,)
    np.testing.assert_array_equal(a.vindex[[1, 2], 3], z.vindex[[1, 2], 3])
    a[[1, 3], [2, 9]] = [-1, -2]
    z[[1, 3], [2, 9]] = [-1, -2]
    a[[0, 4], 1:3] = -5
    z[[0, 4], 1:3] = -5
    np.testing.assert_array_equal(a[...], z[...])
    b1 = zarrfast.create_array(store=MemoryStore(), shape=(4,), chunks=(3,), dtype="i4")
    z1 = zarr.create_array(store={}, shape=(4,), chunks=(3,), dtype="i4")
    b1[...] = z1[...] = np.arange(4, dtype="i4")
    bl = [True, False, True, True]
    for sel in [bl, np.array(bl), [3, 0], (np.array(bl),)]:
        np.testing.assert_array_equal(b1[sel], z1[sel])
        np.testing.assert_array_equal(b1.vindex[sel], z1.vindex[sel])
        np.testing.assert_array_equal(b1.oindex[sel], z1.oindex[sel])
    b = zarrfast.create_array(store=MemoryStore(), shape=(9,), chunks=(2,), dtype="f8")
    b[[8, 0, 0, 3]] = [1.5, 2.5, 3.5, 4.5]
    np.testing.assert_array_equal(b[[3, 0, 8]], [4.5, 3.5, 1.5])


def test_vindex_errors():
    a, _ = filled("v3", (5, 6), (2, 3))
    with pytest.raises(IndexError):
        a.vindex[[0, 1], 1:3]
    with pytest.raises(IndexError):
        a.vindex[[0, 1]]
    with pytest.raises(BoundsCheckError):
        a.vindex[[0, 5], [0, 0]]
    with pytest.raises(IndexError):
        a.vindex[[0, 1, 2], [0, 1]]
    with pytest.raises(IndexError):
        a.vindex[np.ones((5, 5), dtype=bool)]
    with pytest.raises(ValueError):
        a.vindex[[0, 1], [0, 1]] = [1, 2, 3]


# ---- blocks -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["v2", "v3", "sharded"])
@given(data=st.data())
def test_blocks_match_numpy(layout, data):
    shape, chunks = data.draw(shape_chunks())
    a, x = filled(layout, shape, chunks)
    grid = a.shards or a.chunks  # zarr-python: blocks follow the (outer) chunk grid, i.e. shards
    sel, np_sel = [], []
    for n, c in zip(shape, grid):
        nb = -(-n // c)
        if data.draw(st.booleans()):
            b = data.draw(st.integers(-nb, nb - 1))
            sel.append(b)
            b %= nb
            np_sel.append(slice(b * c, (b + 1) * c))
        else:
            lo = data.draw(st.none() | st.integers(-nb - 1, nb + 1))
            hi = data.draw(st.none() | st.integers(-nb - 1, nb + 1))
            sel.append(slice(lo, hi))
            s, e, _ = slice(lo, hi).indices(nb)
            np_sel.append(slice(s * c, max(s, e) * c))
    sel, np_sel = tuple(sel), tuple(np_sel)
    np.testing.assert_array_equal(a.blocks[sel], x[np_sel])
    np.testing.assert_array_equal(a.get_block_selection(sel), x[np_sel])
    value = -np.arange(x[np_sel].size, dtype="i4").reshape(x[np_sel].shape)
    a.blocks[sel] = value
    x[np_sel] = value
    np.testing.assert_array_equal(a[...], x)
    a.set_block_selection(sel, 5)
    x[np_sel] = 5
    np.testing.assert_array_equal(a[...], x)


def test_blocks_like_zarr_python():
    zarr = pytest.importorskip("zarr")
    x = np.arange(100, dtype="i4").reshape(10, 10)
    for kw in [dict(chunks=(3, 4)), dict(chunks=(2, 2), shards=(4, 4))]:
        a = zarrfast.create_array(store=MemoryStore(), shape=x.shape, dtype="i4", **kw)
        z = zarr.create_array(store={}, shape=x.shape, dtype="i4", **kw)
        a[...] = x
        z[...] = x
        for sel in [0, -1, (1, 2), (slice(1, 3), -1), (Ellipsis, 1), slice(None)]:
            np.testing.assert_array_equal(a.blocks[sel], z.blocks[sel])
        with pytest.raises(IndexError):
            a.blocks[99]
        with pytest.raises(IndexError):
            a.blocks[::2]


# ---- store traffic ------------------------------------------------------------------------------------------------
def _counting(layout, shape, chunks):
    store = LoggingStore(MemoryStore())
    a, x = filled(layout, shape, chunks, store=store)
    store.reset()
    return a, x, store


def test_oindex_fetches_each_chunk_once():
    a, x, store = _counting("v3", (40, 40), (10, 10))
    rows = np.array([3, 1, 1, 38, 22, 3, 5, 9])       # chunks 0, 2, 3 along axis 0
    cols = np.array([0, 39, 11, 12, 13, 12])            # chunks 0, 1, 3 along axis 1
    np.testing.assert_array_equal(a.oindex[rows, cols], x[np.ix_(rows, cols)])
    assert store.counter["keys_read"] == 9
    assert store.counter["get"] + store.counter["get_many"] <= 2
    # writes: every touched chunk read at most once, written once
    store.reset()
    a.oindex[rows, cols] = 0
    x[np.ix_(rows, cols)] = 0
    assert store.counter["keys_read"] == 9
    assert store.counter["keys_written"] == 9
    np.testing.assert_array_equal(a[...], x)
    # a selection covering whole chunks is not read back
    store.reset()
    a.oindex[np.arange(10, 20)[::-1], np.arange(40)] = 1
    assert store.counter["keys_read"] == 0
    assert store.counter["keys_written"] == 4


def test_vindex_and_mask_fetch_each_chunk_once():
    a, x, store = _counting("v2", (50, 50), (10, 10))
    rng = np.random.default_rng(0)
    r = rng.integers(0, 50, 2000)
    c = rng.integers(0, 20, 2000)                      # 5 x 2 chunks
    np.testing.assert_array_equal(a.vindex[r, c], x[r, c])
    assert store.counter["keys_read"] == 10
    store.reset()
    mask = np.zeros((50, 50), dtype=bool)
    mask[::7, 45:] = True                              # 8 row chunks ... 5 x 1 chunks
    np.testing.assert_array_equal(a[mask], x[mask])
    assert store.counter["keys_read"] == 5
    store.reset()
    a.vindex[r, c] = -1
    x[r, c] = -1
    assert store.counter["keys_read"] <= 10
    assert store.counter["keys_written"] == 10
    np.testing.assert_array_equal(a[...], x)


def test_sharded_oindex_reads_each_shard_once():
    a, x, store = _counting("sharded", (32, 32), (8, 8))  # inner (4, 4), shards (8, 8)
    rows = np.array([0, 1, 17, 30, 30])
    cols = np.array([2, 9])
    np.testing.assert_array_equal(a.oindex[rows, cols], x[np.ix_(rows, cols)])
    # 3 x 2 shards touched: at most one index read and one ranged read per shard
    n_shards = 6
    assert store.counter["get_range"] + store.counter["get"] <= n_shards
    assert store.counter["get_ranges"] <= n_shards
    store.reset()
    np.testing.assert_array_equal(a.vindex[rows, [2, 9, 2, 9, 31]], x[rows, [2, 9, 2, 9, 31]])
    assert store.counter["get_ranges"] + store.counter["get"] <= 5  # shards (0,0) (0,1) (2,0) (3,1) (3,3)


def test_points_on_a_huge_sparse_grid():
    """More chunks than a lookup table would hold: points are grouped by sorting instead."""
    a = zarrfast.create_array(store=MemoryStore(), shape=(10**7, 10**7), chunks=(3, 5), dtype="i2", fill_value=-1)
    r = np.array([5, 9_999_999, 5, 123_456, 6])
    c = np.array([7, 0, 8, 9_999_998, 7])
    a.vindex[r, c] = [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(a.vindex[r, c], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(a.oindex[[6, 5, 4], [8, 7]], [[-1, 5], [3, 1], [-1, -1]])
    assert a.nchunks_initialized == 4


@pytest.mark.parametrize("sel", [[[0, 1]], [0.5], np.array([[0, 1]]), (slice(None), [[0, 1]]), ([0, 1], Ellipsis),
                                 (0, 0, 0), "a", None])
def test_still_invalid_selections_are_index_errors(sel):
    """What zarr-python rejects (IndexError) we reject too, with a ZarrfastError that is an IndexError."""
    a = zarrfast.create_array(store={}, shape=(10, 10), chunks=(4, 4), dtype="i4")
    with pytest.raises(zarrfast.errors.ZarrfastError) as info:
        a[sel]
    assert isinstance(info.value, IndexError)


def test_integer_lists_on_getitem_are_orthogonal_like_zarr_python():
    """``a[[0, 1]]`` / ``a[np.array([0, 1])]`` on a 2-d array select rows (they used to be rejected)."""
    x = np.arange(100, dtype="i4").reshape(10, 10)
    a = zarrfast.create_array(store={}, shape=(10, 10), chunks=(4, 4), dtype="i4")
    a[...] = x
    np.testing.assert_array_equal(a[[0, 1]], x[[0, 1]])
    np.testing.assert_array_equal(a[np.array([9, 0])], x[[9, 0]])
    a[[2, 3]] = 0
    x[[2, 3]] = 0
    np.testing.assert_array_equal(a[...], x)


def test_out_and_read_only_for_every_selection_kind():
    a, x = filled("v3", (6, 7), (4, 3))
    m = x % 4 == 1
    out = np.empty(int(m.sum()), dtype="i4")
    assert a.get_mask_selection(m, out=out) is out
    np.testing.assert_array_equal(out, x[m])
    out = np.empty((4, 3), dtype="i4")
    assert a.get_block_selection((0, 1), out=out) is out
    np.testing.assert_array_equal(out, x[:4, 3:6])
    with pytest.raises(ValueError):
        a.get_mask_selection(m, out=np.empty(3, dtype="i4"))
    with pytest.raises(TypeError):
        a.get_orthogonal_selection(([0], [1]), out=np.empty((1, 1), dtype="f8"))
    r = zarrfast.open_array(a.store.with_read_only(True))
    for f in [lambda: r.vindex.__setitem__(([0], [0]), 1), lambda: r.set_mask_selection(m, 1),
              lambda: r.blocks.__setitem__(0, 1), lambda: r.__setitem__([0, 1], 1)]:
        with pytest.raises(ReadOnlyError):
            f()
    np.testing.assert_array_equal(r[...], x)


def test_fields_on_advanced_gets():
    dt = np.dtype([("x", "i4"), ("y", "f8")])
    try:
        a = zarrfast.create_array(store=MemoryStore(), shape=(5, 4), chunks=(2, 3), dtype=dt, zarr_format=2)
    except zarrfast.errors.MetadataError:
        pytest.skip("structured dtypes not available")
    x = np.zeros((5, 4), dtype=dt)
    x["x"] = np.arange(20).reshape(5, 4)
    x["y"] = x["x"] / 2
    a[...] = x
    np.testing.assert_array_equal(a.get_orthogonal_selection(([4, 1], slice(None)), fields="y"), x[[4, 1]]["y"])
    np.testing.assert_array_equal(a.get_coordinate_selection(([0, 3], [1, 2]), fields=["x"]), x[[0, 3], [1, 2]][["x"]])
    np.testing.assert_array_equal(a.get_mask_selection(x["x"] > 15, fields="x"), [16, 17, 18, 19])
    np.testing.assert_array_equal(a.get_block_selection((1, 1), fields="x"), x["x"][2:4, 3:])
    with pytest.raises(IndexError):
        a.set_orthogonal_selection(([0], [0]), 1, fields="x")
    b = zarrfast.create_array(store=MemoryStore(), shape=(3,), chunks=(3,), dtype="i4")
    with pytest.raises(IndexError):
        b.get_orthogonal_selection([0], fields="x")
