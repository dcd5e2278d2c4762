"""The ``engine="zarrfast"`` xarray backend returns what xarray's own ``"zarr"`` engine returns."""
import subprocess
import sys
import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")
pd = pytest.importorskip("pandas")

import zarrfast
from zarrfast.storage import LocalStore, LoggingStore

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning", "ignore::DeprecationWarning")

# encoding keys whose values must be the same in both engines (codecs are dicts here, objects there)
KEY_ENCODING = ("chunks", "preferred_chunks", "shards", "dtype", "units", "calendar", "_FillValue", "scale_factor",
                "add_offset", "fill_value", "coordinates")


def _same(a, b):
    if isinstance(a, float) and isinstance(b, float) or isinstance(a, np.floating) and isinstance(b, np.floating):
        return (np.isnan(a) and np.isnan(b)) or a == b
    if isinstance(a, (np.generic, float, int)) and isinstance(b, (np.generic, float, int)):
        return bool(np.asarray(a == b)) or (np.isnan(float(a)) and np.isnan(float(b)))
    return a == b


def assert_same_encoding(ref, got, keys=KEY_ENCODING, skip_preferred=False):
    for name in ref.variables:
        ea, eb = ref[name].encoding, got[name].encoding
        for k in keys:
            if skip_preferred and k == "preferred_chunks":
                continue
            assert (k in ea) == (k in eb), (name, k, ea.get(k), eb.get(k))
            if k in ea:
                assert _same(ea[k], eb[k]), (name, k, ea[k], eb[k])


def open_both(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = xr.open_dataset(path, engine="zarr", **kw)
    got = xr.open_dataset(path, engine="zarrfast", **kw)
    return ref, got


# ---------------------------------------------------------------------------------------------- datasets
def ds_basic():
    t = pd.date_range("2000-01-01", periods=6, freq="D")
    rng = np.random.default_rng(0)
    return xr.Dataset(
        {"temp": (("time", "x"), rng.random((6, 4)).astype("f4"), {"units": "K", "long_name": "temperature"}),
         "count": (("time",), np.arange(6, dtype="i4"))},
        coords={"time": t, "x": [10, 20, 30, 40], "lat": ("x", np.linspace(0, 1, 4))},
        attrs={"title": "basic", "n": 3, "values": [1.5, 2.5]})


def ds_fill():
    a = np.array([1.0, np.nan, 3.0, 4.0, np.nan])
    return xr.Dataset({
        "f": ("x", a),
        "f32": ("x", a.astype("f4")),
        "ifill": ("x", np.array([1, 2, -9, 4, 5], dtype="i2"), {}, {"_FillValue": -9}),
        "masked_int": ("x", np.array([1.0, np.nan, 3.0, 4.0, 5.0]), {}, {"dtype": "i4", "_FillValue": -1}),
        "packed": ("x", np.array([1.5, np.nan, 2.25, 3.0, 10.0]), {},
                   {"dtype": "i2", "scale_factor": 0.25, "add_offset": 1.0, "_FillValue": -32768}),
        "missing": ("x", np.array([1.0, 2.0, np.nan, 4.0, 5.0]), {}, {"missing_value": -99.0, "dtype": "f8"}),
    })


def ds_times():
    t = pd.date_range("1990-01-01", periods=5, freq="6h")
    return xr.Dataset({
        "t": ("n", t.values, {}, {"units": "hours since 1990-01-01", "calendar": "standard"}),
        "t2": ("n", t.values + np.timedelta64(30, "m")),
        "dt": ("n", pd.to_timedelta(np.arange(5), unit="h")),
        "dt_enc": ("n", pd.to_timedelta(np.arange(5) * 90, unit="s"), {}, {"units": "seconds", "dtype": "i8"}),
        "cft": ("n", xr.date_range("2000-01-01", periods=5, calendar="noleap", use_cftime=True)),
    })


def ds_strings():
    return xr.Dataset({
        "vlen": ("x", np.array(["a", "bb", "", "dddd"], dtype=object)),
        "ufixed": ("x", np.array(["ab", "c", "", "dd"], dtype="U2")),
        "bfixed": ("x", np.array([b"ab", b"c", b"", b"dd"], dtype="S2")),
        "flag": ("x", np.array([True, False, True, True])),
        "scalar": ((), 3.5, {"note": "0-d"}),
    }, coords={"x": ["p", "q", "r", "s"]})


DATASETS = {"basic": ds_basic, "fill": ds_fill, "times": ds_times, "strings": ds_strings}


def write_with_xarray(ds, path, zarr_format, consolidated=True, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(path, zarr_format=zarr_format, consolidated=consolidated, mode="w", **kw)
    return path


# ---------------------------------------------------------------------------------------------- registration
def test_engine_is_registered():
    assert "zarrfast" in xr.backends.list_engines()


def test_import_zarrfast_does_not_import_xarray():
    code = "import sys, zarrfast; assert 'xarray' not in sys.modules, 'xarray imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------------- equivalence
@pytest.mark.parametrize("consolidated", [True, False])
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_same_dataset_as_zarr_engine(tmp_path, name, zarr_format, consolidated):
    path = write_with_xarray(DATASETS[name](), str(tmp_path / "d.zarr"), zarr_format, consolidated=consolidated)
    for cons in ([None, consolidated] if consolidated else [None, False]):
        ref, got = open_both(path, consolidated=cons)
        xr.testing.assert_identical(ref, got)
        assert_same_encoding(ref, got)
        xr.testing.assert_identical(ref.load(), got.load())
        for v in ref.variables:  # assert_identical does not tell "" from NaN in string arrays
            if ref[v].dtype.kind in "OTUS":
                assert ref[v].values.tolist() == got[v].values.tolist()


@pytest.mark.parametrize("kwargs", [
    {"decode_times": False},
    {"mask_and_scale": False},
    {"decode_timedelta": False},
    {"decode_cf": False},
    {"drop_variables": ["packed", "t"]},
    {"decode_coords": False},
    {"use_cftime": True},
    {"concat_characters": False},
])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_decoding_options(tmp_path, kwargs, zarr_format):
    ds = xr.merge([ds_fill(), ds_times(), ds_basic().rename(x="x2")])
    path = write_with_xarray(ds, str(tmp_path / "d.zarr"), zarr_format)
    ref, got = open_both(path, **kwargs)
    xr.testing.assert_identical(ref, got)
    assert_same_encoding(ref, got)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_v2_array_dimensions_hidden_and_fill_value_semantics(tmp_path, zarr_format):
    path = write_with_xarray(ds_fill(), str(tmp_path / "d.zarr"), zarr_format)
    _, got = open_both(path)
    for v in got.variables.values():
        assert "_ARRAY_DIMENSIONS" not in v.attrs
    if zarr_format == 2:  # v2: the zarr fill_value is the CF _FillValue
        assert got["ifill"].encoding["_FillValue"] == -9
        assert "fill_value" not in got["ifill"].encoding
    else:  # v3: an attribute, the zarr fill_value separately in the encoding
        assert got["ifill"].encoding["_FillValue"] == -9
        assert got["ifill"].encoding["fill_value"] == 0
    np.testing.assert_array_equal(got["ifill"].values, [1, 2, np.nan, 4, 5])


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_group_keyword(tmp_path, zarr_format):
    path = str(tmp_path / "d.zarr")
    write_with_xarray(ds_basic(), path, zarr_format)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds_fill().to_zarr(path, group="inner/deeper", mode="w", zarr_format=zarr_format)
    for cons in (None, False):
        ref, got = open_both(path, group="inner/deeper", consolidated=cons)
        xr.testing.assert_identical(ref, got)
    with pytest.raises(FileNotFoundError):
        xr.open_dataset(path, engine="zarrfast", group="nope", consolidated=False)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_datatree_and_groups_as_dict(tmp_path, zarr_format):
    tree = xr.DataTree.from_dict({"/": ds_basic(), "/a": ds_fill().rename(x="xa"),
                                  "/a/b": ds_strings().rename(x="xb"), "/c": ds_times()})
    path = str(tmp_path / "t.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tree.to_zarr(path, zarr_format=zarr_format, mode="w")
        ref = xr.open_datatree(path, engine="zarr")
        ref_dict = xr.open_groups(path, engine="zarr")
    got = xr.open_datatree(path, engine="zarrfast")
    xr.testing.assert_identical(ref, got)
    got_dict = xr.open_groups(path, engine="zarrfast")
    assert set(ref_dict) == set(got_dict) == {"/", "/a", "/a/b", "/c"}
    for k in ref_dict:
        xr.testing.assert_identical(ref_dict[k], got_dict[k])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_sub = xr.open_datatree(path, engine="zarr", group="a")
    xr.testing.assert_identical(ref_sub, xr.open_datatree(path, engine="zarrfast", group="a"))


def test_sharded_v3(tmp_path):
    ds = xr.Dataset({"v": (("y", "x"), np.arange(64 * 48, dtype="f8").reshape(64, 48))})
    path = write_with_xarray(ds, str(tmp_path / "s.zarr"), 3, encoding={"v": {"chunks": (8, 12), "shards": (32, 24)}})
    ref, got = open_both(path)
    xr.testing.assert_identical(ref, got)
    assert got["v"].encoding["chunks"] == (8, 12) == ref["v"].encoding["chunks"]
    assert got["v"].encoding["shards"] == (32, 24) == ref["v"].encoding["shards"]
    # one dask task per shard (xarray's engine: per inner chunk)
    assert got["v"].encoding["preferred_chunks"] == {"y": 32, "x": 24}
    lazy = xr.open_dataset(path, engine="zarrfast", chunks={})
    assert lazy["v"].chunks == ((32, 32), (24, 24))
    xr.testing.assert_identical(lazy.compute(), ref.load())


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_dask_chunks_follow_zarr_chunks(tmp_path, zarr_format):
    pytest.importorskip("dask")
    ds = xr.Dataset({"v": (("t", "x"), np.arange(100 * 30, dtype="i4").reshape(100, 30))},
                    coords={"t": np.arange(100)})
    path = write_with_xarray(ds, str(tmp_path / "c.zarr"), zarr_format, encoding={"v": {"chunks": (25, 10)}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = xr.open_dataset(path, engine="zarr", chunks={})
    got = xr.open_dataset(path, engine="zarrfast", chunks={})
    assert got["v"].chunks == ((25,) * 4, (10,) * 3) == ref["v"].chunks
    xr.testing.assert_identical(ref.compute(), got.compute())
    got2 = xr.open_dataset(path, engine="zarrfast", chunks={"t": 50})
    assert got2["v"].chunks[0] == (50, 50)
    xr.testing.assert_equal(got2.compute(), ds)


# ---------------------------------------------------------------------------------------------- laziness
def _is_chunk_key(key):
    return key.rsplit("/", 1)[-1] not in ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata")


def _keys_read(log):
    keys = []
    for op, arg in log.calls:
        if op.startswith("get"):
            keys.extend(arg if isinstance(arg, list) else [arg])
    return keys


@pytest.mark.parametrize("consolidated", [True, False])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_open_reads_no_chunks_and_indexing_reads_few(tmp_path, zarr_format, consolidated):
    ds = xr.Dataset({"v": (("y", "x"), np.arange(40 * 40, dtype="f4").reshape(40, 40)),
                     "w": (("y",), np.arange(40.0))})
    path = write_with_xarray(ds, str(tmp_path / "l.zarr"), zarr_format, consolidated=consolidated,
                             encoding={"v": {"chunks": (10, 10)}, "w": {"chunks": (10,)}})
    log = LoggingStore(LocalStore(path, read_only=True), record=True)
    got = xr.open_dataset(log, engine="zarrfast", consolidated=None)
    keys = _keys_read(log)
    assert keys and not [k for k in keys if _is_chunk_key(k)], keys
    if consolidated:  # everything came from the consolidated document
        assert len(log.calls) <= 2, log.calls
    log.reset()
    sub = got["v"].isel(y=slice(0, 5), x=slice(12, 18)).values
    np.testing.assert_array_equal(sub, ds["v"].values[0:5, 12:18])
    chunks = sorted(k for k in _keys_read(log) if _is_chunk_key(k))
    sep = "." if zarr_format == 2 else "/"
    prefix = "v/" if zarr_format == 2 else "v/c/"
    assert chunks == [f"{prefix}0{sep}1"], chunks


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_outer_and_vectorized_indexing(tmp_path, zarr_format):
    data = np.arange(6 * 7 * 5, dtype="i8").reshape(6, 7, 5)
    ds = xr.Dataset({"v": (("a", "b", "c"), data)})
    path = write_with_xarray(ds, str(tmp_path / "i.zarr"), zarr_format, encoding={"v": {"chunks": (2, 3, 2)}})
    ref, got = open_both(path)
    cases = [
        dict(a=[0, 3, 5], c=[4, 1]),                     # outer
        dict(a=np.array([True, False] * 3), b=2),        # boolean + int
        dict(a=slice(1, None, 2), b=[6, 0, 2]),          # slice with step + array
        dict(a=xr.DataArray([0, 2, 5], dims="p"), b=xr.DataArray([1, 1, 6], dims="p")),  # vectorized
        dict(a=xr.DataArray([[0, 1], [4, 5]], dims=("p", "q")), c=xr.DataArray([0, 4], dims="q")),
        dict(a=xr.DataArray([0, 2, 5], dims="p"), c=xr.DataArray([1, 1, 4], dims="p"), b=slice(2, 6)),
    ]
    for sel in cases:
        expect = ds["v"].isel(**sel)
        xr.testing.assert_identical(ref["v"].isel(**sel).load(), got["v"].isel(**sel).load())
        np.testing.assert_array_equal(got["v"].isel(**sel).values, expect.values)
    # chained lazy indexing
    np.testing.assert_array_equal(got["v"].isel(a=slice(1, 5)).isel(b=[0, 6], c=-1).values, data[1:5][:, [0, 6], -1])


# ---------------------------------------------------------------------------------------------- options & errors
def test_consolidated_true_requires_consolidated_metadata(tmp_path):
    path = write_with_xarray(ds_basic(), str(tmp_path / "n.zarr"), 2, consolidated=False)
    with pytest.raises(ValueError):
        xr.open_dataset(path, engine="zarrfast", consolidated=True)
    xr.open_dataset(path, engine="zarrfast", consolidated=False)


def test_consolidated_metadata_is_used(tmp_path):
    path = write_with_xarray(ds_basic(), str(tmp_path / "c.zarr"), 2, consolidated=True)
    # make the non-consolidated documents disagree: only consolidated reads see the original title
    import json
    zattrs = tmp_path / "c.zarr" / ".zattrs"
    doc = json.loads(zattrs.read_text())
    doc["title"] = "changed"
    zattrs.write_text(json.dumps(doc))
    assert xr.open_dataset(path, engine="zarrfast").attrs["title"] == "basic"
    assert xr.open_dataset(path, engine="zarrfast", consolidated=True).attrs["title"] == "basic"
    assert xr.open_dataset(path, engine="zarrfast", consolidated=False).attrs["title"] == "changed"


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_array_without_dimension_names_raises(tmp_path, zarr_format):
    path = str(tmp_path / "nd.zarr")
    g = zarrfast.open_group(path, mode="w", zarr_format=zarr_format)
    g.create_array("a", shape=(3,), dtype="i4")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyError):
            xr.open_dataset(path, engine="zarr")
    with pytest.raises(KeyError, match="dimension"):
        xr.open_dataset(path, engine="zarrfast")


def test_conflicting_dimension_sizes_raise(tmp_path):
    path = str(tmp_path / "cd.zarr")
    g = zarrfast.open_group(path, mode="w", zarr_format=3)
    g.create_array("a", shape=(3,), dtype="i4", dimension_names=["x"])
    g.create_array("b", shape=(4,), dtype="i4", dimension_names=["x"])
    with pytest.raises(ValueError, match="conflicting"):
        xr.open_dataset(path, engine="zarrfast")


def test_storage_options_are_passed_to_the_store(tmp_path, monkeypatch):
    path = write_with_xarray(ds_basic(), str(tmp_path / "so.zarr"), 3)
    from zarrfast.xarray import backend

    seen = {}
    real = backend.make_store

    def spy(store, **kw):
        seen.update(kw)
        return real(store, mode=kw["mode"])

    monkeypatch.setattr(backend, "make_store", spy)
    xr.open_dataset(path, engine="zarrfast", storage_options={"anon": True})
    assert seen["storage_options"] == {"anon": True}


def test_open_zarrfast_store_objects_and_dicts(tmp_path):
    store = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds_basic().to_zarr(str(tmp_path / "m.zarr"), mode="w", zarr_format=3)
    src = LocalStore(str(tmp_path / "m.zarr"))
    for key in src.list_prefix(""):
        store[key] = src.get(key)
    got = xr.open_dataset(store, engine="zarrfast")
    xr.testing.assert_identical(got, xr.open_dataset(str(tmp_path / "m.zarr"), engine="zarrfast"))


def test_roundtrip_encoding_through_zarr_python(tmp_path):
    """Encodings from this engine (codec dicts / numcodecs objects) can be written again by xarray's zarr writer.
    (v2 vlen strings are left out: xarray's own engine can't write those back either.)"""
    for fmt in (2, 3):
        strs = ds_strings().rename(x="s")
        if fmt == 2:
            strs = strs.drop_vars("vlen")
        path = write_with_xarray(xr.merge([ds_basic(), ds_fill().rename(x="n").drop_vars("missing"), strs]),
                                 str(tmp_path / f"r{fmt}.zarr"), fmt)
        got = xr.open_dataset(path, engine="zarrfast")
        out = str(tmp_path / f"again{fmt}.zarr")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got.to_zarr(out, mode="w", zarr_format=fmt)
            xr.testing.assert_identical(xr.open_dataset(out, engine="zarr"), got)
