"""Dimension names through one API: v3 `dimension_names`, v2 xarray's `_ARRAY_DIMENSIONS` attribute."""
import json

import numpy as np
import pytest

import zarrfast
from zarrfast.errors import MetadataError


def test_v2_dimension_names_are_stored_as_array_dimensions(tmp_path):
    a = zarrfast.create_array(store=str(tmp_path / "a"), shape=(4, 5), dtype="f4", zarr_format=2,
                              dimension_names=["y", "x"], attributes={"units": "K"})
    assert a.metadata.dimension_names == ("y", "x")
    zattrs = json.loads((tmp_path / "a" / ".zattrs").read_text())
    assert zattrs == {"units": "K", "_ARRAY_DIMENSIONS": ["y", "x"]}
    zarray = json.loads((tmp_path / "a" / ".zarray").read_text())
    assert "dimension_names" not in zarray
    again = zarrfast.open_array(str(tmp_path / "a"), mode="r")
    assert again.metadata.dimension_names == ("y", "x")
    a.attrs["units"] = "C"  # attribute updates keep the names
    assert zarrfast.open_array(str(tmp_path / "a")).metadata.dimension_names == ("y", "x")


def test_v2_names_written_by_zarr_python_attributes_are_read(tmp_path):
    zarr = pytest.importorskip("zarr")
    z = zarr.create_array(store=str(tmp_path / "z"), shape=(3, 2, 6), dtype="i2", zarr_format=2,
                          attributes={"_ARRAY_DIMENSIONS": ["t", "lat", "lon"]})
    z[...] = 1
    a = zarrfast.open_array(str(tmp_path / "z"), mode="r")
    assert a.metadata.dimension_names == ("t", "lat", "lon")
    np.testing.assert_array_equal(a[...], np.ones((3, 2, 6), dtype="i2"))
    # and zarr-python sees ours the way xarray expects
    zarrfast.create_array(store=str(tmp_path / "ours"), shape=(2,), dtype="u1", zarr_format=2, dimension_names=["n"])
    assert dict(zarr.open_array(str(tmp_path / "ours")).attrs) == {"_ARRAY_DIMENSIONS": ["n"]}


def test_malformed_array_dimensions_are_ignored_not_fatal(tmp_path):
    store = {}
    zarrfast.create_array(store=store, shape=(3, 3), dtype="u1", zarr_format=2,
                          attributes={"_ARRAY_DIMENSIONS": ["only-one"]})
    assert zarrfast.open_array(store).metadata.dimension_names is None


def test_bad_v2_dimension_names_raise():
    with pytest.raises(MetadataError, match="_ARRAY_DIMENSIONS"):
        zarrfast.create_array(store={}, shape=(3, 3), dtype="u1", zarr_format=2, dimension_names=["a"])
    with pytest.raises(MetadataError):
        zarrfast.create_array(store={}, shape=(3,), dtype="u1", zarr_format=2, dimension_names=[None])


def test_v3_dimension_names(tmp_path):
    a = zarrfast.create_array(store=str(tmp_path / "a"), shape=(4, 5), dtype="f4", dimension_names=["y", None])
    assert json.loads((tmp_path / "a" / "zarr.json").read_text())["dimension_names"] == ["y", None]
    assert zarrfast.open_array(str(tmp_path / "a")).metadata.dimension_names == ("y", None)
