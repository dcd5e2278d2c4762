"""Fuzz targets shared by ``tests/test_fuzz_*.py`` and ``tools/fuzz.py``.

A *target* is a family of chunk decoders (one codec, the sharding codec, or the metadata parsers). Each has
*variants* - an array's metadata with one chunk spanning the whole array - and valid *seeds* (encoded chunks).
``run(target, variant, data)`` decodes ``data`` as the stored chunk on every path that exists and checks the
properties the project promises:

* every path either returns exactly the chunk's shape and dtype or raises a :class:`zarrfast.errors.ZarrfastError`
  (anything else is a :class:`Violation`);
* the Python reference path (``CodecChain.decode``) and the native kernels (``read_into`` straight into the output,
  ``read_into`` through the scratch buffer with steps of 2, ``decode_chunk_into``) accept the same inputs and
  return identical bytes; for Blosc also the pure-Python frame reader ``decompress_py``, which may reject frames
  only libblosc2 reads (Blosc2 headers, blosclz, runs) but must agree wherever it succeeds;
* a chain with a checksum (crc32c, zstd checksum) never returns data other than what was encoded.

``run`` returns an *outcome signature*: which paths ran, and the error class plus its message with numbers
stripped, or the decoded size.  The fuzzer keeps inputs that produce new signatures.
"""
from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from zarrfast.errors import ZarrfastError

B_LE = {"name": "bytes", "configuration": {"endian": "little"}}
B_BE = {"name": "bytes", "configuration": {"endian": "big"}}
CRC = {"name": "crc32c"}


class Violation(AssertionError):
    """A decoder broke one of the fuzzing properties (crash-free is checked by the fuzzer's forked child)."""


def _zstd(level: int = 1, checksum: bool = False) -> dict:
    return {"name": "zstd", "configuration": {"level": level, "checksum": checksum}}


def _blosc(cname: str, shuffle: str, clevel: int = 5, blocksize: int = 0) -> dict:
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel, "shuffle": shuffle,
                                               "blocksize": blocksize}}


def _shard(inner: list, codecs: list, index_codecs: list, location: str) -> dict:
    return {"name": "sharding_indexed", "configuration": {"chunk_shape": inner, "codecs": codecs,
                                                          "index_codecs": index_codecs,
                                                          "index_location": location}}


@dataclass(frozen=True, eq=False)
class Variant:
    """One array (== one chunk) description; ``doc`` is its zarr.json / .zarray."""

    label: str
    shape: tuple[int, ...]
    dtype: str
    codecs: tuple = ()
    zarr_format: int = 3
    compressor: Any = None
    filters: Any = None
    order: str = "C"
    fill_value: Any = 0
    checksummed: bool = False
    extra_seeds: tuple[str, ...] = field(default=())  # names of extra seed makers (see _extra_seeds)

    @property
    def doc(self) -> dict:
        if self.zarr_format == 3:
            return {"zarr_format": 3, "node_type": "array", "shape": list(self.shape), "data_type": self.dtype,
                    "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(self.shape)}},
                    "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
                    "fill_value": self.fill_value, "codecs": [dict(c) for c in self.codecs]}
        return {"zarr_format": 2, "shape": list(self.shape), "chunks": list(self.shape), "dtype": self.dtype,
                "compressor": self.compressor, "fill_value": self.fill_value, "order": self.order,
                "filters": self.filters}

    @property
    def chunk_key(self) -> str:
        if self.zarr_format == 3:
            return "c/" + "/".join("0" for _ in self.shape)
        return ".".join("0" for _ in self.shape)

    @property
    def meta_key(self) -> str:
        return "zarr.json" if self.zarr_format == 3 else ".zarray"


V = Variant
VARIANTS: dict[str, list[Variant]] = {
    "zstd": [
        V("zstd-v3", (16, 12), "int32", (B_LE, _zstd(3)), extra_seeds=("zstd-nosize", "zstd-2frames")),
        V("zstd-checksum", (16, 12), "float64", (B_BE, _zstd(1, True)), checksummed=True),
        V("zstd-v2", (40,), "<u2", zarr_format=2, compressor={"id": "zstd", "level": 1},
          extra_seeds=("zstd-nosize",)),
    ],
    "lz4": [
        V("lz4-v2", (30, 10), "<i4", zarr_format=2, compressor={"id": "lz4", "acceleration": 1}),
        V("lz4-v3", (300,), "uint8", (B_LE, {"name": "numcodecs.lz4", "configuration": {"acceleration": 1}})),
    ],
    "blosc": [
        V("blosc-lz4-shuffle", (32, 40), "uint16", (B_LE, _blosc("lz4", "shuffle"))),
        V("blosc-lz4hc-bitshuffle", (32, 40), "uint16", (B_LE, _blosc("lz4hc", "bitshuffle"))),
        V("blosc-zlib-noshuffle", (25, 20), "int32", (B_LE, _blosc("zlib", "noshuffle"))),
        V("blosc-zstd-shuffle", (30, 20), "float64", (B_LE, _blosc("zstd", "shuffle"))),
        V("blosc-lz4-blocks", (50, 20), "int32", (B_LE, _blosc("lz4", "shuffle", 5, 256))),
        V("blosc-lz4-bit-tail", (333,), "uint8", (B_LE, _blosc("lz4", "bitshuffle", 5, 128))),
        V("blosc-memcpyed", (20, 10), "int16", (B_LE, _blosc("lz4", "shuffle", 0))),
        V("blosc-v2-blosclz", (40, 30), "<i4", zarr_format=2,
          compressor={"id": "blosc", "cname": "blosclz", "clevel": 5, "shuffle": 1, "blocksize": 0},
          extra_seeds=("blosc-numcodecs",)),
        V("blosc-v2-F", (24, 17), "<f4", zarr_format=2, order="F",
          compressor={"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
          extra_seeds=("blosc-blosc2",)),
    ],
    "gzip": [
        V("gzip-v3", (12, 10), "int16", (B_LE, {"name": "gzip", "configuration": {"level": 5}})),
        V("gzip-v2", (50,), "<f8", zarr_format=2, compressor={"id": "gzip", "level": 1}),
    ],
    "zlib": [
        V("zlib-v2", (64,), "<i4", zarr_format=2, compressor={"id": "zlib", "level": 1}),
        V("zlib-v3", (8, 8), "uint32", (B_LE, {"name": "numcodecs.zlib", "configuration": {"level": 6}})),
    ],
    "crc32c": [
        V("crc-raw", (10, 6), "int32", (B_LE, CRC), checksummed=True),
        V("crc-zstd", (10, 6), "int32", (B_LE, _zstd(1), CRC), checksummed=True),
        V("crc-twice", (9,), "uint16", (B_BE, CRC, CRC), checksummed=True),
        V("crc-blosc", (30, 8), "float32", (B_LE, _blosc("lz4", "shuffle"), CRC), checksummed=True),
    ],
    "bytes": [
        V("bytes-be-i4", (5, 7), "int32", (B_BE,)),
        V("bytes-le-c16", (6,), "complex128", (B_LE,)),
        V("bytes-be-bool", (11,), "bool", ({"name": "bytes"},), fill_value=False),
        V("bytes-v2-be-f4", (4, 5), ">f4", zarr_format=2),
        V("bytes-v2-U3", (6,), "<U3", zarr_format=2, fill_value=""),
    ],
    "transpose": [
        V("transpose-2d", (6, 5), "int16", ({"name": "transpose", "configuration": {"order": [1, 0]}}, B_LE,
                                            _zstd(1))),
        V("transpose-3d-be", (3, 4, 5), "float32", ({"name": "transpose", "configuration": {"order": [2, 0, 1]}},
                                                    B_BE)),
        V("transpose-v2-F-lz4", (7, 9), ">i8", zarr_format=2, order="F", compressor={"id": "lz4"}),
    ],
    "vlen": [
        V("vlen-utf8-v3", (7,), "string", ({"name": "vlen-utf8"},), fill_value=""),
        V("vlen-bytes-v3", (3, 3), "bytes", ({"name": "vlen-bytes"},), fill_value=""),
        V("vlen-utf8-v2", (6,), "|O", zarr_format=2, filters=[{"id": "vlen-utf8"}], fill_value=""),
        V("vlen-utf8-zstd", (5,), "string", ({"name": "vlen-utf8"}, _zstd(1)), fill_value=""),
    ],
    "sharding": [
        V("shard-end-crc", (8, 6), "int32", (_shard([4, 3], [B_LE], [B_LE, CRC], "end"),), fill_value=7),
        V("shard-start-crc-zstd", (8, 6), "uint16", (_shard([2, 3], [B_LE, _zstd(1)], [B_LE, CRC], "start"),)),
        V("shard-end-nocrc", (8,), "int16", (_shard([2], [B_BE], [B_LE], "end"),), fill_value=3),
        V("shard-start-nocrc-lz4", (6, 4), "int32",
          (_shard([3, 2], [B_LE, {"name": "numcodecs.lz4"}], [B_BE], "start"),)),
        V("shard-blosc-inner-crc", (4, 8), "float32",
          (_shard([2, 4], [B_LE, _blosc("lz4", "bitshuffle"), CRC], [B_LE], "end"),)),
    ],
}
CODEC_TARGETS = tuple(VARIANTS)


# ------------------------------------------------------------------------------------------------------------------
# chunk contents and seeds

def content(variant: Variant) -> np.ndarray:
    """A deterministic chunk for ``variant``: runs and small random values (so compressors make real blocks),
    with some all-fill inner chunks for shards."""
    chain = _chain(variant)
    dtype = chain.spec.dtype
    rng = np.random.default_rng(zlib.crc32(variant.label.encode()))
    n = int(np.prod(variant.shape))
    if dtype.kind in "OT":
        words = ["", "a", "zarr", "ß∂ƒ", "x" * 40, "\u2603"]
        items = [words[i] for i in rng.integers(0, len(words), n)]
        if chain.zarr_format == 3 and variant.dtype == "bytes":
            items = [w.encode() for w in items]
        out = np.empty(n, dtype=object)
        out[:] = items
        return out.reshape(variant.shape)
    raw = rng.integers(0, 3, n * dtype.itemsize, dtype=np.uint8)
    raw[: raw.size // 3] = 1
    if dtype.kind == "b":
        raw %= 2
    arr = raw.view(dtype).reshape(variant.shape).copy()
    if any(c.get("name") == "sharding_indexed" for c in variant.codecs):
        inner = variant.codecs[0]["configuration"]["chunk_shape"]
        arr[tuple(slice(0, i) for i in inner)] = variant.fill_value  # one empty inner chunk
    return arr


def _extra_seed(name: str, variant: Variant, data: np.ndarray) -> bytes:
    raw = np.ascontiguousarray(data).tobytes()
    if name == "zstd-nosize":
        import zstandard

        return zstandard.ZstdCompressor(write_content_size=False).compress(raw)
    if name == "zstd-2frames":
        import zstandard

        c = zstandard.ZstdCompressor()
        return c.compress(raw[: len(raw) // 2]) + c.compress(raw[len(raw) // 2:])
    if name == "blosc-numcodecs":
        from numcodecs import Blosc

        return bytes(Blosc("blosclz", 5, Blosc.SHUFFLE).encode(np.ascontiguousarray(data)))
    if name == "blosc-blosc2":
        import blosc2

        return bytes(blosc2.compress(np.asfortranarray(data).tobytes(order="F"), typesize=data.dtype.itemsize,
                                     codec=blosc2.Codec.ZSTD, filter=blosc2.Filter.BITSHUFFLE))
    raise KeyError(name)


@cache
def seeds(target: str) -> tuple[tuple[int, bytes], ...]:
    """Valid encoded chunks of every variant of ``target``: (variant number, bytes)."""
    out = []
    for i, variant in enumerate(VARIANTS[target]):
        data = content(variant)
        out.append((i, bytes(_chain(variant).encode(data))))
        for name in variant.extra_seeds:
            out.append((i, _extra_seed(name, variant, data)))
    return tuple(out)


# ------------------------------------------------------------------------------------------------------------------
# running one input

@cache
def _meta(variant: Variant) -> Any:
    from zarrfast.metadata import parse_array_v2, parse_array_v3

    doc = json.dumps(variant.doc).encode()
    return parse_array_v3(doc) if variant.zarr_format == 3 else parse_array_v2(doc)


@cache
def _chain(variant: Variant) -> Any:
    from zarrfast.pipeline import chain_for

    return chain_for(_meta(variant))


@cache
def expected_bytes(target: str, index: int) -> bytes:
    """The decoded content of the seeds of a variant, as bytes (or a repr for object chunks)."""
    return _as_bytes(content(VARIANTS[target][index]))


def _as_bytes(arr: np.ndarray) -> bytes:
    arr = np.asarray(arr)
    if arr.dtype.kind in "OT":
        return repr(arr.astype(object).tolist()).encode()
    return np.ascontiguousarray(arr).tobytes()


_NUM = re.compile(r"-?\d+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|\([^()]*\)")


def template(exc: BaseException) -> str:
    """Error class and message with numbers, quoted strings and tuples replaced: groups errors of one kind."""
    msg = _NUM.sub("N", _QUOTED.sub("Q", str(exc)))
    return f"{type(exc).__name__}:{msg[:100]}"


def _python_path(variant: Variant, data: bytes) -> tuple[bytes | None, str]:
    chain = _chain(variant)
    try:
        arr = chain.decode(data)
    except ZarrfastError as e:
        return None, template(e)
    except Exception as e:  # noqa: BLE001
        raise Violation(f"{variant.label}: python path raised {type(e).__name__}: {e}") from e
    arr = np.asarray(arr)
    if arr.shape != chain.spec.shape or arr.dtype != chain.spec.dtype:
        raise Violation(f"{variant.label}: python path returned {arr.shape} {arr.dtype}, expected "
                        f"{chain.spec.shape} {chain.spec.dtype}")
    return _as_bytes(arr), "ok"


def _native_paths(variant: Variant, data: bytes) -> tuple[bytes | None, str] | None:
    """read_into (direct and strided) and decode_chunk_into; None when the chain has no native program."""
    from zarrfast._ext.pipeline import decode_chunk_into, error_message, read_into

    chain = _chain(variant)
    prog = chain.read_program
    if prog is None:
        return None
    shape, dtype = chain.spec.shape, chain.spec.dtype
    nd = len(shape)
    zeros = np.zeros((1, nd), dtype=np.int64)
    status = np.zeros(1, dtype=np.int64)
    out = np.zeros(shape, dtype=dtype)
    read_into(prog, out, zeros, np.array([shape], dtype=np.int64), zeros, np.ones(nd, dtype=np.int64), [data], status)
    code = int(status[0])
    counts = tuple((s + 1) // 2 for s in shape)
    strided = np.zeros(counts, dtype=dtype)
    status2 = np.zeros(1, dtype=np.int64)
    read_into(prog, strided, zeros, np.array([counts], dtype=np.int64), zeros, np.full(nd, 2, dtype=np.int64),
              [memoryview(data)], status2)
    buf = bytearray(prog.nbytes)
    code3 = decode_chunk_into(prog, data, buf)
    if not (code == int(status2[0]) == code3):
        raise Violation(f"{variant.label}: native paths disagree: read_into {code}, strided {int(status2[0])}, "
                        f"decode_chunk_into {code3}")
    if code < 0:
        return None, f"native:{_NUM.sub('N', error_message(code))}"
    if strided.tobytes() != np.ascontiguousarray(out[tuple(slice(None, None, 2) for _ in shape)]).tobytes():
        raise Violation(f"{variant.label}: strided native read differs from the full read")
    return out.tobytes(), "ok"


def _blosc_reference(variant: Variant, data: bytes) -> tuple[bytes | None, str] | None:
    """The pure-Python Blosc1 frame reader on the innermost blosc stage (only for chains bytes -> blosc)."""
    from zarrfast.codecs import _blosc_ref

    chain = _chain(variant)
    if len(chain.bytes_codecs) != 1 or type(chain.bytes_codecs[0]).__name__ != "BloscCodec" or chain.array_codecs \
            and variant.zarr_format == 3:
        return None
    try:
        raw = _blosc_ref.decompress_py(data, chain.spec.nbytes)
    except ZarrfastError as e:
        return None, template(e)
    except Exception as e:  # noqa: BLE001
        raise Violation(f"{variant.label}: decompress_py raised {type(e).__name__}: {e}") from e
    arr = np.frombuffer(raw, dtype=chain.spec.dtype.newbyteorder("<") if chain.spec.dtype.itemsize > 1
                        else chain.spec.dtype)
    arr = arr.reshape(chain.spec.shape, order=variant.order).astype(chain.spec.dtype)
    return _as_bytes(arr), "ok"


def run_codec(target: str, index: int, data: bytes, *, original: bytes | None = None) -> str:
    """Decode ``data`` as the chunk of variant ``index`` of a codec target on every path; return the outcome
    signature or raise :class:`Violation`.  ``original``: the valid frame ``data`` was mutated from."""
    variant = VARIANTS[target][index]
    if target == "sharding":
        return run_shard(index, data)
    py, py_sig = _python_path(variant, data)
    native = _native_paths(variant, data)
    sig = [variant.label, f"py={py_sig}"]
    if native is not None:
        nat, nat_sig = native
        sig.append(f"native={nat_sig}")
        if (py is None) != (nat is None):
            raise Violation(f"{variant.label}: python path {py_sig!r} but native path {nat_sig!r}")
        if py is not None and py != nat:
            raise Violation(f"{variant.label}: python and native paths decode different bytes")
    ref = _blosc_reference(variant, data)
    if ref is not None:
        r, r_sig = ref
        sig.append(f"ref={'ok' if r is not None else 'err'}")
        if r is not None and py is None:
            raise Violation(f"{variant.label}: decompress_py decodes a frame the kernels reject ({py_sig})")
        if r is not None and r != py:
            raise Violation(f"{variant.label}: decompress_py and the kernels decode different bytes")
    _check_checksummed(target, index, variant, data, py, original)
    if py is not None:
        sig.append(f"size={len(py)}")
    return "|".join(sig)


def _check_checksummed(target: str, index: int, variant: Variant, data: bytes, decoded: bytes | None,
                       original: bytes | None) -> None:
    if not variant.checksummed or decoded is None:
        return
    crc = any(c.get("name") == "crc32c" for c in variant.codecs)
    if crc and original is not None and data != original:
        raise Violation(f"{variant.label}: a damaged frame passed its crc32c")
    if decoded != expected_bytes(target, index) and any(data == s for i, s in seeds(target) if i == index):
        raise Violation(f"{variant.label}: a valid seed decodes wrongly")
    if decoded != expected_bytes(target, index):
        raise Violation(f"{variant.label}: a checksummed chunk decoded to data that was never encoded")


# ------------------------------------------------------------------------------------------------------------------
# sharding: the reference ShardingCodec against the sharded engine (native and python), whole and partial reads

@cache
def _shard_array(index: int) -> Any:
    import zarrfast
    from zarrfast.storage.memory import MemoryStore

    variant = VARIANTS["sharding"][index]
    store = MemoryStore()
    store.set(variant.meta_key, json.dumps(variant.doc).encode())
    return store, zarrfast.open_array(store, mode="r")


def run_shard(index: int, data: bytes) -> str:
    import zarrfast
    from zarrfast.errors import ChunkDecodeError

    variant = VARIANTS["sharding"][index]
    py, py_sig = _python_path(variant, data)  # ShardingCodec.decode
    store, arr = _shard_array(index)
    store.set(variant.chunk_key, data)
    inner = variant.codecs[0]["configuration"]["chunk_shape"]
    part = tuple(slice(i, 2 * i) if 2 * i <= s else slice(0, i) for i, s in zip(inner, variant.shape))
    sig = [variant.label, f"py={py_sig}"]
    for engine in ("auto", "python"):
        for sel in (Ellipsis, part):
            with zarrfast.config.set(engine=engine):
                try:
                    got = arr[sel]
                except ChunkDecodeError as e:
                    if variant.chunk_key not in str(e):
                        raise Violation(f"{variant.label}: error does not name the chunk key: {e}") from e
                    got, tag = None, template(e).replace(repr(variant.chunk_key), "KEY")
                except ZarrfastError as e:
                    got, tag = None, template(e)
                except Exception as e:  # noqa: BLE001
                    raise Violation(f"{variant.label}: engine={engine} raised {type(e).__name__}: {e}") from e
                else:
                    tag = "ok"
            whole = sel is Ellipsis
            sig.append(f"{engine}{'' if whole else '-part'}={'ok' if got is not None else 'err'}")
            if got is None:
                if whole and py is not None:
                    raise Violation(f"{variant.label}: engine={engine} rejects a shard the codec decodes: {tag}")
                continue
            if py is None:
                if whole:
                    raise Violation(f"{variant.label}: engine={engine} decodes a shard the codec rejects ({py_sig})")
                continue  # a partial read need not touch the damaged part
            ref = np.asarray(_chain(variant).decode(data))[sel]
            if _as_bytes(got) != _as_bytes(ref):
                raise Violation(f"{variant.label}: engine={engine} sel={sel} differs from ShardingCodec.decode")
    return "|".join(sig)


# ------------------------------------------------------------------------------------------------------------------
# metadata

def run_metadata(doc_bytes: bytes) -> str:
    """Parse ``doc_bytes`` as zarr.json and as .zarray, then open it as an array on a MemoryStore (and read one
    element): only MetadataError-family errors (or success) may come out of the parsers; open/read may also
    raise other zarrfast errors (CodecError for an unusable chain ...), never a builtin exception."""
    import zarrfast
    from zarrfast.errors import MetadataError
    from zarrfast.metadata import parse_array_v2, parse_array_v3
    from zarrfast.storage.memory import MemoryStore

    sig = []
    for name, parse in (("v3", parse_array_v3), ("v2", parse_array_v2)):
        try:
            parse(doc_bytes)
            sig.append(f"{name}=ok")
        except MetadataError as e:
            sig.append(f"{name}={template(e)[:60]}")
        except Exception as e:  # noqa: BLE001
            raise Violation(f"parse_array_{name} raised {type(e).__name__}: {e}") from e
    for key in ("zarr.json", ".zarray"):
        store = MemoryStore()
        store.set(key, doc_bytes)
        try:
            a = zarrfast.open_array(store, mode="r")
            if a.size and a.size < 10**7:
                a[(0,) * a.ndim]
            sig.append(f"{key}=ok")
        except ZarrfastError as e:
            sig.append(f"{key}={type(e).__name__}")
        except Exception as e:  # noqa: BLE001
            raise Violation(f"open_array({key}) raised {type(e).__name__}: {e}") from e
    return "|".join(sig)


def metadata_seeds() -> list[bytes]:
    """Valid metadata documents of every codec variant (zarr.json and .zarray)."""
    return [json.dumps(v.doc).encode() for vs in VARIANTS.values() for v in vs]
