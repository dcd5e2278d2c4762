"""Array creation (``create_array``, ``create``, ``zeros``/``ones``/``full``/``empty``, ``array``,
``from_array``, ``open``), array properties and the Python protocol; numpy and zarr-python 3 are the oracle.

The store kinds and formats every test runs over are in ``array_helpers.py``.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr
from array_helpers import (  # noqa: F401 - rw_store and store are fixtures
    FORMATS,
    HELPERS_V3_BUG,
    REF2D,
    chunk_keys,
    ckey,
    fmt_params,
    rw_store,
    store,
)

import zarrfast

# ------------------------------------------------------------------------------------------------------------------
# creation functions


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", ["i4", "f8", "u1", "bool", "c8", "i8", "f2", ">u2"])
def test_create_array_roundtrip_all_stores(store, fmt, dtype):
    if dtype == "bool":
        data = (REF2D % 3 == 0)
    else:
        data = REF2D.astype(dtype)
    kwargs = dict(store=store.obj, shape=data.shape, chunks=(4, 5), dtype=dtype, zarr_format=fmt,
                  fill_value=0, attributes={"units": "m"})
    if fmt == 3:
        kwargs["dimension_names"] = ["y", "x"]
        if np.dtype(dtype).byteorder == ">":
            kwargs["dtype"] = np.dtype(dtype).newbyteorder("=")
            kwargs["serializer"] = {"name": "bytes", "configuration": {"endian": "big"}}
    a = zarrfast.create_array(**kwargs)
    assert isinstance(a, zarrfast.Array)
    a[...] = data
    np.testing.assert_array_equal(a[...], data)
    b = zarrfast.open_array(store.for_reading(), mode="r")
    np.testing.assert_array_equal(b[...], data)
    assert b.shape == data.shape and b.chunks == (4, 5) and b.zarr_format == fmt
    assert b.dtype == np.dtype(kwargs["dtype"])
    assert dict(b.attrs) == {"units": "m"}
    assert b.read_only


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_array_with_data(store, fmt):
    data = np.linspace(0, 1, 40, dtype="f4").reshape(5, 8)
    a = zarrfast.create_array(store=store.obj, data=data, chunks=(2, 3), zarr_format=fmt)
    assert a.shape == data.shape and a.dtype == data.dtype
    np.testing.assert_array_equal(a[...], data)
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_create_array_with_name(store, fmt):
    a = zarrfast.create_array(store=store.obj, name="grp/sub/arr", shape=(6,), chunks=(4,), dtype="i2",
                              zarr_format=fmt, fill_value=-1)
    a[:] = np.arange(6)
    assert a.path == "grp/sub/arr" and a.name == "/grp/sub/arr" and a.basename == "arr"
    keys = store.keys()
    assert ("grp/sub/arr/zarr.json" if fmt == 3 else "grp/sub/arr/.zarray") in keys
    assert {ckey(fmt, 0, prefix="grp/sub/arr/"), ckey(fmt, 1, prefix="grp/sub/arr/")} <= keys
    b = zarrfast.open_array(store.for_reading(), path="grp/sub/arr", mode="r")
    np.testing.assert_array_equal(b[:], np.arange(6))
    c = zarrfast.open_array(store.obj if store.kind != "zip" else store.path, name="grp/sub/arr", mode="r")
    np.testing.assert_array_equal(c[:], np.arange(6))


@pytest.mark.parametrize("fmt", fmt_params(HELPERS_V3_BUG))
def test_create_2x_style(store, fmt):
    a = zarrfast.create((7, 3), chunks=(3, 2), dtype="i4", fill_value=5, store=store.obj, zarr_format=fmt,
                        path="x")
    np.testing.assert_array_equal(a[...], np.full((7, 3), 5, "i4"))
    a[1:6, 1] = np.arange(5)
    ref = np.full((7, 3), 5, "i4")
    ref[1:6, 1] = np.arange(5)
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), path="x", mode="r")[...], ref)


@pytest.mark.parametrize("fmt", fmt_params(HELPERS_V3_BUG))
@pytest.mark.parametrize("func,expected", [
    ("zeros", lambda s, d: np.zeros(s, d)),
    ("ones", lambda s, d: np.ones(s, d)),
    ("full", lambda s, d: np.full(s, 7, d)),
])
def test_zeros_ones_full(store, fmt, func, expected):
    kw = {"fill_value": 7} if func == "full" else {}
    a = getattr(zarrfast, func)((9, 4), chunks=(4, 3), dtype="i2", store=store.obj, zarr_format=fmt, **kw)
    assert a.shape == (9, 4) and a.dtype == np.dtype("i2") and a.chunks == (4, 3) and a.zarr_format == fmt
    np.testing.assert_array_equal(a[...], expected((9, 4), "i2"))
    assert not chunk_keys(store.keys())  # nothing but metadata is written
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], expected((9, 4), "i2"))


@pytest.mark.parametrize("fmt", fmt_params(HELPERS_V3_BUG))
def test_empty(store, fmt):
    a = zarrfast.empty((5, 6), chunks=(2, 2), dtype="f4", store=store.obj, zarr_format=fmt)
    assert a.shape == (5, 6) and a.dtype == np.dtype("f4") and a.zarr_format == fmt
    a[...] = 1.5
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], np.full((5, 6), 1.5, "f4"))


@pytest.mark.parametrize("fmt", fmt_params(HELPERS_V3_BUG))
def test_array_from_data(store, fmt):
    data = np.arange(30, dtype="u2").reshape(5, 6)
    a = zarrfast.array(data, chunks=(2, 4), store=store.obj, zarr_format=fmt)
    assert a.dtype == data.dtype and a.shape == data.shape and a.chunks == (2, 4)
    np.testing.assert_array_equal(a[...], data)
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], data)


@pytest.mark.parametrize("helper", ["zeros", "ones", "full", "empty", "array", "create"])
def test_2x_helpers_default_format_is_v3(helper):
    """The helpers default to Zarr v3 like zarr-python 3 (and work without a store)."""
    args = {"array": (np.arange(4),), "full": ((4,), 2)}.get(helper, ((4,),))
    expected = getattr(zarr, helper)(*args, chunks=(2,), store=zarr.storage.MemoryStore())
    assert expected.metadata.zarr_format == 3
    a = getattr(zarrfast, helper)(*args, chunks=(2,))
    assert a.zarr_format == 3
    np.testing.assert_array_equal(a[...], expected[...])


@pytest.mark.parametrize("fmt", FORMATS)
def test_from_array_numpy(store, fmt):
    data = np.arange(24, dtype="f8").reshape(4, 6)
    a = zarrfast.from_array(store.obj, data=data, chunks=(3, 3), zarr_format=fmt)
    assert a.chunks == (3, 3) and a.zarr_format == fmt
    np.testing.assert_array_equal(a[...], data)
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_from_array_copies_another_array(store, fmt):
    src = zarrfast.create_array(store={}, shape=(10,), chunks=(3,), dtype="u2", fill_value=5, zarr_format=fmt,
                                attributes={"k": "v"})
    src[:4] = 1
    a = zarrfast.from_array(store.obj, data=src, zarr_format=fmt)
    assert a.chunks == (3,) and a.fill_value == 5 and dict(a.attrs) == {"k": "v"} and a.dtype == np.dtype("u2")
    np.testing.assert_array_equal(a[...], [1, 1, 1, 1, 5, 5, 5, 5, 5, 5])
    np.testing.assert_array_equal(zarrfast.open_array(store.for_reading(), mode="r")[...], src[...])


def test_from_array_keeps_codecs_like_zarr_python():
    comp = [{"name": "gzip", "configuration": {"level": 2}}]
    src = zarrfast.create_array(store={}, shape=(10,), chunks=(3,), dtype="u2", compressors=comp)
    zsrc = zarr.create_array(store=zarr.storage.MemoryStore(), shape=(10,), chunks=(3,), dtype="u2",
                             compressors=comp)
    expected = zarr.from_array(zarr.storage.MemoryStore(), data=zsrc).metadata.to_dict()["codecs"]
    got = zarrfast.from_array({}, data=src).metadata.codecs
    assert [dict(c) for c in got] == [dict(c) for c in expected]


def test_from_array_keeps_zarr_format_like_zarr_python():
    src = zarrfast.create_array(store={}, shape=(10,), chunks=(3,), dtype="u2", zarr_format=2)
    zsrc = zarr.create_array(store=zarr.storage.MemoryStore(), shape=(10,), chunks=(3,), dtype="u2",
                             zarr_format=2)
    assert zarr.from_array(zarr.storage.MemoryStore(), data=zsrc).metadata.zarr_format == 2
    assert zarrfast.from_array({}, data=src).zarr_format == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_creates_and_opens(store, fmt):
    a = zarrfast.open(store.obj, mode="w", shape=(6, 4), chunks=(4, 4), dtype="i8", zarr_format=fmt,
                      fill_value=3)
    assert a.shape == (6, 4) and a.zarr_format == fmt
    a[:4] = 1  # only complete chunks: the zip store writes each chunk once
    ref = np.full((6, 4), 3)
    ref[:4] = 1
    b = zarrfast.open(store.for_reading(), mode="r")
    assert isinstance(b, zarrfast.Array) and b.read_only
    np.testing.assert_array_equal(b[...], ref)


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_array_kwargs(store, fmt):
    a = zarrfast.open_array(store.obj, mode="w", shape=(5,), chunks=(5,), dtype="f4", zarr_format=fmt,
                            fill_value=np.nan, attributes={"a": [1, 2]}, order="C")
    a[...] = np.arange(5)
    b = zarrfast.open_array(store.for_reading(), mode="r", zarr_format=fmt)
    np.testing.assert_array_equal(b[...], np.arange(5, dtype="f4"))
    assert np.isnan(b.fill_value) and dict(b.attrs) == {"a": [1, 2]}


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_array_wrong_format_not_found(tmp_path, fmt):
    path = str(tmp_path / "a")
    zarrfast.create_array(store=path, shape=(3,), dtype="i4", zarr_format=fmt)
    with pytest.raises(FileNotFoundError):
        zarrfast.open_array(path, mode="r", zarr_format=5 - fmt)
    assert zarrfast.open_array(path, mode="r", zarr_format=fmt).zarr_format == fmt


# ------------------------------------------------------------------------------------------------------------------
# properties


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [None, "arr", "g/h/arr"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_properties_like_zarr_python(tmp_path, fmt, name, order):
    kw = dict(shape=(10, 7), chunks=(3, 4), dtype="i2", fill_value=-1, attributes={"x": 1, "y": [1, "a"]},
              zarr_format=fmt, name=name, order=order)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(store=str(tmp_path / "zp"), **kw)
    a = zarrfast.create_array(store=str(tmp_path / "zf"), **kw)
    for prop in ["shape", "dtype", "chunks", "ndim", "size", "nbytes", "nchunks", "order", "path", "name", "basename",
                 "read_only", "cdata_shape"]:
        assert getattr(a, prop) == getattr(z, prop), prop
    assert a.fill_value == z.fill_value and a.fill_value.dtype == z.fill_value.dtype if hasattr(
        z.fill_value, "dtype") else a.fill_value == z.fill_value
    assert a.zarr_format == z.metadata.zarr_format == fmt
    assert dict(a.attrs) == dict(z.attrs)
    assert len(a) == len(z[...]) == 10


@pytest.mark.parametrize("fmt", FORMATS)
def test_attrs_persist(rw_store, fmt):
    a = zarrfast.create_array(store=rw_store.obj, shape=(3,), dtype="i4", zarr_format=fmt, attributes={"a": 1})
    a.attrs["b"] = {"nested": [1, 2.5, None, "s"]}
    a.attrs.update({"c": True, "a": 2})
    del a.attrs["c"]
    expected = {"a": 2, "b": {"nested": [1, 2.5, None, "s"]}}
    assert dict(a.attrs) == expected
    if fmt == 3:
        assert json.loads(rw_store.raw("zarr.json"))["attributes"] == expected
    else:
        assert json.loads(rw_store.raw(".zattrs")) == expected
    b = zarrfast.open_array(rw_store.obj, mode="r")
    assert dict(b.attrs) == expected and b.attrs["b"]["nested"][1] == 2.5
    if rw_store.kind == "dir":
        assert dict(zarr.open_array(rw_store.obj, mode="r").attrs) == expected
    a.update_attributes({"z": 0})
    assert dict(zarrfast.open_array(rw_store.obj, mode="r").attrs) == {**expected, "z": 0}


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_only_property(store, fmt):
    a = zarrfast.create_array(store=store.obj, shape=(3,), dtype="i4", zarr_format=fmt)
    assert not a.read_only
    r = zarrfast.open_array(store.for_reading(), mode="r")
    assert r.read_only


# ------------------------------------------------------------------------------------------------------------------
# len, iteration, numpy conversion


@pytest.mark.parametrize("fmt", FORMATS)
def test_len_iter_asarray(store, fmt):
    a = zarrfast.create_array(store=store.obj, shape=REF2D.shape, chunks=(4, 5), dtype="i4", zarr_format=fmt)
    a[...] = REF2D
    assert len(a) == 13
    rows = list(a)
    assert len(rows) == 13
    for got, want in zip(rows, REF2D):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.asarray(a), REF2D)
    np.testing.assert_array_equal(np.array(a), REF2D)
    assert np.asarray(a, dtype="f8").dtype == np.dtype("f8")
    one = zarrfast.create_array(store={}, shape=(5,), chunks=(2,), dtype="u1", zarr_format=fmt)
    one[...] = np.arange(5)
    assert [int(x) for x in one] == [0, 1, 2, 3, 4]
    assert all(np.ndim(x) == 0 for x in one)
