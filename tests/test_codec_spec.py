"""Compressor SPEC strings (zarrfast.codec_spec): parsing, the metadata they produce, and interop with zarr-python."""
import json
import warnings

import numpy as np
import pytest

import zarrfast
from zarrfast.codec_spec import SPEC_FORMS, parse_codec_spec, parse_int_tuple
from zarrfast.codecs import BloscCodec, GzipCodec, LZ4Codec, ZlibCodec, ZstdCodec

# spec -> (expected v3 compressor codec JSON or None, expected v2 compressor JSON or None)
CASES = {
    "zstd:3": ({"name": "zstd", "configuration": {"level": 3, "checksum": False}}, {"id": "zstd", "level": 3}),
    "zstd": ({"name": "zstd", "configuration": {"level": 0, "checksum": False}}, {"id": "zstd", "level": 0}),
    "ZSTD:-5": ({"name": "zstd", "configuration": {"level": -5, "checksum": False}}, {"id": "zstd", "level": -5}),
    "blosc:lz4:5:shuffle": (
        {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4,
                                            "blocksize": 0}},
        {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}),
    "blosc:zstd": (
        {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 5, "shuffle": "shuffle", "typesize": 4,
                                            "blocksize": 0}},
        {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1, "blocksize": 0}),
    "blosc": (
        {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 5, "shuffle": "shuffle", "typesize": 4,
                                            "blocksize": 0}},
        {"id": "blosc", "cname": "zstd", "clevel": 5, "shuffle": 1, "blocksize": 0}),
    "blosc:lz4hc:9:bitshuffle": (
        {"name": "blosc", "configuration": {"cname": "lz4hc", "clevel": 9, "shuffle": "bitshuffle", "typesize": 4,
                                            "blocksize": 0}},
        {"id": "blosc", "cname": "lz4hc", "clevel": 9, "shuffle": 2, "blocksize": 0}),
    "blosc:zlib:1:noshuffle": (
        {"name": "blosc", "configuration": {"cname": "zlib", "clevel": 1, "shuffle": "noshuffle", "typesize": 4,
                                            "blocksize": 0}},
        {"id": "blosc", "cname": "zlib", "clevel": 1, "shuffle": 0, "blocksize": 0}),
    "gzip:6": ({"name": "gzip", "configuration": {"level": 6}}, {"id": "gzip", "level": 6}),
    "gzip": ({"name": "gzip", "configuration": {"level": 5}}, {"id": "gzip", "level": 5}),
    "zlib:4": ({"name": "numcodecs.zlib", "configuration": {"level": 4}}, {"id": "zlib", "level": 4}),
    "lz4": ({"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}, {"id": "lz4", "acceleration": 1}),
    "lz4:3": ({"name": "numcodecs.lz4", "configuration": {"acceleration": 3}}, {"id": "lz4", "acceleration": 3}),
    "none": (None, None),
}


def _data():
    return (np.arange(40 * 30, dtype="<i4").reshape(40, 30) % 97) * 3 - 50


def _doc(root, fmt):
    name = "zarr.json" if fmt == 3 else ".zarray"
    return json.loads((root / name).read_text())


@pytest.mark.parametrize("spec", list(CASES))
@pytest.mark.parametrize("fmt", [2, 3])
def test_spec_creates_array_with_codec(tmp_path, spec, fmt):
    expect_v3, expect_v2 = CASES[spec]
    root = tmp_path / f"a{fmt}.zarr"
    data = _data()
    arr = zarrfast.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(16, 16), zarr_format=fmt,
                                compressors=parse_codec_spec(spec, fmt))
    arr[...] = data
    doc = _doc(root, fmt)
    if fmt == 3:
        chain = doc["codecs"]
        assert chain[0] == {"name": "bytes", "configuration": {"endian": "little"}}
        assert chain[1:] == ([expect_v3] if expect_v3 else [])
    else:
        assert doc["compressor"] == expect_v2
        assert doc["filters"] is None
    back = zarrfast.open_array(str(root), mode="r")
    np.testing.assert_array_equal(back[...], data)


@pytest.mark.interop
@pytest.mark.parametrize("spec", list(CASES))
@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_reads_spec_arrays(tmp_path, spec, fmt):
    zarr = pytest.importorskip("zarr")
    root = tmp_path / "z.zarr"
    data = _data()
    arr = zarrfast.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(16, 16), zarr_format=fmt,
                                compressors=parse_codec_spec(spec, fmt))
    arr[...] = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zarr-python warns about numcodecs.* names in v3 metadata
        z = zarr.open_array(str(root), mode="r")
        assert z.metadata.zarr_format == fmt
        np.testing.assert_array_equal(z[...], data)


def test_sharded_v3_uses_spec_inside_shards(tmp_path):
    root = tmp_path / "s.zarr"
    data = _data()
    arr = zarrfast.create_array(str(root), shape=data.shape, dtype=data.dtype, chunks=(8, 10), shards=(16, 30),
                                compressors=parse_codec_spec("gzip:2", 3))
    arr[...] = data
    inner = _doc(root, 3)["codecs"][0]["configuration"]["codecs"]
    assert inner[-1] == {"name": "gzip", "configuration": {"level": 2}}
    np.testing.assert_array_equal(zarrfast.open_array(str(root), mode="r")[...], data)


def test_returned_objects():
    assert parse_codec_spec("none", 3) == []
    assert parse_codec_spec("NONE", 2) == []
    assert parse_codec_spec("default", 3) is None
    assert parse_codec_spec(" zstd : 7 ", 3) == [ZstdCodec(level=7)]
    assert parse_codec_spec("gzip:0", 2) == [GzipCodec(level=0)]
    assert parse_codec_spec("zlib", 2) == [ZlibCodec()]
    assert parse_codec_spec("lz4", 3) == [LZ4Codec()]
    (b,) = parse_codec_spec("Blosc:LZ4:0:BitShuffle", 3)
    assert isinstance(b, BloscCodec) and (b.cname, b.clevel, b.shuffle) == ("lz4", 0, 2)


@pytest.mark.parametrize("spec, fragment", [
    ("foo", "unknown compressor 'foo'"),
    ("zstd:abc", "level must be an integer"),
    ("zstd:99", "level must be in [-131072, 22]"),
    ("gzip:10", "level must be in [0, 9]"),
    ("gzip:-1", "level must be in [0, 9]"),
    ("zlib:11", "level must be in [-1, 9]"),
    ("lz4:0", "acceleration must be >= 1"),
    ("blosc:snappy", "blosc compressor must be one of"),
    ("blosc:lz4:10", "clevel must be in [0, 9]"),
    ("blosc:lz4:5:byteshuffle", "blosc shuffle must be one of noshuffle|shuffle|bitshuffle"),
    ("blosc:lz4:5:shuffle:1", "at most 3 options"),
    ("zstd:3:1", "at most 1 option"),
    ("none:1", "at most 0 options"),
    ("zstd:", "empty field"),
    ("", "unknown compressor ''"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(ValueError) as info:
        parse_codec_spec(spec, 3)
    msg = str(info.value)
    assert fragment in msg
    assert repr(spec) in msg  # names the spec
    for form in SPEC_FORMS:  # and lists the valid forms
        assert form in msg


def test_bad_format():
    with pytest.raises(ValueError, match="zarr_format must be 2 or 3"):
        parse_codec_spec("zstd", 4)


def test_parse_int_tuple():
    assert parse_int_tuple("64,64,64") == (64, 64, 64)
    assert parse_int_tuple(" 10 , 2 ") == (10, 2)
    assert parse_int_tuple("5") == (5,)
    for bad in ("", "0,1", "-1", "a,b", "1,,2", "1.5"):
        with pytest.raises(ValueError, match="invalid chunks"):
            parse_int_tuple(bad, "chunks")
