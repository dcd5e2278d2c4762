"""zarrfast.convert: format / chunking / sharding / codec changes for hierarchies and single arrays, HDF5 and NetCDF4
sources; every output is checked against numpy / h5py and opened again with zarr-python."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

import zarrfast
from zarrfast.codec_spec import parse_codec_spec
from zarrfast.codecs import GzipCodec
from zarrfast.errors import ContainsNodeError

zarr = pytest.importorskip("zarr")


# ---- helpers -------------------------------------------------------------------------------------------------------
def _data(shape, dtype="f8", seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.standard_normal(shape).astype(dtype)
    return rng.integers(0, 1000, size=shape).astype(dtype)


def _check_zarr_python(path, expected: dict, attrs: dict | None = None, fmt: int | None = None):
    """zarr-python opens ``path`` and reads ``expected`` ({array path: values}) and ``attrs`` ({node: attrs})."""
    for name, values in expected.items():
        z = zarr.open_array(str(path), path=name, mode="r")
        if fmt is not None:
            assert z.metadata.zarr_format == fmt
        got = z[...]
        if values.dtype.kind in "OTU":
            assert [str(v) for v in np.asarray(got).ravel()] == [str(v) for v in values.ravel()]
            assert got.shape == values.shape
        else:
            np.testing.assert_array_equal(got, values)
    for name, want in (attrs or {}).items():
        node = zarr.open(str(path), path=name, mode="r")
        assert dict(node.attrs) == want


def _v3_meta(path, name=""):
    with open(os.path.join(path, name, "zarr.json")) as f:
        return json.load(f)


def _v2_meta(path, name=""):
    with open(os.path.join(path, name, ".zarray")) as f:
        return json.load(f)


# ---- format changes ------------------------------------------------------------------------------------------------
def test_v2_to_v3_with_chunks_and_shards(tmp_path):
    ref = _data((45, 37), "f4")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f4", chunks=(7, 11), zarr_format=2,
                                fill_value=-1.5, attributes={"units": "m", "n": [1, 2]})
    src[...] = ref
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=3, chunks=(5, 6),
                               shards=(10, 12))
    assert summary["arrays"] == 1 and summary["groups"] == 0
    assert summary["bytes_read"] == ref.nbytes and summary["bytes_written"] > 0
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    assert out.zarr_format == 3 and out.chunks == (5, 6) and out.shards == (10, 12)
    assert out.fill_value == -1.5
    np.testing.assert_array_equal(out[...], ref)
    z = zarr.open_array(str(tmp_path / "d.zarr"), mode="r")
    assert z.chunks == (5, 6) and z.shards == (10, 12) and z.fill_value == -1.5
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, {"": {"units": "m", "n": [1, 2]}}, fmt=3)


def test_v3_to_v2(tmp_path):
    ref = _data((30, 20), "i4")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="i4", chunks=(8, 8), fill_value=7,
                                attributes={"a": "b"})
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=2)
    meta = _v2_meta(tmp_path / "d.zarr")
    assert meta["zarr_format"] == 2 and meta["chunks"] == [8, 8] and meta["fill_value"] == 7
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, {"": {"a": "b"}}, fmt=2)


def test_sharded_v3_to_unsharded(tmp_path):
    ref = _data((50, 40), "u2")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="u2", chunks=(5, 5), shards=(25, 20))
    src[...] = ref
    # same format, new chunks and no shards
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d3.zarr", chunks=(16, 16))
    out = zarrfast.open_array(tmp_path / "d3.zarr", mode="r")
    assert out.shards is None and out.chunks == (16, 16)
    _check_zarr_python(tmp_path / "d3.zarr", {"": ref}, fmt=3)
    # sharded v3 -> v2 (inner chunks become the v2 chunks unless given)
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d2.zarr", zarr_format=2, chunks=(10, 40))
    assert _v2_meta(tmp_path / "d2.zarr")["chunks"] == [10, 40]
    _check_zarr_python(tmp_path / "d2.zarr", {"": ref}, fmt=2)


def test_sharded_source_keeps_its_sharding_by_default(tmp_path):
    ref = _data((40, 40), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(4, 5), shards=(20, 20))
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr")
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    assert out.chunks == (4, 5) and out.shards == (20, 20)
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=3)


@pytest.mark.parametrize("compressor,names", [
    pytest.param(parse_codec_spec("gzip:6"), ["gzip"], id="spec-gzip"),
    pytest.param(parse_codec_spec("blosc:lz4:5:bitshuffle"), ["blosc"], id="spec-blosc"),
    pytest.param([GzipCodec(level=2)], ["gzip"], id="codec-object"),
    pytest.param([], [], id="none"),
])
@pytest.mark.parametrize("fmt", [2, 3])
def test_recompress(tmp_path, compressor, names, fmt):
    ref = _data((64, 33), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(16, 11), zarr_format=2)
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=fmt, compressor=compressor)
    if fmt == 2:
        comp = _v2_meta(tmp_path / "d.zarr")["compressor"]
        got = [] if comp is None else [comp["id"]]
    else:
        got = [c["name"] for c in _v3_meta(tmp_path / "d.zarr")["codecs"] if c["name"] != "bytes"]
    assert got == names
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=fmt)


def test_recompress_with_json_codec_spec(tmp_path):
    ref = _data((20, 20), "i8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="i8", chunks=(10, 10))
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr",
                     compressor=[{"name": "zstd", "configuration": {"level": 5, "checksum": True}}])
    codecs = _v3_meta(tmp_path / "d.zarr")["codecs"]
    assert codecs[-1]["name"] == "zstd" and codecs[-1]["configuration"]["level"] == 5
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=3)


# ---- hierarchies ---------------------------------------------------------------------------------------------------
def _hierarchy(root_path, fmt):
    root = zarrfast.open_group(root_path, mode="w", zarr_format=fmt, attributes={"title": "root", "v": 1.5})
    g = root.create_group("grp", attributes={"level": 1})
    sub = g.create_group("sub", attributes={"level": 2, "tags": ["x", "y"]})
    root.create_group("empty_group", attributes={})
    arrays = {
        "top": _data((25, 13), "f8", 1),
        "grp/mid": _data((40,), "i2", 2),
        "grp/sub/deep": _data((6, 7, 8), "u1", 3),
    }
    kw = {"zarr_format": fmt}
    root.create_array("top", shape=(25, 13), dtype="f8", chunks=(10, 5), fill_value=np.nan,
                      attributes={"kind": "top"}, **kw)[...] = arrays["top"]
    g.create_array("mid", shape=(40,), dtype="i2", chunks=(9,), fill_value=-9, **kw)[...] = arrays["grp/mid"]
    sub.create_array("deep", shape=(6, 7, 8), dtype="u1", chunks=(3, 3, 3), **kw)[...] = arrays["grp/sub/deep"]
    attrs = {"": {"title": "root", "v": 1.5}, "grp": {"level": 1}, "grp/sub": {"level": 2, "tags": ["x", "y"]},
             "empty_group": {}, "top": {"kind": "top"}}
    return arrays, attrs


@pytest.mark.parametrize("src_fmt,dst_fmt", [(2, 3), (3, 2), (3, 3), (2, 2)])
def test_hierarchy_nested_groups_and_attributes(tmp_path, src_fmt, dst_fmt):
    arrays, attrs = _hierarchy(tmp_path / "s.zarr", src_fmt)
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt)
    assert summary["arrays"] == 3 and summary["groups"] == 4
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    assert out.zarr_format == dst_fmt
    assert sorted(out.group_keys()) == ["empty_group", "grp"]
    for name, values in arrays.items():
        np.testing.assert_array_equal(out[name][...], values)
    assert np.isnan(out["top"].fill_value) and out["grp/mid"].fill_value == -9
    _check_zarr_python(tmp_path / "d.zarr", arrays, attrs, fmt=dst_fmt)
    zg = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")
    assert sorted(zg.group_keys()) == ["empty_group", "grp"]
    assert zg["grp/mid"].fill_value == -9


def test_hierarchy_chunks_apply_to_arrays_of_matching_rank(tmp_path):
    arrays, _ = _hierarchy(tmp_path / "s.zarr", 3)
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(5, 5), shards=(10, 10))
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    assert out["top"].chunks == (5, 5) and out["top"].shards == (10, 10)
    assert out["grp/mid"].chunks == (9,) and out["grp/mid"].shards is None  # other ranks keep theirs
    assert out["grp/sub/deep"].chunks == (3, 3, 3)
    _check_zarr_python(tmp_path / "d.zarr", arrays)


def test_group_and_array_objects_and_path(tmp_path):
    arrays, _ = _hierarchy(tmp_path / "s.zarr", 2)
    grp = zarrfast.open_group(tmp_path / "s.zarr", mode="r")
    zarrfast.convert(grp["grp"], tmp_path / "g.zarr", zarr_format=3)
    _check_zarr_python(tmp_path / "g.zarr", {"mid": arrays["grp/mid"], "sub/deep": arrays["grp/sub/deep"]},
                       {"": {"level": 1}}, fmt=3)
    zarrfast.convert(grp["top"], tmp_path / "a.zarr", chunks=(25, 1))
    _check_zarr_python(tmp_path / "a.zarr", {"": arrays["top"]}, {"": {"kind": "top"}}, fmt=2)
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "p.zarr", path="grp/sub/deep", zarr_format=3)
    _check_zarr_python(tmp_path / "p.zarr", {"": arrays["grp/sub/deep"]}, fmt=3)


def test_consolidated_source_stays_consolidated(tmp_path):
    arrays, _ = _hierarchy(tmp_path / "s.zarr", 2)
    zarrfast.consolidate_metadata(tmp_path / "s.zarr")
    src = zarrfast.open_consolidated(tmp_path / "s.zarr", mode="r")
    zarrfast.convert(src, tmp_path / "d.zarr", zarr_format=2)
    assert (tmp_path / "d.zarr" / ".zmetadata").exists()
    zg = zarr.open_consolidated(str(tmp_path / "d.zarr"), mode="r")
    np.testing.assert_array_equal(zg["grp/sub/deep"][...], arrays["grp/sub/deep"])


# ---- metadata details ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("src_fmt,dst_fmt", [(3, 2), (3, 3), (2, 3), (2, 2)])
def test_dimension_names(tmp_path, src_fmt, dst_fmt):
    ref = _data((4, 5, 6), "f4")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f4", chunks=(2, 5, 3),
                                dimension_names=("time", "y", "x"), zarr_format=src_fmt)
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt)
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    np.testing.assert_array_equal(out[...], ref)
    assert out.metadata.dimension_names == ("time", "y", "x")
    if dst_fmt == 3:
        assert _v3_meta(tmp_path / "d.zarr")["dimension_names"] == ["time", "y", "x"]
        assert zarr.open_array(str(tmp_path / "d.zarr"), mode="r").metadata.dimension_names == ("time", "y", "x")
    else:  # v2 keeps them where xarray looks: the _ARRAY_DIMENSIONS attribute
        assert dict(zarr.open_array(str(tmp_path / "d.zarr"), mode="r").attrs)["_ARRAY_DIMENSIONS"] == \
            ["time", "y", "x"]
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=dst_fmt)


def test_v2_array_dimensions_attribute_becomes_v3_dimension_names_only(tmp_path):
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=(4, 5), dtype="f4", chunks=(2, 5),
                                dimension_names=("y", "x"), zarr_format=2, attributes={"units": "m"})
    assert dict(src.attrs)["_ARRAY_DIMENSIONS"] == ["y", "x"]
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=3)
    meta = _v3_meta(tmp_path / "d.zarr")
    assert meta["dimension_names"] == ["y", "x"]
    assert meta["attributes"] == {"units": "m"}


def test_partial_dimension_names_to_v3(tmp_path):
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=(4, 5, 6), dtype="f4", chunks=(2, 5, 3),
                                dimension_names=("time", None, "x"))
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(4, 5, 6))
    assert _v3_meta(tmp_path / "d.zarr")["dimension_names"] == ["time", None, "x"]
    assert src.metadata.dimension_names == ("time", None, "x")


def test_partial_dimension_names_to_v2(tmp_path):
    ref = _data((4, 5, 6), "f4")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f4", chunks=(2, 5, 3),
                                dimension_names=("time", None, "x"))
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=2)
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=2)


def test_hdf5_partial_dimension_scales_to_v2(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "partial.h5"
    ref = _data((3, 4), "f8")
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", data=np.arange(4.0))
        x.make_scale("x")
        ds = f.create_dataset("v", data=ref)
        ds.dims[1].attach_scale(x)
    zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=2)
    _check_zarr_python(tmp_path / "d.zarr", {"v": ref, "x": np.arange(4.0)}, fmt=2)


@pytest.mark.parametrize("dtype,fill", [("f8", np.nan), ("f4", -np.inf), ("i8", -(2**40)), ("u1", 255),
                                        ("bool", True), ("c16", 1 + 2j), ("M8[s]", 0)])
@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_fill_values_survive(tmp_path, dtype, fill, dst_fmt):
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=(10, 10), dtype=dtype, chunks=(4, 4), fill_value=fill,
                                zarr_format=2)
    ref = np.full((10, 10), fill, dtype=dtype)
    part = np.zeros((3, 3), dtype=dtype)
    src[1:4, 1:4] = part  # the rest of the array stays unwritten (fill value)
    ref[1:4, 1:4] = part
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt, chunks=(5, 5))
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    np.testing.assert_array_equal(out[...], ref)
    z = zarr.open_array(str(tmp_path / "d.zarr"), mode="r")
    np.testing.assert_array_equal(z[...], ref)
    want = np.asarray(fill, dtype=dtype)
    np.testing.assert_array_equal(np.asarray(z.fill_value, dtype=dtype), want)
    np.testing.assert_array_equal(np.asarray(out.fill_value, dtype=dtype), want)


@pytest.mark.parametrize("dst_fmt", [
    pytest.param(2),
    3])
def test_f_order_v2_source(tmp_path, dst_fmt):
    ref = _data((17, 23), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(5, 7), zarr_format=2,
                                order="F")
    src[...] = ref
    assert _v2_meta(tmp_path / "s.zarr")["order"] == "F"
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt, chunks=(6, 4))
    if dst_fmt == 2:
        assert _v2_meta(tmp_path / "d.zarr")["order"] == "F"  # v2 -> v2 keeps the memory order
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=dst_fmt)


@pytest.mark.parametrize("src_fmt,dst_fmt", [
    pytest.param(2, 3),
    (3, 2), (3, 3), (2, 2)])
def test_vlen_strings(tmp_path, src_fmt, dst_fmt):
    words = np.array([["alpha", "", "gamma", "δέλτα"], ["e", "ff" * 30, "g", "h"], ["i", "j", "kk", "l"]],
                     dtype=object)
    z = zarr.create_array(str(tmp_path / "s.zarr"), shape=words.shape, dtype=str, chunks=(2, 3),
                          zarr_format=src_fmt)
    z[...] = words
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt, chunks=(3, 1))
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    assert [str(v) for v in np.asarray(out[...]).ravel()] == [str(v) for v in words.ravel()]
    _check_zarr_python(tmp_path / "d.zarr", {"": words}, fmt=dst_fmt)


@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_zero_dimensional_array(tmp_path, dst_fmt):
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=(), dtype="f8", zarr_format=2, fill_value=1.0,
                                attributes={"scalar": True})
    src[...] = 42.5
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt)
    assert summary["arrays"] == 1
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    assert out.shape == () and out[()] == 42.5
    _check_zarr_python(tmp_path / "d.zarr", {"": np.array(42.5)}, {"": {"scalar": True}}, fmt=dst_fmt)


@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_empty_arrays(tmp_path, dst_fmt):
    root = zarrfast.open_group(tmp_path / "s.zarr", mode="w", zarr_format=3)
    root.create_array("none", shape=(0,), dtype="f4", chunks=(4,))
    root.create_array("flat", shape=(5, 0, 3), dtype="i2", chunks=(2, 2, 2), fill_value=3)
    root.create_array("unwritten", shape=(7, 7), dtype="u1", chunks=(3, 3), fill_value=9)
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=dst_fmt)
    assert summary["arrays"] == 3 and summary["bytes_read"] == 49
    expected = {"none": np.zeros((0,), "f4"), "flat": np.zeros((5, 0, 3), "i2"),
                "unwritten": np.full((7, 7), 9, "u1")}
    _check_zarr_python(tmp_path / "d.zarr", expected, fmt=dst_fmt)
    # all-fill chunks are not stored
    assert not [k for k in os.listdir(tmp_path / "d.zarr" / "unwritten") if k[0].isdigit() or k == "c"]


@pytest.mark.parametrize("chunks,shards", [((7, 3), None), ((1, 13), None), ((50, 50), None), ((3, 4), (9, 8)),
                                           ((2, 2), (22, 14))])
def test_edge_chunks(tmp_path, chunks, shards):
    ref = _data((22, 13), "i4")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="i4", chunks=(5, 6), zarr_format=2)
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=3, chunks=chunks, shards=shards,
                     max_mem=2**20)
    out = zarrfast.open_array(tmp_path / "d.zarr", mode="r")
    np.testing.assert_array_equal(out[...], ref)
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=3)


def test_workers_and_small_max_mem(tmp_path):
    ref = _data((300, 200), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(31, 17), zarr_format=2)
    src[...] = ref
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=3, chunks=(20, 20),
                               shards=(40, 60), workers=2, max_mem=2**20)
    assert summary["bytes_read"] == ref.nbytes
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=3)


def test_progress_reports_every_block(tmp_path):
    import io

    from zarrfast.progress import Progress

    ref = _data((64, 64), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(16, 16))
    src[...] = ref
    stream = io.StringIO()
    bar = Progress(stream, interval=0)
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(8, 8), max_mem=2**20, progress=bar)
    assert bar.done == bar.total and bar.total >= 1 and bar.done_bytes == ref.nbytes
    assert stream.getvalue().endswith("\n")


# ---- HDF5 / NetCDF4 sources ----------------------------------------------------------------------------------------
def _write_hdf5(path):
    h5py = pytest.importorskip("h5py")
    vals = {}
    with h5py.File(path, "w") as f:
        f.attrs["title"] = "h5 source"
        f.attrs["version"] = np.int32(3)
        f.attrs["scales"] = np.array([1.5, 2.5])
        x = f.create_dataset("x", data=np.arange(20, dtype="f8"))
        x.make_scale("x")
        y = f.create_dataset("y", data=np.arange(12, dtype="i4") * 10)
        y.make_scale("y")
        vals["x"] = np.arange(20, dtype="f8")
        vals["y"] = np.arange(12, dtype="i4") * 10
        temp = _data((12, 20), "f4", 5)
        ds = f.create_dataset("temp", data=temp, chunks=(5, 8), compression="gzip", compression_opts=4,
                              fillvalue=-999.0)
        ds.dims[0].attach_scale(y)
        ds.dims[1].attach_scale(x)
        ds.attrs["units"] = "K"
        ds.attrs["valid_range"] = np.array([0.0, 400.0], dtype="f4")
        vals["temp"] = temp
        g = f.create_group("inner/deeper")
        g.attrs["note"] = b"bytes attribute"
        contiguous = _data((9, 4, 3), "i8", 6)
        g.create_dataset("contiguous", data=contiguous)  # not chunked
        vals["inner/deeper/contiguous"] = contiguous
        shuffled = _data((33,), "u2", 7)
        f["inner"].create_dataset("lzf", data=shuffled, chunks=(10,), compression="lzf", shuffle=True)
        vals["inner/lzf"] = shuffled
        dt = h5py.string_dtype("utf-8")
        names = np.array(["a", "bee", "", "ünïcode"], dtype=object)
        f.create_dataset("names", data=names, dtype=dt)
        vals["names"] = names
        f.create_dataset("scalar", data=np.float64(2.75))
        vals["scalar"] = np.array(2.75)
    return vals


@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_hdf5_source(tmp_path, dst_fmt):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "src.h5"
    vals = _write_hdf5(path)
    summary = zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=dst_fmt)
    assert summary["arrays"] == len(vals)
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    with h5py.File(path, "r") as f:
        for name in vals:
            ds = f[name]
            want = ds.asstr()[()] if name == "names" else ds[()]
            got = out[name][...]
            if name == "names":
                assert [str(v) for v in got] == [str(v) for v in want]
            else:
                np.testing.assert_array_equal(got, want)
                assert got.dtype == ds.dtype
    assert out["temp"].chunks == (5, 8)  # HDF5 chunking carries over
    assert out["temp"].fill_value == -999.0
    attrs = {"": {"title": "h5 source", "version": 3, "scales": [1.5, 2.5]},
             "temp": {"units": "K", "valid_range": [0.0, 400.0]}, "inner/deeper": {"note": "bytes attribute"}}
    if dst_fmt == 2:
        attrs["temp"]["_ARRAY_DIMENSIONS"] = ["y", "x"]
    _check_zarr_python(tmp_path / "d.zarr", vals, attrs, fmt=dst_fmt)
    # dimension scales became dimension names (v3), their HDF5 bookkeeping attributes are gone
    for name in ("temp", "x", "y"):
        assert not {"DIMENSION_LIST", "REFERENCE_LIST", "CLASS", "NAME"} & set(out[name].attrs)
    if dst_fmt == 3:
        assert out["temp"].metadata.dimension_names == ("y", "x")
        assert zarr.open_array(str(tmp_path / "d.zarr"), path="temp", mode="r").metadata.dimension_names == \
            ("y", "x")
    else:
        assert dict(out["temp"].attrs)["_ARRAY_DIMENSIONS"] == ["y", "x"]


def test_hdf5_single_dataset_and_h5py_objects(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "src.hdf5"
    vals = _write_hdf5(path)
    zarrfast.convert(path, tmp_path / "one.zarr", path="/temp", chunks=(12, 4), shards=(12, 20))
    one = zarrfast.open_array(tmp_path / "one.zarr", mode="r")
    assert one.shards == (12, 20) and one.chunks == (12, 4)
    _check_zarr_python(tmp_path / "one.zarr", {"": vals["temp"]}, {"": {"units": "K", "valid_range": [0.0, 400.0]}})
    with h5py.File(path, "r") as f:
        zarrfast.convert(f["inner"], tmp_path / "inner.zarr", zarr_format=2, workers=2)
        zarrfast.convert(f["inner/lzf"], tmp_path / "lzf.zarr")
    _check_zarr_python(tmp_path / "inner.zarr", {"deeper/contiguous": vals["inner/deeper/contiguous"],
                                                 "lzf": vals["inner/lzf"]}, {"deeper": {"note": "bytes attribute"}})
    _check_zarr_python(tmp_path / "lzf.zarr", {"": vals["inner/lzf"]})


def _write_netcdf(path):
    netCDF4 = pytest.importorskip("netCDF4")
    rng = np.random.default_rng(11)
    vals = {}
    with netCDF4.Dataset(path, "w", format="NETCDF4") as ds:
        ds.title = "nc source"
        ds.history = "made by a test"
        ds.createDimension("time", None)
        ds.createDimension("lat", 15)
        ds.createDimension("lon", 24)
        ds.createDimension("nv", 2)  # a dimension without a coordinate variable
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        lat = ds.createVariable("lat", "f4", ("lat",))
        lon = ds.createVariable("lon", "f4", ("lon",))
        tas = ds.createVariable("tas", "f4", ("time", "lat", "lon"), zlib=True, complevel=3,
                                chunksizes=(2, 8, 12), fill_value=np.float32(1e20))
        tas.units = "K"
        tas.long_name = "air temperature"
        bnds = ds.createVariable("lat_bnds", "f4", ("lat", "nv"), contiguous=True)
        count = ds.createVariable("count", "i2", ("lat",))
        vals["time"] = np.arange(5, dtype="f8")
        vals["lat"] = np.linspace(-70, 70, 15).astype("f4")
        vals["lon"] = np.linspace(0, 345, 24).astype("f4")
        vals["tas"] = (250 + 30 * rng.random((5, 15, 24))).astype("f4")
        vals["lat_bnds"] = np.stack([vals["lat"] - 5, vals["lat"] + 5], axis=1).astype("f4")
        vals["count"] = np.arange(15, dtype="i2")
        t[:] = vals["time"]
        lat[:] = vals["lat"]
        lon[:] = vals["lon"]
        tas[:] = vals["tas"]
        tas[4, 0, 0] = np.ma.masked  # one fill value
        vals["tas"][4, 0, 0] = np.float32(1e20)
        bnds[:] = vals["lat_bnds"]
        count[:] = vals["count"]
        grp = ds.createGroup("sub")
        grp.comment = "a nested group"
        grp.createDimension("station", 4)
        st = grp.createVariable("height", "i4", ("station",))
        st[:] = vals["sub/height"] = np.array([1, 2, 3, 4], dtype="i4")
    return vals


@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_netcdf4_source(tmp_path, dst_fmt):
    netCDF4 = pytest.importorskip("netCDF4")
    path = tmp_path / "src.nc"
    vals = _write_netcdf(path)
    summary = zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=dst_fmt)
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    # the phony dimension "nv" (and "station") is not copied as an array
    assert sorted(out.array_keys()) == ["count", "lat", "lat_bnds", "lon", "tas", "time"]
    assert summary["arrays"] == 7
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        for name in vals:
            np.testing.assert_array_equal(out[name][...], ds[name][...])
    assert out["tas"].chunks == (2, 8, 12)
    assert out["tas"].fill_value == np.float32(1e20)
    attrs = {"": {"title": "nc source", "history": "made by a test"}, "sub": {"comment": "a nested group"}}
    _check_zarr_python(tmp_path / "d.zarr", vals, attrs, fmt=dst_fmt)
    tas_attrs = dict(zarr.open_array(str(tmp_path / "d.zarr"), path="tas", mode="r").attrs)
    assert tas_attrs.get("units") == "K" and tas_attrs.get("long_name") == "air temperature"
    assert not {"DIMENSION_LIST", "_Netcdf4Dimid", "_Netcdf4Coordinates", "CLASS", "NAME"} & set(tas_attrs)
    assert "_NCProperties" not in dict(out.attrs)
    if dst_fmt == 3:
        assert out["tas"].metadata.dimension_names == ("time", "lat", "lon")
        assert out["lat_bnds"].metadata.dimension_names == ("lat", "nv")
        assert out["sub/height"].metadata.dimension_names == ("station",)


@pytest.mark.parametrize("dst_fmt", [2, 3])
def test_netcdf4_coordinate_variables_get_their_own_dimension_name(tmp_path, dst_fmt):
    path = tmp_path / "src.nc"
    _write_netcdf(path)
    zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=dst_fmt)
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    for name in ("time", "lat", "lon"):
        assert out[name].metadata.dimension_names == (name,)


def test_hdf5_scale_dataset_gets_its_own_dimension_name(tmp_path):
    path = tmp_path / "src.h5"
    _write_hdf5(path)
    zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=3)
    out = zarrfast.open_group(tmp_path / "d.zarr", mode="r")
    assert out["x"].metadata.dimension_names == ("x",)
    assert out["y"].metadata.dimension_names == ("y",)


def test_netcdf4_to_v3_is_readable_by_xarray(tmp_path):
    xr = pytest.importorskip("xarray")
    path = tmp_path / "src.nc"
    vals = _write_netcdf(path)
    zarrfast.convert(path, tmp_path / "d.zarr", zarr_format=3, chunks=(5, 5, 8))
    with xr.open_dataset(str(tmp_path / "d.zarr"), engine="zarr", consolidated=False, mask_and_scale=False) as ds:
        assert ds["tas"].dims == ("time", "lat", "lon")
        np.testing.assert_array_equal(ds["tas"].values, vals["tas"])
        np.testing.assert_array_equal(ds["lat"].values, vals["lat"])


# ---- errors --------------------------------------------------------------------------------------------------------
def test_existing_destination_needs_overwrite(tmp_path):
    ref = _data((10, 10), "f8")
    src = zarrfast.create_array(tmp_path / "s.zarr", shape=ref.shape, dtype="f8", chunks=(5, 5))
    src[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr")
    with pytest.raises(ContainsNodeError):
        zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=2)
    np.testing.assert_array_equal(zarrfast.open_array(tmp_path / "d.zarr", mode="r")[...], ref)  # untouched
    _hierarchy(tmp_path / "g.zarr", 3)
    with pytest.raises(ContainsNodeError):
        zarrfast.convert(tmp_path / "g.zarr", tmp_path / "d.zarr")
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=2, chunks=(3, 3), overwrite=True)
    assert _v2_meta(tmp_path / "d.zarr")["chunks"] == [3, 3]
    _check_zarr_python(tmp_path / "d.zarr", {"": ref}, fmt=2)


def test_overwrite_replaces_a_hierarchy_with_an_array(tmp_path):
    _hierarchy(tmp_path / "g.zarr", 3)
    zarrfast.convert(tmp_path / "g.zarr", tmp_path / "d.zarr")
    ref = _data((6,), "i4")
    zarrfast.create_array(tmp_path / "s.zarr", shape=(6,), dtype="i4", chunks=(2,))[...] = ref
    zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", overwrite=True)
    _check_zarr_python(tmp_path / "d.zarr", {"": ref})
    assert not (tmp_path / "d.zarr" / "grp").exists()


def test_shards_with_zarr_format_2_is_an_error(tmp_path):
    zarrfast.create_array(tmp_path / "s.zarr", shape=(10, 10), dtype="f8", chunks=(5, 5))
    with pytest.raises(ValueError, match="shards"):
        zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=2, shards=(10, 10))


@pytest.mark.parametrize("kw", [{"chunks": (5,)}, {"chunks": (5, 5, 5)}, {"chunks": (5, 5), "shards": (10,)}])
def test_chunks_of_the_wrong_rank(tmp_path, kw):
    zarrfast.create_array(tmp_path / "s.zarr", shape=(10, 10), dtype="f8", chunks=(5, 5))
    with pytest.raises(ValueError, match="dimensions"):
        zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", **kw)


def test_missing_source(tmp_path):
    with pytest.raises((FileNotFoundError, zarrfast.errors.ZarrfastError)):
        zarrfast.convert(tmp_path / "nothing.zarr", tmp_path / "d.zarr")
    assert not (tmp_path / "d.zarr" / "zarr.json").exists()
