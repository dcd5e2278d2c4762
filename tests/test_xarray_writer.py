"""``zarrfast.xarray.to_zarr`` writes what xarray's zarr engine opens identically."""
import json
import os
import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

from pandas import isna as pd_isnull
from test_xarray import DATASETS, ds_basic, ds_fill, ds_strings, ds_times

import zarrfast
from zarrfast.xarray import to_zarr

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning", "ignore::DeprecationWarning")


def open_ref(path, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(path, engine="zarr", **kw)


def xarray_written(ds, path, zarr_format, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.to_zarr(path, zarr_format=zarr_format, mode="w", **kw)
    return open_ref(path)


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("name", sorted(DATASETS))
def test_written_like_xarray(tmp_path, name, zarr_format):
    ds = DATASETS[name]()
    expected = xarray_written(ds, str(tmp_path / "ref.zarr"), zarr_format)
    path = str(tmp_path / "ours.zarr")
    grp = to_zarr(ds, path, zarr_format=zarr_format)
    assert isinstance(grp, zarrfast.Group) and grp.zarr_format == zarr_format
    for engine in ("zarr", "zarrfast"):
        got = open_ref(path) if engine == "zarr" else xr.open_dataset(path, engine="zarrfast")
        xr.testing.assert_identical(expected, got)
        for v in expected.variables:
            for key in ("dtype", "units", "calendar", "_FillValue", "scale_factor", "add_offset", "fill_value"):
                a, b = expected[v].encoding.get(key), got[v].encoding.get(key)
                assert (a is None) == (b is None) and (a is None or a == b or (pd_isnull(a) and pd_isnull(b))), (v, key, a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xr.testing.assert_identical(xr.open_zarr(path).load(), expected.load())


def test_dimension_names_and_fill_value_layout(tmp_path):
    ds = ds_fill()
    to_zarr(ds, str(tmp_path / "v2.zarr"), zarr_format=2)
    to_zarr(ds, str(tmp_path / "v3.zarr"), zarr_format=3)
    zattrs = json.loads((tmp_path / "v2.zarr" / "ifill" / ".zattrs").read_text())
    zarray = json.loads((tmp_path / "v2.zarr" / "ifill" / ".zarray").read_text())
    assert zattrs["_ARRAY_DIMENSIONS"] == ["x"] and "_FillValue" not in zattrs
    assert zarray["fill_value"] == -9
    meta = json.loads((tmp_path / "v3.zarr" / "ifill" / "zarr.json").read_text())
    assert meta["dimension_names"] == ["x"] and meta["attributes"]["_FillValue"] == -9 and meta["fill_value"] == 0
    meta = json.loads((tmp_path / "v3.zarr" / "f" / "zarr.json").read_text())
    assert meta["fill_value"] == "NaN" and meta["attributes"]["_FillValue"] == "AAAAAAAA+H8="
    # v2 vlen strings get a null fill value (as zarr-python writes), also in .zmetadata
    to_zarr(ds_strings(), str(tmp_path / "s2.zarr"), zarr_format=2)
    assert json.loads((tmp_path / "s2.zarr" / "vlen" / ".zarray").read_text())["fill_value"] is None
    zmeta = json.loads((tmp_path / "s2.zarr" / ".zmetadata").read_text())
    assert zmeta["metadata"]["vlen/.zarray"]["fill_value"] is None
    for cons in (True, False):  # (assert_identical does not tell "" from NaN in string arrays)
        assert list(open_ref(str(tmp_path / "s2.zarr"), consolidated=cons)["vlen"].values) == ["a", "bb", "", "dddd"]
        got = xr.open_dataset(str(tmp_path / "s2.zarr"), engine="zarrfast", consolidated=cons)
        assert list(got["vlen"].values) == ["a", "bb", "", "dddd"]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_encodings(tmp_path, zarr_format):
    from zarrfast.codecs import BloscCodec, GzipCodec

    ds = xr.merge([ds_basic(), ds_times().rename(n="nt")])
    enc = {
        "temp": {"chunks": (3, 2), "compressors": [GzipCodec(level=4)] if zarr_format == 3 else None,
                 "dtype": "f8"},
        "lat": {"dtype": "i2", "scale_factor": 0.5, "add_offset": 1.0, "_FillValue": -1, "chunks": 4},
        "count": {"dtype": "i2", "chunks": 4},
        "t": {"units": "minutes since 1990-01-01", "calendar": "proleptic_gregorian", "dtype": "i8"},
    }
    if zarr_format == 2:
        enc["count"]["compressor"] = {"id": "zlib", "level": 3}
        enc["temp"]["filters"] = [{"id": "delta", "dtype": "<f8"}]
    else:
        enc["count"]["compressors"] = [BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")]
    path = str(tmp_path / "e.zarr")
    to_zarr(ds, path, zarr_format=zarr_format, encoding=enc)
    expected = xarray_written(ds, str(tmp_path / "ref.zarr"), zarr_format,
                              encoding={k: {kk: vv for kk, vv in v.items()
                                            if kk not in ("compressors", "compressor", "filters")}
                                        for k, v in enc.items()})
    got = open_ref(path)
    xr.testing.assert_identical(expected, got)
    assert got["temp"].encoding["chunks"] == (3, 2)
    assert got["count"].encoding["chunks"] == (4,)
    assert got["t"].encoding["units"] == "minutes since 1990-01-01"
    assert got["count"].encoding["dtype"] == np.dtype("i2") and got["lat"].encoding["scale_factor"] == 0.5
    arr = zarrfast.open_array(path, path="temp", mode="r")
    assert arr.dtype == np.dtype("f8")
    if zarr_format == 3:
        assert [c.to_v3()["name"] for c in arr.compressors] == ["gzip"]
    else:
        assert arr.metadata.filters[0]["id"] == "delta"
        assert zarrfast.open_array(path, path="count").metadata.compressor["id"] == "zlib"


def test_invalid_encoding_keys_raise(tmp_path):
    with pytest.raises(ValueError, match="unexpected encoding"):
        to_zarr(ds_basic(), str(tmp_path / "x.zarr"), encoding={"temp": {"bogus": 1}})
    with pytest.raises(ValueError, match="not in the dataset"):
        to_zarr(ds_basic(), str(tmp_path / "y.zarr"), encoding={"nope": {}})
    with pytest.raises(ValueError, match="fill_value"):
        to_zarr(ds_basic(), str(tmp_path / "z.zarr"), zarr_format=2, encoding={"temp": {"fill_value": 1}})


def test_sharded_v3(tmp_path):
    ds = xr.Dataset({"v": (("y", "x"), np.arange(64 * 48, dtype="i4").reshape(64, 48))})
    path = str(tmp_path / "s.zarr")
    to_zarr(ds, path, zarr_format=3, encoding={"v": {"chunks": (8, 12), "shards": (32, 24)}})
    got = open_ref(path)
    xr.testing.assert_identical(got, ds)
    assert got["v"].encoding["shards"] == (32, 24) and got["v"].encoding["chunks"] == (8, 12)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_dask_variables_written_chunk_aligned(tmp_path, zarr_format):
    pytest.importorskip("dask")
    ds = xr.Dataset({"v": (("t", "x"), np.arange(100 * 30, dtype="f4").reshape(100, 30))},
                    coords={"t": np.arange(100)}).chunk({"t": 25, "x": 10})
    path = str(tmp_path / "d.zarr")
    to_zarr(ds, path, zarr_format=zarr_format)
    got = open_ref(path)
    assert got["v"].encoding["chunks"] == (25, 10)
    xr.testing.assert_identical(got.load(), ds.compute())
    # larger dask chunks that are multiples of the zarr chunks are fine
    to_zarr(ds.chunk({"t": 50}), str(tmp_path / "m.zarr"), zarr_format=zarr_format,
            encoding={"v": {"chunks": (25, 10)}})
    xr.testing.assert_identical(open_ref(str(tmp_path / "m.zarr")).load(), ds.compute())
    with pytest.raises(ValueError, match="dask chunks"):  # two dask chunks would share zarr chunks
        to_zarr(ds.chunk({"t": 30}), str(tmp_path / "bad.zarr"), zarr_format=zarr_format,
                encoding={"v": {"chunks": (25, 10)}})
    with pytest.raises(ValueError, match="uniform"):
        to_zarr(ds.chunk({"t": (10, 40, 50)}), str(tmp_path / "bad2.zarr"), zarr_format=zarr_format)


def test_compute_false_returns_delayed(tmp_path):
    pytest.importorskip("dask")
    ds = ds_basic().chunk({"time": 2})
    path = str(tmp_path / "c.zarr")
    delayed = to_zarr(ds, path, compute=False)
    assert hasattr(delayed, "compute")
    delayed.compute()
    xr.testing.assert_identical(open_ref(path, consolidated=True).load(), ds.compute())


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_modes(tmp_path, zarr_format):
    path = str(tmp_path / "m.zarr")
    base = ds_basic()
    to_zarr(base, path, zarr_format=zarr_format)
    with pytest.raises(FileExistsError):
        to_zarr(base, path, zarr_format=zarr_format)  # "w-" is the default
    # "a": add a variable, keep the others
    extra = xr.Dataset({"extra": ("x", np.array([1.0, 2.0, 3.0, 4.0]))}, coords={"x": base.x})
    to_zarr(extra, path, mode="a")
    got = open_ref(path, consolidated=True)  # the group attributes are the new dataset's, as in xarray
    xr.testing.assert_identical(got, xr.merge([base, extra]).drop_attrs(deep=False))
    # "r+": overwrite existing values only; new variables are refused
    to_zarr(xr.Dataset({"count": ("time", base["count"].values * 10)}), path, mode="r+")
    np.testing.assert_array_equal(open_ref(path)["count"].values, base["count"].values * 10)
    with pytest.raises(ValueError, match="mode='r\\+'"):
        to_zarr(xr.Dataset({"new": ("x", np.zeros(4))}), path, mode="r+")
    with pytest.raises(ValueError, match="already exist"):
        to_zarr(extra, path, mode="a", encoding={"extra": {"chunks": (2,)}})
    # "w": replace everything
    to_zarr(ds_fill(), path, mode="w", zarr_format=zarr_format)
    xr.testing.assert_identical(open_ref(path), xarray_written(ds_fill(), str(tmp_path / "ref.zarr"), zarr_format))


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_append_dim(tmp_path, zarr_format):
    full = ds_basic()
    path = str(tmp_path / "a.zarr")
    to_zarr(full.isel(time=slice(0, 4)), path, zarr_format=zarr_format, encoding={"temp": {"chunks": (2, 4)}})
    to_zarr(full.isel(time=slice(4, None)), path, mode="a", append_dim="time")
    got = open_ref(path)
    xr.testing.assert_identical(got, full)
    assert got["time"].encoding["units"] == "days since 2000-01-01 00:00:00"
    xr.testing.assert_identical(xr.open_dataset(path, engine="zarrfast"), got)
    with pytest.raises(ValueError, match="append_dim"):
        to_zarr(full, str(tmp_path / "b.zarr"), mode="w", append_dim="time")


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_group_and_consolidation(tmp_path, zarr_format):
    path = str(tmp_path / "g.zarr")
    to_zarr(ds_basic(), path, zarr_format=zarr_format, consolidated=False)
    inner = ds_fill().rename(x="n")
    to_zarr(inner, path, group="sub/inner", mode="w", zarr_format=zarr_format)
    assert zarrfast.open_group(path, mode="r", path="sub").zarr_format == zarr_format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = xr.open_zarr(path, group="sub/inner", consolidated=True)
    xr.testing.assert_identical(got.load(), xarray_written(inner, str(tmp_path / "r.zarr"), zarr_format))
    root = zarrfast.open_consolidated(path, mode="r")
    assert "sub/inner/f" in dict(root.members(max_depth=None))
    tree = xr.open_datatree(path, engine="zarrfast")
    assert set(tree.groups) == {"/", "/sub", "/sub/inner"}


def test_unconsolidated(tmp_path):
    path = str(tmp_path / "u.zarr")
    to_zarr(ds_basic(), path, zarr_format=2, consolidated=False)
    assert not (tmp_path / "u.zarr" / ".zmetadata").exists()
    xr.testing.assert_identical(open_ref(path, consolidated=False), xarray_written(ds_basic(), str(tmp_path / "r.zarr"), 2))


def test_dataarray_and_datetime_roundtrip_through_zarrfast_engine(tmp_path):
    da = ds_times()["t"].rename("times")
    path = str(tmp_path / "da.zarr")
    to_zarr(da, path, zarr_format=3)
    got = xr.open_dataset(path, engine="zarrfast")
    np.testing.assert_array_equal(got["times"].values, da.values)
    assert got["times"].encoding["units"] == "hours since 1990-01-01"


# ---------------------------------------------------------------------------------------------- core gaps
def test_v2_vlen_string_null_fill_value_is_kept(tmp_path):
    """A v2 vlen-string array whose .zarray says "fill_value": null keeps null when zarrfast rewrites it (reads
    of missing chunks use "" — zarr-python reports None there; xarray only cares about the stored null)."""
    path = str(tmp_path / "s.zarr")
    xarray_written(ds_strings(), path, 2)
    arr = zarrfast.open_array(path, path="vlen", mode="r+")
    assert arr.fill_value == ""
    arr.attrs["touched"] = 1  # rewrites the metadata
    with open(os.path.join(path, "vlen", ".zarray")) as f:
        assert json.load(f)["fill_value"] is None
    assert list(open_ref(path, consolidated=False)["vlen"].values) == ["a", "bb", "", "dddd"]


def test_consolidate_metadata_keeps_null_string_fill(tmp_path):
    path = str(tmp_path / "s.zarr")
    xarray_written(ds_strings(), path, 2, consolidated=False)
    zarrfast.consolidate_metadata(path)
    assert list(open_ref(path, consolidated=True)["vlen"].values) == ["a", "bb", "", "dddd"]
