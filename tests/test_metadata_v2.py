"""Zarr v2 metadata: parse / write against the v2 spec, zarr-python 3 and tensorstore."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from zarrfast.errors import FillValueError, MetadataError, UnknownDataTypeError
from zarrfast.metadata import (
    ArrayMetadata,
    GroupMetadata,
    array_metadata_to_json,
    group_metadata_to_json,
    parse_array_v2,
    parse_group_v2,
    parse_v2_dtype,
    v2_dtype_str,
)

# Every v2 typestr in scope, with fill values in their spec JSON form.
FLOAT_FILLS = ["NaN", "Infinity", "-Infinity", 0.5, -0.0, 0.0, None]
INT_FILLS = [0, 1, None]
DTYPE_FILLS: dict[str, list] = {"|b1": [True, False, None]}
for _code in ["i1", "u1"]:
    DTYPE_FILLS["|" + _code] = [*INT_FILLS, int(np.iinfo(_code).min), int(np.iinfo(_code).max)]
for _order in "<>":
    for _code in ["i2", "i4", "i8", "u2", "u4", "u8"]:
        DTYPE_FILLS[_order + _code] = [*INT_FILLS, int(np.iinfo(_code).min), int(np.iinfo(_code).max)]
    for _code in ["f2", "f4", "f8"]:
        DTYPE_FILLS[_order + _code] = FLOAT_FILLS
    for _code in ["c8", "c16"]:
        DTYPE_FILLS[_order + _code] = [[1.0, 2.0], ["NaN", "-Infinity"], [0.0, -0.0], None]
CASES = [(dt, fv) for dt, fills in DTYPE_FILLS.items() for fv in fills]


def zarray(**changes: object) -> dict:
    """A valid .zarray document (the spec's example shape), with ``changes`` applied (None deletes)."""
    doc = {
        "shape": [10000, 10000],
        "chunks": [1000, 1000],
        "dtype": "<f8",
        "fill_value": "NaN",
        "order": "C",
        "filters": [{"id": "delta", "dtype": "<f8", "astype": "<f4"}],
        "dimension_separator": ".",
        "compressor": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
        "zarr_format": 2,
    }
    for key, value in changes.items():
        if value is _DELETE:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


_DELETE = object()


def same_json(a: object, b: object) -> bool:
    """Equal as JSON text (so -0.0 != 0.0 and "NaN" strings compare)."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


# --- dtypes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("typestr", list(DTYPE_FILLS))
def test_dtype_round_trip(typestr: str) -> None:
    dtype = parse_v2_dtype(typestr)
    assert dtype == np.dtype(typestr) and dtype.str == np.dtype(typestr).str
    assert v2_dtype_str(dtype) == typestr


def test_one_byte_types_accept_any_byte_order() -> None:
    assert parse_v2_dtype("<i1") == np.dtype("i1") and parse_v2_dtype(">u1") == np.dtype("u1")
    assert parse_v2_dtype("<b1") == np.dtype(bool)


@pytest.mark.parametrize(
    "typestr", ["i4", "=f8", "|f8", "<f3", "<i16", "<U0", "<M8", "<m8[fortnight]", "|S0", "|O8", "", "<", 5]
)
def test_unknown_dtypes(typestr: object) -> None:
    with pytest.raises(UnknownDataTypeError, match=repr(typestr).replace("[", r"\[").replace("|", r"\|")):
        parse_v2_dtype(typestr)


def test_malformed_structured_dtype_is_unknown() -> None:
    # well-formed structured types are supported (tests/test_dtypes_extended.py)
    assert parse_v2_dtype([["r", "|u1"], ["g", "|u1"]]) == np.dtype([("r", "u1"), ("g", "u1")])
    with pytest.raises(UnknownDataTypeError):
        parse_v2_dtype([["r", "|u1"], ["g"]])


# --- round trips ---------------------------------------------------------------------------------
@pytest.mark.parametrize("typestr, fill", CASES)
def test_round_trip_every_dtype_and_fill_value(typestr: str, fill: object) -> None:
    doc = zarray(dtype=typestr, fill_value=fill, filters=None, order="F", dimension_separator="/")
    meta = parse_array_v2(json.dumps(doc), {"units": "m"}, path="a/b")
    assert meta.zarr_format == 2 and meta.dtype.str == np.dtype(typestr).str
    assert meta.chunk_key_encoding == "v2" and meta.dimension_separator == "/" and meta.codecs == ()
    if fill is None:
        assert meta.fill_value is None
    else:
        assert isinstance(meta.fill_value, np.generic)
        assert meta.fill_value.dtype == np.dtype(typestr).newbyteorder("=")
    docs = array_metadata_to_json(meta)
    assert set(docs) == {".zarray", ".zattrs"}
    assert same_json(json.loads(docs[".zarray"]), doc)
    assert json.loads(docs[".zattrs"]) == {"units": "m"}
    assert parse_array_v2(docs[".zarray"], docs[".zattrs"]) == meta


def test_written_json_is_strict_and_indented() -> None:
    meta = parse_array_v2(json.dumps(zarray()), {"x": float("nan"), "y": [np.float32(1.5), np.int64(2)]})
    docs = array_metadata_to_json(meta)
    text = docs[".zarray"].decode()
    assert text.startswith('{\n  "shape": [\n    10000,') and not text.endswith("\n")
    assert '"fill_value": "NaN"' in text
    json.loads(docs[".zattrs"], parse_constant=lambda c: pytest.fail(f"bare {c} token written"))
    assert json.loads(docs[".zattrs"]) == {"x": "NaN", "y": [1.5, 2]}


def test_zero_dim_array() -> None:
    meta = parse_array_v2(json.dumps(zarray(shape=[], chunks=[], dtype="<i4", fill_value=0)))
    assert meta.shape == () and meta.chunk_shape == () and meta.ndim == 0
    assert json.loads(array_metadata_to_json(meta)[".zarray"])["shape"] == []


# --- lenient reading -----------------------------------------------------------------------------
def test_lenient_filters_separator_and_extra_keys() -> None:
    doc = zarray(filters=[], dimension_separator=_DELETE, _nczarr_array={"dimrefs": ["/x"]})
    meta = parse_array_v2(json.dumps(doc))
    assert meta.filters is None  # [] reads as null
    assert meta.dimension_separator == "."
    assert meta.extra_fields == {"_nczarr_array": {"dimrefs": ["/x"]}}
    written = json.loads(array_metadata_to_json(meta)[".zarray"])
    assert written["filters"] is None and "_nczarr_array" not in written
    assert parse_array_v2(json.dumps(zarray(filters=_DELETE))).filters is None
    assert parse_array_v2(json.dumps(zarray(dimension_separator=None))).dimension_separator == "."


def test_bare_nan_token_and_missing_zattrs() -> None:
    text = json.dumps(zarray()).replace('"NaN"', "NaN").encode()
    meta = parse_array_v2(text, None)
    assert np.isnan(meta.fill_value) and meta.attributes == {}


# --- invalid documents ---------------------------------------------------------------------------
INVALID = [
    (zarray(zarr_format=3), MetadataError, "zarr_format"),
    (zarray(zarr_format=_DELETE), MetadataError, "zarr_format"),
    (zarray(zarr_format=True), MetadataError, "zarr_format"),
    (zarray(shape=_DELETE), MetadataError, "'shape'"),
    (zarray(chunks=_DELETE, dtype=_DELETE), MetadataError, "'chunks', 'dtype'"),
    (zarray(fill_value=_DELETE), MetadataError, "fill_value"),
    (zarray(compressor=_DELETE), MetadataError, "compressor"),
    (zarray(order=_DELETE), MetadataError, "order"),
    (zarray(order="K"), MetadataError, "order"),
    (zarray(shape=[10, -1]), MetadataError, "shape"),
    (zarray(shape=[10.0, 3]), MetadataError, "shape"),
    (zarray(shape="10"), MetadataError, "shape"),
    (zarray(chunks=[0, 10]), MetadataError, "chunks"),
    (zarray(chunks=[-5, 10]), MetadataError, "chunks"),
    (zarray(chunks=[10]), MetadataError, "chunks"),
    (zarray(chunks=[True, 10]), MetadataError, "chunks"),
    (zarray(dtype="<q9"), UnknownDataTypeError, "'<q9'"),
    (zarray(dtype="<i4", fill_value="NaN"), FillValueError, "fill_value"),
    (zarray(dtype="|u1", fill_value=256), FillValueError, "fill_value"),
    (zarray(compressor="zlib"), MetadataError, "compressor"),
    (zarray(compressor={"level": 1}), MetadataError, "compressor"),
    (zarray(filters={"id": "delta"}), MetadataError, "filters"),
    (zarray(filters=[{"dtype": "<f8"}]), MetadataError, "filters"),
    (zarray(dimension_separator="-"), MetadataError, "dimension_separator"),
]


@pytest.mark.parametrize("doc, error, field", INVALID)
def test_invalid_documents(doc: dict, error: type, field: str) -> None:
    with pytest.raises(error) as info:
        parse_array_v2(json.dumps(doc), path="group/arr")
    message = str(info.value)
    assert "group/arr/.zarray" in message and field in message


@pytest.mark.parametrize("text", [b"{not json", b"[1, 2]", b"\xff\xfe", b"null"])
def test_invalid_json(text: bytes) -> None:
    with pytest.raises(MetadataError, match=r"x/y/\.zarray"):
        parse_array_v2(text, path="x/y")
    with pytest.raises(MetadataError, match=r"x/y/\.zattrs"):
        parse_array_v2(json.dumps(zarray()), text, path="x/y")


# --- the model -----------------------------------------------------------------------------------
def test_replace_revalidates_and_rederives_dtype_string() -> None:
    meta = parse_array_v2(json.dumps(zarray(dtype="<i1", fill_value=3)))
    assert meta.data_type == "<i1"  # as written, though numpy spells it "|i1"
    assert json.loads(array_metadata_to_json(meta)[".zarray"])["dtype"] == "<i1"
    bigger = dataclasses.replace(meta, shape=[20000, 5])
    assert bigger.shape == (20000, 5) and bigger.data_type == "<i1"
    other = dataclasses.replace(meta, dtype=np.dtype(">f4"))
    assert other.data_type == ">f4" and other.fill_value.dtype == np.float32
    with pytest.raises(MetadataError, match="rank"):
        dataclasses.replace(meta, shape=[1, 2, 3])
    with pytest.raises(MetadataError, match="positive"):
        dataclasses.replace(meta, chunk_shape=(0, 1))
    with pytest.raises(MetadataError, match="chunk key encoding"):
        dataclasses.replace(meta, chunk_key_encoding="default")


def test_equality_treats_nan_fill_values_as_equal() -> None:
    a = parse_array_v2(json.dumps(zarray()))
    b = parse_array_v2(json.dumps(zarray()))
    assert a == b and a.fill_value is not b.fill_value
    assert a != dataclasses.replace(b, fill_value=0.0)
    assert a != parse_array_v2(json.dumps(zarray(dtype=">f8")))


def test_constructor_defaults() -> None:
    meta = ArrayMetadata(zarr_format=2, shape=[4], chunk_shape=[2], dtype=np.dtype(">u2"), fill_value=None)
    assert meta.data_type == ">u2" and meta.chunk_key_encoding == "v2" and meta.dimension_separator == "."
    assert meta.filters is None and meta.compressor is None and meta.attributes == {}


# --- groups --------------------------------------------------------------------------------------
def test_group_round_trip() -> None:
    meta = parse_group_v2(b'{"zarr_format": 2}', b'{"a": [1, 2]}', path="g")
    assert meta == GroupMetadata(zarr_format=2, attributes={"a": [1, 2]})
    docs = group_metadata_to_json(meta)
    assert set(docs) == {".zgroup", ".zattrs"}
    assert json.loads(docs[".zgroup"]) == {"zarr_format": 2} and json.loads(docs[".zattrs"]) == {"a": [1, 2]}
    assert parse_group_v2(docs[".zgroup"], None).attributes == {}
    nczarr = parse_group_v2({"zarr_format": 2, "_nczarr_group": {"dims": {}}})
    assert nczarr.extra_fields == {"_nczarr_group": {"dims": {}}}
    assert json.loads(group_metadata_to_json(nczarr)[".zgroup"]) == {"zarr_format": 2}


def test_group_errors() -> None:
    with pytest.raises(MetadataError, match=r"g/h/\.zgroup.*zarr_format"):
        parse_group_v2(b'{"zarr_format": 3}', path="g/h")
    with pytest.raises(MetadataError, match=r"g/\.zmetadata"):
        parse_group_v2(b'{"zarr_format": 2}', zmetadata={"metadata": {}}, path="g")


# --- interop: zarr-python 3 and tensorstore ------------------------------------------------------
def _read_docs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith(".")}


INTEROP_CASES = [(dt, fills[0]) for dt, fills in DTYPE_FILLS.items()] + [
    ("<f4", 0.5),
    ("<c16", ["NaN", "-Infinity"]),
    ("<i8", None),
    ("|b1", None),
]


@pytest.mark.interop
@pytest.mark.parametrize("typestr, fill", INTEROP_CASES)
def test_json_equals_zarr_python(tmp_path: Path, typestr: str, fill: object) -> None:
    """Parse what zarr-python writes, write it back: the same JSON (byte for byte, in fact)."""
    zarr = pytest.importorskip("zarr")
    dtype = np.dtype(typestr)
    value = (
        None
        if fill is None
        else np.asarray(parse_array_v2(zarray(dtype=typestr, fill_value=fill)).fill_value)
    )
    arr = zarr.create_array(
        tmp_path / "a",
        shape=(7, 5),
        chunks=(3, 2),
        dtype=dtype,
        fill_value=value,
        zarr_format=2,
        attributes={"long_name": "t\u00e9st", "n": [1, 2.5]},
        order="F",
        chunk_key_encoding={"name": "v2", "separator": "/"},
    )
    docs = _read_docs(tmp_path / "a")
    meta = parse_array_v2(docs[".zarray"], docs[".zattrs"], path="a")
    assert meta.shape == arr.shape and meta.chunk_shape == arr.chunks and meta.order == "F"
    assert meta.dtype == dtype and meta.attributes == arr.attrs.asdict()
    ours = array_metadata_to_json(meta)
    assert same_json(json.loads(ours[".zarray"]), json.loads(docs[".zarray"]))
    assert ours == docs  # same key order, indent and escapes


@pytest.mark.interop
@pytest.mark.parametrize("typestr, fill", INTEROP_CASES)
def test_zarr_python_reads_what_we_write(tmp_path: Path, typestr: str, fill: object) -> None:
    zarr = pytest.importorskip("zarr")
    meta = ArrayMetadata(
        zarr_format=2,
        shape=(6, 4),
        chunk_shape=(4, 4),
        dtype=np.dtype(typestr),
        fill_value=None
        if fill is None
        else parse_array_v2(zarray(dtype=typestr, fill_value=fill)).fill_value,
        compressor={"id": "zlib", "level": 3},
        filters=None,
        attributes={"k": "v"},
    )
    folder = tmp_path / "a"
    folder.mkdir()
    for name, data in array_metadata_to_json(meta).items():
        (folder / name).write_bytes(data)
    arr = zarr.open_array(folder, mode="r")
    assert arr.metadata.zarr_format == 2 and arr.shape == (6, 4) and arr.chunks == (4, 4)
    assert arr.dtype == np.dtype(typestr) and arr.attrs.asdict() == {"k": "v"}
    if fill is not None:
        np.testing.assert_array_equal(arr[...], np.full((6, 4), meta.fill_value, dtype=typestr))


@pytest.mark.interop
def test_zarr_python_groups_and_consolidated(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    root = zarr.open_group(tmp_path / "g", mode="w", zarr_format=2, attributes={"title": "x"})
    root.create_array("arr", shape=(3,), dtype="<i2", fill_value=None)
    zarr.consolidate_metadata(tmp_path / "g")
    docs = _read_docs(tmp_path / "g")
    meta = parse_group_v2(docs[".zgroup"], docs[".zattrs"], zmetadata=docs[".zmetadata"])
    assert meta.attributes == {"title": "x"}
    inner = meta.consolidated_metadata["metadata"]
    arr = parse_array_v2(inner["arr/.zarray"], inner["arr/.zattrs"], path="arr")
    assert arr.fill_value is None and arr.dtype == np.dtype("<i2")
    ours = group_metadata_to_json(meta)
    assert ours[".zgroup"] == docs[".zgroup"] and ours[".zattrs"] == docs[".zattrs"]
    assert json.loads(ours[".zmetadata"]) == json.loads(docs[".zmetadata"])


@pytest.mark.interop
@pytest.mark.parametrize(
    "metadata",
    [
        {"dtype": "<u2"},
        {
            "dtype": ">f8",
            "fill_value": "NaN",
            "order": "F",
            "dimension_separator": "/",
            "compressor": {"id": "zlib", "level": 3},
        },
        {"dtype": "<c8", "fill_value": [1, 2]},
        {"dtype": "|b1", "fill_value": True, "compressor": None},
    ],
)
def test_parse_tensorstore(tmp_path: Path, metadata: dict) -> None:
    ts = pytest.importorskip("tensorstore")
    spec = {"driver": "zarr", "kvstore": f"file://{tmp_path}/t", "metadata": metadata}
    store = ts.open(spec, create=True, shape=[10, 20]).result()
    docs = _read_docs(tmp_path / "t")
    assert ".zattrs" not in docs  # tensorstore writes no attributes document
    meta = parse_array_v2(docs[".zarray"], None, path="t")
    assert meta.shape == (10, 20) and meta.dtype == store.dtype.numpy_dtype.newbyteorder(metadata["dtype"][0])
    assert same_json(json.loads(array_metadata_to_json(meta)[".zarray"]), json.loads(docs[".zarray"]))
