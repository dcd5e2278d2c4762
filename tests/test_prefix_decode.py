"""Reads that need only the start of a chunk decode only that start (zstd: the blocks up to it; blosc: the blosc
blocks that hold it), and chunk-sized scratch buffers are pooled between kernel calls.

Oracle: numpy for values, the pure-Python reference engine (which always decodes whole chunks) for agreement.
What a whole read would reject must still be rejected: a frame that is truncated, of the wrong declared size,
followed by another frame, or carrying a content checksum is decoded whole.
"""
from __future__ import annotations

import threading

import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast import errors as E

SHAPE, CHUNKS = (100, 50, 40), (64, 48, 40)  # one chunk = 245,760 bytes of uint16: two zstd blocks
ZSTD = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
ZSTD_CHECKSUM = {"name": "zstd", "configuration": {"level": 1, "checksum": True}}
CHAINS = {
    "zstd": [ZSTD],
    "zstd-checksum": [ZSTD_CHECKSUM],
    "blosc-lz4-shuffle": [{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle",
                                                              "blocksize": 4096}}],
    "blosc-zstd-bitshuffle": [{"name": "blosc", "configuration": {"cname": "zstd", "clevel": 1,
                                                                  "shuffle": "bitshuffle", "blocksize": 8192}}],
    "blosc-blosclz-noshuffle": [{"name": "blosc", "configuration": {"cname": "blosclz", "clevel": 5,
                                                                    "shuffle": "noshuffle", "blocksize": 16384}}],
    "zstd-crc32c": [ZSTD, {"name": "crc32c"}],
}


def _data(dtype: str) -> np.ndarray:
    z, y, x = np.meshgrid(*(np.arange(n) for n in SHAPE), indexing="ij")
    noise = np.random.default_rng(7).integers(0, 5, SHAPE)
    return (z * 3 + y * 7 + x * 11 + noise).astype(dtype)


def _make(store, chain: str, dtype: str = "<u2", order: str = "C"):
    filters = [{"name": "transpose", "configuration": {"order": [2, 1, 0]}}] if order == "F" else None
    a = zarrfast.create_array(store=store, shape=SHAPE, chunks=CHUNKS, dtype=dtype, compressors=CHAINS[chain],
                              filters=filters, fill_value=0, zarr_format=3)
    data = _data(dtype)
    a[...] = data
    return a, data


CASES = [(c, "<u2", "C") for c in CHAINS] + [("zstd", ">i4", "C"), ("zstd", "<u2", "F"),
                                              ("blosc-lz4-shuffle", ">i4", "F")]
_ARRAYS: dict = {}


def _case(chain: str, dtype: str, order: str):
    key = (chain, dtype, order)
    if key not in _ARRAYS:
        store: dict = {}
        _make(store, chain, dtype, order)
        _ARRAYS[key] = store
    return _ARRAYS[key]


@st.composite
def selections(draw):
    sel = []
    for n in SHAPE:
        start = draw(st.integers(0, n - 1))
        stop = draw(st.integers(start + 1, n))
        step = draw(st.sampled_from([1, 1, 1, 2, 3, -1, -2]))
        if step < 0:
            sel.append(slice(stop - 1, start - 1 if start else None, step))
        else:
            sel.append(slice(start, stop, step))
    if draw(st.booleans()):
        sel[0] = draw(st.integers(0, SHAPE[0] - 1))  # a plane: the classic prefix read
    return tuple(sel)


@pytest.mark.parametrize(("chain", "dtype", "order"), CASES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sel=selections())
def test_partial_reads_match_numpy_and_reference(chain, dtype, order, sel):
    store = _case(chain, dtype, order)
    expected = _data(dtype)[sel]
    with zarrfast.config.set(threads=1, strict=True):
        fast = zarrfast.open_array(store, mode="r")[sel]
    with zarrfast.config.set(engine="python"):
        reference = zarrfast.open_array(store, mode="r")[sel]
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(reference, expected)


# --- what a whole read rejects is still rejected -------------------------------------------------------------------

def _zstd_array():
    store: dict = {}
    a, data = _make(store, "zstd")
    key = "c/0/0/0"
    assert store[key][:4] == b"\x28\xb5\x2f\xfd"
    return store, key, data


def _raw_chunk(data: np.ndarray) -> bytes:
    return np.ascontiguousarray(data[:64, :48, :40]).tobytes()


def _flip_last_byte(chunk: bytes) -> bytes:
    return chunk[:-1] + bytes([chunk[-1] ^ 0xFF])


DAMAGES = {  # name: (chain, damage(chunk bytes, array values) -> new chunk bytes)
    "truncated zstd frame (first block intact)": ("zstd", lambda c, d: c[: len(c) * 3 // 4]),
    "zstd frame declaring a wrong size": ("zstd", lambda c, d: zstandard.ZstdCompressor(level=1).compress(
        _raw_chunk(d)[:-2])),
    "trailing zstd frame": ("zstd", lambda c, d: c + zstandard.ZstdCompressor(level=1).compress(b"\0" * 64)),
    "bad zstd content checksum": ("zstd-checksum", lambda c, d: _flip_last_byte(c)),
    "truncated blosc chunk": ("blosc-lz4-shuffle", lambda c, d: c[: len(c) // 2]),
}


@pytest.mark.parametrize("engine", ["auto", "python"])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damage_a_whole_read_rejects_is_rejected_by_a_prefix_read(engine, damage):
    chain, spoil = DAMAGES[damage]
    store: dict = {}
    _, data = _make(store, chain)
    key = "c/0/0/0"
    store[key] = spoil(store[key], data)
    with zarrfast.config.set(engine=engine):
        with pytest.raises(E.ChunkDecodeError, match=key):
            zarrfast.open_array(store, mode="r")[0]


@pytest.mark.parametrize("variant", ["no content size", "two frames"])
def test_other_valid_zstd_layouts_read_in_part(variant):
    """Frames tensorstore writes (no content size) and multi-frame chunks are valid: decoded whole, still right."""
    store, key, data = _zstd_array()
    raw = _raw_chunk(data)
    if variant == "no content size":
        store[key] = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(raw)
    else:
        c = zstandard.ZstdCompressor(level=1)
        store[key] = c.compress(raw[:100_000]) + c.compress(raw[100_000:])
    a = zarrfast.open_array(store, mode="r")
    np.testing.assert_array_equal(a[3], data[3])
    np.testing.assert_array_equal(a[:64, 5:9, ::-3], data[:64, 5:9, ::-3])


# --- pooled scratch buffers ----------------------------------------------------------------------------------------

def test_pooled_scratch_buffers_are_right_for_every_chunk_size_across_threads():
    """Threads reading arrays of different chunk sizes at once: each kernel call gets a scratch buffer at least
    as large as its chunk (the pool hands out the larger ones too) and results are right."""
    arrays = []
    for chunks in [(3, 5, 7), (64, 48, 40), (10, 50, 40), (100, 50, 40)]:
        store: dict = {}
        a = zarrfast.create_array(store=store, shape=SHAPE, chunks=chunks, dtype="<u2", compressors=[ZSTD])
        a[...] = _data("<u2")
        arrays.append(a)
    data = _data("<u2")
    errors: list = []

    def run(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(30):
                a = arrays[int(rng.integers(len(arrays)))]
                z0 = int(rng.integers(0, 99))
                sel = (slice(z0, z0 + int(rng.integers(1, 5))), slice(1, 49), slice(None, None, 2))
                np.testing.assert_array_equal(a[sel], data[sel])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    with zarrfast.config.set(threads=2):
        threads = [threading.Thread(target=run, args=(s,)) for s in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors[0]


# --- damaged chunks under prefix reads: an error naming the chunk or values, never a crash (ASan job runs this) ----

@pytest.mark.parametrize("chain", ["zstd", "blosc-lz4-shuffle", "blosc-zstd-bitshuffle"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_damaged_chunk_prefix_reads_fail_cleanly(chain, data):
    store = dict(_case(chain, "<u2", "C"))
    key = "c/0/0/0"
    chunk = bytearray(store[key])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(chunk) - 1))
        chunk[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        chunk = chunk[: data.draw(st.integers(0, len(chunk)))]
    store[key] = bytes(chunk)
    z = data.draw(st.integers(0, 40))
    a = zarrfast.open_array(store, mode="r")
    try:
        out = a[z, 3:45]
    except E.ChunkDecodeError as exc:
        assert key in str(exc)
    else:
        assert out.shape == (42, 40)
