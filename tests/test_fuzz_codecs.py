"""Fuzzing every chunk decoder on both paths: mutated valid frames and random bytes (hypothesis, bounded).

The targets and the properties live in ``tools/fuzz_targets.py`` (shared with the long-running ``tools/fuzz.py``):
each decode either returns the chunk's exact shape and dtype or raises a ``zarrfast.errors`` exception; the
Python reference path and the native kernels accept the same inputs and decode identical bytes; checksummed
chains (crc32c, zstd checksum) never return data that was not encoded.  The oracle for valid frames is the
numpy array they were encoded from.
"""
from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import fuzz_targets as ft  # noqa: E402

import zarrfast  # noqa: E402
from zarrfast.errors import ChunkDecodeError  # noqa: E402
from zarrfast.storage.memory import MemoryStore  # noqa: E402

FIELDS = (0, 1, 2, 3, 4, 8, 12, 16, 20, 24, 28)
INTS = (0, 1, 4, 15, 16, 17, 128, 255, 2**31 - 1, 2**32 - 1, 2**31, 2**16)


@st.composite
def mutated(draw, frame: bytes) -> bytes:
    """Byte flips, truncation, extension, 32/64-bit field edits, or a spliced copy of itself."""
    b = bytearray(frame)
    kind = draw(st.sampled_from(["flip", "truncate", "extend", "field", "field64", "splice"]))
    if kind == "flip" and b:
        for _ in range(draw(st.integers(1, 4))):
            b[draw(st.integers(0, len(b) - 1))] ^= draw(st.integers(1, 255))
    elif kind == "truncate":
        del b[draw(st.integers(0, max(len(b) - 1, 0))):]
    elif kind == "extend":
        b += draw(st.binary(min_size=1, max_size=40))
    elif kind == "field" and len(b) >= 4:
        pos = draw(st.one_of(st.sampled_from([p for p in FIELDS if p + 4 <= len(b)] or [0]),
                             st.integers(0, len(b) - 4)))
        value = draw(st.one_of(st.sampled_from(INTS + (len(b), len(b) - 1, len(b) + 1)), st.integers(0, 2**32 - 1)))
        struct.pack_into("<I", b, pos, value)
    elif kind == "field64" and len(b) >= 8:  # shard index entries are uint64 (offset, nbytes) pairs
        pos = draw(st.one_of(st.integers(0, len(b) - 8), st.sampled_from([max(len(b) - k, 0) for k in (8, 12, 16,
                                                                                                    20, 24, 36)])))
        value = draw(st.one_of(st.sampled_from([2**63, 2**63 + 5, 2**64 - 1, 2**64 - 2, 2**32, len(b)]),
                               st.integers(0, 2**64 - 1)))
        struct.pack_into("<Q", b, pos, value)
    else:
        i, j = sorted(draw(st.lists(st.integers(0, len(b)), min_size=2, max_size=2)))
        b = b[:i] + b[j:] + b[i:j]
    return bytes(b)


@pytest.mark.parametrize("target", ft.CODEC_TARGETS)
def test_valid_seeds_decode_to_the_encoded_array_on_every_path(target):
    for index, frame in ft.seeds(target):
        sig = ft.run_codec(target, index, frame, original=frame)
        assert "py=ok" in sig and ("native=" not in sig or "native=ok" in sig), sig
        # the pure-Python Blosc1 reader reads everything but blosclz and Blosc2 frames
        assert "ref=err" not in sig or index in (7, 8) and frame[0] != 2 or "blosclz" in sig, sig
        variant = ft.VARIANTS[target][index]
        got = np.asarray(ft._chain(variant).decode(frame))
        assert ft._as_bytes(got) == ft._as_bytes(ft.content(variant))


@pytest.mark.parametrize("target", ft.CODEC_TARGETS)
@settings(max_examples=150)
@given(data=st.data())
def test_mutated_frames_raise_or_agree(target, data):
    index, frame = data.draw(st.sampled_from(ft.seeds(target)))
    ft.run_codec(target, index, data.draw(mutated(frame)), original=frame)


@pytest.mark.parametrize("target", ft.CODEC_TARGETS)
@settings(max_examples=60)
@given(data=st.data(), blob=st.binary(max_size=400))
def test_random_bytes_raise_or_agree(target, data, blob):
    index = data.draw(st.integers(0, len(ft.VARIANTS[target]) - 1))
    sig = ft.run_codec(target, index, blob)
    if ft.VARIANTS[target][index].checksummed:
        assert "=ok" not in sig


# --- the batch kernel: corrupt members among good ones ---------------------------------------------------------
BATCH_CHAINS = [
    [ft.B_LE, {"name": "zstd", "configuration": {"level": 1, "checksum": False}}, ft.CRC],
    [ft.B_BE, {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "bitshuffle"}}, ft.CRC],
    [{"name": "transpose", "configuration": {"order": [1, 0]}}, ft.B_LE, {"name": "numcodecs.lz4"}, ft.CRC],
]


@settings(max_examples=40)
@given(chain=st.sampled_from(BATCH_CHAINS), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_read_into_batch_with_corrupt_members(chain, seed, data):
    """read_into decodes the good chunks of a batch, flags exactly the damaged ones; the array read names one."""
    from zarrfast._ext.pipeline import read_into
    from zarrfast.pipeline import chain_for

    rng = np.random.default_rng(seed)
    expected = rng.integers(0, 5, (12, 10)).astype("int32")
    store = MemoryStore()
    doc = ft.Variant("batch", (12, 10), "int32", tuple(chain)).doc
    doc["chunk_grid"]["configuration"]["chunk_shape"] = [4, 5]
    store.set("zarr.json", json.dumps(doc).encode())
    a = zarrfast.open_array(store, mode="r+")
    a[...] = expected
    keys = [f"c/{i}/{j}" for i in range(3) for j in range(2)]
    bad = set(data.draw(st.sets(st.sampled_from(keys), max_size=3)))
    frames = {}
    for k in keys:
        frames[k] = store.get(k)
        if k in bad:
            frames[k] = data.draw(mutated(frames[k]).filter(lambda m, f=frames[k]: m != f))
            store.set(k, frames[k])
    prog = chain_for(a.metadata).read_program
    coords = np.array([[i, j] for i in range(3) for j in range(2)], dtype=np.int64)
    out = np.full((12, 10), -1, dtype="int32")
    status = np.zeros(len(keys), dtype=np.int64)
    failures = read_into(prog, out, np.zeros((6, 2), dtype=np.int64), np.tile([4, 5], (6, 1)).astype(np.int64),
                         coords * [4, 5], np.ones(2, dtype=np.int64), [frames[k] for k in keys], status)
    assert failures == len(bad)
    for k, (i, j), s in zip(keys, coords, status):
        region = (slice(4 * i, 4 * i + 4), slice(5 * j, 5 * j + 5))
        if k in bad:
            assert s < 0
        else:
            assert s == 0
            np.testing.assert_array_equal(out[region], expected[region])
    for engine in ("auto", "python"):
        with zarrfast.config.set(engine=engine, threads=1):
            if bad:
                with pytest.raises(ChunkDecodeError) as info:
                    a[...]
                assert info.value.chunk_key in bad and info.value.chunk_key in str(info.value)
            else:
                np.testing.assert_array_equal(a[...], expected)


# --- regressions found by the fuzzer -----------------------------------------------------------------------------
def test_zstd_multi_frame_and_trailing_bytes_agree_on_both_paths():
    """numcodecs and the kernel read concatenated frames; trailing garbage is an error (the Python path used to
    ignore everything after the first frame)."""
    import zstandard

    variant = ft.VARIANTS["zstd"][0]
    raw = ft.content(variant).tobytes()
    c = zstandard.ZstdCompressor()
    two = c.compress(raw[:100]) + c.compress(raw[100:])
    assert ft.run_codec("zstd", 0, two).endswith(f"size={len(raw)}")
    skippable = b"\x50\x2a\x4d\x18" + struct.pack("<I", 3) + b"abc"
    assert "py=ok|native=ok" in ft.run_codec("zstd", 0, c.compress(raw) + skippable)
    for tail in (b"garbage!", c.compress(b""), c.compress(b"x"), b"\0\0\0\0"):
        sig = ft.run_codec("zstd", 0, c.compress(raw) + tail)
        assert ("py=ok" in sig) == (tail == c.compress(b"")), sig


def test_partial_shard_read_with_an_index_entry_past_int64_is_a_chunk_error():
    """A range read used to turn such an entry into a negative store range (ValueError from the store)."""
    from zarrfast.codecs.sharding import decode_index, encode_index

    codec = {"name": "sharding_indexed", "configuration": {"chunk_shape": [2], "codecs": [ft.B_LE],
                                                            "index_codecs": [ft.B_LE], "index_location": "end"}}
    store = MemoryStore()
    store.set("zarr.json", json.dumps(ft.Variant("s", (8,), "int16", (codec,)).doc).encode())
    a = zarrfast.open_array(store, mode="r+")
    a[...] = np.arange(1, 9, dtype="int16")
    raw = store.get("c/0")
    index = decode_index(raw[-64:], (4,), [ft.B_LE])
    index[1] = (2**63 + 5, 4)
    store.set("c/0", raw[:-64] + encode_index(index, [ft.B_LE]))
    for engine in ("auto", "python"):
        with zarrfast.config.set(engine=engine):
            for sel in (slice(2, 4), slice(4, 8)):  # the index as a whole is rejected
                with pytest.raises(ChunkDecodeError, match="c/0"):
                    a[sel]


def test_variant_documents_are_valid_metadata():
    for variants in ft.VARIANTS.values():
        for v in variants:
            store = MemoryStore()
            store.set(v.meta_key, json.dumps(v.doc).encode())
            assert zarrfast.open_array(store, mode="r").shape == v.shape
