"""Corrupt shards at the array level: every damage to a shard's index or data gives a ``ChunkDecodeError`` naming the
array path, the shard key and (where one is to blame) the inner chunk - on full reads, on partial reads (byte ranges
through ``get_ranges``), and on partial writes, which must leave the damaged shard exactly as it was.

The oracle for the shard layout is the spec (zarr-specs v3 ``sharding-indexed``): a little-endian uint64 index of
shape ``(*chunks_per_shard, 2)`` holding ``(offset, nbytes)`` per inner chunk in C order, optionally followed by a
crc32c of it (computed here with the independent ``crc32c`` package), at the start or the end of the shard; an entry
``(2**64-1, 2**64-1)`` is an empty inner chunk that reads as the fill value.

Paths: ``ShardedEngine`` on the native kernels ("auto") and on the Python reference decoders ("python"), and the
pure-Python ``ShardingCodec`` through the generic engine ("codec": a ``crc32c`` after the sharding codec, which the
damage re-seals, so that the shard itself is what is corrupt).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import crc32c as crc32c_pkg
import numpy as np
import pytest

import zarrfast
from zarrfast import errors as E
from zarrfast.storage import LocalStore, MemoryStore

NAME = "grp/arr"
SHAPE, SHARD, INNER = (16, 8), (8, 8), (4, 4)  # two shards of 2 x 2 inner chunks
CPS = (2, 2)
N_INNER = 4
EMPTY = 2**64 - 1
FILL = -1
DATA = np.arange(16 * 8, dtype="i4").reshape(SHAPE) * 7 + 3  # never the fill value: every inner chunk is stored
KEY = NAME + "/c/0/0"
INNER_CODECS = [{"name": "bytes", "configuration": {"endian": "little"}},
                {"name": "zstd", "configuration": {"level": 1, "checksum": False}}]
PATHS = ["auto", "python", "codec"]
STORES = ["memory", "local"]


@dataclass(frozen=True)
class Layout:
    location: str  # "start" or "end"
    crc: bool      # index followed by a crc32c
    outer_crc: bool = False  # a crc32c codec after the sharding codec ("codec" path)

    @property
    def index_nbytes(self) -> int:
        return 16 * N_INNER + (4 if self.crc else 0)


LAYOUTS = [Layout(loc, crc) for loc in ("start", "end") for crc in (True, False)]


def layout_id(layout: Layout) -> str:
    return f"{layout.location}-{'crc' if layout.crc else 'nocrc'}"


# ---- the spec's shard format, written independently of zarrfast ----------------------------------------------------

def shard_body(raw: bytes, layout: Layout) -> bytes:
    """The shard without the outer crc32c (when the chain has one)."""
    return raw[:-4] if layout.outer_crc else raw


def seal(shard: bytes, layout: Layout) -> bytes:
    """Re-append the outer crc32c, so that what is damaged is the shard, not the checksum around it."""
    return shard + struct.pack("<I", crc32c_pkg.crc32c(shard)) if layout.outer_crc else shard


def index_span(shard: bytes, layout: Layout) -> tuple[int, int]:
    n = layout.index_nbytes
    return (0, n) if layout.location == "start" else (len(shard) - n, len(shard))


def read_index(shard: bytes, layout: Layout) -> np.ndarray:
    lo, hi = index_span(shard, layout)
    raw = shard[lo:hi]
    if layout.crc:
        assert struct.unpack("<I", raw[-4:])[0] == crc32c_pkg.crc32c(raw[:-4])
        raw = raw[:-4]
    return np.frombuffer(raw, dtype="<u8").reshape(N_INNER, 2).astype(np.uint64)


def encode_index(index: np.ndarray, layout: Layout) -> bytes:
    raw = np.asarray(index, dtype="<u8").tobytes()
    return raw + struct.pack("<I", crc32c_pkg.crc32c(raw)) if layout.crc else raw


def with_index(shard: bytes, layout: Layout, index: np.ndarray) -> bytes:
    lo, hi = index_span(shard, layout)
    return shard[:lo] + encode_index(index, layout) + shard[hi:]


def inner_slices(flat: int, shard_coords: tuple[int, int] = (0, 0)) -> tuple[slice, slice]:
    i, j = np.unravel_index(flat, CPS)
    r0 = shard_coords[0] * SHARD[0] + int(i) * INNER[0]
    c0 = shard_coords[1] * SHARD[1] + int(j) * INNER[1]
    return slice(r0, r0 + INNER[0]), slice(c0, c0 + INNER[1])


# ---- the corruptions -------------------------------------------------------------------------------------------------
# each: shard bytes -> (bad shard bytes, flat number of the inner chunk every error must name, or None when the
# whole shard is to blame). ``target`` (below) is an inner chunk that must fail even when read alone.

def _entry(shard, layout, flat, offset=None, nbytes=None):
    index = read_index(shard, layout)
    if offset is not None:
        index[flat, 0] = offset
    if nbytes is not None:
        index[flat, 1] = nbytes
    return with_index(shard, layout, index)


def _last_in_file(shard, layout) -> int:
    index = read_index(shard, layout)
    return int(np.argmax(index[:, 0] + index[:, 1]))


def _truncate(shard, layout, size):
    return shard[:size], None


def _random_index(shard, layout):
    lo, hi = index_span(shard, layout)
    rng = np.random.default_rng(7)
    return shard[:lo] + rng.integers(0, 256, hi - lo, dtype=np.uint8).tobytes() + shard[hi:], None


def _bad_checksum(shard, layout):
    lo, hi = index_span(shard, layout)
    b = bytearray(shard)
    b[hi - 1] ^= 0x5A
    return bytes(b), None


def _corrupt_inner(shard, layout):
    off, n = (int(v) for v in read_index(shard, layout)[1])
    rng = np.random.default_rng(3)
    return shard[:off] + rng.integers(0, 256, n, dtype=np.uint8).tobytes() + shard[off + n:], 1


def _overlap(shard, layout):
    index = read_index(shard, layout)
    index[1] = index[0]
    return with_index(shard, layout, index), 1


CORRUPTIONS = {
    "offset past the end": lambda s, l: (_entry(s, l, 1, offset=len(s) + 100), 1),
    "offset+nbytes overflows uint64": lambda s, l: (_entry(s, l, 1, offset=2**64 - 2, nbytes=5), 1),
    "offset+nbytes beyond int64": lambda s, l: (_entry(s, l, 1, offset=2**63 - 2, nbytes=5), 1),
    "nbytes huge": lambda s, l: (_entry(s, l, 1, nbytes=2**62), 1),
    "nbytes past the end": lambda s, l: (_entry(s, l, 1, nbytes=len(s)), 1),
    "overlapping ranges": _overlap,
    "offset inside the index": lambda s, l: (_entry(s, l, 1, offset=(0 if l.location == "start" else
                                                                     len(s) - l.index_nbytes)), 1),
    "only offset is the empty marker": lambda s, l: (_entry(s, l, 1, offset=EMPTY), 1),
    "only nbytes is the empty marker": lambda s, l: (_entry(s, l, 1, nbytes=EMPTY), 1),
    "index replaced by random bytes": _random_index,
    "truncated by 1 byte": lambda s, l: _truncate(s, l, len(s) - 1),
    "truncated by half": lambda s, l: _truncate(s, l, len(s) // 2),
    "truncated to the index size": lambda s, l: _truncate(s, l, l.index_nbytes),
    "truncated to 0 bytes": lambda s, l: (b"", None),
    "inner chunk corrupt": _corrupt_inner,
    "bad index checksum": _bad_checksum,
}


def target_of(corruption: str, blame: int | None, good: bytes, layout: Layout) -> int:
    """An inner chunk that must fail read alone: the one to blame; after a truncation with the index intact (at the
    start), the last one in the file; else (no usable index) any."""
    if blame is not None:
        return blame
    if corruption.startswith("truncated") and layout.location == "start":
        return _last_in_file(good, layout)
    return 0


def _cases():
    out = []
    for layout in LAYOUTS:
        for name in CORRUPTIONS:
            if name == "bad index checksum" and not layout.crc:
                continue
            out.append(pytest.param(layout, name, id=f"{layout_id(layout)}-{name}"))
    return out


# ---- arrays ------------------------------------------------------------------------------------------------------

def make_store(kind: str, tmp_path):
    return MemoryStore() if kind == "memory" else LocalStore(tmp_path / "store")


def make_array(store, layout: Layout, path: str):
    serializer = {"name": "sharding_indexed", "configuration": {
        "chunk_shape": list(INNER), "codecs": INNER_CODECS,
        "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}] + ([{"name": "crc32c"}]
                                                                                    if layout.crc else []),
        "index_location": layout.location}}
    a = zarrfast.create_array(store=store, name=NAME, shape=SHAPE, chunks=SHARD, serializer=serializer,
                              compressors=[{"name": "crc32c"}] if path == "codec" else None, dtype="i4",
                              fill_value=FILL)
    a[...] = DATA
    return a


def engine_of(path: str) -> str:
    return "python" if path == "python" else "auto"


def check_error(exc: BaseException, inner: int | None, path: str) -> None:
    """A ChunkDecodeError naming the array, the shard key and the inner chunk to blame (plain coordinates)."""
    assert isinstance(exc, E.ChunkDecodeError), (type(exc), exc)
    assert isinstance(exc, E.ZarrfastError) and isinstance(exc, ValueError)
    msg = str(exc)
    assert exc.path == NAME and NAME in msg, msg
    assert exc.chunk_key is not None and exc.chunk_key.startswith(KEY), msg
    assert KEY in msg, msg
    assert "np." not in msg and "int64" not in msg, msg  # coordinates are plain ints
    if inner is not None:
        coords = tuple(int(c) for c in np.unravel_index(inner, CPS))
        assert str(coords) in msg, msg


def _setup(store_kind, layout, path, corruption, tmp_path):
    layout = Layout(layout.location, layout.crc, outer_crc=path == "codec")
    store = make_store(store_kind, tmp_path)
    make_array(store, layout, path)
    good = store.get(KEY)
    bad, blame = CORRUPTIONS[corruption](shard_body(good, layout), layout)
    store.set(KEY, seal(bad, layout))
    return store, layout, blame, target_of(corruption, blame, shard_body(good, layout), layout), store.get(KEY)


@pytest.mark.parametrize("store_kind", STORES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("layout,corruption", _cases())
def test_corrupt_shard_read(tmp_path, store_kind, path, layout, corruption):
    store, layout, blame, target, _ = _setup(store_kind, layout, path, corruption, tmp_path)
    ti, tj = (int(c) for c in np.unravel_index(target, CPS))
    with zarrfast.config.set(engine=engine_of(path)):
        a = zarrfast.open_array(store, path=NAME, mode="r")
        with pytest.raises(E.ZarrfastError) as info:
            a[...]
        check_error(info.value, blame, path)
        # the other shard is intact
        np.testing.assert_array_equal(a[8:16], DATA[8:16])
        # the target inner chunk alone (a partial read: index range, then get_ranges), and one element of it
        with pytest.raises(E.ZarrfastError) as info:
            a[inner_slices(target)]
        check_error(info.value, blame, path)
        with pytest.raises(E.ChunkDecodeError) as info:
            a[ti * 4 + 1, tj * 4 + 2]
        check_error(info.value, blame, path)
        # every inner chunk read alone either fails as above or gives the right values: never garbage
        for flat in range(N_INNER):
            sl = inner_slices(flat)
            try:
                got = a[sl]
            except E.ZarrfastError as e:
                check_error(e, None, path)
            else:
                np.testing.assert_array_equal(got, DATA[sl])
        # oindex / vindex / blocks go through the same checks
        with pytest.raises(E.ChunkDecodeError) as info:
            a.oindex[[ti * 4 + 1, 9, 12], [tj * 4, tj * 4 + 3]]
        check_error(info.value, blame, path)
        with pytest.raises(E.ChunkDecodeError) as info:
            a.vindex[[ti * 4 + 2, 10, 15], [tj * 4 + 1, 0, 7]]
        check_error(info.value, blame, path)
        with pytest.raises(E.ChunkDecodeError) as info:
            a.blocks[0, 0]  # blocks of a sharded array are its shards
        check_error(info.value, blame, path)


@pytest.mark.parametrize("store_kind", STORES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("layout,corruption", _cases())
def test_corrupt_shard_partial_write(tmp_path, store_kind, path, layout, corruption):
    """A partial write into a damaged shard must fail and leave the shard's bytes exactly as they were (never copy
    garbage forward into a fresh index); a write covering the whole shard needs no read and repairs it."""
    store, layout, blame, target, stored = _setup(store_kind, layout, path, corruption, tmp_path)
    rows, cols = inner_slices(target)
    with zarrfast.config.set(engine=engine_of(path)):
        a = zarrfast.open_array(store, path=NAME, mode="r+")
        with pytest.raises(E.ZarrfastError) as info:
            a[rows.start, cols] = 1234
        check_error(info.value, None, path)
        assert store.get(KEY) == stored
        a[0:8, 0:8] = DATA[0:8, 0:8] + 1
        np.testing.assert_array_equal(a[...], np.concatenate([DATA[0:8] + 1, DATA[8:]]))


@pytest.mark.parametrize("store_kind", STORES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=layout_id)
def test_untouched_corrupt_inner_chunk_is_copied_verbatim(tmp_path, store_kind, path, layout):
    """A partial write that does not touch the damaged inner chunk succeeds; the damaged bytes are kept as they
    were (still reported on read), and the updated inner chunk reads back right."""
    store, layout, blame, _, _ = _setup(store_kind, layout, path, "inner chunk corrupt", tmp_path)
    damaged = read_index(shard_body(store.get(KEY), layout), layout)[blame]
    damaged_bytes = shard_body(store.get(KEY), layout)[int(damaged[0]):int(damaged[0] + damaged[1])]
    with zarrfast.config.set(engine=engine_of(path)):
        a = zarrfast.open_array(store, path=NAME, mode="r+")
        if path == "codec":  # the reference codec decodes the whole shard to update it
            with pytest.raises(E.ChunkDecodeError) as info:
                a[0, 0] = 1234
            check_error(info.value, blame, path)
            return
        a[0, 0] = 1234
        new = shard_body(store.get(KEY), layout)
        entry = read_index(new, layout)[blame]
        assert new[int(entry[0]):int(entry[0] + entry[1])] == damaged_bytes
        assert a[0, 0] == 1234
        with pytest.raises(E.ChunkDecodeError) as info:
            a[inner_slices(blame)]
        check_error(info.value, blame, path)


@pytest.mark.parametrize("store_kind", STORES)
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("layout", LAYOUTS, ids=layout_id)
def test_empty_marker_reads_fill_value(tmp_path, store_kind, path, layout):
    """Spec: an entry whose offset and nbytes are both 2**64-1 is an empty inner chunk: it reads as fill_value."""
    layout = Layout(layout.location, layout.crc, outer_crc=path == "codec")
    store = make_store(store_kind, tmp_path)
    make_array(store, layout, path)
    shard = shard_body(store.get(KEY), layout)
    index = read_index(shard, layout)
    index[1] = (EMPTY, EMPTY)
    store.set(KEY, seal(with_index(shard, layout, index), layout))
    expected = DATA.copy()
    expected[inner_slices(1)] = FILL
    with zarrfast.config.set(engine=engine_of(path)):
        a = zarrfast.open_array(store, path=NAME, mode="r")
        np.testing.assert_array_equal(a[...], expected)
        np.testing.assert_array_equal(a[inner_slices(1)], FILL)
        np.testing.assert_array_equal(a[inner_slices(2)], DATA[inner_slices(2)])


def test_every_entry_empty_reads_fill_value(tmp_path):
    """zarr-python as the oracle: a shard whose index is all empty markers reads as fill_value there too."""
    zarr = pytest.importorskip("zarr")
    layout = LAYOUTS[0]
    store = LocalStore(tmp_path / "s")
    make_array(store, layout, "auto")
    shard = store.get(KEY)
    index = np.full((N_INNER, 2), EMPTY, dtype=np.uint64)
    store.set(KEY, with_index(shard, layout, index))
    expected = zarr.open_array(str(tmp_path / "s"), path=NAME, mode="r")[...]
    for engine in ("auto", "python"):
        with zarrfast.config.set(engine=engine):
            np.testing.assert_array_equal(zarrfast.open_array(store, path=NAME, mode="r")[...], expected)
    assert (expected[:8] == FILL).all()
