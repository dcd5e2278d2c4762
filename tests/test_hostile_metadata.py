"""Corrupt metadata: every malformed ``zarr.json`` / ``.zarray`` / ``.zattrs`` / ``.zmetadata`` raises
``zarrfast.errors.MetadataError`` (or a subclass) when the node is opened - through ``open_array``, ``open_group``,
``open`` and group lookups - with a message naming the node and the document; never a bare ``KeyError``,
``TypeError``, ``OverflowError`` or a crash. The spec (zarr-specs v2 and v3) is the oracle for what is invalid.

Opening is O(1) in the number of chunks: a (2**40, 2**40) array of (1, 1) chunks opens and reads at once.
"""
from __future__ import annotations

import base64
import json
import time

import numpy as np
import pytest
from hostile_helpers import FORMATS, NAME, doc_name

import zarrfast
from zarrfast import errors as E

OPENERS = {
    "open_array": lambda store: zarrfast.open_array(store, path=NAME, mode="r"),
    "open": lambda store: zarrfast.open(store, path=NAME, mode="r"),
    "group lookup": lambda store: zarrfast.open_group(store, path="grp", mode="r")["arr"],
}


def _good_doc(fmt, **kw):
    store = {}
    zarrfast.create_group(store, path="grp", zarr_format=fmt)
    args = dict(shape=(10, 10), chunks=(4, 4), dtype="i4", compressors=None)
    args.update(kw)
    zarrfast.create_array(store=store, name=NAME, zarr_format=fmt, **args)
    return store, json.loads(store[f"{NAME}/{doc_name(fmt)}"])


def _open_with(fmt, raw, opener="open_array"):
    store, _ = _good_doc(fmt)
    store[f"{NAME}/{doc_name(fmt)}"] = raw
    return OPENERS[opener](store)


def _edit(fmt, fn, **kw):
    _store, doc = _good_doc(fmt, **kw)
    fn(doc)
    return json.dumps(doc).encode()


def _set(field, value):
    return lambda d: d.__setitem__(field, value)


def _grid(value):
    return lambda d: d["chunk_grid"]["configuration"].__setitem__("chunk_shape", value)


def _codecs(*extra, serializer=None):
    def fn(d):
        d["codecs"] = [serializer or d["codecs"][0], *extra]
    return fn


def _sharding(**config):
    base = {"chunk_shape": [2, 2], "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end"}
    base.update(config)
    return _codecs(serializer={"name": "sharding_indexed", "configuration": base})


def check(exc: BaseException, fmt: int, cls: type = E.MetadataError) -> None:
    assert isinstance(exc, cls), (type(exc).__mro__, exc)
    assert isinstance(exc, E.MetadataError) and isinstance(exc, ValueError)
    msg = str(exc)
    assert NAME in msg, msg
    assert doc_name(fmt) in msg or ".zattrs" in msg or ".zmetadata" in msg, msg


# ---- zarr.json (v3) -------------------------------------------------------------------------------------------------

V3 = {
    # JSON itself
    "truncated json": lambda: _edit(3, lambda d: None)[:-7],
    "json array": lambda: b"[]",
    "json string": lambda: b'"zarr"',
    "json null": lambda: b"null",
    "json number": lambda: b"3",
    "invalid utf-8": lambda: b'{"zarr_format": 3, "node_type": "array", "x": "\xff\xfe"}',
    "nan literal": lambda: _edit(3, lambda d: None).replace(b'"shape"', b'"x": NaN, "shape"'),
    "deeply nested": lambda: b"[" * 100000 + b"]" * 100000,
    # format fields
    "zarr_format string": lambda: _edit(3, _set("zarr_format", "3")),
    "zarr_format 2": lambda: _edit(3, _set("zarr_format", 2)),
    "zarr_format missing": lambda: _edit(3, lambda d: d.pop("zarr_format")),
    "node_type missing": lambda: _edit(3, lambda d: d.pop("node_type")),
    "node_type number": lambda: _edit(3, _set("node_type", 1)),
    # shape
    "shape string": lambda: _edit(3, _set("shape", "10")),
    "shape number": lambda: _edit(3, _set("shape", 10)),
    "shape null": lambda: _edit(3, _set("shape", None)),
    "shape object": lambda: _edit(3, _set("shape", {"a": 1})),
    "shape string entry": lambda: _edit(3, _set("shape", [10, "10"])),
    "shape float": lambda: _edit(3, _set("shape", [10.0, 10])),
    "shape bool": lambda: _edit(3, _set("shape", [True, 10])),
    "shape negative": lambda: _edit(3, _set("shape", [-5, 10])),
    "shape 2**63": lambda: _edit(3, _set("shape", [2**63, 10])),
    "shape 2**64": lambda: _edit(3, _set("shape", [2**64, 10])),
    "shape 10**30": lambda: _edit(3, _set("shape", [10**30, 10])),
    "shape nested": lambda: _edit(3, _set("shape", [[10], 10])),
    "shape missing": lambda: _edit(3, lambda d: d.pop("shape")),
    # chunk grid
    "chunk_shape float": lambda: _edit(3, _grid([4.0, 4])),
    "chunk_shape fraction": lambda: _edit(3, _grid([4.5, 4])),
    "chunk_shape bool": lambda: _edit(3, _grid([True, 4])),
    "chunk_shape negative": lambda: _edit(3, _grid([-4, 4])),
    "chunk_shape zero": lambda: _edit(3, _grid([0, 4])),
    "chunk_shape 2**63": lambda: _edit(3, _grid([2**63, 4])),
    "chunk_shape 2**64": lambda: _edit(3, _grid([2**64, 4])),
    "chunk_shape product overflows int64": lambda: _edit(3, _grid([2**40, 2**40])),
    "chunk_shape bytes overflow int64": lambda: _edit(3, _grid([2**31, 2**31])),
    "chunk_shape string": lambda: _edit(3, _grid("4")),
    "chunk_shape rank": lambda: _edit(3, _grid([4])),
    "chunk_shape rank too high": lambda: _edit(3, _grid([4, 4, 4])),
    "chunk_shape missing": lambda: _edit(3, lambda d: d["chunk_grid"]["configuration"].pop("chunk_shape")),
    "chunk_grid string": lambda: _edit(3, _set("chunk_grid", "regular")),
    "chunk_grid null": lambda: _edit(3, _set("chunk_grid", None)),
    "chunk_grid no configuration": lambda: _edit(3, _set("chunk_grid", {"name": "regular"})),
    "chunk_grid configuration list": lambda: _edit(3, _set("chunk_grid", {"name": "regular", "configuration": []})),
    "chunk_grid unknown": lambda: _edit(3, _set("chunk_grid", {"name": "hexagonal", "configuration": {}})),
    # data types
    "data_type unknown": lambda: _edit(3, _set("data_type", "int33")),
    "data_type number": lambda: _edit(3, _set("data_type", 5)),
    "data_type null": lambda: _edit(3, _set("data_type", None)),
    "data_type list": lambda: _edit(3, _set("data_type", ["int32"])),
    "data_type unknown object": lambda: _edit(3, _set("data_type", {"name": "foo", "configuration": {}})),
    "data_type v2 string": lambda: _edit(3, _set("data_type", "<i4")),
    "data_type raw bits huge": lambda: _edit(3, _set("data_type", "r" + "9" * 25)),
    "data_type raw bits not bytes": lambda: _edit(3, _set("data_type", "r7")),
    "data_type missing": lambda: _edit(3, lambda d: d.pop("data_type")),
    # codecs
    "codecs missing": lambda: _edit(3, lambda d: d.pop("codecs")),
    "codecs object": lambda: _edit(3, _set("codecs", {"name": "bytes"})),
    "codecs string": lambda: _edit(3, _set("codecs", "bytes")),
    "codec entry number": lambda: _edit(3, _codecs(5)),
    "codec entry null": lambda: _edit(3, _codecs(None)),
    "codec without name": lambda: _edit(3, _codecs({"configuration": {}})),
    "codec name number": lambda: _edit(3, _codecs({"name": 5})),
    "codec configuration list": lambda: _edit(3, _codecs({"name": "zstd", "configuration": [1]})),
    "unknown codec": lambda: _edit(3, _codecs({"name": "nope"})),
    "unknown codec must_understand true": lambda: _edit(3, _codecs({"name": "nope", "must_understand": True})),
    "bytes endian bad": lambda: _edit(3, _codecs(serializer={"name": "bytes", "configuration": {"endian": "middle"}})),
    "bytes endian number": lambda: _edit(3, _codecs(serializer={"name": "bytes", "configuration": {"endian": 1}})),
    "bytes unknown option": lambda: _edit(3, _codecs(serializer={"name": "bytes", "configuration": {"x": 1}})),
    "zstd level string": lambda: _edit(3, _codecs({"name": "zstd", "configuration": {"level": "high"}})),
    "zstd level huge": lambda: _edit(3, _codecs({"name": "zstd", "configuration": {"level": 2**70}})),
    "zstd checksum string": lambda: _edit(3, _codecs({"name": "zstd", "configuration": {"level": 1,
                                                                                         "checksum": "yes"}})),
    "gzip level 42": lambda: _edit(3, _codecs({"name": "gzip", "configuration": {"level": 42}})),
    "gzip level float": lambda: _edit(3, _codecs({"name": "gzip", "configuration": {"level": 1.5}})),
    "blosc cname": lambda: _edit(3, _codecs({"name": "blosc", "configuration": {"cname": "nope", "clevel": 1,
                                                                                 "shuffle": "shuffle"}})),
    "blosc cname number": lambda: _edit(3, _codecs({"name": "blosc", "configuration": {"cname": 5, "clevel": 1,
                                                                                        "shuffle": "shuffle"}})),
    "blosc shuffle": lambda: _edit(3, _codecs({"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1,
                                                                                   "shuffle": "random"}})),
    "blosc clevel string": lambda: _edit(3, _codecs({"name": "blosc", "configuration": {"cname": "lz4",
                                                                                         "clevel": "x"}})),
    "blosc typesize negative": lambda: _edit(3, _codecs({"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 1, "shuffle": "shuffle", "typesize": -4}})),
    "crc32c with options": lambda: _edit(3, _codecs({"name": "crc32c", "configuration": {"seed": 1}})),
    "transpose bad permutation": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [{"name": "transpose", "configuration": {"order": [0, 0]}}, d["codecs"][0]])),
    "transpose wrong rank": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [{"name": "transpose", "configuration": {"order": [0, 1, 2]}}, d["codecs"][0]])),
    "transpose order string": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [{"name": "transpose", "configuration": {"order": "backwards"}}, d["codecs"][0]])),
    "no serializer": lambda: _edit(3, _set("codecs", [{"name": "gzip", "configuration": {"level": 1}}])),
    "two serializers": lambda: _edit(3, lambda d: d.__setitem__("codecs", d["codecs"] * 2)),
    "bytes->bytes before serializer": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [{"name": "crc32c"}, d["codecs"][0]])),
    # sharding
    "sharding inner chunk does not divide": lambda: _edit(3, _sharding(chunk_shape=[3, 3]), chunks=(4, 4)),
    "sharding inner chunk rank": lambda: _edit(3, _sharding(chunk_shape=[2])),
    "sharding inner chunk zero": lambda: _edit(3, _sharding(chunk_shape=[0, 2])),
    "sharding inner chunk float": lambda: _edit(3, _sharding(chunk_shape=[2.0, 2])),
    "sharding inner chunk larger than shard": lambda: _edit(3, _sharding(chunk_shape=[8, 8])),
    "sharding index_location": lambda: _edit(3, _sharding(index_location="middle")),
    "sharding index_codecs compressed": lambda: _edit(3, _sharding(index_codecs=[
        {"name": "bytes", "configuration": {"endian": "little"}}, {"name": "zstd", "configuration": {"level": 1}}])),
    "sharding index_codecs empty": lambda: _edit(3, _sharding(index_codecs=[])),
    "sharding codecs empty": lambda: _edit(3, _sharding(codecs=[])),
    "sharding codecs unknown": lambda: _edit(3, _sharding(codecs=[{"name": "nope"}])),
    "sharding unknown option": lambda: _edit(3, _sharding(mystery=1)),
    "sharding configuration missing": lambda: _edit(3, _codecs(serializer={"name": "sharding_indexed"})),
    # chunk key encoding
    "chunk_key_encoding unknown": lambda: _edit(3, _set("chunk_key_encoding", {"name": "fancy"})),
    "separator |": lambda: _edit(3, _set("chunk_key_encoding", {"name": "default",
                                                                "configuration": {"separator": "|"}})),
    "separator ..": lambda: _edit(3, _set("chunk_key_encoding", {"name": "default",
                                                                 "configuration": {"separator": ".."}})),
    "separator /..": lambda: _edit(3, _set("chunk_key_encoding", {"name": "v2",
                                                                  "configuration": {"separator": "/../"}})),
    "separator number": lambda: _edit(3, _set("chunk_key_encoding", {"name": "default",
                                                                     "configuration": {"separator": 1}})),
    "separator empty": lambda: _edit(3, _set("chunk_key_encoding", {"name": "v2",
                                                                    "configuration": {"separator": ""}})),
    # fill values
    "fill int out of range": lambda: _edit(3, _set("fill_value", 2**40)),
    "fill int 2**64": lambda: _edit(3, _set("fill_value", 2**64)),
    "fill NaN for int": lambda: _edit(3, _set("fill_value", "NaN")),
    "fill fraction for int": lambda: _edit(3, _set("fill_value", 1.5)),
    "fill string for int": lambda: _edit(3, _set("fill_value", "abc")),
    "fill list for int": lambda: _edit(3, _set("fill_value", [1])),
    "fill object for int": lambda: _edit(3, _set("fill_value", {"x": 1})),
    "fill hex for int": lambda: _edit(3, _set("fill_value", "0x10")),
    "fill missing": lambda: _edit(3, lambda d: d.pop("fill_value")),
    "fill string for float": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "abc"), dtype="f8"),
    "fill too wide hex for float": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "0x" + "f" * 20),
                                                 dtype="f8"),
    "fill bad hex for float": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "0xZZZZZZZZZZZZZZZZ"),
                                            dtype="f8"),
    "fill one part for complex": lambda: _edit(3, lambda d: d.__setitem__("fill_value", [1.0]), dtype="c16"),
    "fill number for complex": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "x"), dtype="c16"),
    "fill string for bool": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "yes"), dtype="bool"),
    "fill int 2 for bool": lambda: _edit(3, lambda d: d.__setitem__("fill_value", 2), dtype="bool"),
    "fill bad base64 for bytes": lambda: _edit(3, lambda d: d.__setitem__("fill_value", "!!notbase64!!"),
                                               dtype="V4"),
    "fill wrong length for bytes": lambda: _edit(
        3, lambda d: d.__setitem__("fill_value", base64.b64encode(b"123456").decode()), dtype="V4"),
    # other fields
    "attributes list": lambda: _edit(3, _set("attributes", [1])),
    "dimension_names count": lambda: _edit(3, _set("dimension_names", ["x"])),
    "dimension_names too many": lambda: _edit(3, _set("dimension_names", ["x", "y", "z"])),
    "dimension_names string": lambda: _edit(3, _set("dimension_names", "xy")),
    "dimension_names number entry": lambda: _edit(3, _set("dimension_names", ["x", 1])),
    "storage_transformers": lambda: _edit(3, _set("storage_transformers", [{"name": "foo", "configuration": {}}])),
}
V3_MUST_UNDERSTAND = {
    "unknown field must_understand true": lambda: _edit(3, _set("foo", {"must_understand": True})),
    "unknown field plain value": lambda: _edit(3, _set("foo", 1)),
    "unknown field must_understand string": lambda: _edit(3, _set("foo", {"must_understand": "false"})),
    "unknown data_type extension": lambda: _edit(3, _set("data_type", {"name": "foo", "must_understand": True})),
}


@pytest.mark.parametrize("opener", list(OPENERS))
@pytest.mark.parametrize("case", list(V3))
def test_bad_zarr_json(case, opener):
    with pytest.raises(E.ZarrfastError) as info:
        _open_with(3, V3[case](), opener)
    check(info.value, 3)


@pytest.mark.parametrize("case", list(V3_MUST_UNDERSTAND))
def test_unknown_must_understand(case):
    with pytest.raises(E.MetadataError) as info:
        _open_with(3, V3_MUST_UNDERSTAND[case]())
    check(info.value, 3)


# ---- .zarray (v2) ---------------------------------------------------------------------------------------------------

V2 = {
    "truncated json": lambda: _edit(2, lambda d: None)[:-3],
    "json array": lambda: b"[1]",
    "json null": lambda: b"null",
    "zarr_format 3": lambda: _edit(2, _set("zarr_format", 3)),
    "zarr_format string": lambda: _edit(2, _set("zarr_format", "2")),
    "zarr_format missing": lambda: _edit(2, lambda d: d.pop("zarr_format")),
    "shape string": lambda: _edit(2, _set("shape", "10")),
    "shape negative": lambda: _edit(2, _set("shape", [-1, 10])),
    "shape 2**63": lambda: _edit(2, _set("shape", [2**63, 10])),
    "shape float": lambda: _edit(2, _set("shape", [10.0, 10])),
    "shape bool": lambda: _edit(2, _set("shape", [10, False])),
    "chunks float": lambda: _edit(2, _set("chunks", [4.0, 4])),
    "chunks bool": lambda: _edit(2, _set("chunks", [True, 4])),
    "chunks zero": lambda: _edit(2, _set("chunks", [0, 4])),
    "chunks negative": lambda: _edit(2, _set("chunks", [-4, 4])),
    "chunks 2**64": lambda: _edit(2, _set("chunks", [2**64, 4])),
    "chunks product overflows int64": lambda: _edit(2, _set("chunks", [2**40, 2**40])),
    "chunks rank": lambda: _edit(2, _set("chunks", [4])),
    "chunks string": lambda: _edit(2, _set("chunks", "4,4")),
    "chunks missing": lambda: _edit(2, lambda d: d.pop("chunks")),
    "dtype unknown": lambda: _edit(2, _set("dtype", "<i3")),
    "dtype number": lambda: _edit(2, _set("dtype", 5)),
    "dtype garbage": lambda: _edit(2, _set("dtype", "not a dtype")),
    "dtype structured malformed": lambda: _edit(2, _set("dtype", [["a"]])),
    "dtype structured bad field": lambda: _edit(2, _set("dtype", [["a", "<q9"]])),
    "dtype structured duplicate": lambda: _edit(2, _set("dtype", [["a", "<i4"], ["a", "<i4"]])),
    "dtype huge": lambda: _edit(2, _set("dtype", "|S99999999999999999999")),
    "dtype missing": lambda: _edit(2, lambda d: d.pop("dtype")),
    "order K": lambda: _edit(2, _set("order", "K")),
    "order number": lambda: _edit(2, _set("order", 1)),
    "compressor number": lambda: _edit(2, _set("compressor", 5)),
    "compressor no id": lambda: _edit(2, _set("compressor", {"level": 1})),
    "compressor id number": lambda: _edit(2, _set("compressor", {"id": 5})),
    "compressor unknown": lambda: _edit(2, _set("compressor", {"id": "nope"})),
    "zstd level string": lambda: _edit(2, _set("compressor", {"id": "zstd", "level": "high"})),
    "zlib level string": lambda: _edit(2, _set("compressor", {"id": "zlib", "level": "x"})),
    "gzip level list": lambda: _edit(2, _set("compressor", {"id": "gzip", "level": [1]})),
    "blosc cname number": lambda: _edit(2, _set("compressor", {"id": "blosc", "cname": 5, "clevel": 1,
                                                                "shuffle": 1})),
    "blosc cname unknown": lambda: _edit(2, _set("compressor", {"id": "blosc", "cname": "nope", "clevel": 1,
                                                                 "shuffle": 1})),
    "blosc shuffle 7": lambda: _edit(2, _set("compressor", {"id": "blosc", "cname": "lz4", "clevel": 1,
                                                             "shuffle": 7})),
    "blosc clevel string": lambda: _edit(2, _set("compressor", {"id": "blosc", "cname": "lz4", "clevel": "x",
                                                                 "shuffle": 1})),
    "lz4 acceleration string": lambda: _edit(2, _set("compressor", {"id": "lz4", "acceleration": "fast"})),
    "compressor unknown option": lambda: _edit(2, _set("compressor", {"id": "zstd", "level": 1, "mystery": 2})),
    "filters object": lambda: _edit(2, _set("filters", {"id": "delta"})),
    "filters entry number": lambda: _edit(2, _set("filters", [5])),
    "filters unknown": lambda: _edit(2, _set("filters", [{"id": "nope"}])),
    "delta dtype bad": lambda: _edit(2, _set("filters", [{"id": "delta", "dtype": "<i3"}])),
    "delta dtype number": lambda: _edit(2, _set("filters", [{"id": "delta", "dtype": 4}])),
    "fill int out of range": lambda: _edit(2, _set("fill_value", 2**40)),
    "fill NaN for int": lambda: _edit(2, _set("fill_value", "NaN")),
    "fill fraction for int": lambda: _edit(2, _set("fill_value", 1.5)),
    "fill list for int": lambda: _edit(2, _set("fill_value", [1, 2])),
    "fill string for float": lambda: _edit(2, lambda d: d.__setitem__("fill_value", "abc"), dtype="f8"),
    "fill bad base64 for S": lambda: _edit(2, lambda d: d.__setitem__("fill_value", "!!!"), dtype="S4"),
    "fill bad base64 for V": lambda: _edit(2, lambda d: d.__setitem__("fill_value", "@@@@"), dtype="V4"),
    "fill number for S": lambda: _edit(2, lambda d: d.__setitem__("fill_value", 5), dtype="S4"),
    "fill wrong length structured": lambda: _edit(
        2, lambda d: d.__setitem__("fill_value", base64.b64encode(b"\0" * 13).decode()),
        dtype=[("a", "<i4"), ("b", "<f8")]),
    "fill byte list out of range for structured": lambda: _edit(2, lambda d: d.__setitem__("fill_value", [300]),
                                              dtype=[("a", "<i4"), ("b", "<f8")]),
    "dimension_separator |": lambda: _edit(2, _set("dimension_separator", "|")),
    "dimension_separator ..": lambda: _edit(2, _set("dimension_separator", "..")),
    "dimension_separator number": lambda: _edit(2, _set("dimension_separator", 1)),
}


@pytest.mark.parametrize("opener", list(OPENERS))
@pytest.mark.parametrize("case", list(V2))
def test_bad_zarray(case, opener):
    with pytest.raises(E.ZarrfastError) as info:
        _open_with(2, V2[case](), opener)
    check(info.value, 2)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("raw", [b"{bad", b"[1]", b"null", b"\xff"], ids=["invalid", "list", "null", "binary"])
def test_bad_zattrs_v2(fmt, raw):
    store, _ = _good_doc(2)
    store[f"{NAME}/.zattrs"] = raw
    with pytest.raises(E.MetadataError) as info:
        zarrfast.open_array(store, path=NAME, mode="r")
    check(info.value, 2)


# ---- bad codec configurations are MetadataErrors at open, CodecErrors on data -------------------------------------

@pytest.mark.parametrize("fmt,case", [(3, "zstd level string"), (3, "blosc cname"), (3, "unknown codec"),
                                      (2, "zstd level string"), (2, "compressor unknown"),
                                      (3, "sharding inner chunk does not divide")])
def test_bad_codec_configuration_is_metadata_error_at_open(fmt, case):
    with pytest.raises(E.MetadataError) as info:
        _open_with(fmt, (V3 if fmt == 3 else V2)[case]())
    check(info.value, fmt)
    if "unknown" in case:
        assert isinstance(info.value, E.UnknownCodecError)  # still the codec class too


# ---- moved from test_errors.py: open and read every element (a failure may only show on the first read) -------


def _open_read(fmt, raw):
    return _open_with(fmt, raw)[...]


BAD_COMMON = {
    "invalid json": lambda fmt: b"{not json",
    "empty document": lambda fmt: b"",
    "not an object": lambda fmt: b"[1, 2]",
    "binary garbage": lambda fmt: bytes(range(256)),
    "negative shape": lambda fmt: _edit(fmt, lambda d: d.__setitem__("shape", [-1, 10])),
    "float shape": lambda fmt: _edit(fmt, lambda d: d.__setitem__("shape", [1.5, 10])),
    "missing shape": lambda fmt: _edit(fmt, lambda d: d.pop("shape")),
    "wrong zarr_format": lambda fmt: _edit(fmt, lambda d: d.__setitem__("zarr_format", 7)),
    "unknown dtype": lambda fmt: _edit(fmt, lambda d: d.__setitem__("data_type" if fmt == 3 else "dtype",
                                                                     "int33" if fmt == 3 else "<i3")),
    "bad fill value": lambda fmt: _edit(fmt, lambda d: d.__setitem__("fill_value", "not a number")),
}
BAD_V3 = {
    "zero chunk": lambda: _edit(3, lambda d: d["chunk_grid"]["configuration"].__setitem__("chunk_shape", [0, 4])),
    "chunk rank": lambda: _edit(3, lambda d: d["chunk_grid"]["configuration"].__setitem__("chunk_shape", [4])),
    "irregular grid": lambda: _edit(3, lambda d: d.__setitem__("chunk_grid", {"name": "rectilinear"})),
    "storage transformers": lambda: _edit(3, lambda d: d.__setitem__(
        "storage_transformers", [{"name": "foo", "configuration": {}}])),
    "storage transformer must_understand": lambda: _edit(3, lambda d: d.__setitem__(
        "storage_transformers", [{"name": "foo", "must_understand": True}])),
    "node type": lambda: _edit(3, lambda d: d.__setitem__("node_type", "table")),
    "no codecs": lambda: _edit(3, lambda d: d.__setitem__("codecs", [])),
    "no serializer": lambda: _edit(3, lambda d: d.__setitem__("codecs", [{"name": "gzip"}])),
    "two serializers": lambda: _edit(3, lambda d: d.__setitem__("codecs", d["codecs"] * 2)),
    "bad codec configuration": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [d["codecs"][0], {"name": "zstd", "configuration": {"level": "high"}}])),
    "bad codec option": lambda: _edit(3, lambda d: d.__setitem__(
        "codecs", [d["codecs"][0], {"name": "gzip", "configuration": {"speed": 3}}])),
    "bad chunk key encoding": lambda: _edit(3, lambda d: d.__setitem__("chunk_key_encoding", {"name": "fancy"})),
    "dimension names count": lambda: _edit(3, lambda d: d.__setitem__("dimension_names", ["x"])),
}
MUST_UNDERSTAND = {
    "unknown field must_understand true": lambda: _edit(3, lambda d: d.__setitem__("foo", {"must_understand": True})),
    "unknown field plain value": lambda: _edit(3, lambda d: d.__setitem__("foo", 1)),
    "unknown field object": lambda: _edit(3, lambda d: d.__setitem__("foo", {"name": "x"})),
}
BAD_V2 = {
    "bad order": lambda: _edit(2, lambda d: d.__setitem__("order", "K")),
    "zero chunk": lambda: _edit(2, lambda d: d.__setitem__("chunks", [0, 4])),
    "chunk rank": lambda: _edit(2, lambda d: d.__setitem__("chunks", [4])),
    "missing compressor": lambda: _edit(2, lambda d: d.pop("compressor")),
    "bad separator": lambda: _edit(2, lambda d: d.__setitem__("dimension_separator", "|")),
}
UNKNOWN_CODECS = {
    (3, "codec name"): lambda: _edit(3, lambda d: d.__setitem__("codecs", [d["codecs"][0], {"name": "nope"}])),
    (3, "numcodecs name"): lambda: _edit(3, lambda d: d.__setitem__("codecs", [d["codecs"][0],
                                                                              {"name": "numcodecs.nope"}])),
    (3, "array->array name"): lambda: _edit(3, lambda d: d.__setitem__("codecs", [{"name": "nope2"}, d["codecs"][0]])),
    (2, "compressor id"): lambda: _edit(2, lambda d: d.__setitem__("compressor", {"id": "nope"})),
    (2, "filter id"): lambda: _edit(2, lambda d: d.__setitem__("filters", [{"id": "nope"}])),
}


def _check_metadata_error(exc, fmt, cls=E.MetadataError):
    assert isinstance(exc, E.ZarrfastError) and isinstance(exc, ValueError)
    assert isinstance(exc, cls), type(exc)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", list(BAD_COMMON))
def test_bad_metadata_common(fmt, case):
    with pytest.raises(E.ZarrfastError) as info:
        _open_read(fmt, BAD_COMMON[case](fmt))
    _check_metadata_error(info.value, fmt)
    assert NAME in str(info.value)


@pytest.mark.parametrize("case", list(BAD_V3))
def test_bad_metadata_v3(case):
    with pytest.raises(E.ZarrfastError) as info:
        _open_read(3, BAD_V3[case]())
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, (E.MetadataError, E.CodecError)), type(info.value)


@pytest.mark.parametrize("case", list(BAD_V2))
def test_bad_metadata_v2(case):
    with pytest.raises(E.ZarrfastError) as info:
        _open_read(2, BAD_V2[case]())
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, (E.MetadataError, E.CodecError)), type(info.value)


@pytest.mark.parametrize("case", ["zero chunk", "chunk rank", "irregular grid", "storage transformers",
                                  "storage transformer must_understand", "node type", "bad chunk key encoding",
                                  "dimension names count"])
def test_bad_metadata_v3_message_names_path(case):
    with pytest.raises(E.MetadataError) as info:
        _open_read(3, BAD_V3[case]())
    assert NAME in str(info.value)


@pytest.mark.parametrize("case", list(MUST_UNDERSTAND))
def test_unknown_must_understand_field(case):
    with pytest.raises(E.MustUnderstandError) as info:
        _open_read(3, MUST_UNDERSTAND[case]())
    _check_metadata_error(info.value, 3, E.MustUnderstandError)
    assert "foo" in str(info.value) and NAME in str(info.value)


def test_must_understand_false_is_ignored():
    a = _open_read(3, _edit(3, lambda d: d.__setitem__("foo", {"must_understand": False, "x": 1})))
    assert a.shape == (10, 10)
    st = _edit(3, lambda d: d.__setitem__("storage_transformers", [{"name": "foo", "must_understand": False}]))
    assert _open_read(3, st).shape == (10, 10)


@pytest.mark.parametrize("case", list(UNKNOWN_CODECS), ids=[f"v{f}-{n}" for f, n in UNKNOWN_CODECS])
def test_unknown_codec_in_metadata(case):
    fmt, _ = case
    with pytest.raises(E.UnknownCodecError) as info:
        _open_read(fmt, UNKNOWN_CODECS[case]())
    assert isinstance(info.value, ValueError) and isinstance(info.value, E.CodecError)
    assert "nope" in str(info.value)


@pytest.mark.parametrize("case", list(UNKNOWN_CODECS), ids=[f"v{f}-{n}" for f, n in UNKNOWN_CODECS])
def test_unknown_codec_in_metadata_names_path(case):
    fmt, _ = case
    with pytest.raises(E.UnknownCodecError) as info:
        _open_read(fmt, UNKNOWN_CODECS[case]())
    assert NAME in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", ["nope", {"name": "nope"}, {"id": "nope"}, {"name": "numcodecs.nope"}])
def test_unknown_codec_on_create(fmt, spec):
    with pytest.raises(E.UnknownCodecError):
        zarrfast.create_array(store={}, shape=(4,), dtype="i4", zarr_format=fmt, compressors=[spec])


# ---- consolidated metadata ---------------------------------------------------------------------------------------

def _consolidated_v2(entry):
    store = {}
    g = zarrfast.create_group(store, path="grp", zarr_format=2)
    g.create_array("arr", shape=(10, 10), chunks=(4, 4), dtype="i4")
    zarrfast.consolidate_metadata(store, path="grp", zarr_format=2)
    doc = json.loads(store["grp/.zmetadata"])
    entry(doc)
    store["grp/.zmetadata"] = json.dumps(doc).encode() if isinstance(doc, dict) else doc
    return store


CONSOLIDATED = {
    "entry with string shape": lambda d: d["metadata"]["arr/.zarray"].__setitem__("shape", "x"),
    "entry with zero chunks": lambda d: d["metadata"]["arr/.zarray"].__setitem__("chunks", [0, 4]),
    "entry with unknown dtype": lambda d: d["metadata"]["arr/.zarray"].__setitem__("dtype", "<i3"),
    "entry not an object": lambda d: d["metadata"].__setitem__("arr/.zarray", [1, 2]),
    "entry with bad fill": lambda d: d["metadata"]["arr/.zarray"].__setitem__("fill_value", "NaN"),
    "entry with bad compressor": lambda d: d["metadata"]["arr/.zarray"].__setitem__(
        "compressor", {"id": "zstd", "level": "x"}),
}


@pytest.mark.parametrize("case", list(CONSOLIDATED))
def test_corrupt_consolidated_v2_entry(case):
    store = _consolidated_v2(CONSOLIDATED[case])
    with pytest.raises(E.MetadataError) as info:
        g = zarrfast.open_consolidated(store, path="grp")
        g["arr"]
    assert "arr" in str(info.value)


@pytest.mark.parametrize("raw", [b"{bad", b"[1]", b'{"metadata": 5, "zarr_consolidated_format": 1}',
                                 b'{"zarr_consolidated_format": 1}', b'{"metadata": {".zgroup": {"zarr_format": 2}}, "zarr_consolidated_format": 9}'],
                         ids=["invalid", "list", "metadata number", "no metadata", "format 9"])
def test_corrupt_zmetadata_document(raw):
    store = _consolidated_v2(lambda d: None)
    store["grp/.zmetadata"] = raw
    with pytest.raises(E.MetadataError) as info:
        zarrfast.open_consolidated(store, path="grp")
    assert ".zmetadata" in str(info.value) and "grp" in str(info.value)


V3_CONSOLIDATED = {
    "entry with string shape": lambda m: m["arr"].__setitem__("shape", "x"),
    "entry with unknown data_type": lambda m: m["arr"].__setitem__("data_type", "int33"),
    "entry with unknown codec": lambda m: m["arr"].__setitem__("codecs", [{"name": "nope"}]),
    "entry not an object": lambda m: m.__setitem__("arr", 5),
    "entry without node_type": lambda m: m["arr"].pop("node_type"),
}


@pytest.mark.parametrize("case", list(V3_CONSOLIDATED))
def test_corrupt_consolidated_v3_entry(case):
    store = {}
    g = zarrfast.create_group(store, path="grp")
    g.create_array("arr", shape=(10, 10), chunks=(4, 4), dtype="i4")
    zarrfast.consolidate_metadata(store, path="grp")
    doc = json.loads(store["grp/zarr.json"])
    V3_CONSOLIDATED[case](doc["consolidated_metadata"]["metadata"])
    store["grp/zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(E.MetadataError) as info:
        zarrfast.open_consolidated(store, path="grp")["arr"]
    assert "grp" in str(info.value) and "arr" in str(info.value)


# ---- opening is O(1) in the number of chunks ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("engine", ["auto", "python"])
def test_huge_shape_tiny_chunks_open_and_read_fast(fmt, engine):
    store = {}
    a = zarrfast.create_array(store=store, name=NAME, shape=(2**40, 2**40), chunks=(1, 1), dtype="i4",
                              fill_value=7, zarr_format=fmt)
    a[2**40 - 1, 5] = 3
    t0 = time.perf_counter()
    with zarrfast.config.set(engine=engine):
        b = zarrfast.open_array(store, path=NAME, mode="r")
        assert b.shape == (2**40, 2**40) and b.nchunks == 2**80
        assert b[0, 0] == 7
        assert b[2**40 - 1, 5] == 3
        np.testing.assert_array_equal(b[2**40 - 2:, 4:7], [[7, 7, 7], [7, 3, 7]])
    assert time.perf_counter() - t0 < 2.0
