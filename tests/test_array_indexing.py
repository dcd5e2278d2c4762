"""Basic indexing, get and set (every kind of basic selection, ``out=``, edge chunks, 0-d and empty
shapes), and what missing and all-fill chunks read as and whether they are stored; numpy is the oracle.
"""
from __future__ import annotations

import numpy as np
import pytest
import zarr
from array_helpers import (  # noqa: F401 - rw_store and store are fixtures
    FORMATS,
    REF2D,
    chunk_keys,
    ckey,
    rw_store,
    store,
)

import zarrfast
from zarrfast.errors import DataTypeMismatchError, ShapeMismatchError
from zarrfast.storage import ZipStore

# ------------------------------------------------------------------------------------------------------------------
# basic indexing: get

SELECTIONS = [
    (), Ellipsis, 0, -1, 12, -13, (3, 4), (-1, -1), (0, -17), (12, 16),
    slice(None), slice(2, 9), slice(None, None, 2), slice(None, None, -1), slice(11, 2, -3), slice(-3, None),
    slice(-100, 100), slice(None, None, 100), slice(None, None, -100),
    (slice(1, 12, 5), slice(16, None, -4)), (Ellipsis, 3), (2, Ellipsis), (Ellipsis, slice(None, None, -2)),
    (Ellipsis, -1, -1), (slice(None), Ellipsis, slice(3, 4)),
    (slice(5, 5), slice(None)), (slice(3, 1), 2), (slice(None), slice(10, 3)), (slice(3, 1, -1), slice(None, None, -7)),
    (slice(0, 0), slice(0, 0)), (slice(100, 200), 1), (5, slice(17, None)),
    (np.int64(3), np.int32(-2)), (np.array(3), slice(None)), (np.uint8(12), np.array(-1)),
    (slice(0, 4), slice(0, 5)), (slice(12, 13), slice(15, 17)), (slice(11, None), slice(14, None)),
    (slice(3, 5), slice(4, 6)), (slice(-2, -5, -1), slice(-1, -18, -1)),
]


def _check_selection(a, ref, sel):
    got = a[sel]
    want = ref[sel]
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), (sel, type(got))
        assert got.shape == want.shape, (sel, got.shape, want.shape)
        assert got.dtype == want.dtype
    else:
        assert np.ndim(got) == 0 and not isinstance(got, np.ndarray), (sel, type(got))
    np.testing.assert_array_equal(got, want, err_msg=repr(sel))
    np.testing.assert_array_equal(a.get_basic_selection(sel), want, err_msg=repr(sel))


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_basic_selections(store, fmt):
    a = zarrfast.create_array(store=store.obj, shape=REF2D.shape, chunks=(4, 5), dtype="i4", zarr_format=fmt)
    a[...] = REF2D
    for sel in SELECTIONS:
        _check_selection(a, REF2D, sel)
    b = zarrfast.open_array(store.for_reading(), mode="r")
    for sel in SELECTIONS:
        _check_selection(b, REF2D, sel)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("engine", ["auto", "python"])
def test_get_3d_orders(fmt, engine):
    ref = np.arange(7 * 6 * 5, dtype="<f8").reshape(7, 6, 5)
    stores = []
    if fmt == 2:
        for order in "CF":
            stores.append(dict(order=order))
    else:
        stores.append({})
        stores.append(dict(filters=[{"name": "transpose", "configuration": {"order": [2, 0, 1]}}]))
        stores.append(dict(serializer={"name": "bytes", "configuration": {"endian": "big"}}))
    sels = [Ellipsis, (slice(None, None, -1), 2, slice(1, None, 2)), (slice(6, 0, -2), Ellipsis, -1),
            (1, 2, 3), (slice(2, 6), slice(None, None, -5), slice(4, 0, -3)), (slice(3, 3), 0, slice(None))]
    with zarrfast.config.set(engine=engine):
        for extra in stores:
            a = zarrfast.create_array(store={}, shape=ref.shape, chunks=(3, 4, 2), dtype=ref.dtype, zarr_format=fmt,
                                      **extra)
            a[...] = ref
            for sel in sels:
                _check_selection(a, ref, sel)
            b = zarrfast.create_array(store={}, shape=ref.shape, chunks=(3, 4, 2), dtype=ref.dtype, zarr_format=fmt,
                                      **extra)
            b[::-1, ::2] = ref[::-1, ::2]
            b[:, 1::2] = ref[:, 1::2]
            np.testing.assert_array_equal(b[...], ref)


@pytest.mark.parametrize("fmt", FORMATS)
def test_zero_dimensional(rw_store, fmt):
    a = zarrfast.create_array(store=rw_store.obj, shape=(), dtype="f8", fill_value=1.5, zarr_format=fmt)
    ref = np.array(1.5)
    assert a.shape == () and a.ndim == 0 and a.size == 1 and a.nchunks == 1 and a.chunks == ()
    for sel in [(), Ellipsis]:
        got, want = a[sel], ref[sel]
        assert type(got) is type(want) and got == want
    a[()] = 3
    assert a[()] == 3.0 and isinstance(a[()], np.floating)
    a[...] = np.array(4.0)
    assert a[...].shape == () and a[...] == 4.0
    assert chunk_keys(rw_store.keys()) == {ckey(fmt)}
    a[...] = 1.5  # back to the fill value: the chunk is deleted
    assert not chunk_keys(rw_store.keys())
    assert np.asarray(a).shape == () and float(np.asarray(a)) == 1.5
    with pytest.raises(TypeError):
        len(a)
    with pytest.raises(TypeError):
        list(a)
    with pytest.raises(IndexError):
        a[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_shape(store, fmt):
    a = zarrfast.create_array(store=store.obj, shape=(5, 0), chunks=(2, 3), dtype="i4", zarr_format=fmt)
    assert a.size == 0 and a.nchunks == 0 and a.nbytes == 0
    assert a[...].shape == (5, 0) and a[2].shape == (0,)
    a[...] = 1
    a[1:3] = np.zeros((2, 0))
    assert not chunk_keys(store.keys())
    assert list(a) == [] or all(r.shape == (0,) for r in a)


# ------------------------------------------------------------------------------------------------------------------
# basic indexing: set

SET_OPS = [
    (Ellipsis, REF2D),
    ((3, 4), 99),
    ((-1, -1), -5),
    ((slice(None, None, -1), 2), np.arange(13)),
    ((slice(11, 2, -3), slice(None, None, 4)), 7),
    ((Ellipsis, 3), np.arange(13) * 2),
    ((2, Ellipsis), 1),
    ((slice(1, 12, 5), slice(16, None, -4)), np.arange(15).reshape(3, 5)),
    ((slice(5, 5), slice(None)), 3),
    ((slice(3, 1), 2), 3),
    ((slice(0, 4), slice(0, 5)), np.ones((1, 5))),
    ((np.int64(4), slice(None)), np.int8(3)),
    ((slice(None, None, 3), slice(None, None, -2)), 2.9),
    ((slice(12, None), slice(15, None)), [[8, 9]]),
    ((np.array(-2), slice(None)), np.arange(17)[::-1]),
    ((slice(None), slice(None)), np.arange(17)),
    ((), 0),
    ((slice(2, 9), slice(3, 14)), REF2D[2:9, 3:14]),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("engine", ["auto", "python"])
def test_set_basic_selections(rw_store, fmt, engine):
    ref = np.zeros(REF2D.shape, "i4")
    with zarrfast.config.set(engine=engine):
        a = zarrfast.create_array(store=rw_store.obj, shape=REF2D.shape, chunks=(4, 5), dtype="i4", zarr_format=fmt)
        for sel, value in SET_OPS:
            a[sel] = value
            ref[sel] = value
            np.testing.assert_array_equal(a[...], ref, err_msg=f"after a[{sel!r}] = ...")
        a.set_basic_selection((slice(None, None, -2), 1), -3)
        ref[::-2, 1] = -3
        np.testing.assert_array_equal(a[...], ref)
    np.testing.assert_array_equal(zarrfast.open_array(rw_store.obj, mode="r")[...], ref)


@pytest.mark.parametrize("fmt", FORMATS)
def test_set_whole_array_zip_and_read_with_zarr_python(tmp_path, fmt):
    path = str(tmp_path / "a.zip")
    zs = ZipStore(path, mode="w")
    a = zarrfast.create_array(store=zs, shape=REF2D.shape, chunks=(4, 5), dtype="i4", zarr_format=fmt)
    a[...] = REF2D
    zs.close()
    np.testing.assert_array_equal(zarrfast.open_array(path, mode="r")[::-1, 3], REF2D[::-1, 3])
    with zarr.storage.ZipStore(path, mode="r") as zz:
        np.testing.assert_array_equal(zarr.open_array(zz, mode="r")[...], REF2D)


@pytest.mark.parametrize("fmt", FORMATS)
def test_partial_edge_chunks(rw_store, fmt):
    a = zarrfast.create_array(store=rw_store.obj, shape=(10, 7), chunks=(4, 3), dtype="u2", fill_value=9,
                              zarr_format=fmt)
    ref = np.full((10, 7), 9, "u2")
    a[8:10, 6] = [1, 2]
    ref[8:10, 6] = [1, 2]
    assert chunk_keys(rw_store.keys()) == {ckey(fmt, 2, 2)}
    np.testing.assert_array_equal(a[7:, 5:], ref[7:, 5:])
    a[9, :] = np.arange(7)
    ref[9, :] = np.arange(7)
    np.testing.assert_array_equal(a[...], ref)
    assert chunk_keys(rw_store.keys()) == {ckey(fmt, 2, j) for j in range(3)}
    if rw_store.kind == "dir":  # zarr-python reads the edge chunks (stored at full chunk size)
        np.testing.assert_array_equal(zarr.open_array(rw_store.obj, mode="r")[...], ref)


@pytest.mark.parametrize("fmt", FORMATS)
def test_get_basic_selection_out(fmt):
    a = zarrfast.create_array(store={}, shape=REF2D.shape, chunks=(4, 5), dtype="i4", zarr_format=fmt)
    a[...] = REF2D
    out = np.empty((10,), dtype="i4")
    res = a.get_basic_selection((slice(0, 10), 3), out=out)
    assert res is out
    np.testing.assert_array_equal(out, REF2D[0:10, 3])
    out = np.zeros((13, 17), "i4")
    a.get_basic_selection(Ellipsis, out=out)
    np.testing.assert_array_equal(out, REF2D)
    out = np.zeros((3, 5), "i4")
    a.get_basic_selection((slice(10, 1, -3), slice(None, None, -4)), out=out)
    np.testing.assert_array_equal(out, REF2D[10:1:-3, ::-4])
    # a non-contiguous view as out
    big = np.zeros((8, 20), "i4")
    view = big[:, ::2]
    a.get_basic_selection((slice(0, 8), slice(2, 12)), out=view)
    np.testing.assert_array_equal(view, REF2D[0:8, 2:12])
    np.testing.assert_array_equal(big[:, 1::2], 0)
    # an empty selection leaves out alone
    out = np.zeros((0, 17), "i4")
    assert a.get_basic_selection(slice(5, 5), out=out) is out
    with pytest.raises(ShapeMismatchError):
        a.get_basic_selection((slice(0, 10), 3), out=np.empty((9,), "i4"))
    with pytest.raises(DataTypeMismatchError):
        a.get_basic_selection((slice(0, 10), 3), out=np.empty((10,), "i8"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_set_value_shape_and_dtype(fmt):
    a = zarrfast.create_array(store={}, shape=(4, 6), chunks=(2, 4), dtype="f4", zarr_format=fmt)
    a[:, :] = [1, 2, 3, 4, 5, 6]  # broadcast a list
    np.testing.assert_array_equal(a[...], np.tile(np.arange(1, 7, dtype="f4"), (4, 1)))
    a[1] = np.arange(6, dtype="i8")  # a castable dtype
    assert a[1, 5] == 5.0
    with pytest.raises(ShapeMismatchError):
        a[1] = np.arange(5)
    with pytest.raises(ValueError):
        a[:2, :2] = np.ones((3, 2))
    with pytest.raises(DataTypeMismatchError):
        a[0, 0] = "not a number"


# ------------------------------------------------------------------------------------------------------------------
# fill values, missing and empty chunks

FILLS = [("f4", np.nan), ("f8", -np.inf), ("i2", -7), ("u1", 255), ("bool", True), ("c8", 1 + 2j), ("f8", 0.0),
         ("u8", 2**64 - 1), ("i8", -(2**63))]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype,fill", FILLS, ids=[f"{d}-{f}" for d, f in FILLS])
def test_missing_chunks_read_as_fill(store, fmt, dtype, fill):
    a = zarrfast.create_array(store=store.obj, shape=(10, 7), chunks=(3, 4), dtype=dtype, fill_value=fill,
                              zarr_format=fmt)
    ref = np.full((10, 7), fill, dtype)
    np.testing.assert_array_equal(a[...], ref)
    value = np.arange(1, 13).reshape(3, 4).astype(dtype) if dtype != "bool" else np.zeros((3, 4), bool)
    a[3:6, 0:4] = value
    ref[3:6, 0:4] = value
    np.testing.assert_array_equal(a[...], ref)
    np.testing.assert_array_equal(a[::-1, 5], ref[::-1, 5])
    assert chunk_keys(store.keys()) == {ckey(fmt, 1, 0)}
    b = zarrfast.open_array(store.for_reading(), mode="r")
    np.testing.assert_array_equal(b[...], ref)
    if isinstance(fill, float) and np.isnan(fill):
        assert np.isnan(b.fill_value)
    else:
        assert b.fill_value == fill


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("dtype,fill", [("i4", 0), ("f8", np.nan), ("i2", -3), ("f4", 2.5)])
def test_all_fill_chunks_not_stored(rw_store, fmt, engine, dtype, fill):
    with zarrfast.config.set(engine=engine):
        a = zarrfast.create_array(store=rw_store.obj, shape=(10, 7), chunks=(3, 4), dtype=dtype, fill_value=fill,
                                  zarr_format=fmt)
        a[...] = fill
        assert not chunk_keys(rw_store.keys())
        a[0:3, 0:4] = 1
        assert chunk_keys(rw_store.keys()) == {ckey(fmt, 0, 0)}
        a[0:3, 0:4] = fill  # a complete chunk back to the fill value
        assert not chunk_keys(rw_store.keys())
        a[4, 5] = 1
        assert chunk_keys(rw_store.keys()) == {ckey(fmt, 1, 1)}
        a[4, 5] = fill  # read-modify-write ends all fill
        assert not chunk_keys(rw_store.keys())
        a[9, 4:7] = 1  # the corner edge chunk
        assert chunk_keys(rw_store.keys()) == {ckey(fmt, 3, 1)}
        a[9:, 4:] = fill
        assert not chunk_keys(rw_store.keys())
        a[...] = np.arange(70).reshape(10, 7)
        assert len(chunk_keys(rw_store.keys())) == a.nchunks
        a[...] = fill
        assert not chunk_keys(rw_store.keys())
        np.testing.assert_array_equal(a[...], np.full((10, 7), fill, dtype))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["create_kw", "open_kw", "config_kw", "global_config", "config_context"])
def test_write_empty_chunks(rw_store, fmt, how):
    kw = {}
    if how == "create_kw":
        kw = {"write_empty_chunks": True}
    elif how == "config_kw":
        kw = {"config": {"write_empty_chunks": True}}
    a = zarrfast.create_array(store=rw_store.obj, shape=(10, 7), chunks=(3, 4), dtype="f4", fill_value=np.nan,
                              zarr_format=fmt, **kw)
    if how == "open_kw":
        a = zarrfast.open_array(rw_store.obj, mode="r+", write_empty_chunks=True)
    if how == "global_config":
        zarrfast.config.set(write_empty_chunks=True)  # the autouse fixture resets the config
    if how == "config_context":
        with zarrfast.config.set(write_empty_chunks=True):
            a[...] = np.nan
        assert len(chunk_keys(rw_store.keys())) == 8
        a[0, 0] = np.nan  # outside the context: all-fill chunks are dropped again
        assert len(chunk_keys(rw_store.keys())) == 7
        return
    a[...] = np.nan
    assert len(chunk_keys(rw_store.keys())) == 8
    a[0:3, 0:4] = 1
    a[0:3, 0:4] = np.nan
    assert ckey(fmt, 0, 0) in rw_store.keys()
    np.testing.assert_array_equal(a[...], np.full((10, 7), np.nan, "f4"))


def test_write_empty_chunks_default_off():
    assert zarrfast.config.get("write_empty_chunks") is False
    s = {}
    a = zarrfast.create_array(store=s, shape=(4,), chunks=(2,), dtype="i4", write_empty_chunks=False)
    with zarrfast.config.set(write_empty_chunks=True):
        a[...] = 0  # the array's own setting wins over the config
    assert not chunk_keys(set(s))

