"""Codec classes (``zarrfast.codecs.*``): JSON forms, round trips, interoperability with numcodecs, zstd frames
without a content size, decompression bombs, crc32c, unknown codecs, and numcodecs-only codecs through the
Python path (as v2 filters/compressors and as ``numcodecs.<id>`` in v3), checked against zarr-python.
"""
from __future__ import annotations

import gzip as pygzip
import json
import os
import struct
import tracemalloc
import warnings
import zlib as pyzlib

import crc32c as crc32c_pkg
import numcodecs
import numpy as np
import pytest
import zarr
import zarr.codecs.numcodecs as znc
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast import codecs as C
from zarrfast.codecs.crc32c import crc32c_py
from zarrfast.errors import ChunkDecodeError, CodecError, UnknownCodecError, ZarrfastError

BYTES_CODECS = [
    C.ZstdCodec(), C.ZstdCodec(level=3, checksum=True), C.ZstdCodec(level=-5), C.ZstdCodec(level=19),
    C.GzipCodec(), C.GzipCodec(level=0), C.GzipCodec(level=9),
    C.ZlibCodec(), C.ZlibCodec(level=0), C.ZlibCodec(level=-1), C.ZlibCodec(level=9),
    C.LZ4Codec(), C.LZ4Codec(acceleration=10),
    C.BloscCodec(), C.BloscCodec(cname="lz4", clevel=1, shuffle="noshuffle", typesize=4),
    C.BloscCodec(cname="lz4hc", clevel=9, shuffle="bitshuffle", typesize=8),
    C.BloscCodec(cname="zlib", clevel=3, shuffle="shuffle", typesize=2),
    C.BloscCodec(cname="zstd", clevel=0, shuffle="shuffle", typesize=4),
    C.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4, blocksize=256),
    C.BloscCodec(cname="blosclz", clevel=5, shuffle="shuffle", typesize=4),
    C.Crc32cCodec(),
]
ALL_CODECS = BYTES_CODECS + [C.BytesCodec(), C.BytesCodec(endian="big"), C.BytesCodec(endian=None),
                             C.TransposeCodec(order=[1, 0]), C.TransposeCodec(order=(2, 0, 1))]


def _payloads():
    rng = np.random.default_rng(7)
    return {
        "empty": b"",
        "one": b"\x07",
        "small": bytes(range(100)),
        "128": bytes(rng.integers(0, 4, 128, dtype=np.uint8)),
        "ints": (np.arange(5000, dtype="<i4") % 97).tobytes(),
        "random": rng.integers(0, 256, 10_000, dtype=np.uint8).tobytes(),
        "zeros": bytes(100_003),
        "floats": rng.normal(size=3001).astype("<f8").tobytes(),
    }


PAYLOADS = _payloads()


# ------------------------------------------------------------------------------------------------------------------
# JSON forms


@pytest.mark.parametrize("codec", ALL_CODECS, ids=repr)
def test_v3_form_round_trip(codec):
    doc = codec.to_v3()
    assert json.loads(json.dumps(doc)) == doc  # JSON-serialisable as is
    assert doc["name"] == codec.name
    again = C.codec_from_v3(doc)
    assert type(again) is type(codec)
    if codec.to_v3() == C.BytesCodec(endian=None).to_v3():
        # {"name": "bytes"} keeps "no endian" (written back as is); multi-byte data is then read little-endian
        assert again.endian is None and again.to_v3() == doc
        assert again.stored_dtype(np.dtype("u2")) == np.dtype("<u2")
        return
    assert again == codec and again.to_v3() == doc
    assert C.as_codec(doc) == codec
    assert C.as_codec(codec) is codec
    assert C.codec_from_v3(json.loads(json.dumps(doc))).to_v3() == doc
    if "configuration" not in doc:
        assert C.codec_from_v3(doc["name"]).to_v3() == C.codec_from_v3(doc).to_v3()  # the short-hand name


@pytest.mark.parametrize("codec", [c for c in ALL_CODECS if c.codec_id is not None], ids=repr)
def test_v2_form_round_trip(codec):
    doc = codec.to_v2()
    assert json.loads(json.dumps(doc)) == doc
    assert doc["id"] == codec.codec_id
    again = C.codec_from_v2(doc)
    assert type(again) is type(codec)
    assert again.to_v2() == doc
    assert C.as_codec(doc).to_v2() == doc
    # numcodecs understands our v2 form and gives back an equivalent config
    nc = numcodecs.get_codec(dict(doc))
    assert C.as_codec(nc).to_v2() == doc


@pytest.mark.parametrize("codec", [C.BytesCodec(), C.TransposeCodec(order=[1, 0]), C.Crc32cCodec()], ids=repr)
def test_v3_only_codecs_have_no_v2_form(codec):
    with pytest.raises(CodecError):
        codec.to_v2()


@pytest.mark.parametrize("ours,theirs", [
    (C.ZstdCodec(level=3), zarr.codecs.ZstdCodec(level=3)),
    (C.ZstdCodec(level=3, checksum=True), zarr.codecs.ZstdCodec(level=3, checksum=True)),
    (C.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4),
     zarr.codecs.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle", typesize=4)),
    (C.BloscCodec(cname="zstd", clevel=1, shuffle="bitshuffle", typesize=2, blocksize=1024),
     zarr.codecs.BloscCodec(cname="zstd", clevel=1, shuffle="bitshuffle", typesize=2, blocksize=1024)),
    (C.GzipCodec(level=3), zarr.codecs.GzipCodec(level=3)),
    (C.BytesCodec(endian="big"), zarr.codecs.BytesCodec(endian="big")),
    (C.BytesCodec(endian="little"), zarr.codecs.BytesCodec(endian="little")),
    (C.BytesCodec(endian=None), zarr.codecs.BytesCodec(endian=None)),
    (C.TransposeCodec(order=[1, 0]), zarr.codecs.TransposeCodec(order=(1, 0))),
    (C.Crc32cCodec(), zarr.codecs.Crc32cCodec()),
], ids=repr)
def test_v3_form_equals_zarr_python(ours, theirs):
    want = json.loads(json.dumps(theirs.to_dict()))
    assert ours.to_v3() == want
    assert C.as_codec(theirs).to_v3() == want  # zarr-python codec objects are accepted


@pytest.mark.parametrize("ours,theirs", [
    (C.ZstdCodec(level=3, checksum=True), numcodecs.Zstd(level=3, checksum=True)),
    (C.BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"), numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)),
    (C.BloscCodec(cname="zstd", clevel=2, shuffle="bitshuffle", blocksize=512),
     numcodecs.Blosc(cname="zstd", clevel=2, shuffle=2, blocksize=512)),
    (C.GzipCodec(level=3), numcodecs.GZip(level=3)),
    (C.ZlibCodec(level=3), numcodecs.Zlib(level=3)),
    (C.LZ4Codec(acceleration=3), numcodecs.LZ4(acceleration=3)),
], ids=repr)
def test_v2_form_equals_numcodecs(ours, theirs):
    assert ours.to_v2() == theirs.get_config()
    assert C.as_codec(theirs) == ours  # numcodecs codec objects are accepted
    assert C.codec_from_v2(theirs.get_config()) == ours


def test_zstd_v2_form_without_checksum():
    # numcodecs writes checksum: false; we omit it; both read back the same codec
    assert C.codec_from_v2({"id": "zstd", "level": 3, "checksum": False}) == C.ZstdCodec(level=3)
    assert C.codec_from_v2(C.ZstdCodec(level=3).to_v2()) == C.ZstdCodec(level=3)
    assert numcodecs.get_codec(C.ZstdCodec(level=3).to_v2()) == numcodecs.Zstd(level=3)


def test_blosc_typesize_and_autoshuffle():
    c = C.codec_from_v2({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1, "blocksize": 0,
                         "typesize": 4})
    assert c.typesize is None  # the v2 typesize is not part of the codec; the dtype decides
    assert c.with_typesize(1).get_config()["shuffle"] == "bitshuffle"
    assert c.with_typesize(8).get_config()["shuffle"] == "shuffle"
    assert c.with_typesize(8).get_config()["typesize"] == 8
    assert c.to_v2()["shuffle"] == -1
    d = C.BloscCodec(cname="zstd", typesize=2)
    assert d.with_typesize(8).typesize == 2  # an explicit typesize wins


@pytest.mark.parametrize("cls,kwargs", [
    (C.ZstdCodec, {"level": 23}), (C.ZstdCodec, {"level": "3"}), (C.GzipCodec, {"level": 10}),
    (C.GzipCodec, {"level": -1}), (C.ZlibCodec, {"level": 10}), (C.LZ4Codec, {"acceleration": 0}),
    (C.BloscCodec, {"cname": "nope"}), (C.BloscCodec, {"clevel": 10}), (C.BloscCodec, {"shuffle": "byte"}),
    (C.BloscCodec, {"shuffle": 3}), (C.BytesCodec, {"endian": "middle"}), (C.TransposeCodec, {"order": [0, 0]}),
    (C.TransposeCodec, {"order": "F"}), (C.TransposeCodec, {"order": [1, 2]}),
])
def test_invalid_configuration(cls, kwargs):
    with pytest.raises(CodecError) as info:
        cls(**kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ZarrfastError)


@pytest.mark.parametrize("doc", [
    {"name": "zstd", "configuration": {"level": 3, "speed": 1}},
    {"name": "gzip", "configuration": "fast"},
    {"name": "bytes", "configuration": {"endian": "little", "extra": True}},
])
def test_invalid_v3_documents(doc):
    with pytest.raises(CodecError):
        C.codec_from_v3(doc)


@pytest.mark.parametrize("form", [
    {"name": "nope"}, {"name": "numcodecs.nope"}, {"id": "nope"}, "nope", {"name": "nope", "configuration": {}},
    {"name": "nope", "must_understand": False},
])
def test_unknown_codec_names(form):
    with pytest.raises(UnknownCodecError) as info:
        C.as_codec(form)
    assert isinstance(info.value, ValueError) and isinstance(info.value, ZarrfastError)
    assert "nope" in str(info.value)


def test_unknown_codec_entry_points():
    with pytest.raises(UnknownCodecError):
        C.codec_from_v3({"name": "nope"})
    with pytest.raises(UnknownCodecError):
        C.codec_from_v2({"id": "nope"})
    with pytest.raises(UnknownCodecError):
        C.codec_from_v3({"name": "numcodecs.zzz", "configuration": {"a": 1}})


@pytest.mark.parametrize("obj", [{}, {"configuration": {}}, object(), 3, None])
def test_not_a_codec(obj):
    with pytest.raises(CodecError):
        C.as_codec(obj)


@pytest.mark.parametrize("obj,expected", [
    ("crc32c", C.Crc32cCodec()), ("gzip", C.GzipCodec()), ({"name": "zstd"}, C.ZstdCodec()),
    ({"name": "blosc", "configuration": {"cname": "lz4"}}, C.BloscCodec(cname="lz4")),
    ({"id": "gzip", "level": 2}, C.GzipCodec(level=2)), ({"id": "lz4"}, C.LZ4Codec()),
    ({"name": "numcodecs.lz4", "configuration": {"acceleration": 2}}, C.LZ4Codec(acceleration=2)),
    ({"name": "numcodecs.zlib", "configuration": {"level": 2}}, C.ZlibCodec(level=2)),
    (numcodecs.Zstd(level=4), C.ZstdCodec(level=4)), (numcodecs.GZip(level=4), C.GzipCodec(level=4)),
    (numcodecs.Zlib(level=4), C.ZlibCodec(level=4)), (numcodecs.LZ4(acceleration=4), C.LZ4Codec(acceleration=4)),
    (zarr.codecs.GzipCodec(level=7), C.GzipCodec(level=7)), (zarr.codecs.Crc32cCodec(), C.Crc32cCodec()),
])
def test_as_codec_forms(obj, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = C.as_codec(obj)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("obj", [znc.Zlib(level=2), znc.LZ4(acceleration=2), znc.BZ2(level=3), znc.LZMA(preset=1),
                                 znc.Shuffle(elementsize=4), znc.Zstd(level=2)], ids=repr)
def test_as_codec_zarr_python_numcodecs_objects(obj):
    got = C.as_codec(obj)
    assert got.to_v3()["name"] == obj.to_dict()["name"]
    data = PAYLOADS["ints"]
    enc = got.encode_bytes(data) if isinstance(got, C.NumcodecsCodec) else got.encode(data)
    dec = got.decode_bytes(enc, len(data)) if isinstance(got, C.NumcodecsCodec) else got.decode(enc, len(data))
    assert dec == data


@pytest.mark.parametrize("obj", [znc.LZ4(), znc.LZ4(acceleration=3), znc.Zstd(level=2), znc.LZMA(), znc.Zlib()],
                         ids=repr)
def test_as_codec_zarr_python_numcodecs_objects_keep_configuration(obj):
    assert C.as_codec(obj).to_v3() == json.loads(json.dumps(obj.to_dict()))


# ------------------------------------------------------------------------------------------------------------------
# encode / decode round trips


@pytest.mark.parametrize("codec", BYTES_CODECS, ids=repr)
@pytest.mark.parametrize("payload", list(PAYLOADS))
def test_bytes_codec_round_trip(codec, payload):
    data = PAYLOADS[payload]
    enc = codec.encode(data)
    assert isinstance(enc, (bytes, bytearray, memoryview))
    assert bytes(codec.decode(enc, len(data))) == data
    assert bytes(codec.decode(enc)) == data  # expected size unknown
    assert bytes(codec.decode(bytes(enc), len(data))) == data


@pytest.mark.parametrize("codec", BYTES_CODECS, ids=repr)
def test_bytes_codec_accepts_buffers(codec):
    arr = np.arange(1000, dtype="<i4")
    data = arr.tobytes()
    for src in (arr, memoryview(data), bytearray(data)):
        enc = codec.encode(src)
        assert bytes(codec.decode(enc, len(data))) == data
        assert bytes(codec.decode(memoryview(bytes(enc)), len(data))) == data


@pytest.mark.parametrize("codec", [c for c in BYTES_CODECS if not isinstance(c, C.Crc32cCodec)], ids=repr)
def test_bytes_codec_wrong_expected_size(codec):
    data = PAYLOADS["ints"]
    enc = codec.encode(data)
    for expected in (len(data) - 1, len(data) + 1, len(data) // 2, 2 * len(data)):
        with pytest.raises(ChunkDecodeError):
            codec.decode(enc, expected)


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=3000), idx=st.integers(0, len(BYTES_CODECS) - 1))
def test_bytes_codec_round_trip_property(data, idx):
    codec = BYTES_CODECS[idx]
    assert bytes(codec.decode(codec.encode(data), len(data))) == data


@pytest.mark.parametrize("dtype", ["<i2", ">i2", "<f8", ">f8", "|u1", "|b1", "<c8", ">c16", "<u8"])
@pytest.mark.parametrize("endian", ["little", "big"])
def test_bytes_codec_array(dtype, endian):
    spec = C.ChunkSpec((3, 4), np.dtype(dtype).newbyteorder("=") if np.dtype(dtype).itemsize > 1 else np.dtype(dtype))
    chunk = (np.arange(12).reshape(3, 4) % 2 == 0) if dtype == "|b1" else np.arange(12).reshape(3, 4).astype(spec.dtype)
    codec = C.BytesCodec(endian=endian)
    enc = codec.encode(chunk)
    want = np.ascontiguousarray(chunk).astype(spec.dtype.newbyteorder("<" if endian == "little" else ">")
                                              if spec.dtype.itemsize > 1 else spec.dtype).tobytes()
    assert enc == want
    np.testing.assert_array_equal(codec.decode(enc, spec), chunk)
    assert codec.decode(enc, spec).dtype == spec.dtype
    with pytest.raises(ChunkDecodeError):
        codec.decode(enc[:-1], spec)
    # F-ordered and strided input is written in C order
    f = np.asfortranarray(chunk)
    assert codec.encode(f) == want
    assert codec.encode(np.concatenate([chunk, chunk], axis=1)[:, ::2]) == codec.encode(
        np.concatenate([chunk, chunk], axis=1)[:, ::2].copy())


@pytest.mark.parametrize("order", [(1, 0), (0, 1), (2, 0, 1), (1, 2, 0), (2, 1, 0)])
def test_transpose_codec(order):
    shape = (2, 3) if len(order) == 2 else (2, 3, 4)
    chunk = np.arange(np.prod(shape)).reshape(shape)
    codec = C.TransposeCodec(order=order)
    spec = C.ChunkSpec(shape, chunk.dtype)
    enc = codec.encode(chunk)
    np.testing.assert_array_equal(enc, chunk.transpose(order))
    assert codec.resolve(spec).shape == tuple(shape[i] for i in order)
    np.testing.assert_array_equal(codec.decode(enc, spec), chunk)
    with pytest.raises(CodecError):
        C.TransposeCodec(order=order + (len(order),)).resolve(spec)


# ------------------------------------------------------------------------------------------------------------------
# interop with numcodecs, both ways

NUMCODECS_PAIRS = [
    (C.ZstdCodec(level=1), numcodecs.Zstd(level=1)),
    (C.ZstdCodec(level=5, checksum=True), numcodecs.Zstd(level=5, checksum=True)),
    (C.ZstdCodec(level=-3), numcodecs.Zstd(level=-3)),
    (C.GzipCodec(level=1), numcodecs.GZip(level=1)),
    (C.GzipCodec(level=9), numcodecs.GZip(level=9)),
    (C.ZlibCodec(level=1), numcodecs.Zlib(level=1)),
    (C.ZlibCodec(level=0), numcodecs.Zlib(level=0)),
    (C.LZ4Codec(acceleration=1), numcodecs.LZ4(acceleration=1)),
    (C.LZ4Codec(acceleration=20), numcodecs.LZ4(acceleration=20)),
]
for _cname in ["lz4", "lz4hc", "zstd", "zlib", "blosclz"]:
    for _shuffle in (0, 1, 2):
        for _ts in (1, 4, 8):
            NUMCODECS_PAIRS.append((C.BloscCodec(cname=_cname, clevel=5, shuffle=_shuffle, typesize=_ts),
                                    numcodecs.Blosc(cname=_cname, clevel=5, shuffle=_shuffle, typesize=_ts)))
for _clevel in (0, 1, 9):
    NUMCODECS_PAIRS.append((C.BloscCodec(cname="lz4", clevel=_clevel, shuffle=1, typesize=4),
                            numcodecs.Blosc(cname="lz4", clevel=_clevel, shuffle=1, typesize=4)))
NUMCODECS_PAIRS.append((C.BloscCodec(cname="zstd", clevel=3, shuffle=1, typesize=4, blocksize=4096),
                        numcodecs.Blosc(cname="zstd", clevel=3, shuffle=1, typesize=4, blocksize=4096)))


@pytest.mark.parametrize("ours,theirs", NUMCODECS_PAIRS, ids=[repr(p[1]) for p in NUMCODECS_PAIRS])
@pytest.mark.parametrize("payload", ["empty", "small", "ints", "random", "zeros", "floats"])
def test_numcodecs_interop(ours, theirs, payload):
    data = PAYLOADS[payload]
    ours_enc = bytes(ours.encode(data))
    if data or isinstance(theirs, (numcodecs.GZip, numcodecs.Zlib)):
        # numcodecs can't decode its own empty zstd / lz4 / blosc frames either
        assert bytes(numcodecs.get_codec(theirs.get_config()).decode(ours_enc)) == data
    theirs_enc = bytes(theirs.encode(data))
    assert bytes(ours.decode(theirs_enc, len(data))) == data
    assert bytes(ours.decode(theirs_enc)) == data


def test_numcodecs_blosc_autoshuffle_frames_decode():
    data = np.arange(4096, dtype="<u2").tobytes()
    for ts in (1, 2):
        enc = numcodecs.Blosc(cname="lz4", shuffle=numcodecs.Blosc.AUTOSHUFFLE, typesize=ts).encode(data)
        assert C.BloscCodec(cname="lz4", shuffle=-1).decode(enc, len(data)) == data


# ------------------------------------------------------------------------------------------------------------------
# zstd frames without a content size


def _no_size_frames(data: bytes):
    yield "write_content_size=False", zstandard.ZstdCompressor(write_content_size=False).compress(data)
    yield "checksum, no size", zstandard.ZstdCompressor(write_content_size=False, write_checksum=True).compress(data)
    cobj = zstandard.ZstdCompressor(level=3).compressobj()
    yield "streaming", cobj.compress(data) + cobj.flush()
    w = zstandard.ZstdCompressor(level=1, write_content_size=False)
    chunker = w.chunker(chunk_size=1000)
    yield "chunker", b"".join(list(chunker.compress(data)) + list(chunker.finish()))


@pytest.mark.parametrize("payload", ["empty", "small", "ints", "random", "zeros"])
def test_zstd_frames_without_content_size_decode(payload):
    data = PAYLOADS[payload]
    for name, frame in _no_size_frames(data):
        if name != "streaming" or data:
            assert zstandard.frame_content_size(frame) in (-1, len(data)), name
        assert C.ZstdCodec().decode(frame, len(data)) == data, name
        assert C.ZstdCodec().decode(frame) == data, name
        with pytest.raises(ChunkDecodeError):
            C.ZstdCodec().decode(frame, len(data) + 1)
        if data:
            with pytest.raises(ChunkDecodeError):
                C.ZstdCodec().decode(frame, len(data) - 1)


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("fmt", [2, 3])
def test_arrays_read_zstd_chunks_without_content_size(engine, fmt):
    store = {}
    comp = {"name": "zstd", "configuration": {"level": 1, "checksum": False}} if fmt == 3 else {"id": "zstd",
                                                                                              "level": 1}
    a = zarrfast.create_array(store=store, shape=(10, 10), chunks=(4, 4), dtype="<i8", compressors=comp,
                              zarr_format=fmt)
    data = np.arange(100, dtype="<i8").reshape(10, 10)
    a[...] = data
    nc = zstandard.ZstdCompressor(write_content_size=False)
    for key in [k for k in store if k[-1].isdigit()]:
        raw = zstandard.ZstdDecompressor().decompress(store[key])
        store[key] = nc.compress(raw)
        assert zstandard.frame_content_size(store[key]) == -1
    with zarrfast.config.set(engine=engine):
        b = zarrfast.open_array(store, mode="r+")
        np.testing.assert_array_equal(b[...], data)
        np.testing.assert_array_equal(b[::-3, 1:9:2], data[::-3, 1:9:2])
        b[1, 1] = -1  # read-modify-write of a chunk without a content size
        data[1, 1] = -1
        np.testing.assert_array_equal(b[...], data)


# ------------------------------------------------------------------------------------------------------------------
# decompression bombs: the decoders never produce (or allocate) much more than the expected size

EXPECTED = 4096
BOMB_SIZE = 64 * 2**20  # 64 MiB of zeros, compressed to a few KiB


@pytest.fixture(scope="module")
def bombs():
    zeros = bytes(BOMB_SIZE)
    return {
        "gzip": (C.GzipCodec(), pygzip.compress(zeros, compresslevel=1)),
        "zlib": (C.ZlibCodec(), pyzlib.compress(zeros, 1)),
        "zstd": (C.ZstdCodec(), zstandard.ZstdCompressor(level=1).compress(zeros)),
        "zstd-no-size": (C.ZstdCodec(), zstandard.ZstdCompressor(level=1, write_content_size=False).compress(zeros)),
        "lz4": (C.LZ4Codec(), bytes(numcodecs.LZ4().encode(zeros))),
        "blosc": (C.BloscCodec(), bytes(numcodecs.Blosc(cname="zstd").encode(zeros))),
    }


@pytest.mark.parametrize("kind", ["gzip", "zlib", "zstd", "zstd-no-size", "lz4", "blosc"])
def test_decompression_bombs_are_refused(bombs, kind):
    codec, bomb = bombs[kind]
    assert len(bomb) < BOMB_SIZE // 100
    tracemalloc.start()
    try:
        with pytest.raises(ChunkDecodeError):
            codec.decode(bomb, EXPECTED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"{kind}: {peak} bytes allocated while refusing a bomb"


def test_zstd_frame_claiming_huge_size_is_refused():
    fhd = 0xC0 | 0x20  # 8-byte frame content size, single segment
    frame = b"\x28\xb5\x2f\xfd" + bytes([fhd]) + struct.pack("<Q", 1 << 50) + b"\x09\x00\x00\x00"
    tracemalloc.start()
    try:
        with pytest.raises(ChunkDecodeError):
            C.ZstdCodec().decode(frame, EXPECTED)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20


@pytest.mark.parametrize("size", [2**31, 2**32 - 1, EXPECTED + 1])
def test_lz4_header_claiming_more_is_refused(size):
    enc = bytearray(C.LZ4Codec().encode(bytes(EXPECTED)))
    struct.pack_into("<I", enc, 0, size)
    with pytest.raises(ChunkDecodeError):
        C.LZ4Codec().decode(bytes(enc), EXPECTED)


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("comp", [{"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                                  {"name": "gzip", "configuration": {"level": 1}},
                                  {"name": "numcodecs.zlib", "configuration": {"level": 1}},
                                  {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}},
                                  {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1,
                                                                      "shuffle": "shuffle"}}],
                         ids=lambda c: c["name"])
def test_array_with_bomb_chunk(bombs, engine, comp):
    store = {}
    a = zarrfast.create_array(store=store, shape=(32, 32), chunks=(32, 32), dtype="<i4", compressors=comp)
    kind = {"zstd": "zstd-no-size", "gzip": "gzip", "numcodecs.zlib": "zlib", "numcodecs.lz4": "lz4",
            "blosc": "blosc"}[comp["name"]]
    store["c/0/0"] = bombs[kind][1]
    with zarrfast.config.set(engine=engine), pytest.raises(ChunkDecodeError):
        a[...]


# ------------------------------------------------------------------------------------------------------------------
# crc32c


def test_crc32c_known_vectors():
    assert crc32c_py(b"123456789") == 0xE3069283
    assert crc32c_py(b"") == 0
    assert crc32c_py(bytes(32)) == 0x8A9136AA
    assert crc32c_py(b"\xff" * 32) == 0x62A8AB43
    assert C.Crc32cCodec().encode(b"123456789")[-4:] == struct.pack("<I", 0xE3069283)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 65, 255, 256, 1000, 4097])
def test_crc32c_against_package_and_reference(n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    want = crc32c_pkg.crc32c(data)
    assert crc32c_py(data) == want
    enc = C.Crc32cCodec().encode(data)
    assert enc[:-4] == data and enc[-4:] == struct.pack("<I", want)
    assert C.Crc32cCodec().decode(enc) == data
    assert C.Crc32cCodec().decode(enc, n) == data


def test_crc32c_large_and_unaligned():
    buf = np.random.default_rng(0).integers(0, 256, 3 * 2**20 + 13, dtype=np.uint8).tobytes()
    for start in range(8):
        data = buf[start:]
        enc = C.Crc32cCodec().encode(memoryview(buf)[start:])
        assert enc[-4:] == struct.pack("<I", crc32c_pkg.crc32c(data))


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=600))
def test_crc32c_property(data):
    assert crc32c_py(data) == crc32c_pkg.crc32c(data)
    assert C.Crc32cCodec().encode(data)[-4:] == struct.pack("<I", crc32c_pkg.crc32c(data))


def test_crc32c_decode_rejects_mismatch():
    enc = bytearray(C.Crc32cCodec().encode(b"hello world"))
    for i in range(len(enc)):
        bad = bytearray(enc)
        bad[i] ^= 0x04
        with pytest.raises(ChunkDecodeError):
            C.Crc32cCodec().decode(bytes(bad))
    for short in (b"", b"abc"):
        with pytest.raises(ChunkDecodeError):
            C.Crc32cCodec().decode(short)


def test_crc32c_matches_zarr_python():
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.dtype import parse_dtype

    data = np.arange(1000, dtype="<i4").tobytes()
    spec = ArraySpec(shape=(1000,), dtype=parse_dtype("int32", zarr_format=3), fill_value=0,
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
    buf = default_buffer_prototype().buffer.from_bytes(data)
    theirs = zarr.core.sync.sync(zarr.codecs.Crc32cCodec()._encode_single(buf, spec)).to_bytes()
    assert C.Crc32cCodec().encode(data) == theirs


# ------------------------------------------------------------------------------------------------------------------
# numcodecs-only codecs: v2 filters/compressors, v3 numcodecs.<id>, through the Python path

FLOAT_DATA = np.round(np.linspace(-50, 50, 20 * 12).reshape(20, 12), 6)
INT_DATA = (np.arange(20 * 12, dtype="<i4").reshape(20, 12) * 37) % 1000 - 500

NC_V2 = {
    "delta": (dict(filters=[numcodecs.Delta(dtype="<i4")], compressors=None), "<i4"),
    "delta+zstd": (dict(filters=[numcodecs.Delta(dtype="<i4")], compressors=numcodecs.Zstd(level=1)), "<i4"),
    "fixedscaleoffset": (dict(filters=[numcodecs.FixedScaleOffset(offset=0, scale=100, dtype="<f8", astype="<i4")],
                              compressors=numcodecs.Zlib(level=1)), "<f8"),
    "quantize": (dict(filters=[numcodecs.Quantize(digits=2, dtype="<f8")], compressors=numcodecs.GZip()), "<f8"),
    "bz2": (dict(compressors=numcodecs.BZ2(level=3)), "<i4"),
    "lzma": (dict(compressors=numcodecs.LZMA(preset=1)), "<f8"),
    "shuffle": (dict(filters=[numcodecs.Shuffle(elementsize=4)], compressors=numcodecs.Zstd()), "<i4"),
    "shuffle-as-compressor": (dict(compressors=numcodecs.Shuffle(elementsize=8)), "<f8"),
    "delta+shuffle+bz2": (dict(filters=[numcodecs.Delta(dtype="<i4"), numcodecs.Shuffle(elementsize=4)],
                               compressors=numcodecs.BZ2(level=1)), "<i4"),
}
_NC_FILTER_BUG = None  # fixed: numcodecs array->array codecs as v3 filters
NC_V3 = {
    "bz2": (dict(compressors=[znc.BZ2(level=3)]), "<i4", None),
    "lzma": (dict(compressors=[znc.LZMA(preset=1)]), "<f8", None),
    "shuffle": (dict(compressors=[znc.Shuffle(elementsize=4), znc.Zstd(level=1)]), "<i4", None),
    "zstd+bz2": (dict(compressors=[zarr.codecs.ZstdCodec(level=1), znc.BZ2(level=1)]), "<i4", None),
    "delta": (dict(filters=[znc.Delta(dtype="<i4")]), "<i4", _NC_FILTER_BUG),
    "fixedscaleoffset": (dict(filters=[znc.FixedScaleOffset(offset=0, scale=100, dtype="<f8", astype="<i4")]),
                         "<f8", _NC_FILTER_BUG),
    "quantize": (dict(filters=[znc.Quantize(digits=2, dtype="<f8")]), "<f8", _NC_FILTER_BUG),
}


def _data_for(dtype):
    return INT_DATA if dtype == "<i4" else FLOAT_DATA


def _write_both(tmp_path, fmt, kwargs, dtype, data):
    common = dict(shape=data.shape, chunks=(8, 5), dtype=dtype, zarr_format=fmt, fill_value=0)
    zf_path, zp_path = str(tmp_path / "zf"), str(tmp_path / "zp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = zarrfast.create_array(store=zf_path, **common, **kwargs)
        a[...] = data
        z = zarr.create_array(store=zp_path, **common, **kwargs)
        z[...] = data
    return a, zf_path, zp_path


def _read_zp(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(path, mode="r")[...]


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("case", list(NC_V2))
def test_numcodecs_only_v2(tmp_path, case, engine):
    kwargs, dtype = NC_V2[case]
    data = _data_for(dtype)
    with zarrfast.config.set(engine=engine):
        a, zf_path, zp_path = _write_both(tmp_path, 2, kwargs, dtype, data)
        assert a._chain.read_program is None  # the Python path
        expected = _read_zp(zp_path)  # what zarr-python makes of the same data and codecs (lossy ones too)
        if case in ("fixedscaleoffset", "quantize"):
            assert not np.array_equal(expected, data) or case == "fixedscaleoffset"
        else:
            np.testing.assert_array_equal(expected, data)
        np.testing.assert_array_equal(zarrfast.open_array(zf_path, mode="r")[...], expected)
        np.testing.assert_array_equal(_read_zp(zf_path), expected)  # zarr-python reads ours
        np.testing.assert_array_equal(zarrfast.open_array(zp_path, mode="r")[...], expected)  # we read theirs
        with open(os.path.join(zf_path, ".zarray")) as f1, open(os.path.join(zp_path, ".zarray")) as f2:
            assert json.load(f1) == json.load(f2)
        # partial writes through the Python path
        b = zarrfast.open_array(zf_path, mode="r+")
        b[3:11, ::-2] = data[3:11, ::-2] + 1
        ref = data.copy()
        ref[3:11, ::-2] += 1
        z = zarr.open_array(zp_path, mode="r+")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            z[3:11, 1::2] = ref[3:11, 1::2]  # the same elements: zarr-python has no negative steps
        np.testing.assert_array_equal(b[...], _read_zp(zp_path))


@pytest.mark.parametrize("case", [pytest.param(k, marks=v[2]) if v[2] else k for k, v in NC_V3.items()])
def test_numcodecs_only_v3(tmp_path, case):
    kwargs, dtype, _ = NC_V3[case]
    data = _data_for(dtype)
    a, zf_path, zp_path = _write_both(tmp_path, 3, kwargs, dtype, data)
    assert a._chain.read_program is None
    expected = _read_zp(zp_path)
    with open(os.path.join(zf_path, "zarr.json")) as f1:
        doc = json.load(f1)
    assert any(c["name"].startswith("numcodecs.") for c in doc["codecs"])
    np.testing.assert_array_equal(zarrfast.open_array(zf_path, mode="r")[...], expected)
    np.testing.assert_array_equal(_read_zp(zf_path), expected)
    np.testing.assert_array_equal(zarrfast.open_array(zp_path, mode="r")[...], expected)
    with zarrfast.config.set(engine="python"):
        np.testing.assert_array_equal(zarrfast.open_array(zf_path, mode="r")[::-1, 2], expected[::-1, 2])


@pytest.mark.parametrize("case", [pytest.param(k, marks=v[2]) if v[2] else k for k, v in NC_V3.items()])
def test_numcodecs_only_v3_metadata_like_zarr_python(tmp_path, case):
    kwargs, dtype, _ = NC_V3[case]
    _a, zf_path, zp_path = _write_both(tmp_path, 3, kwargs, dtype, _data_for(dtype))
    with open(os.path.join(zf_path, "zarr.json")) as f1, open(os.path.join(zp_path, "zarr.json")) as f2:
        assert json.load(f1) == json.load(f2)


@pytest.mark.parametrize("doc", [
    {"name": "numcodecs.bz2", "configuration": {"level": 1}},
    {"name": "numcodecs.lzma", "configuration": {"preset": 2}},
    {"name": "numcodecs.shuffle", "configuration": {"elementsize": 4}},
])
def test_numcodecs_v3_dicts(doc):
    a = zarrfast.create_array(store={}, shape=(50,), chunks=(20,), dtype="<i4", compressors=[doc])
    a[...] = np.arange(50)
    np.testing.assert_array_equal(a[...], np.arange(50))
    assert json.loads(a.store.get("zarr.json"))["codecs"][1] == doc


@pytest.mark.parametrize("fmt", [2, 3])
def test_numcodecs_chain_in_strict_mode_is_refused(fmt):
    comp = numcodecs.BZ2(level=1) if fmt == 2 else [{"name": "numcodecs.bz2", "configuration": {"level": 1}}]
    a = zarrfast.create_array(store={}, shape=(10,), chunks=(5,), dtype="<i4", compressors=comp, zarr_format=fmt)
    with zarrfast.config.set(strict=True), pytest.raises(CodecError):
        a[...] = 1


@pytest.mark.parametrize("codec", [numcodecs.Delta(dtype="<i4"), numcodecs.FixedScaleOffset(0, 10, "<f8", "<i2"),
                                   numcodecs.Quantize(3, "<f8"), numcodecs.BZ2(), numcodecs.LZMA(),
                                   numcodecs.Shuffle(elementsize=2)], ids=repr)
def test_numcodecs_codec_json_forms(codec):
    wrapped = C.as_codec(codec)
    assert isinstance(wrapped, C.NumcodecsCodec)
    v2 = wrapped.to_v2()
    assert v2 == codec.get_config()
    assert C.codec_from_v2(v2).to_v2() == v2
    v3 = wrapped.to_v3()
    assert v3["name"] == f"numcodecs.{codec.codec_id}"
    assert C.codec_from_v3(v3).to_v2() == v2
    assert json.loads(json.dumps(v3)) == v3
