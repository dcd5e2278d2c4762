"""Codec arguments in every form (zarrfast/zarr-python codec objects, v2/v3 dicts, numcodecs objects),
chunk key encodings and fill values: the stored metadata JSON equals zarr-python 3's for the same call.
"""
from __future__ import annotations

import json
import os
import warnings

import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs.numcodecs as znc
from array_helpers import FORMATS

import zarrfast

# ------------------------------------------------------------------------------------------------------------------
# codec arguments in every form; metadata JSON equals zarr-python's for the same call


# (id, zarrfast kwargs, zarr-python kwargs (None: the same), xfail reason)
V3_FORMS = [
    ("zf-zstd", dict(compressors=zarrfast.codecs.ZstdCodec(level=3)), dict(compressors=zarr.codecs.ZstdCodec(level=3)),
     None),
    ("zf-zstd-ck", dict(compressors=[zarrfast.codecs.ZstdCodec(level=3, checksum=True)]),
     dict(compressors=[zarr.codecs.ZstdCodec(level=3, checksum=True)]), None),
    ("zf-blosc", dict(compressors=zarrfast.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
     dict(compressors=zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)), None),
    ("zf-gzip", dict(compressors=zarrfast.codecs.GzipCodec(level=2)), dict(compressors=zarr.codecs.GzipCodec(level=2)),
     None),
    ("zf-crc", dict(compressors=[zarrfast.codecs.ZstdCodec(level=1), zarrfast.codecs.Crc32cCodec()]),
     dict(compressors=[zarr.codecs.ZstdCodec(level=1), zarr.codecs.Crc32cCodec()]), None),
    ("zf-bytes-big", dict(compressors=None, serializer=zarrfast.codecs.BytesCodec(endian="big")),
     dict(compressors=None, serializer=zarr.codecs.BytesCodec(endian="big")), None),
    ("zf-transpose", dict(filters=[zarrfast.codecs.TransposeCodec(order=[1, 0])]),
     dict(filters=[zarr.codecs.TransposeCodec(order=(1, 0))]), None),
    ("v3-dict-zstd", dict(compressors={"name": "zstd", "configuration": {"level": 3, "checksum": False}}), None, None),
    ("v3-dict-blosc", dict(compressors=[{"name": "blosc", "configuration": {
        "cname": "zstd", "clevel": 2, "shuffle": "bitshuffle"}}]), None, None),
    ("v3-dict-blosc-ts", dict(compressors=[{"name": "blosc", "configuration": {
        "cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 4, "blocksize": 0}}]), None, None),
    ("v3-dict-chain", dict(filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}],
                           serializer={"name": "bytes", "configuration": {"endian": "big"}},
                           compressors=[{"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}]),
     None, None),
    ("v3-no-compressor", dict(compressors=None), None, None),
    ("v2-dict-zstd", dict(compressors={"id": "zstd", "level": 3}), dict(compressors=zarr.codecs.ZstdCodec(level=3)),
     None),
    ("v2-dict-blosc", dict(compressors={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
     dict(compressors=zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)), None),
    ("v2-dict-gzip", dict(compressors={"id": "gzip", "level": 2}), dict(compressors=zarr.codecs.GzipCodec(level=2)),
     None),
    ("nc-zstd", dict(compressors=numcodecs.Zstd(level=3)), dict(compressors=zarr.codecs.ZstdCodec(level=3)), None),
    ("nc-blosc", dict(compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=numcodecs.Blosc.BITSHUFFLE)),
     dict(compressors=zarr.codecs.BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle", typesize=4)), None),
    ("nc-gzip", dict(compressors=numcodecs.GZip(level=2)), dict(compressors=zarr.codecs.GzipCodec(level=2)), None),
    ("nc-zlib", dict(compressors=numcodecs.Zlib(level=2)), dict(compressors=znc.Zlib(level=2)), None),
    ("nc-bz2", dict(compressors=numcodecs.BZ2(level=1)), dict(compressors=znc.BZ2(level=1)), None),
    ("zp-zstd", dict(compressors=zarr.codecs.ZstdCodec(level=3)), None, None),
    ("zp-blosc-ts", dict(compressors=zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)),
     None, None),
    ("zp-blosc-default", dict(compressors=zarr.codecs.BloscCodec()), None, None),
    ("zp-blosc-no-ts", dict(compressors=zarr.codecs.BloscCodec(cname="lz4", clevel=2, shuffle="bitshuffle")), None,
     None),
    ("zp-gzip", dict(compressors=[zarr.codecs.GzipCodec(level=4)]), None, None),
    ("zp-crc", dict(compressors=[zarr.codecs.ZstdCodec(level=5), zarr.codecs.Crc32cCodec()]), None, None),
    ("zp-bytes-transpose", dict(filters=[zarr.codecs.TransposeCodec(order=(1, 0))],
                                serializer=zarr.codecs.BytesCodec(endian="big")), None, None),
    ("zp-nc-zlib", dict(compressors=znc.Zlib(level=1)), None, None),
    ("zp-nc-bz2", dict(compressors=znc.BZ2(level=1)), None, None),
    ("zp-nc-lz4", dict(compressors=znc.LZ4()), None, None),
    ("zp-nc-zstd", dict(compressors=znc.Zstd(level=2)), None, None),
    ("zp-nc-delta", dict(filters=[znc.Delta(dtype="<i4")]), None, None),
    ("v3-dict-nc-delta", dict(filters=[{"name": "numcodecs.delta", "configuration": {"dtype": "<i4"}}]),
     dict(filters=[znc.Delta(dtype="<i4")]), None),
]

V2_FORMS = [
    ("zf-zstd", dict(compressors=zarrfast.codecs.ZstdCodec(level=3)), dict(compressors=numcodecs.Zstd(level=3)), None),
    ("zf-zstd-ck", dict(compressors=zarrfast.codecs.ZstdCodec(level=3, checksum=True)),
     dict(compressors=numcodecs.Zstd(level=3, checksum=True)), None),
    ("zf-blosc", dict(compressors=zarrfast.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
     dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)), None),
    ("zf-blosc-bit", dict(compressors=zarrfast.codecs.BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle")),
     dict(compressors=numcodecs.Blosc(cname="zstd", clevel=3, shuffle=2)), None),
    ("zf-gzip", dict(compressors=zarrfast.codecs.GzipCodec(level=3)), dict(compressors=numcodecs.GZip(level=3)), None),
    ("zf-zlib", dict(compressors=zarrfast.codecs.ZlibCodec(level=3)), dict(compressors=numcodecs.Zlib(level=3)), None),
    ("zf-lz4", dict(compressors=zarrfast.codecs.LZ4Codec()), dict(compressors=numcodecs.LZ4()), None),
    ("v3-dict-zstd", dict(compressors={"name": "zstd", "configuration": {"level": 3, "checksum": False}}),
     dict(compressors=numcodecs.Zstd(level=3)), None),
    ("v3-dict-blosc", dict(compressors={"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                           "shuffle": "shuffle"}}),
     dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)), None),
    ("v2-dict-zstd", dict(compressors={"id": "zstd", "level": 3}), None, None),
    ("v2-dict-blosc", dict(compressors={"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2}), None, None),
    ("v2-dict-blosc-auto", dict(compressors={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1}), None, None),
    ("v2-dict-lz4", dict(compressors={"id": "lz4", "acceleration": 3}), None, None),
    ("v2-dict-zlib", dict(compressors={"id": "zlib", "level": 4}), None, None),
    ("v2-dict-none", dict(compressors=None), None, None),
    ("v2-dict-filters", dict(filters=[{"id": "delta", "dtype": "<i4"}], compressors={"id": "zstd", "level": 1}),
     dict(filters=[numcodecs.Delta(dtype="<i4")], compressors=numcodecs.Zstd(level=1)), None),
    ("nc-zstd", dict(compressors=numcodecs.Zstd(level=3)), None, None),
    ("nc-blosc", dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)), None, None),
    ("nc-blosc-blosclz", dict(compressors=numcodecs.Blosc(cname="blosclz", clevel=5, shuffle=1)), None, None),
    ("nc-gzip", dict(compressors=numcodecs.GZip(level=2)), None, None),
    ("nc-zlib", dict(compressors=numcodecs.Zlib(level=2)), None, None),
    ("nc-lz4", dict(compressors=numcodecs.LZ4()), None, None),
    ("nc-bz2", dict(compressors=numcodecs.BZ2(level=1)), None, None),
    ("nc-lzma", dict(compressors=numcodecs.LZMA()), None, None),
    ("nc-filters", dict(filters=[numcodecs.Delta(dtype="<i4"), numcodecs.Shuffle(elementsize=4)], compressors=None),
     None, None),
    ("zp-zstd", dict(compressors=zarr.codecs.ZstdCodec(level=3)), dict(compressors=numcodecs.Zstd(level=3)), None),
    ("zp-blosc", dict(compressors=zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")),
     dict(compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)), None),
    ("zp-gzip", dict(compressors=zarr.codecs.GzipCodec(level=3)), dict(compressors=numcodecs.GZip(level=3)), None),
]


def _form_params(forms):
    out = []
    for ident, zf_kw, zp_kw, bug in forms:
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        out.append(pytest.param(zf_kw, zp_kw, id=ident, marks=marks))
    return out


def _check_codec_form(tmp_path, fmt, zf_kw, zp_kw, order="C"):
    zp_kw = zf_kw if zp_kw is None else zp_kw
    common = dict(shape=(10, 6), chunks=(4, 3), dtype="i4", fill_value=3, attributes={"a": 1}, zarr_format=fmt)
    if fmt == 2:
        common["order"] = order
    else:
        common["dimension_names"] = ["y", "x"]
    zf_path, zp_path = str(tmp_path / "zf"), str(tmp_path / "zp")
    a = zarrfast.create_array(store=zf_path, **common, **zf_kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(store=zp_path, **common, **zp_kw)
    doc = "zarr.json" if fmt == 3 else ".zarray"
    with open(os.path.join(zf_path, doc)) as f:
        got = json.load(f)
    with open(os.path.join(zp_path, doc)) as f:
        want = json.load(f)
    assert got == want
    if fmt == 2:
        with open(os.path.join(zf_path, ".zattrs")) as f1, open(os.path.join(zp_path, ".zattrs")) as f2:
            assert json.load(f1) == json.load(f2)
    data = np.arange(60, dtype="i4").reshape(10, 6) * 7 - 11
    a[...] = data
    np.testing.assert_array_equal(zarrfast.open_array(zf_path, mode="r")[...], data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(zarr.open_array(zf_path, mode="r")[...], data)


@pytest.mark.parametrize("zf_kw,zp_kw", _form_params(V3_FORMS))
def test_codec_forms_v3(tmp_path, zf_kw, zp_kw):
    _check_codec_form(tmp_path, 3, zf_kw, zp_kw)


@pytest.mark.parametrize("zf_kw,zp_kw", _form_params(V2_FORMS))
def test_codec_forms_v2(tmp_path, zf_kw, zp_kw):
    _check_codec_form(tmp_path, 2, zf_kw, zp_kw)


@pytest.mark.parametrize("zf_kw,zp_kw", _form_params(V2_FORMS[:3] + V2_FORMS[-3:]))
def test_codec_forms_v2_order_f(tmp_path, zf_kw, zp_kw):
    _check_codec_form(tmp_path, 2, zf_kw, zp_kw, order="F")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("cke", [{"name": "v2", "separator": "/"}, {"name": "v2", "separator": "."},
                                 {"name": "default", "separator": "."}, {"name": "default", "separator": "/"}])
def test_chunk_key_encoding_like_zarr_python(tmp_path, fmt, cke):
    if fmt == 2 and cke["name"] == "default":
        with pytest.raises(ValueError):
            zarrfast.create_array(store={}, shape=(4, 4), chunks=(2, 2), dtype="u1", zarr_format=2,
                                  chunk_key_encoding=cke)
        return
    kw = dict(shape=(4, 4), chunks=(2, 2), dtype="u1", zarr_format=fmt, chunk_key_encoding=cke, compressors=None)
    zf_path, zp_path = str(tmp_path / "zf"), str(tmp_path / "zp")
    a = zarrfast.create_array(store=zf_path, **kw)
    z = zarr.create_array(store=zp_path, **kw)
    a[...] = np.arange(16).reshape(4, 4)
    z[...] = np.arange(16).reshape(4, 4)
    doc = "zarr.json" if fmt == 3 else ".zarray"
    with open(os.path.join(zf_path, doc)) as f1, open(os.path.join(zp_path, doc)) as f2:
        assert json.load(f1) == json.load(f2)

    def files(p):
        return sorted(os.path.relpath(os.path.join(r, f), p) for r, _d, fs in os.walk(p) for f in fs)

    assert files(zf_path) == files(zp_path)
    np.testing.assert_array_equal(zarr.open_array(zf_path, mode="r")[...], np.arange(16).reshape(4, 4))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype,fill", [("f8", np.nan), ("f4", -np.inf), ("bool", True), ("c8", 1 + 2j),
                                        ("u1", 200), ("f2", 0.5), (">i2", -3), ("i4", None), ("f8", None),
                                        ("bool", None)])
def test_metadata_fill_value_like_zarr_python(tmp_path, fmt, dtype, fill):
    kw = dict(shape=(5,), chunks=(2,), dtype=dtype, fill_value=fill, zarr_format=fmt, compressors=None)
    if fmt == 3 and np.dtype(dtype).byteorder == ">":
        kw["dtype"] = np.dtype(dtype).newbyteorder("=")
        kw["serializer"] = {"name": "bytes", "configuration": {"endian": "big"}}
    zf_path, zp_path = str(tmp_path / "zf"), str(tmp_path / "zp")
    zarrfast.create_array(store=zf_path, **kw)
    zarr.create_array(store=zp_path, **kw)
    doc = "zarr.json" if fmt == 3 else ".zarray"
    with open(os.path.join(zf_path, doc)) as f1, open(os.path.join(zp_path, doc)) as f2:
        assert json.load(f1) == json.load(f2)


@pytest.mark.parametrize("serializer", [{"name": "bytes"}, zarr.codecs.BytesCodec(endian=None)], ids=["dict", "zp"])
def test_serializer_without_endian_like_zarr_python(tmp_path, serializer):
    kw = dict(shape=(4,), chunks=(2,), dtype="u1", serializer=serializer, compressors=None)
    zarrfast.create_array(store=str(tmp_path / "zf"), **kw)
    zarr.create_array(store=str(tmp_path / "zp"), **kw)
    with open(tmp_path / "zf" / "zarr.json") as f1, open(tmp_path / "zp" / "zarr.json") as f2:
        assert json.load(f1) == json.load(f2)
