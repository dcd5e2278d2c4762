"""Errors: every one is a ``zarrfast.errors.ZarrfastError`` and also the builtin a zarr-python user would catch;
messages name the array path and, for chunk problems, the chunk key. No crash, no hang, on either engine.

The builtins come from two places: the documented mapping (``docs/user-guide.md``) and, as an oracle, what
zarr-python 3 raises for the very same call (``test_builtin_like_zarr_python``).
"""
from __future__ import annotations

import gzip
import json
import struct
import warnings
import zlib

import crc32c as crc32c_pkg
import numcodecs
import numpy as np
import pytest
import zarr
import zstandard

import zarrfast
from zarrfast import errors as E
from zarrfast.storage import MemoryStore

FORMATS = [2, 3]
ENGINES = ["auto", "python"]
BUILTINS = (ValueError, TypeError, IndexError, KeyError, LookupError, FileNotFoundError, FileExistsError,
            PermissionError, OSError, RuntimeError, NotImplementedError)


def doc_name(fmt: int) -> str:
    return "zarr.json" if fmt == 3 else ".zarray"


def ckey(fmt: int, *coords: int, prefix: str = "") -> str:
    return prefix + ("c/" + "/".join(map(str, coords)) if fmt == 3 else ".".join(map(str, coords)))


# ------------------------------------------------------------------------------------------------------------------
# the hierarchy


def test_every_error_derives_from_zarrfast_error():
    for name in E.__all__:
        cls = getattr(E, name)
        assert issubclass(cls, E.ZarrfastError), name
        assert issubclass(cls, Exception)


@pytest.mark.parametrize("cls,builtin", [
    (E.MetadataError, ValueError), (E.UnknownDataTypeError, ValueError), (E.FillValueError, ValueError),
    (E.MustUnderstandError, ValueError), (E.NodeNotFoundError, FileNotFoundError),
    (E.ArrayNotFoundError, FileNotFoundError), (E.ContainsArrayError, FileExistsError),
    (E.CodecError, ValueError), (E.UnknownCodecError, ValueError), (E.ChunkDecodeError, ValueError),
    (E.SelectionError, IndexError), (E.BoundsCheckError, IndexError), (E.ShapeMismatchError, ValueError),
    (E.DataTypeMismatchError, TypeError), (E.StoreError, OSError), (E.ReadOnlyError, PermissionError),
])
def test_documented_builtins(cls, builtin):
    assert issubclass(cls, builtin)
    assert issubclass(cls, E.ZarrfastError)


def test_chunk_decode_error_fields():
    e = E.ChunkDecodeError("boom", path="grp/arr", chunk_key="grp/arr/c/0/1")
    assert e.path == "grp/arr" and e.chunk_key == "grp/arr/c/0/1"
    assert "grp/arr" in str(e) and "grp/arr/c/0/1" in str(e) and "boom" in str(e)


# ------------------------------------------------------------------------------------------------------------------
# the builtin a zarr-python user would catch: the same call on zarr-python is the oracle


def _zp_store():
    return zarr.storage.MemoryStore()


def _setup(mod, fmt):
    store = {} if mod is zarrfast else _zp_store()
    a = mod.create_array(store=store, name="arr", shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt,
                         compressors=None)
    a[...] = 1
    return store, a


def _raw_set(mod, store, key, value):
    if mod is zarrfast:
        store[key] = value
    else:
        from zarr.core.buffer.cpu import Buffer

        store._store_dict[key] = Buffer.from_bytes(value)


def _raw_get(mod, store, key):
    return store[key] if mod is zarrfast else store._store_dict[key].to_bytes()


def _scenario(name, mod, fmt):
    store, a = _setup(mod, fmt)
    meta = "arr/" + doc_name(fmt)
    if name == "missing array":
        return lambda: mod.open_array(store, path="nope", mode="r")
    if name == "invalid json":
        _raw_set(mod, store, meta, b"{nope")
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "negative shape":
        doc = json.loads(_raw_get(mod, store, meta))
        doc["shape"] = [-1]
        _raw_set(mod, store, meta, json.dumps(doc).encode())
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "unknown codec":
        doc = json.loads(_raw_get(mod, store, meta))
        if fmt == 3:
            doc["codecs"].append({"name": "no-such-codec"})
        else:
            doc["compressor"] = {"id": "no-such-codec"}
        _raw_set(mod, store, meta, json.dumps(doc).encode())
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "short chunk":
        _raw_set(mod, store, "arr/" + ckey(fmt, 0), b"abc")
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "bounds":
        return lambda: a[10]
    if name == "bounds set":
        return lambda: a.__setitem__(-11, 1)
    if name == "string into int":
        return lambda: a.__setitem__(0, "abc")
    if name == "read-only write":
        return lambda: mod.open_array(store, path="arr", mode="r").__setitem__(0, 1)
    if name == "read-only attrs":
        return lambda: mod.open_array(store, path="arr", mode="r").attrs.__setitem__("x", 1)
    if name == "contains array":
        return lambda: mod.create_array(store=store, name="arr", shape=(1,), dtype="i4", zarr_format=fmt)
    raise AssertionError(name)


def _xf(reason):
    """Formerly an xfail for a bug now fixed; kept so the table still records what was wrong."""
    return ()


PARITY = [
    pytest.param("missing array", marks=_xf(
        "BUG: ArrayNotFoundError is not a ValueError; zarr-python's ArrayNotFoundError is ValueError and "
        "FileNotFoundError")),
    "invalid json", "negative shape", "unknown codec", "short chunk", "bounds", "bounds set",
    pytest.param("string into int", marks=_xf(
        "BUG: DataTypeMismatchError is a TypeError only; zarr-python raises ValueError for a[0] = 'abc'")),
    pytest.param("read-only write", marks=_xf(
        "BUG: ReadOnlyError is PermissionError/OSError, not ValueError; zarr-python raises ValueError")),
    pytest.param("read-only attrs", marks=_xf(
        "BUG: ReadOnlyError is PermissionError/OSError, not ValueError; zarr-python raises ValueError")),
    pytest.param("contains array", marks=_xf(
        "BUG: ContainsArrayError is FileExistsError only; zarr-python's ContainsArrayError is a ValueError")),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", PARITY)
def test_builtin_like_zarr_python(name, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as zp:
            _scenario(name, zarr, fmt)()
    with pytest.raises(E.ZarrfastError) as zf:
        _scenario(name, zarrfast, fmt)()
    wanted = [b.__name__ for b in BUILTINS if isinstance(zp.value, b)]
    missing = [b for b in wanted if not isinstance(zf.value, getattr(__import__("builtins"), b))]
    assert not missing, f"zarr-python raised {type(zp.value).__name__} ({wanted}); zarrfast " \
                        f"{type(zf.value).__name__} is not {missing}"


# ------------------------------------------------------------------------------------------------------------------
# opening a missing array


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("mode", "func"), [("r", "open_array"), ("r+", "open_array"), ("a", "open_array"),
                                            ("r", "open"), ("r+", "open")])
def test_open_missing_array(tmp_path, fmt, mode, func):
    """(zarrfast.open in mode 'a' creates a group where nothing is, like zarr-python: see test_open_a_creates_group.)"""
    store = str(tmp_path / "store")
    zarrfast.create_array(store=store, name="present", shape=(2,), dtype="i4", zarr_format=fmt)
    with pytest.raises(E.NodeNotFoundError) as info:
        getattr(zarrfast, func)(store, path="grp/absent", mode=mode, zarr_format=fmt)
    assert isinstance(info.value, FileNotFoundError)
    if func == "open_array":
        assert isinstance(info.value, E.ArrayNotFoundError)
    assert "grp/absent" in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_a_creates_group(tmp_path, fmt):
    zarr = pytest.importorskip("zarr")
    for mod, name in ((zarrfast, "zf"), (zarr, "zp")):
        node = mod.open(str(tmp_path / name), path="grp/new", mode="a", zarr_format=fmt)
        assert type(node).__name__ == "Group"


@pytest.mark.parametrize("store_kind", ["dict", "memory", "dir"])
def test_open_missing_array_each_store(tmp_path, store_kind):
    store = {"dict": {}, "memory": MemoryStore(), "dir": str(tmp_path / "nothing")}[store_kind]
    with pytest.raises(E.ArrayNotFoundError):
        zarrfast.open_array(store, mode="r")


@pytest.mark.parametrize("doc", [{"zarr_format": 3, "node_type": "group", "attributes": {}}, "v2group"])
def test_open_array_on_a_group(doc):
    store = {}
    if doc == "v2group":
        store[".zgroup"] = json.dumps({"zarr_format": 2}).encode()
    else:
        store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(E.ArrayNotFoundError) as info:
        zarrfast.open_array(store, mode="r")
    assert isinstance(info.value, FileNotFoundError)


# ------------------------------------------------------------------------------------------------------------------
# bad metadata

NAME = "grp/arr"


def _good_doc(fmt):
    store = {}
    zarrfast.create_array(store=store, name=NAME, shape=(10, 10), chunks=(4, 4), dtype="i4", zarr_format=fmt,
                          compressors=None)
    return store, json.loads(store[f"{NAME}/{doc_name(fmt)}"])


def _open_with(fmt, raw):
    store, _ = _good_doc(fmt)
    store[f"{NAME}/{doc_name(fmt)}"] = raw
    return zarrfast.open_array(store, path=NAME, mode="r")[...]


def _edit(fmt, fn):
    _store, doc = _good_doc(fmt)
    fn(doc)
    return json.dumps(doc).encode()


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
        _open_with(fmt, BAD_COMMON[case](fmt))
    _check_metadata_error(info.value, fmt)
    assert NAME in str(info.value)


@pytest.mark.parametrize("case", list(BAD_V3))
def test_bad_metadata_v3(case):
    with pytest.raises(E.ZarrfastError) as info:
        _open_with(3, BAD_V3[case]())
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, (E.MetadataError, E.CodecError)), type(info.value)


@pytest.mark.parametrize("case", list(BAD_V2))
def test_bad_metadata_v2(case):
    with pytest.raises(E.ZarrfastError) as info:
        _open_with(2, BAD_V2[case]())
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, (E.MetadataError, E.CodecError)), type(info.value)


@pytest.mark.parametrize("case", ["zero chunk", "chunk rank", "irregular grid", "storage transformers",
                                  "storage transformer must_understand", "node type", "bad chunk key encoding",
                                  "dimension names count"])
def test_bad_metadata_v3_message_names_path(case):
    with pytest.raises(E.MetadataError) as info:
        _open_with(3, BAD_V3[case]())
    assert NAME in str(info.value)


@pytest.mark.parametrize("case", list(MUST_UNDERSTAND))
def test_unknown_must_understand_field(case):
    with pytest.raises(E.MustUnderstandError) as info:
        _open_with(3, MUST_UNDERSTAND[case]())
    _check_metadata_error(info.value, 3, E.MustUnderstandError)
    assert "foo" in str(info.value) and NAME in str(info.value)


def test_must_understand_false_is_ignored():
    a = _open_with(3, _edit(3, lambda d: d.__setitem__("foo", {"must_understand": False, "x": 1})))
    assert a.shape == (10, 10)
    st = _edit(3, lambda d: d.__setitem__("storage_transformers", [{"name": "foo", "must_understand": False}]))
    assert _open_with(3, st).shape == (10, 10)


@pytest.mark.parametrize("case", list(UNKNOWN_CODECS), ids=[f"v{f}-{n}" for f, n in UNKNOWN_CODECS])
def test_unknown_codec_in_metadata(case):
    fmt, _ = case
    with pytest.raises(E.UnknownCodecError) as info:
        _open_with(fmt, UNKNOWN_CODECS[case]())
    assert isinstance(info.value, ValueError) and isinstance(info.value, E.CodecError)
    assert "nope" in str(info.value)


@pytest.mark.parametrize("case", list(UNKNOWN_CODECS), ids=[f"v{f}-{n}" for f, n in UNKNOWN_CODECS])
def test_unknown_codec_in_metadata_names_path(case):
    fmt, _ = case
    with pytest.raises(E.UnknownCodecError) as info:
        _open_with(fmt, UNKNOWN_CODECS[case]())
    assert NAME in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("spec", ["nope", {"name": "nope"}, {"id": "nope"}, {"name": "numcodecs.nope"}])
def test_unknown_codec_on_create(fmt, spec):
    with pytest.raises(E.UnknownCodecError):
        zarrfast.create_array(store={}, shape=(4,), dtype="i4", zarr_format=fmt, compressors=[spec])


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
# values: wrong shape, wrong dtype


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sel,value", [
    ((slice(0, 3), 0), np.arange(4)),
    (Ellipsis, np.ones((10, 9))),
    ((0,), np.ones((2, 10))),
    ((slice(None, None, -2), slice(1, 4)), np.ones((4, 3))),
    ((3, 4), np.ones(2)),
    ((slice(5, 5),), np.ones(3)),
])
def test_shape_mismatch(fmt, sel, value):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 10), chunks=(4, 4), dtype="f8", zarr_format=fmt)
    with pytest.raises(E.ShapeMismatchError) as info:
        a[sel] = value
    assert isinstance(info.value, ValueError) and isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)
    with pytest.raises(E.ShapeMismatchError):
        a.set_basic_selection(sel, value)
    assert not [k for k in a.store.list() if "/c/" in k or k[-1].isdigit()]  # nothing written


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype,value", [
    ("i4", "abc"), ("i4", ["a", "b"]), ("f8", object()), ("u1", b"xyz"), ("f4", {"a": 1}),
    ("i8", [[1, 2], [3]]),
])
def test_dtype_mismatch(fmt, dtype, value):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 2), chunks=(4, 4), dtype=dtype, zarr_format=fmt)
    with pytest.raises(E.DataTypeMismatchError) as info:
        a[0] = value
    assert isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)


@pytest.mark.parametrize("dtype,value", [("u1", 300), ("u1", -1), ("i4", np.nan), ("i4", np.inf),
                                         ("f4", 1 + 1j), ("i2", 2**20)])
def test_unrepresentable_value_rejected(dtype, value):
    x = np.zeros(2, dtype)
    with pytest.raises((ValueError, TypeError, OverflowError)), warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's own complex->real warning counts as a refusal
        x[0] = value
    a = zarrfast.create_array(store={}, shape=(2,), dtype=dtype)
    with pytest.raises(E.DataTypeMismatchError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a[0] = value


# ------------------------------------------------------------------------------------------------------------------
# bounds


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sel", [10, -11, (0, 10), (0, -11), (10, slice(None)), (Ellipsis, 100), 2**40,
                                 np.int64(10), np.array(-11)])
def test_bounds(fmt, sel):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 10), chunks=(4, 4), dtype="i4", zarr_format=fmt)
    with pytest.raises(E.BoundsCheckError) as info:
        a[sel]
    assert isinstance(info.value, IndexError) and isinstance(info.value, E.ZarrfastError)
    with pytest.raises(E.BoundsCheckError):
        a[sel] = 1
    with pytest.raises(IndexError):
        a.get_basic_selection(sel)


def test_bounds_message_names_array():
    a = zarrfast.create_array(store={}, name=NAME, shape=(10,), chunks=(4,), dtype="i4")
    with pytest.raises(E.BoundsCheckError) as info:
        a[10]
    assert NAME in str(info.value)


@pytest.mark.parametrize("sel", [(0, 0, 0), (Ellipsis, Ellipsis), None, (None, 0), 1.5, "a", True])
def test_bad_selection_is_index_error(sel):
    a = zarrfast.create_array(store={}, shape=(10, 10), chunks=(4, 4), dtype="i4")
    with pytest.raises(E.ZarrfastError) as info:
        a[sel]
    assert isinstance(info.value, IndexError)


def test_zero_step_is_index_error():
    a = zarrfast.create_array(store={}, shape=(10,), chunks=(4,), dtype="i4")
    with pytest.raises(E.SelectionError):
        a[::0]


# ------------------------------------------------------------------------------------------------------------------
# read-only


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["mode r", "read-only store", "read-only dir"])
def test_read_only(tmp_path, fmt, how):
    if how == "read-only dir":
        store = str(tmp_path / "ro")
        zarrfast.create_array(store=store, name=NAME, shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt)
        a = zarrfast.open_array(store, path=NAME, mode="r")
    else:
        d = {}
        zarrfast.create_array(store=d, name=NAME, shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt)
        if how == "mode r":
            a = zarrfast.open_array(d, path=NAME, mode="r")
        else:
            a = zarrfast.open_array(MemoryStore(d, read_only=True), path=NAME)
    assert a.read_only
    for op in (lambda: a.__setitem__(0, 1), lambda: a.set_basic_selection(Ellipsis, 2),
               lambda: a.__setitem__(slice(0, 4), np.arange(4))):
        with pytest.raises(E.ReadOnlyError) as info:
            op()
        assert isinstance(info.value, PermissionError) and isinstance(info.value, E.ZarrfastError)
        assert NAME in str(info.value)
    with pytest.raises(E.ReadOnlyError):
        a.attrs["x"] = 1
    with pytest.raises(E.ReadOnlyError):
        a.attrs.update({"x": 1})


def test_read_only_attrs_message_names_array():
    d = {}
    zarrfast.create_array(store=d, name=NAME, shape=(10,), dtype="i4")
    with pytest.raises(E.ReadOnlyError) as info:
        zarrfast.open_array(d, path=NAME, mode="r").attrs["x"] = 1
    assert NAME in str(info.value)


def test_mode_w_on_read_only_store():
    d = {}
    zarrfast.create_array(store=d, shape=(3,), dtype="i4")
    with pytest.raises(E.ReadOnlyError):
        zarrfast.open_array(MemoryStore(d, read_only=True), mode="w", shape=(3,), dtype="i4")


# ------------------------------------------------------------------------------------------------------------------
# creating over an existing array


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("other_fmt", FORMATS)
def test_contains_array(tmp_path, fmt, other_fmt):
    store = str(tmp_path / "s")
    a = zarrfast.create_array(store=store, name=NAME, shape=(4,), chunks=(2,), dtype="i4", zarr_format=fmt)
    a[...] = 1
    with pytest.raises(E.ContainsArrayError) as info:
        zarrfast.create_array(store=store, name=NAME, shape=(4,), dtype="i4", zarr_format=other_fmt)
    assert isinstance(info.value, FileExistsError) and isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)
    with pytest.raises(E.ContainsArrayError):
        zarrfast.open_array(store, path=NAME, mode="w-", shape=(4,), dtype="i4", zarr_format=other_fmt)
    np.testing.assert_array_equal(zarrfast.open_array(store, path=NAME, mode="r")[...], 1)


# ------------------------------------------------------------------------------------------------------------------
# invalid creation arguments


@pytest.mark.parametrize("kwargs", [
    dict(shape=(4,), dtype="i4", zarr_format=4),
    dict(shape=(8,), chunks=(2,), dtype="i4", shards=(3,)),
    dict(shape=(4, 4), chunks=(2,), dtype="i4"),
    dict(shape=(4,), dtype="i4", zarr_format=2, compressors=[{"id": "zstd"}, {"id": "zlib"}]),
    dict(shape=(4,), dtype="i4", chunk_key_encoding={"name": "fancy"}),
    dict(shape=(4,), dtype="i4", compressors={"name": "zstd", "configuration": {"level": 99}}),
    dict(shape=(4,), dtype="i4", compressors={"name": "blosc", "configuration": {"cname": "nope"}}),
    dict(shape=(4,), dtype="i4", filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}]),
])
def test_invalid_create_arguments(kwargs):
    with pytest.raises(E.ZarrfastError) as info:
        zarrfast.create_array(store={}, **kwargs)
    assert isinstance(info.value, ValueError)


def test_invalid_mode():
    with pytest.raises(ValueError):
        zarrfast.open_array({}, mode="q")
