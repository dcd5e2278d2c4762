"""copy / copy_all between hierarchies, including from an HDF5 file written by h5py (values checked with numpy)."""
import numpy as np
import pytest

import zarrfast
from zarrfast.errors import ContainsNodeError


def test_copy_all_from_h5py(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    temp = rng.normal(size=(50, 40)).astype("f4")
    counts = np.arange(1000, dtype="i8")
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f.attrs["title"] = "test file"
        g = f.create_group("climate")
        g.attrs["levels"] = np.array([1, 2, 3])
        d = g.create_dataset("temp", data=temp, chunks=(10, 20), compression="gzip", fillvalue=-1.0)
        d.attrs["units"] = b"K"
        f.create_dataset("counts", data=counts)
        f.create_dataset("scalar", data=np.float64(3.5))
    dest = zarrfast.open_group(str(tmp_path / "out.zarr"), mode="w")
    with h5py.File(tmp_path / "in.h5", "r") as f:
        n_copied, n_skipped, n_bytes = zarrfast.copy_all(f, dest)
    assert (n_copied, n_skipped) == (4, 0)
    assert n_bytes == temp.nbytes + counts.nbytes + 8
    out = zarrfast.open_group(str(tmp_path / "out.zarr"), mode="r")
    assert dict(out.attrs) == {"title": "test file"}
    np.testing.assert_array_equal(out["climate/temp"][...], temp)
    assert out["climate/temp"].chunks == (10, 20) and out["climate/temp"].fill_value == -1.0
    assert dict(out["climate/temp"].attrs) == {"units": "K"}
    assert dict(out["climate"].attrs) == {"levels": [1, 2, 3]}
    np.testing.assert_array_equal(out["counts"][...], counts)
    assert out["scalar"][()] == 3.5


def test_copy_between_zarrfast_hierarchies_and_if_exists(tmp_path):
    src = zarrfast.open_group(str(tmp_path / "src"), mode="w", attributes={"a": 1})
    x = np.arange(120, dtype="u2").reshape(10, 12)
    arr = src.create_array("grp/x", shape=x.shape, chunks=(3, 5), dtype=x.dtype, zarr_format=3)
    arr[...] = x
    dst = zarrfast.open_group(str(tmp_path / "dst"), mode="w", zarr_format=2)
    assert zarrfast.copy(src["grp"], dst)[0] == 2
    np.testing.assert_array_equal(dst["grp/x"][...], x)
    assert dst["grp/x"].zarr_format == 2
    with pytest.raises(ContainsNodeError):
        zarrfast.copy(src["grp"], dst)
    assert zarrfast.copy(src["grp"], dst, if_exists="skip") == (0, 1, 0)
    arr[0, 0] = 999
    zarrfast.copy(src["grp"], dst, if_exists="replace")
    assert dst["grp/x"][0, 0] == 999
    assert zarrfast.copy(src["grp"], dst, name="shallow", shallow=True)[0] == 1
    assert list(dst["shallow"].keys()) == []


def test_copy_large_array_in_blocks(tmp_path, monkeypatch):
    import zarrfast.copying as copying

    monkeypatch.setattr(copying, "BLOCK_BYTES", 1000)  # force many blocks
    x = np.random.default_rng(1).integers(0, 100, size=(97, 13)).astype("i4")
    src = zarrfast.open_group(str(tmp_path / "s"), mode="w")
    a = src.create_array("x", shape=x.shape, chunks=(4, 13), dtype=x.dtype)
    a[...] = x
    dst = zarrfast.open_group(str(tmp_path / "d"), mode="w")
    zarrfast.copy(src["x"], dst)
    np.testing.assert_array_equal(dst["x"][...], x)


def test_open_like(tmp_path):
    a = zarrfast.create_array(store=str(tmp_path / "a"), shape=(8, 6), chunks=(4, 3), dtype="f4", fill_value=2.5)
    b = zarrfast.open_like(a, str(tmp_path / "b"))
    assert (b.shape, b.chunks, b.dtype, b.fill_value) == ((8, 6), (4, 3), np.dtype("f4"), 2.5)
    np.testing.assert_array_equal(b[...], np.full((8, 6), 2.5, dtype="f4"))
