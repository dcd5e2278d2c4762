"""The ``sharding_indexed`` codec, reference path: JSON, validation, round trips, index helpers, corrupt shards,
and shards exchanged with zarr-python, tensorstore and zarrs."""
from __future__ import annotations

import json
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zarrfast.codecs import as_codec, codec_from_v3
from zarrfast.codecs.base import ChunkSpec
from zarrfast.codecs.sharding import (
    MAX_UINT64,
    ShardingCodec,
    decode_index,
    encode_index,
    index_nbytes,
    morton_order,
    shard_index_range,
    validate_index,
)
from zarrfast.errors import ChunkDecodeError, CodecError

BYTES_LE = {"name": "bytes", "configuration": {"endian": "little"}}
BYTES_BE = {"name": "bytes", "configuration": {"endian": "big"}}
CRC = {"name": "crc32c"}


def _bytes_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal shape, dtype and bytes (so NaN == NaN)."""
    return a.shape == b.shape and a.dtype == b.dtype and (
        np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes())


def _inner_chain(kind: str, rank: int) -> list[dict]:
    return {
        "le": [BYTES_LE],
        "be": [BYTES_BE],
        "transpose": [{"name": "transpose", "configuration": {"order": list(range(rank))[::-1]}}, BYTES_LE],
        "zstd": [BYTES_LE, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}],
        "blosc": [BYTES_LE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                                 "blocksize": 0}}],
        "gzip": [BYTES_BE, {"name": "gzip", "configuration": {"level": 1}}],
        "crc32c": [BYTES_LE, CRC],
        "zstd+crc": [{"name": "transpose", "configuration": {"order": list(range(rank))}}, BYTES_BE,
                     {"name": "zstd", "configuration": {"level": 3, "checksum": True}}, CRC],
    }[kind]


def _sample(shape, dtype, fill, cps, inner, rng, p_empty=0.4):
    """Random shard data with about ``p_empty`` of its inner chunks set to the fill value."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        a = rng.integers(0, 2, shape).astype(bool)
    elif dtype.kind == "c":
        a = (rng.integers(-5, 5, shape) + 1j * rng.integers(-5, 5, shape)).astype(dtype)
    else:
        a = rng.integers(0, 50, shape).astype(dtype)
    empty = rng.random(cps) < p_empty
    for coords in zip(*np.nonzero(empty)):
        a[tuple(slice(i * c, (i + 1) * c) for i, c in zip(coords, inner))] = fill
    return a, empty


# --------------------------------------------------------------------------------------------------------------
# JSON and validation

def test_defaults_and_config_round_trip():
    c = ShardingCodec(chunk_shape=(2, 3))
    assert c.to_v3() == {"name": "sharding_indexed", "configuration": {
        "chunk_shape": [2, 3], "codecs": [BYTES_LE], "index_codecs": [BYTES_LE, CRC], "index_location": "end"}}
    cfg = {"chunk_shape": [4], "codecs": [BYTES_BE, {"name": "gzip", "configuration": {"level": 3}}],
           "index_codecs": [BYTES_BE], "index_location": "start"}
    c2 = codec_from_v3({"name": "sharding_indexed", "configuration": cfg})
    assert isinstance(c2, ShardingCodec)
    assert c2.get_config() == cfg
    assert ShardingCodec.from_config(c2.get_config()) == c2
    assert hash(ShardingCodec.from_config(cfg)) == hash(c2)
    # codec objects and strings are accepted for the nested chains
    c3 = ShardingCodec([4], codecs=[as_codec(BYTES_BE), as_codec({"name": "gzip", "configuration": {"level": 3}})],
                       index_codecs=[as_codec(BYTES_BE)], index_location="start")
    assert c3 == c2
    # nested sharding survives the JSON round trip
    nested = ShardingCodec([4], codecs=[ShardingCodec([2]).to_v3()])
    assert codec_from_v3(json.loads(json.dumps(nested.to_v3()))) == nested


def test_zarr_python_codec_object_is_accepted():
    zcodecs = pytest.importorskip("zarr.codecs")
    z = zcodecs.ShardingCodec(chunk_shape=(2, 2), codecs=[zcodecs.BytesCodec(), zcodecs.ZstdCodec(level=2)],
                              index_location="start")
    c = as_codec(z)
    assert isinstance(c, ShardingCodec)
    assert c.to_v3() == json.loads(json.dumps(z.to_dict()))


@pytest.mark.parametrize("kwargs, match", [
    ({"chunk_shape": [2], "index_location": "middle"}, "index_location"),
    ({"chunk_shape": [0]}, ">= 1"),
    ({"chunk_shape": "ab"}, "chunk_shape"),
    ({"chunk_shape": [2], "codecs": []}, "empty"),
    ({"chunk_shape": [2], "codecs": [CRC]}, "before an array->bytes"),
    ({"chunk_shape": [2], "codecs": [BYTES_LE, BYTES_LE]}, "more than one"),
    ({"chunk_shape": [2], "index_codecs": [BYTES_LE, {"name": "zstd"}]}, "unsupported index codec"),
    ({"chunk_shape": [2], "index_codecs": [CRC]}, "start with a 'bytes'"),
    ({"chunk_shape": [2], "index_codecs": [{"name": "bytes", "configuration": {"endian": None}}]}, "endian"),
])
def test_bad_configuration(kwargs, match):
    with pytest.raises(CodecError, match=match):
        ShardingCodec(**kwargs)


def test_bad_configuration_from_json():
    with pytest.raises(CodecError):
        codec_from_v3({"name": "sharding_indexed", "configuration": {"codecs": [BYTES_LE]}})  # no chunk_shape
    with pytest.raises(CodecError):
        codec_from_v3({"name": "sharding_indexed", "configuration": {"chunk_shape": [2], "bogus": 1}})


def test_shape_validation():
    c = ShardingCodec([2, 3])
    c.validate((4, 6), "i4")
    assert c.resolve(ChunkSpec((4, 6), np.dtype("i4"))) == ChunkSpec((4, 6), np.dtype("i4"))
    with pytest.raises(CodecError, match="dimensions"):
        c.validate((4,), "i4")
    with pytest.raises(CodecError, match="does not divide"):
        c.validate((4, 5), "i4")
    with pytest.raises(CodecError, match="does not divide"):
        c.resolve(ChunkSpec((3, 6), np.dtype("i4")))
    with pytest.raises(CodecError, match="does not divide"):
        c.encode(np.zeros((4, 4), "i4"))
    with pytest.raises(CodecError, match="does not divide"):
        c.decode(b"", ChunkSpec((5, 6), np.dtype("i4")))
    with pytest.raises(CodecError, match="rank|axes"):  # inner codecs are checked against the inner chunk
        ShardingCodec([2], codecs=[{"name": "transpose", "configuration": {"order": [1, 0]}}, BYTES_LE]).validate(
            (4,), "i4")
    ShardingCodec([2], codecs=[{"name": "bytes"}]).validate((4,), "u1")


# --------------------------------------------------------------------------------------------------------------
# round trips

INNER_KINDS = ["le", "be", "transpose", "zstd", "blosc", "gzip", "crc32c", "zstd+crc"]
DTYPES = ["u1", "bool", "i2", "i4", "u8", "f2", "f4", "f8", "c8", "c16"]


@st.composite
def shard_cases(draw):
    rank = draw(st.integers(1, 3))
    inner = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    cps = tuple(draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank))
    return {
        "inner": inner, "cps": cps, "shape": tuple(i * n for i, n in zip(inner, cps)),
        "dtype": draw(st.sampled_from(DTYPES)),
        "kind": draw(st.sampled_from(INNER_KINDS)),
        "location": draw(st.sampled_from(["start", "end"])),
        "index_codecs": draw(st.sampled_from([[BYTES_LE, CRC], [BYTES_LE], [BYTES_BE, CRC],
                                              [BYTES_BE, CRC, CRC]])),
        "fill": draw(st.sampled_from([0, 1, "nan"])),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@settings(max_examples=120, deadline=None)
@given(shard_cases())
def test_round_trip(case):
    dtype = np.dtype(case["dtype"])
    fill = case["fill"]
    if fill == "nan":
        fill = np.nan if dtype.kind in "fc" else 0
    fill = np.array(fill).astype(dtype)[()]
    rng = np.random.default_rng(case["seed"])
    data, _ = _sample(case["shape"], dtype, fill, case["cps"], case["inner"], rng)
    codec = ShardingCodec(case["inner"], codecs=_inner_chain(case["kind"], len(case["inner"])),
                          index_codecs=case["index_codecs"], index_location=case["location"]).with_fill_value(fill)
    spec = ChunkSpec(case["shape"], dtype)
    encoded = codec.encode(data)
    expected_empty = codec.empty_chunks(data)
    if expected_empty.all():
        assert encoded is None
        return
    n_index = index_nbytes(case["cps"], case["index_codecs"])
    start, length = shard_index_range(case["location"], n_index)
    raw_index = encoded[start:start + length] if start >= 0 else encoded[start:]
    index = decode_index(raw_index, case["cps"], case["index_codecs"])
    validate_index(index, len(encoded), case["location"], n_index)
    assert index.shape == case["cps"] + (2,)
    # empty inner chunks (and only those) get the all-ones entry
    assert np.array_equal(index[..., 0] == MAX_UINT64, expected_empty)
    assert np.array_equal(index[..., 1] == MAX_UINT64, expected_empty)
    # the shard is exactly index + stored chunks, packed
    stored = index[~expected_empty]
    assert len(encoded) == n_index + int(stored[:, 1].sum())
    if case["location"] == "start":
        assert int(stored[:, 0].min()) == n_index
    decoded = codec.decode(encoded, spec)
    assert _bytes_equal(decoded, data)
    # bytes-like inputs other than bytes
    assert _bytes_equal(codec.decode(memoryview(bytearray(encoded)), spec), data)


def test_empty_inner_chunks_and_empty_shard():
    codec = ShardingCodec([2, 2]).with_fill_value(5)
    a = np.full((4, 6), 5, dtype="i4")
    assert codec.encode(a) is None
    a[3, 5] = 1
    enc = codec.encode(a)
    index = decode_index(enc[-index_nbytes((2, 3)):], (2, 3))
    assert (index[:, :, :][np.arange(2)[:, None] * 3 + np.arange(3) != 5] == MAX_UINT64).all()
    assert tuple(index[1, 2]) == (0, 16)
    assert len(enc) == 16 + 16 * 6 + 4
    out = codec.decode(enc, ChunkSpec((4, 6), np.dtype("i4")))
    assert np.array_equal(out, a)
    # the fill value is the array's: the same data is not empty for fill 0
    assert ShardingCodec([2, 2]).encode(np.full((4, 6), 5, "i4")) is not None
    # the default fill value (None) is zero bytes
    assert ShardingCodec([2, 2]).encode(np.zeros((4, 6), "f8")) is None
    assert ShardingCodec([2, 2]).encode(np.full((4, 6), -0.0)) is not None  # bytewise, as the engine does
    # write_empty_chunks stores every inner chunk
    full = codec.encode(np.full((4, 6), 5, dtype="i4"), write_empty_chunks=True)
    idx = decode_index(full[-index_nbytes((2, 3)):], (2, 3))
    assert (idx[..., 1] == 16).all()
    assert np.array_equal(codec.decode(full, ChunkSpec((4, 6), np.dtype("i4"))), np.full((4, 6), 5, "i4"))
    # an index with every entry empty decodes to the fill value
    empty_shard = encode_index(np.full((2, 3, 2), MAX_UINT64, np.uint64))
    assert np.array_equal(codec.decode(empty_shard, ChunkSpec((4, 6), np.dtype("i4"))), np.full((4, 6), 5))


def test_with_fill_value_is_a_copy():
    c = ShardingCodec([2])
    c5 = c.with_fill_value(5)
    assert c.fill_value is None and c5.fill_value == 5
    assert c == c5  # the fill value is not part of the JSON
    assert c.encode(np.full(4, 5, "i4")) is not None
    assert c5.encode(np.full(4, 5, "i4")) is None


def test_nested_sharding():
    inner = ShardingCodec([2, 2], codecs=[BYTES_BE, {"name": "zstd", "configuration": {"level": 1}}],
                          index_location="start")
    outer = ShardingCodec([4, 4], codecs=[inner.to_v3(), CRC]).with_fill_value(-1)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 100, (8, 12)).astype("i8")
    a[:4, :4] = -1  # an empty outer-inner chunk
    a[4:6, 4:6] = -1  # an empty innermost chunk
    enc = outer.encode(a)
    idx = decode_index(enc[-index_nbytes((2, 3)):], (2, 3))
    assert tuple(idx[0, 0]) == (MAX_UINT64, MAX_UINT64)
    # the nested shard at (1, 1) has its own index, with (0, 0) empty: fill value passed down
    off, n = (int(v) for v in idx[1, 1])
    nested = enc[off:off + n - 4]  # strip the inner chain's crc32c
    nidx = decode_index(nested[:index_nbytes((2, 2))], (2, 2))
    assert tuple(nidx[0, 0]) == (MAX_UINT64, MAX_UINT64)
    assert (nidx[1:, :, 0] != MAX_UINT64).all()
    out = outer.decode(enc, ChunkSpec((8, 12), np.dtype("i8")))
    assert np.array_equal(out, a)
    # three levels
    deep = ShardingCodec([4], codecs=[ShardingCodec([2], codecs=[ShardingCodec([1]).to_v3()]).to_v3()])
    v = np.arange(16, dtype="u2")
    assert np.array_equal(deep.decode(deep.encode(v), ChunkSpec((16,), np.dtype("u2"))), v)


def test_in_a_codec_chain():
    """``CodecChain`` passes the array's fill value down and runs array->array codecs before the shard."""
    from zarrfast.pipeline import CodecChain

    sharding = {"name": "sharding_indexed", "configuration": {"chunk_shape": [3, 2], "codecs": [BYTES_BE]}}
    chain = CodecChain.from_v3([{"name": "transpose", "configuration": {"order": [1, 0]}}, sharding],
                               (4, 6), np.dtype("u4"), 9)
    assert chain.read_program is None and chain.write_program is None  # the reference path
    a = np.full((4, 6), 9, dtype="u4")
    a[0, 0] = 1  # only the transposed inner chunk (0, 0) of the (6, 4) shard is stored
    enc = chain.encode(a)
    index = decode_index(enc[-index_nbytes((2, 2)):], (2, 2))
    assert tuple(index[0, 0]) == (0, 24) and (index.reshape(-1, 2)[1:] == MAX_UINT64).all()
    assert np.array_equal(chain.decode(enc), a)
    with pytest.raises(CodecError, match="does not divide"):
        CodecChain.from_v3([sharding], (4, 6), np.dtype("u4"), 0).decode(enc)


def test_zero_dimensional_and_object_free_edge_cases():
    c = ShardingCodec([])
    a = np.array(3.5)
    assert np.array_equal(c.decode(c.encode(a), ChunkSpec((), a.dtype)), a)
    assert c.encode(np.array(0.0)) is None


def test_morton_order_matches_zarr_python():
    indexing = pytest.importorskip("zarr.core.indexing")
    for cps in [(1,), (5,), (3, 5), (4, 4), (2, 3, 4), (1, 7, 2), (6, 1, 3)]:
        expected = np.ravel_multi_index(np.asarray(indexing._morton_order(cps)).T, cps)
        assert np.array_equal(morton_order(cps), expected), cps


# --------------------------------------------------------------------------------------------------------------
# index helpers and corrupt shards

def test_index_helpers():
    assert index_nbytes((2, 3)) == 16 * 6 + 4
    assert index_nbytes((2, 3), [BYTES_BE]) == 96
    assert index_nbytes((4,), [BYTES_LE, CRC, CRC]) == 72
    with pytest.raises(CodecError):
        index_nbytes((4,), [BYTES_LE, {"name": "gzip"}])
    assert shard_index_range("end", 68) == (-68, 68)
    assert shard_index_range("start", 68) == (0, 68)
    with pytest.raises(CodecError):
        shard_index_range("middle", 68)
    index = np.arange(24, dtype=np.uint64).reshape(2, 3, 4)[..., :2].copy()
    index[0, 1] = MAX_UINT64
    for codecs in ([BYTES_LE, CRC], [BYTES_BE], [BYTES_BE, CRC, CRC]):
        raw = encode_index(index, codecs)
        assert len(raw) == index_nbytes((2, 3), codecs)
        back = decode_index(raw, (2, 3), codecs)
        assert back.dtype == np.uint64 and back.dtype.isnative and np.array_equal(back, index)
    raw = encode_index(index)
    assert raw[:16] == struct.pack("<QQ", 0, 1)
    assert raw[-4:] == as_codec(CRC).encode(raw[:-4])[-4:]
    with pytest.raises(ChunkDecodeError, match="checksum"):
        decode_index(raw[:5] + bytes([raw[5] ^ 1]) + raw[6:], (2, 3))
    with pytest.raises(ChunkDecodeError, match="checksum"):
        decode_index(encode_index(index, [BYTES_LE, CRC, CRC])[:-4] + b"\0\0\0\0", (2, 3), [BYTES_LE, CRC, CRC])
    with pytest.raises(ChunkDecodeError, match="expected 100"):
        decode_index(raw[:-1], (2, 3))
    with pytest.raises(ChunkDecodeError, match="expected 100"):
        decode_index(raw + b"\0", (2, 3))


def _index(entries, cps):
    index = np.full(cps + (2,), MAX_UINT64, dtype=np.uint64)
    for coords, (off, n) in entries.items():
        index[coords] = (off, n)
    return index


@pytest.mark.parametrize("entries, size, location, match", [
    ({(1, 0): (0, 200)}, 168, "end", r"\(1, 0\).*past the end"),
    ({(0, 1): (MAX_UINT64 - 3, 10)}, 168, "end", r"\(0, 1\).*overflows"),
    ({(1, 1): (MAX_UINT64, 4)}, 168, "end", r"\(1, 1\).*neither"),
    ({(1, 1): (4, MAX_UINT64)}, 168, "end", r"\(1, 1\).*neither"),
    ({(0, 0): (0, 10), (1, 1): (9, 10)}, 168, "end", r"\(0, 0\) and \(1, 1\).*overlapping"),
    ({(1, 1): (0, 10), (0, 1): (5, 2)}, 168, "end", r"\(1, 1\) and \(0, 1\).*overlapping"),
    ({(0, 0): (95, 10)}, 168, "end", r"\(0, 0\).*overlaps the shard index \[100, 168\)"),
    ({(0, 1): (50, 10)}, 168, "start", r"\(0, 1\).*overlaps the shard index \[0, 68\)"),
])
def test_validate_index_rejects(entries, size, location, match):
    with pytest.raises(ChunkDecodeError, match=match):
        validate_index(_index(entries, (2, 2)), size, location, 68)


def test_validate_index_accepts():
    validate_index(_index({(0, 0): (0, 10), (0, 1): (10, 10), (1, 1): (30, 70)}, (2, 2)), 168, "end", 68)
    validate_index(_index({(0, 0): (68, 10), (1, 0): (158, 10)}, (2, 2)), 168, "start", 68)
    validate_index(_index({(0, 0): (5, 0), (1, 0): (0, 10)}, (2, 2)), 168, "end", 68)  # zero-length range
    validate_index(_index({}, (2, 2)), 68, "end")  # default index size: 16 * 4 + 4


def _shard(location="end"):
    codec = ShardingCodec([2, 2], codecs=[BYTES_LE, {"name": "zstd", "configuration": {"level": 1}}],
                          index_location=location)
    a = np.arange(16, dtype="f4").reshape(4, 4)
    return codec, a, codec.encode(a), ChunkSpec((4, 4), np.dtype("f4"))


@pytest.mark.parametrize("location", ["start", "end"])
def test_corrupt_shards(location):
    codec, a, enc, spec = _shard(location)
    n_index = index_nbytes((2, 2))
    assert np.array_equal(codec.decode(enc, spec), a)
    idx_at = 0 if location == "start" else len(enc) - n_index

    def with_index(index):
        raw = encode_index(index)
        return enc[:idx_at] + raw + enc[idx_at + n_index:]

    index = codec.read_index(enc, (4, 4))
    bad = index.copy()
    bad[1, 1, 0] = len(enc)  # offset past the end
    with pytest.raises(ChunkDecodeError, match=r"\(1, 1\).*past the end"):
        codec.decode(with_index(bad), spec)
    bad = index.copy()
    bad[0, 1] = index[1, 0]  # two chunks share bytes
    with pytest.raises(ChunkDecodeError, match="overlapping"):
        codec.decode(with_index(bad), spec)
    # bad crc
    flipped = bytearray(enc)
    flipped[idx_at + 3] ^= 0xFF
    with pytest.raises(ChunkDecodeError, match="checksum"):
        codec.decode(bytes(flipped), spec)
    # truncated shards
    for cut in (1, n_index, len(enc) - 10):
        with pytest.raises(ChunkDecodeError):
            codec.decode(enc[:-cut], spec)
        with pytest.raises(ChunkDecodeError):
            codec.decode(enc[cut:], spec)
    with pytest.raises(ChunkDecodeError, match="shorter than"):
        codec.decode(b"", spec)
    # a corrupt inner chunk names its coordinates
    bad = index.copy()
    bad[1, 0, 1] -= 1  # one byte short
    with pytest.raises(ChunkDecodeError, match=r"inner chunk \(1, 0\)"):
        codec.decode(with_index(bad), spec)


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(["le", "zstd", "gzip", "blosc"]), location=st.sampled_from(["start", "end"]),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       cut=st.integers(-8, 8))
def test_fuzzed_shards_raise_chunk_decode_error(kind, location, edits, cut):
    """Without an index checksum, random damage decodes or raises ChunkDecodeError - nothing else."""
    codec = ShardingCodec([2, 2], codecs=_inner_chain(kind, 2), index_codecs=[BYTES_LE], index_location=location)
    a = np.arange(24, dtype="i4").reshape(4, 6)
    a[:2, :2] = 0
    raw = bytearray(codec.encode(a))
    for pos, value in edits:
        raw[pos % len(raw)] = value
    raw = raw[:len(raw) + cut] if cut < 0 else raw + bytes(cut)
    try:
        out = codec.decode(bytes(raw), ChunkSpec((4, 6), np.dtype("i4")))
    except ChunkDecodeError:
        return
    assert out.shape == (4, 6) and out.dtype == np.dtype("i4")


def test_corrupt_inner_chunk_bytes_codec():
    codec = ShardingCodec([2], index_codecs=[BYTES_LE])
    enc = codec.encode(np.arange(4, dtype="i4"))
    index = decode_index(enc[-32:], (2,), [BYTES_LE])
    index[1, 1] = 4
    with pytest.raises(ChunkDecodeError, match=r"inner chunk \(1,\).*expected 8 bytes"):
        codec.decode(enc[:-32] + encode_index(index, [BYTES_LE]), ChunkSpec((4,), np.dtype("i4")))


# --------------------------------------------------------------------------------------------------------------
# interop: zarr-python, tensorstore, zarrs

PEER_CASES = [
    # (shape, shard, inner, dtype, fill, inner codecs, index codecs, index location)
    ((8, 9), (4, 9), (2, 3), "i4", 7, [BYTES_LE], [BYTES_LE, CRC], "end"),
    ((10, 6), (4, 6), (2, 2), "f8", np.nan, [BYTES_BE, {"name": "zstd", "configuration": {"level": 1,
                                                                                         "checksum": False}}],
     [BYTES_LE, CRC], "start"),
    ((16,), (8,), (2,), "u2", 0, [BYTES_LE, {"name": "gzip", "configuration": {"level": 1}}, CRC],
     [BYTES_BE], "end"),
    ((6, 4, 4), (6, 4, 4), (3, 2, 2), "f4", 1.5,
     [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}, BYTES_LE,
      {"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3, "shuffle": "bitshuffle", "typesize": 4,
                                          "blocksize": 0}}],
     [BYTES_LE, CRC], "start"),
]
NESTED_CASE = ((8, 8), (8, 8), (4, 4), "i2", 3,
               [{"name": "sharding_indexed", "configuration": {"chunk_shape": [2, 2], "codecs": [BYTES_LE],
                                                               "index_codecs": [BYTES_LE, CRC],
                                                               "index_location": "end"}}],
               [BYTES_LE, CRC], "end")


def _metadata(shape, shard, inner, dtype, fill, codecs, index_codecs, location):
    fill_json = "NaN" if isinstance(fill, float) and np.isnan(fill) else fill
    return {
        "zarr_format": 3, "node_type": "array", "shape": list(shape), "data_type": np.dtype(dtype).name,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(shard)}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_json, "attributes": {}, "dimension_names": None,
        "codecs": [{"name": "sharding_indexed", "configuration": {
            "chunk_shape": list(inner), "codecs": codecs, "index_codecs": index_codecs,
            "index_location": location}}],
    }


def _data(shape, dtype, fill):
    rng = np.random.default_rng(42)
    a = rng.integers(0, 100, shape).astype(dtype)
    a[: max(1, shape[0] // 4)] = fill  # some empty inner chunks
    return a


def _shard_keys(shape, shard):
    grid = [range(-(-s // c)) for s, c in zip(shape, shard)]
    return ["c/" + "/".join(map(str, coords)) for coords in np.ndindex(*[len(g) for g in grid])]


def _shard_array(data, shape, shard, coords, fill):
    """The full shard at ``coords`` (edge shards padded with the fill value)."""
    out = np.full(shard, fill, dtype=data.dtype)
    region = tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(coords, shard, shape))
    out[tuple(slice(0, r.stop - r.start) for r in region)] = data[region]
    return out


def _our_codec(meta):
    cfg = meta["codecs"][0]
    fill = np.array(np.nan if meta["fill_value"] == "NaN" else meta["fill_value"]).astype(meta["data_type"])[()]
    return codec_from_v3(cfg).with_fill_value(fill)


def _check_peer_written(root: Path, meta, data, case):
    """Every shard the peer wrote decodes (with our codec) to the array's data."""
    shape, shard, _, dtype, fill = case[:5]
    codec = _our_codec(meta)
    spec = ChunkSpec(tuple(shard), np.dtype(dtype))
    seen = 0
    for key in _shard_keys(shape, shard):
        coords = tuple(int(k) for k in key.split("/")[1:])
        expected = _shard_array(data, shape, shard, coords, fill)
        path = root / key
        if not path.exists():
            assert codec.empty_chunks(expected).all(), key
            continue
        raw = path.read_bytes()
        assert _bytes_equal(codec.decode(raw, spec), expected), key
        seen += 1
    assert seen


def _write_ours(root: Path, meta, data, case):
    shape, shard, _, _, fill = case[:5]
    codec = _our_codec(meta)
    written = {}
    for key in _shard_keys(shape, shard):
        coords = tuple(int(k) for k in key.split("/")[1:])
        enc = codec.encode(_shard_array(data, shape, shard, coords, fill))
        path = root / key
        if enc is None:
            if path.exists():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(enc)
        written[key] = enc
    return written


def _zarr_array(zarr, root: Path, meta):
    root.mkdir(parents=True, exist_ok=True)
    (root / "zarr.json").write_text(json.dumps(meta))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zarr.open_array(store=str(root), mode="r+")


@pytest.mark.parametrize("case", PEER_CASES + [NESTED_CASE], ids=lambda c: f"{c[3]}-{c[7]}-{len(c[0])}d")
def test_zarr_python_interop(tmp_path, case):
    zarr = pytest.importorskip("zarr")
    meta = _metadata(*case)
    data = _data(case[0], case[3], case[4])
    # zarr-python writes, we decode
    a = _zarr_array(zarr, tmp_path / "zp", meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a[...] = data
    _check_peer_written(tmp_path / "zp", meta, data, case)
    # we write, zarr-python reads
    ours = _zarr_array(zarr, tmp_path / "ours", meta)
    written = _write_ours(tmp_path / "ours", meta, data, case)
    assert written
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _bytes_equal(np.asarray(ours[...]), data)
    # same Morton order as zarr-python: byte-identical shards where the inner codecs are deterministic
    if not any(c["name"] in ("zstd", "blosc", "gzip") for c in case[5]):
        for key, enc in written.items():
            assert (tmp_path / "zp" / key).read_bytes() == enc, key


def _ts_spec(root: Path, meta):
    m = {k: v for k, v in meta.items() if k not in ("zarr_format", "node_type", "attributes", "dimension_names")}
    return {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(root)}, "metadata": m}


@pytest.mark.parametrize("case", PEER_CASES + [NESTED_CASE], ids=lambda c: f"{c[3]}-{c[7]}-{len(c[0])}d")
def test_tensorstore_interop(tmp_path, case):
    ts = pytest.importorskip("tensorstore")
    meta = _metadata(*case)
    data = _data(case[0], case[3], case[4])
    try:
        arr = ts.open(_ts_spec(tmp_path / "ts", meta), create=True, delete_existing=True).result()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"tensorstore does not accept this configuration: {e}")
    arr.write(data).result()
    _check_peer_written(tmp_path / "ts", meta, data, case)
    # we write, tensorstore reads
    ours = tmp_path / "ours"
    ts.open(_ts_spec(ours, meta), create=True, delete_existing=True).result()
    _write_ours(ours, meta, data, case)
    back = ts.open(_ts_spec(ours, meta), open=True).result().read().result()
    assert _bytes_equal(np.asarray(back), data)


ZARRS_CONFIG = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}


@pytest.mark.parametrize("case", PEER_CASES + [NESTED_CASE], ids=lambda c: f"{c[3]}-{c[7]}-{len(c[0])}d")
def test_zarrs_interop(tmp_path, case):
    zarr = pytest.importorskip("zarr")
    pytest.importorskip("zarrs")
    meta = _metadata(*case)
    data = _data(case[0], case[3], case[4])
    with zarr.config.set(ZARRS_CONFIG):
        try:
            a = _zarr_array(zarr, tmp_path / "zarrs", meta)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                a[...] = data
        except Exception as e:  # noqa: BLE001
            pytest.skip(f"zarrs does not accept this configuration: {type(e).__name__}: {e}")
        _check_peer_written(tmp_path / "zarrs", meta, data, case)
        ours = _zarr_array(zarr, tmp_path / "ours", meta)
        _write_ours(tmp_path / "ours", meta, data, case)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert _bytes_equal(np.asarray(ours[...]), data)
