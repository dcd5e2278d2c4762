"""NCZarr data (netCDF-C's Zarr mode) opens cleanly with zarrfast and with the ``engine="zarrfast"`` backend.

zarrfast itself keeps NCZarr's ``_nczarr_*`` / ``_NCProperties`` attributes visible, as zarr-python does (extra
``.zarray`` keys such as ``_NCZARR_ARRAY`` are tolerated and kept in ``metadata.extra_fields``); the xarray
backend hides every ``_nc*`` attribute and takes dimension names from the NCZarr metadata when
``_ARRAY_DIMENSIONS`` is missing, as xarray's zarr engine does.

Fixtures: tests/data/nczarr/ (made by tests/data/generate_nczarr.py); the netCDF-written ones are also generated
live when the installed netCDF4 supports NCZarr.
"""
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import zarrfast

DATA = Path(__file__).parent / "data"
FIXTURES = DATA / "nczarr"
sys.path.insert(0, str(DATA))
gen = pytest.importorskip("generate_nczarr")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning",
                                        "ignore::FutureWarning", "ignore::DeprecationWarning")

ALL = ["nczarr", "purezarr", "legacy_nczarr", "nczarr1"]
FULL = ["nczarr", "purezarr", "legacy_nczarr"]  # nczarr1 has only "v"


def _nczarr_supported() -> bool:
    if importlib.util.find_spec("netCDF4") is None:
        return False
    import tempfile

    import netCDF4

    with tempfile.TemporaryDirectory() as d:
        try:
            with netCDF4.Dataset(f"file://{d}/probe.zarr#mode=nczarr,file", "w") as ds:
                ds.createDimension("x", 1)
            return True
        except Exception:  # noqa: BLE001
            return False


NCZARR = _nczarr_supported()
needs_nczarr = pytest.mark.skipif(not NCZARR, reason="the installed netCDF4 has no NCZarr support")


def expected_raw():
    return {"v": gen.V, "time": gen.TIME, "packed": gen.PACKED_RAW, "sub/w": gen.W}


# ---------------------------------------------------------------------------------------------- zarrfast core
@pytest.mark.parametrize("name", ALL)
def test_zarrfast_opens_fixture(name):
    root = zarrfast.open_group(str(FIXTURES / f"{name}.zarr"), mode="r")
    arrays = {k: v for k, v in root.members(max_depth=None) if isinstance(v, zarrfast.Array)}
    want = expected_raw() if name != "nczarr1" else {"v": gen.V}
    assert set(arrays) == set(want)
    for k, values in want.items():
        np.testing.assert_array_equal(arrays[k][...], values)
        assert arrays[k].dtype == values.dtype
    assert root.attrs["title"] == "nczarr fixture"
    assert isinstance(root["v"], zarrfast.Array) and root["v"].fill_value == np.float32(-999.0)


@pytest.mark.parametrize("name", ALL)
def test_attributes_as_zarr_python_shows_them(name):
    zarr = pytest.importorskip("zarr")
    path = str(FIXTURES / f"{name}.zarr")
    ours, theirs = zarrfast.open_group(path, mode="r"), zarr.open_group(path, mode="r")
    assert dict(ours.attrs) == dict(theirs.attrs)
    assert dict(ours["v"].attrs) == dict(theirs["v"].attrs)
    if name == "nczarr":
        assert "_nczarr_array" in ours["v"].attrs and "_nczarr_group" in ours.attrs


def test_legacy_nczarr_keys_kept_as_extra_fields():
    arr = zarrfast.open_array(str(FIXTURES / "legacy_nczarr.zarr"), path="v", mode="r")
    assert arr.metadata.extra_fields["_NCZARR_ARRAY"] == {"dimrefs": ["/x", "/y"], "storage": "chunked"}
    assert arr.metadata.dimension_names is None


@needs_nczarr
@pytest.mark.parametrize("name", ALL)
def test_values_match_netcdf4(name):
    import netCDF4

    path = FIXTURES / f"{name}.zarr"
    root = zarrfast.open_group(str(path), mode="r")
    with netCDF4.Dataset(f"file://{path}#mode=nczarr,file") as nc:
        nc.set_auto_maskandscale(False)
        names = ["v"] if name == "nczarr1" else ["v", "time", "packed"]
        for var in names:
            np.testing.assert_array_equal(root[var][...], nc[var][...])
        if name != "nczarr1":
            np.testing.assert_array_equal(root["sub/w"][...], nc["sub"]["w"][...])


@needs_nczarr
def test_live_generated_data_matches_fixtures(tmp_path):
    gen.generate(tmp_path)
    for name in ALL:
        ours = zarrfast.open_group(str(tmp_path / f"{name}.zarr"), mode="r")
        fixture = zarrfast.open_group(str(FIXTURES / f"{name}.zarr"), mode="r")
        for key, arr in fixture.members(max_depth=None):
            if isinstance(arr, zarrfast.Array):
                np.testing.assert_array_equal(ours[key][...], arr[...])
                assert ours[key].metadata.dimension_names == arr.metadata.dimension_names


# ---------------------------------------------------------------------------------------------- xarray engine
xr = pytest.importorskip("xarray")


def _no_nc_attrs(ds):
    for attrs in [ds.attrs] + [v.attrs for v in ds.variables.values()]:
        assert not [k for k in attrs if k.lower().startswith("_nc") or k == "_ARRAY_DIMENSIONS"], attrs


@pytest.mark.parametrize("name", ALL)
def test_xarray_engine_dimensions_and_attrs(name):
    ds = xr.open_dataset(FIXTURES / f"{name}.zarr", engine="zarrfast")
    assert dict(ds.sizes) == ({"x": 4, "y": 3, "time": 3} if name != "nczarr1" else {"x": 4, "y": 3})
    assert ds["v"].dims == ("x", "y")
    _no_nc_attrs(ds)
    v = ds["v"].values
    assert np.isnan(v[1, 1]) and v[2, 0] == 6
    if name != "nczarr1":
        np.testing.assert_array_equal(ds["packed"].values, [10.0, 11.0, np.nan, 12.5])
        assert str(ds["time"].values[2]) == "2000-01-03T12:00:00.000000000"
        sub = xr.open_dataset(FIXTURES / f"{name}.zarr", engine="zarrfast", group="sub")
        assert sub["w"].dims == ("z",) and sub["w"].attrs == {"long_name": "in a group"}


@pytest.mark.parametrize("name", FULL)
def test_xarray_engine_same_as_zarr_engine(name):
    pytest.importorskip("zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = xr.open_dataset(FIXTURES / f"{name}.zarr", engine="zarr")
        ref_tree = xr.open_datatree(FIXTURES / f"{name}.zarr", engine="zarr")
    got = xr.open_dataset(FIXTURES / f"{name}.zarr", engine="zarrfast")
    xr.testing.assert_identical(ref, got)
    xr.testing.assert_identical(ref_tree, xr.open_datatree(FIXTURES / f"{name}.zarr", engine="zarrfast"))


@needs_nczarr
@pytest.mark.parametrize("name", ["nczarr", "purezarr"])
def test_xarray_engine_same_values_as_netcdf4_engine(name):
    path = FIXTURES / f"{name}.zarr"
    nc = xr.open_dataset(f"file://{path}#mode=nczarr,file", engine="netcdf4")
    got = xr.open_dataset(path, engine="zarrfast")
    for var in ("v", "time", "packed"):
        np.testing.assert_array_equal(got[var].values, nc[var].values)
        assert got[var].dims == nc[var].dims
    assert got.attrs == {k: v for k, v in nc.attrs.items() if not k.startswith("_NC")} | {"ints": [1, 2, 3]}


def test_nczarr_dimensions_need_read_mode(tmp_path):
    """As in xarray, NCZarr dimension metadata is only consulted when reading (mode 'r')."""
    import shutil

    shutil.copytree(FIXTURES / "legacy_nczarr.zarr", tmp_path / "l.zarr")
    with pytest.raises(KeyError):
        xr.open_dataset(tmp_path / "l.zarr", engine="zarrfast", mode="r+")
