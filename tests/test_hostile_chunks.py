"""Corrupt chunks: truncated, empty, random, of the wrong decoded size, with lying blosc/lz4 headers, zstd frames
that expand far beyond the chunk, crc32c mismatches - for every codec chain, v2 and v3, on both engines ("auto": the
native kernels; "python": the reference decoders) - raise ``ChunkDecodeError`` naming the array and the chunk key.

Also: the same through ``LocalStore`` (the native batch file reader), partial reads touching one corrupt chunk
among good ones, ``oindex`` / ``vindex`` / ``blocks``, and decompression bombs whose peak memory is measured in a
subprocess: decoders bound their output by the chunk's decoded size.
"""
from __future__ import annotations

import gzip
import struct
import zlib

import crc32c as crc32c_pkg
import numcodecs
import numpy as np
import pytest
import zstandard
from hostile_helpers import ENGINES, FORMATS, NAME, ckey

import zarrfast
from zarrfast import errors as E

# ------------------------------------------------------------------------------------------------------------------
# corrupt chunks, for every codec, in v2 and v3, on both engines

V3_CHAINS = {
    "bytes": dict(compressors=None),
    "bytes-big": dict(compressors=None, serializer={"name": "bytes", "configuration": {"endian": "big"}}),
    "zstd": dict(compressors={"name": "zstd", "configuration": {"level": 1, "checksum": False}}),
    "zstd-checksum": dict(compressors={"name": "zstd", "configuration": {"level": 1, "checksum": True}}),
    "blosc-lz4": dict(compressors={"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                      "shuffle": "shuffle"}}),
    "blosc-lz4hc": dict(compressors={"name": "blosc", "configuration": {"cname": "lz4hc", "clevel": 5,
                                                                        "shuffle": "noshuffle"}}),
    "blosc-zstd": dict(compressors={"name": "blosc", "configuration": {"cname": "zstd", "clevel": 3,
                                                                       "shuffle": "bitshuffle"}}),
    "blosc-zlib": dict(compressors={"name": "blosc", "configuration": {"cname": "zlib", "clevel": 3,
                                                                       "shuffle": "shuffle"}}),
    "blosc-blosclz": dict(compressors={"name": "blosc", "configuration": {"cname": "blosclz", "clevel": 5,
                                                                          "shuffle": "shuffle"}}),
    "gzip": dict(compressors={"name": "gzip", "configuration": {"level": 1}}),
    "crc32c": dict(compressors=[{"name": "crc32c"}]),
    "zstd-crc32c": dict(compressors=[{"name": "zstd", "configuration": {"level": 1, "checksum": False}},
                                     {"name": "crc32c"}]),
    "blosc-crc32c": dict(compressors=[{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                          "shuffle": "shuffle"}},
                                      {"name": "crc32c"}]),
    "gzip-crc32c": dict(compressors=[{"name": "gzip", "configuration": {"level": 1}}, {"name": "crc32c"}]),
    "transpose-zstd": dict(filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}],
                           compressors={"name": "zstd", "configuration": {"level": 1, "checksum": False}}),
    "numcodecs.zlib": dict(compressors=[{"name": "numcodecs.zlib", "configuration": {"level": 1}}]),
    "numcodecs.lz4": dict(compressors=[{"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}]),
    "numcodecs.bz2": dict(compressors=[{"name": "numcodecs.bz2", "configuration": {"level": 1}}]),
    "numcodecs.lzma": dict(compressors=[{"name": "numcodecs.lzma"}]),
}
V2_CHAINS = {
    "none": dict(compressors=None),
    "none-F": dict(compressors=None, order="F"),
    "zstd": dict(compressors={"id": "zstd", "level": 1}),
    "zstd-checksum": dict(compressors={"id": "zstd", "level": 1, "checksum": True}),
    "lz4": dict(compressors={"id": "lz4", "acceleration": 1}),
    "blosc-lz4": dict(compressors={"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}),
    "blosc-zstd": dict(compressors={"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2}),
    "blosc-zlib": dict(compressors={"id": "blosc", "cname": "zlib", "clevel": 3, "shuffle": 0}),
    "blosc-blosclz": dict(compressors={"id": "blosc", "cname": "blosclz", "clevel": 5, "shuffle": 1}),
    "zlib": dict(compressors={"id": "zlib", "level": 1}),
    "gzip": dict(compressors={"id": "gzip", "level": 1}),
    "bz2": dict(compressors={"id": "bz2", "level": 1}),
    "lzma": dict(compressors={"id": "lzma"}),
    "delta-zstd": dict(filters=[{"id": "delta", "dtype": "<i4"}], compressors={"id": "zstd", "level": 1}),
    "zstd-F": dict(compressors={"id": "zstd", "level": 1}, order="F"),
}

SHAPE, CHUNKS = (20, 16), (16, 16)  # chunk (0, 0) is complete, (1, 0) is an edge chunk
CHUNK_NBYTES = 16 * 16 * 4
DATA = (np.arange(20 * 16, dtype="i4").reshape(SHAPE) % 50) * 3


def _make(fmt, chain, store, shape=SHAPE, chunks=CHUNKS, name=NAME):
    kw = dict(chain)
    a = zarrfast.create_array(store=store, name=name, shape=shape, chunks=chunks, dtype="i4", zarr_format=fmt,
                              fill_value=0, **kw)
    a[...] = DATA[: shape[0], : shape[1]]
    return a


def _has_crc(chain):
    comps = chain.get("compressors")
    comps = comps if isinstance(comps, list) else [comps]
    return any(isinstance(c, dict) and c.get("name") == "crc32c" for c in comps)


def _inner_kind(chain):
    comps = chain.get("compressors")
    comps = [c for c in (comps if isinstance(comps, list) else [comps]) if c is not None]
    comps = [c for c in comps if c.get("name") != "crc32c"]
    if not comps:
        return "none"
    c = comps[0]
    name = c.get("name") or c.get("id")
    if name == "blosc":
        return "blosc"
    return name.replace("numcodecs.", "")


def _zstd_huge_frame() -> bytes:
    """A zstd frame whose header claims 2**40 content bytes, followed by one tiny raw block."""
    fhd = 0xC0  # frame content size field: 8 bytes, no window descriptor needed with single segment
    fhd |= 0x20  # single segment
    block = (1 << 0) | (0 << 1) | (1 << 3)  # last block, raw, size 1
    return b"\x28\xb5\x2f\xfd" + bytes([fhd]) + struct.pack("<Q", 1 << 40) + struct.pack("<I", block)[:3] + b"\0"


def _blosc_mutations(good: bytes):
    """(name, frame) pairs: Blosc frames with header fields that lie."""
    def patch(offset, fmt, value):
        b = bytearray(good)
        struct.pack_into(fmt, b, offset, value)
        return bytes(b)

    nbytes, blocksize, cbytes = struct.unpack_from("<iii", good, 4)
    yield "blosc nbytes +1", patch(4, "<i", nbytes + 1)
    yield "blosc nbytes -4", patch(4, "<i", nbytes - 4)
    yield "blosc nbytes huge", patch(4, "<i", 2**31 - 1)
    yield "blosc nbytes negative", patch(4, "<i", -1)
    yield "blosc cbytes beyond buffer", patch(12, "<i", cbytes + 1000)
    yield "blosc cbytes tiny", patch(12, "<i", 8)
    yield "blosc blocksize 0", patch(8, "<i", 0)
    yield "blosc blocksize huge", patch(8, "<i", 2**30)
    yield "blosc blocksize negative", patch(8, "<i", -16)
    yield "blosc version 0", patch(0, "<B", 0)
    yield "blosc typesize 0", patch(3, "<B", 0)
    yield "blosc memcpyed flag on a compressed frame", patch(2, "<B", good[2] | 0x02)
    yield "blosc snappy format", patch(2, "<B", (good[2] & 0x1F) | (2 << 5))
    yield "blosc unknown format 7", patch(2, "<B", (good[2] & 0x1F) | (7 << 5))
    yield "blosc bad block offset", patch(16, "<i", 2**30) if len(good) > 20 else good[:10]
    yield "blosc header only", good[:16]


def _corruptions(fmt, chain, good: bytes):
    """(name, bytes) to store in place of a good chunk; every one must fail to decode."""
    crc = _has_crc(chain)
    inner = good[:-4] if crc else good

    def wrap(b: bytes) -> bytes:  # re-append a valid checksum so that the inner codec sees the corruption
        return b + struct.pack("<I", crc32c_pkg.crc32c(b)) if crc else b

    rng = np.random.default_rng(1234)
    out = [
        ("random bytes", wrap(rng.integers(0, 256, len(inner) + 7, dtype=np.uint8).tobytes())),
        ("truncated", wrap(inner[: len(inner) // 2])),
        ("truncated by one", wrap(inner[:-1])),
        ("empty", wrap(b"")),
        ("one byte", wrap(b"\x00")),
    ]
    # a valid encoding of a chunk with another size, from an array with smaller chunks and the same codecs
    store = {}
    _make(fmt, chain, store, shape=(8, 16), chunks=(8, 16), name="small")
    out.append(("wrong decoded size", store["small/" + ckey(fmt, 0, 0)]))
    big_store = {}
    _make(fmt, chain, big_store, shape=(20, 16), chunks=(20, 16), name="big")
    out.append(("wrong decoded size (bigger)", big_store["big/" + ckey(fmt, 0, 0)]))
    if crc:
        flipped = bytearray(good)
        flipped[len(flipped) // 3] ^= 0x10
        out.append(("crc32c mismatch (payload)", bytes(flipped)))
        flipped = bytearray(good)
        flipped[-1] ^= 0x01
        out.append(("crc32c mismatch (checksum)", bytes(flipped)))
        out.append(("crc32c only", good[-4:]))
    kind = _inner_kind(chain)
    if kind == "blosc":
        out += [(n, wrap(b)) for n, b in _blosc_mutations(inner)]
    if kind == "zstd":
        out.append(("zstd frame claiming 1 TiB", wrap(_zstd_huge_frame())))
        out.append(("zstd bomb without content size", wrap(zstandard.ZstdCompressor(
            write_content_size=False).compress(b"\0" * CHUNK_NBYTES * 64))))
        out.append(("zstd bomb with content size", wrap(zstandard.ZstdCompressor().compress(
            b"\0" * CHUNK_NBYTES * 64))))
        out.append(("zstd short without content size", wrap(zstandard.ZstdCompressor(
            write_content_size=False).compress(b"\0" * (CHUNK_NBYTES - 4)))))
    if kind == "gzip":
        out.append(("gzip bomb", wrap(gzip.compress(b"\0" * CHUNK_NBYTES * 64))))
    if kind == "zlib":
        out.append(("zlib bomb", wrap(zlib.compress(b"\0" * CHUNK_NBYTES * 64))))
    if kind == "lz4":
        b = bytearray(inner)
        struct.pack_into("<I", b, 0, 2**31)
        out.append(("lz4 header claims 2 GiB", wrap(bytes(b))))
        out.append(("lz4 bomb", wrap(numcodecs.LZ4().encode(b"\0" * CHUNK_NBYTES * 64))))
    if kind in ("bz2", "lzma"):
        codec = numcodecs.BZ2() if kind == "bz2" else numcodecs.LZMA()
        out.append((f"{kind} bomb", wrap(bytes(codec.encode(b"\0" * CHUNK_NBYTES * 64)))))
    return out


def _corrupt_cases():
    cases = []
    for fmt, table in ((3, V3_CHAINS), (2, V2_CHAINS)):
        for chain_name, chain in table.items():
            good_store = {}
            _make(fmt, chain, good_store)
            good = good_store[NAME + "/" + ckey(fmt, 0, 0)]
            for cname, bad in _corruptions(fmt, chain, good):
                cases.append(pytest.param(fmt, chain_name, bad, id=f"v{fmt}-{chain_name}-{cname}"))
    return cases


CORRUPT_CASES = _corrupt_cases()


def _assert_decode_error(exc, fmt, key):
    assert isinstance(exc, E.ChunkDecodeError), type(exc)
    assert isinstance(exc, ValueError) and isinstance(exc, E.ZarrfastError)
    assert exc.chunk_key == key
    assert exc.path == NAME
    assert key in str(exc) and NAME in str(exc)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt,chain_name,bad", CORRUPT_CASES)
def test_corrupt_chunk_read(engine, fmt, chain_name, bad):
    chain = (V3_CHAINS if fmt == 3 else V2_CHAINS)[chain_name]
    store = {}
    _make(fmt, chain, store)
    key = NAME + "/" + ckey(fmt, 0, 0)
    store[key] = bad
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(store, path=NAME, mode="r")
        with pytest.raises(E.ZarrfastError) as info:
            a[...]
        _assert_decode_error(info.value, fmt, key)
        with pytest.raises(E.ChunkDecodeError):
            a[3, 5]
        # other chunks still read
        np.testing.assert_array_equal(a[16:, :], DATA[16:, :])


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt,chain_name", [(3, n) for n in V3_CHAINS] + [(2, n) for n in V2_CHAINS])
def test_corrupt_chunk_partial_write(engine, fmt, chain_name):
    """Updating part of a corrupt chunk needs to decode it first: that fails with the key, and the chunk stays."""
    chain = (V3_CHAINS if fmt == 3 else V2_CHAINS)[chain_name]
    store = {}
    _make(fmt, chain, store)
    key = NAME + "/" + ckey(fmt, 0, 0)
    bad = store[key][: len(store[key]) // 2] or b"x"
    store[key] = bad
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(store, path=NAME, mode="r+")
        with pytest.raises(E.ChunkDecodeError) as info:
            a[0, 0] = 5
        _assert_decode_error(info.value, fmt, key)
        assert store[key] == bad
        a[0:16, 0:16] = 7  # a complete overwrite doesn't read the old chunk
        np.testing.assert_array_equal(a[0:16, :], 7)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_edge_chunk(engine, fmt):
    chain = {"compressors": {"name": "zstd", "configuration": {"level": 1, "checksum": False}}} if fmt == 3 \
        else {"compressors": {"id": "zstd", "level": 1}}
    store = {}
    _make(fmt, chain, store)
    key = NAME + "/" + ckey(fmt, 1, 0)
    store[key] = store[key][:-3]
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(store, path=NAME, mode="r")
        np.testing.assert_array_equal(a[:16], DATA[:16])
        with pytest.raises(E.ChunkDecodeError) as info:
            a[15:17]
        _assert_decode_error(info.value, fmt, key)


@pytest.mark.parametrize("engine", ENGINES)
def test_corrupt_chunk_root_array_names_key(engine):
    store = {}
    a = zarrfast.create_array(store=store, shape=(8,), chunks=(4,), dtype="f8")
    a[...] = 1.0
    store["c/1"] = b"garbage"
    with zarrfast.config.set(engine=engine), pytest.raises(E.ChunkDecodeError) as info:
        zarrfast.open_array(store, mode="r")[...]
    assert info.value.chunk_key == "c/1" and "'c/1'" in str(info.value)


# ------------------------------------------------------------------------------------------------------------------
# the same corruptions through LocalStore (the native batch file reader), partial reads and advanced indexing

LOCAL_CORRUPTIONS = ("random bytes", "truncated", "empty", "wrong decoded size", "crc32c mismatch (payload)",
                     "zstd frame claiming 1 TiB", "blosc nbytes huge", "lz4 header claims 2 GiB")
LOCAL_CASES = [p for p in CORRUPT_CASES if any(p.id.endswith("-" + n) for n in LOCAL_CORRUPTIONS)]
GRID_SHAPE, GRID_CHUNKS = (40, 16), (8, 8)  # 5 x 2 chunks; chunk (2, 1) is the corrupt one
GRID_DATA = (np.arange(40 * 16, dtype="i4").reshape(GRID_SHAPE) % 61) * 5


def _grid_array(fmt, chain, store):
    a = zarrfast.create_array(store=store, name=NAME, shape=GRID_SHAPE, chunks=GRID_CHUNKS, dtype="i4",
                              zarr_format=fmt, fill_value=0, **chain)
    a[...] = GRID_DATA
    return a


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("fmt,chain_name,bad", LOCAL_CASES)
def test_corrupt_chunk_local_store_partial_reads(tmp_path, engine, fmt, chain_name, bad):
    """One corrupt chunk among good ones in a LocalStore: every read touching it fails naming its key (full,
    partial, oindex, vindex, blocks); reads around it are right."""
    chain = (V3_CHAINS if fmt == 3 else V2_CHAINS)[chain_name]
    path = tmp_path / "store"
    _grid_array(fmt, chain, str(path))
    key = NAME + "/" + ckey(fmt, 2, 1)
    (path / key).write_bytes(bad)
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(str(path), path=NAME, mode="r")
        for read in (lambda: a[...], lambda: a[10:30, 4:12], lambda: a[20, 9], lambda: a[::3, ::-5],
                     lambda: a.oindex[[0, 17, 39], [1, 10]], lambda: a.vindex[[3, 18], [3, 14]],
                     lambda: a.blocks[2, 1], lambda: a.blocks[1:4]):
            with pytest.raises(E.ChunkDecodeError) as info:
                read()
            _assert_decode_error(info.value, fmt, key)
        np.testing.assert_array_equal(a[:16], GRID_DATA[:16])
        np.testing.assert_array_equal(a[:, :8], GRID_DATA[:, :8])
        np.testing.assert_array_equal(a.oindex[[0, 39], [1, 10]], GRID_DATA[np.ix_([0, 39], [1, 10])])
        np.testing.assert_array_equal(a.blocks[4, 1], GRID_DATA[32:, 8:])


# ------------------------------------------------------------------------------------------------------------------
# decompression bombs: peak memory stays far below the claimed size (measured in a fresh process)

BOMB_SCRIPT = r'''
import json, resource, struct, sys, zlib
import numpy as np
import zstandard
import zarrfast
from zarrfast import errors as E

kind, fmt = sys.argv[1], int(sys.argv[2])
GIB = 1 << 30
MIB = 1 << 20
zeros = bytes(MIB)

def deflate_bomb(wbits):
    """1 GiB of zeros: one byte-aligned deflate segment per MiB (full flush), repeated - a few hundred KB."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    seg = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    assert c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH) == seg
    body = seg * 1024 + c.flush()
    if wbits == "gzip":
        crc = 0
        for _ in range(1024):
            crc = zlib.crc32(zeros, crc)
        return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + struct.pack("<II", crc, GIB & 0xFFFFFFFF)
    adler = 1
    for _ in range(1024):
        adler = zlib.adler32(zeros, adler)
    return b"\x78\xda" + body + struct.pack(">I", adler)

def zstd_bomb(content_size):
    c = zstandard.ZstdCompressor(level=1, write_content_size=content_size)
    o = c.compressobj(size=GIB if content_size else -1)
    parts = [o.compress(zeros) for _ in range(1024)]
    return b"".join(parts) + o.flush()

def make(chain):
    store = {}
    a = zarrfast.create_array(store=store, name="grp/arr", shape=(128, 64), chunks=(64, 64), dtype="i4",
                              zarr_format=fmt, fill_value=0, **chain)
    a[...] = np.arange(128 * 64, dtype="i4").reshape(128, 64)
    key = "grp/arr/" + ("c/0/0" if fmt == 3 else "0.0")
    return store, key

if kind.startswith("zstd"):
    chain = {"compressors": {"name": "zstd", "configuration": {"level": 1, "checksum": False}}} if fmt == 3 \
        else {"compressors": {"id": "zstd", "level": 1}}
    store, key = make(chain)
    bomb = {"zstd-with-size": lambda: zstd_bomb(True), "zstd-without-size": lambda: zstd_bomb(False),
            "zstd-claims-1TiB": lambda: b"\x28\xb5\x2f\xfd\xe0" + struct.pack("<Q", 1 << 40) + b"\x09\x00\x00\x00"
            }[kind]()
elif kind == "gzip":
    store, key = make({"compressors": {"name": "gzip", "configuration": {"level": 1}}} if fmt == 3
                      else {"compressors": {"id": "gzip", "level": 1}})
    bomb = deflate_bomb("gzip")
elif kind == "zlib":
    store, key = make({"compressors": {"id": "zlib", "level": 1}} if fmt == 2
                      else {"compressors": [{"name": "numcodecs.zlib", "configuration": {"level": 1}}]})
    bomb = deflate_bomb("zlib")
elif kind == "lz4-claims-1GiB":
    store, key = make({"compressors": {"id": "lz4", "acceleration": 1}} if fmt == 2
                      else {"compressors": [{"name": "numcodecs.lz4", "configuration": {"acceleration": 1}}]})
    good = store[key]
    bomb = struct.pack("<I", GIB) + good[4:]
elif kind == "blosc-claims-2GiB":
    store, key = make({"compressors": {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5,
                                                                          "shuffle": "shuffle"}}} if fmt == 3
                      else {"compressors": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1}})
    good = bytearray(store[key])
    struct.pack_into("<i", good, 4, 2**31 - 17)
    bomb = bytes(good)
else:
    raise SystemExit("unknown kind " + kind)
store[key] = bomb
del zeros
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = {"bomb_bytes": len(bomb), "before_kb": before, "runs": []}
for engine in ("python", "auto"):
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(store, path="grp/arr", mode="r")
        try:
            a[0:70, 0:3]
            outcome = {"error": None}
        except Exception as e:
            outcome = {"error": type(e).__name__, "is_decode": isinstance(e, E.ChunkDecodeError),
                       "path": getattr(e, "path", None), "key": getattr(e, "chunk_key", None), "msg": str(e)[:300]}
    outcome["engine"] = engine
    outcome["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["runs"].append(outcome)
print(json.dumps(result))
'''
BOMBS = [("zstd-with-size", 3), ("zstd-without-size", 3), ("zstd-claims-1TiB", 3), ("zstd-without-size", 2),
         ("gzip", 3), ("gzip", 2), ("zlib", 2), ("zlib", 3), ("lz4-claims-1GiB", 2), ("lz4-claims-1GiB", 3),
         ("blosc-claims-2GiB", 3), ("blosc-claims-2GiB", 2)]


@pytest.mark.parametrize("kind,fmt", BOMBS, ids=[f"{k}-v{f}" for k, f in BOMBS])
def test_decompression_bomb_memory_is_bounded(tmp_path, kind, fmt):
    """A chunk of 16 KiB whose data expands to >= 1 GiB (or whose header claims so): both engines raise
    ChunkDecodeError naming the array and the key, and the process's peak RSS grows by far less than 64 MB."""
    import json
    import subprocess
    import sys

    script = tmp_path / "bomb.py"
    script.write_text(BOMB_SCRIPT)
    proc = subprocess.run([sys.executable, str(script), kind, str(fmt)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["bomb_bytes"] < 2 * 1024 * 1024
    key = "grp/arr/" + ("c/0/0" if fmt == 3 else "0.0")
    for run in result["runs"]:
        assert run["is_decode"], run
        assert run["path"] == "grp/arr" and run["key"] == key, run
        assert key in run["msg"] and "grp/arr" in run["msg"], run
        grown_mb = (run["peak_kb"] - result["before_kb"]) / 1024
        assert grown_mb < 64, f"{run['engine']}: peak RSS grew by {grown_mb:.0f} MB"
