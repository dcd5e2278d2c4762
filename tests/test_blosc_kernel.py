"""Blosc kernels (zarrfast._ext.blosc): Blosc1 frames checked against numcodecs, python-blosc2, the spec and the
pure-Python reference (zarrfast.codecs._blosc_ref); corrupt frames must raise ChunkDecodeError, never crash."""
from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor

import lz4
import numpy as np
import pytest
import zstandard
from hypothesis import given
from hypothesis import strategies as st
from zarrfast._ext import blosc as kb

from zarrfast.codecs import _blosc_ref as ref
from zarrfast.errors import ChunkDecodeError, CodecError

nc_blosc = pytest.importorskip("numcodecs.blosc")
blosc2 = pytest.importorskip("blosc2")

CNAMES = ["lz4", "lz4hc", "zlib", "zstd"]
OURS = kb.codec_versions()


@pytest.fixture(autouse=True, scope="module")
def _serial_numcodecs():
    # numcodecs' threaded c-blosc may store blocks out of order; serial mode is deterministic
    old = nc_blosc.use_threads
    nc_blosc.use_threads = False
    yield
    nc_blosc.use_threads = old


def _numcodecs_complibs() -> dict[str, str]:
    """Versions of the codec libraries bundled in numcodecs' c-blosc (from the paths compiled into it)."""
    with open(nc_blosc.__file__, "rb") as f:
        blob = f.read()
    return {m[1].decode(): m[2].decode() for m in re.finditer(rb"internal-complibs/(lz4|zstd|zlib)-([0-9.]+)", blob)}


NC_LIBS = _numcodecs_complibs()


def _same_payloads_as_numcodecs(cname: str) -> bool:
    """Byte-identical frames are expected only where both sides bundle the same codec version (never for zlib:
    we use zlib-ng, numcodecs zlib)."""
    lib = {"lz4": "lz4", "lz4hc": "lz4", "zstd": "zstd"}.get(cname)
    return lib is not None and NC_LIBS.get(lib) == OURS[lib]


def _same_payloads_as_reference(cname: str) -> bool:
    if cname in ("lz4", "lz4hc"):
        return lz4.library_version_string() == OURS["lz4"]
    if cname == "zstd":
        return ".".join(map(str, zstandard.ZSTD_VERSION)) == OURS["zstd"]
    return False  # zlib-ng vs zlib


def _header(frame: bytes) -> tuple:
    """Header fields that do not depend on the compressor's output (memcpyed bit and cbytes excluded)."""
    version, versionlz, flags, typesize, nbytes, blocksize, _cbytes = struct.unpack_from("<BBBBiii", frame)
    return version, versionlz, flags & ~0x02, typesize, nbytes, blocksize


def _streams(frame: bytes) -> list[tuple[int, int, bytes]]:
    """(stored size, uncompressed size, payload) of every stream of a compressed Blosc1 frame, in order."""
    _, _, flags, ts, nbytes, blocksize, _ = struct.unpack_from("<BBBBiii", frame)
    nblocks = -(-nbytes // blocksize)
    out = []
    for j, off in enumerate(struct.unpack_from(f"<{nblocks}i", frame, 16)):
        last = j == nblocks - 1 and nbytes % blocksize
        bsize = nbytes % blocksize if last else blocksize
        nsplits = 1 if (flags & 0x10 or last) else ts
        for _ in range(nsplits):
            (cs,) = struct.unpack_from("<i", frame, off)
            out.append((cs, bsize // nsplits, frame[off + 4: off + 4 + cs]))
            off += 4 + cs
    return out


def _assert_same_frames(fast: bytes, slow: bytes, cname: str) -> None:
    """Byte identity, except where zstd is involved: c-blosc (and our encoder) give zstd an output limit equal to the
    stream size, and zstd then fails on some streams whose unlimited output (the reference's) fits within ~8 bytes
    of that limit; such a stream is stored raw on one side only (and that may flip the memcpyed fallback)."""
    if fast == slow or cname != "zstd":
        assert fast == slow
        return
    assert _header(fast) == _header(slow)
    if (fast[2] | slow[2]) & 0x02:
        return
    for (cf, nf, pf), (cs, ns, ps) in zip(_streams(fast), _streams(slow), strict=True):
        assert nf == ns
        if (cf, pf) != (cs, ps):
            assert cf == nf and 0 < ns - cs <= 16, "only near-incompressible zstd streams may differ"


def _data(kind: str, nbytes: int, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    if kind == "zeros":
        return bytes(nbytes)
    if kind == "small":  # compressible after shuffling
        return rng.integers(0, 4, nbytes, dtype=np.uint8).tobytes()
    if kind == "ramp":
        return (np.arange(nbytes // 8 + 1, dtype="<f8") * 0.25).tobytes()[:nbytes]
    if kind == "steps":
        return (np.arange(nbytes) // 1000 % 3).astype(np.uint8).tobytes()
    if kind == "runs":
        return np.repeat(rng.integers(0, 256, nbytes // 50 + 1, dtype=np.uint8), 50)[:nbytes].tobytes()
    return rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()


def _blosc2_mishandles(frame: bytes) -> bool:
    """libblosc2 leaves the unshuffled tail of bit-shuffled Blosc1 blocks unwritten (nbytes % typesize != 0 or
    blocksize < typesize); our decoder repairs it, python-blosc2 doesn't."""
    _, _, flags, ts, nbytes, blocksize, _ = struct.unpack_from("<BBBBiii", frame)
    return bool(flags & 0x04) and not flags & 0x02 and (nbytes % ts != 0 or blocksize < ts)


def _decodes_everywhere(frame: bytes, buf: bytes) -> None:
    n = len(buf)
    assert kb.decompress(frame, n) == buf
    assert ref.decompress_py(frame, n) == buf
    out = bytearray(n)
    kb.decompress_into(frame, out)
    assert out == buf
    if n:  # numcodecs cannot decompress its own (and our identical) 16-byte empty frame
        assert nc_blosc.decompress(frame) == buf
    if not _blosc2_mishandles(frame):
        assert blosc2.decompress(frame) == buf


# --- interop grid ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("shuffle", [0, 1, 2])
@pytest.mark.parametrize("typesize", [1, 2, 4, 8])
def test_frames_interoperate_with_numcodecs_and_blosc2(cname, shuffle, typesize):
    for nelems, kind in [(0, "zeros"), (1, "random"), (31, "small"), (200, "small"), (5000, "ramp"),
                         (40_000, "small"), (70_001, "runs"), (150_000, "random")]:
        buf = _data(kind, nelems * typesize, nelems)
        arr = np.frombuffer(buf, dtype=f"V{typesize}")
        ours = kb.compress(buf, typesize, 5, shuffle, cname)
        theirs = nc_blosc.compress(arr, cname.encode(), 5, shuffle, 0)
        assert _header(ours) == _header(theirs)
        if _same_payloads_as_numcodecs(cname):
            assert ours == theirs
        assert len(ours) <= len(buf) + kb.MAX_OVERHEAD
        _decodes_everywhere(ours, buf)
        _decodes_everywhere(theirs, buf)


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("clevel", range(10))
def test_every_clevel_matches_numcodecs(cname, clevel):
    for typesize, shuffle, kind, nelems in [(4, 1, "ramp", 60_000), (8, 2, "small", 30_000), (2, 0, "runs", 90_001)]:
        buf = _data(kind, nelems * typesize)
        ours = kb.compress(buf, typesize, clevel, shuffle, cname)
        theirs = nc_blosc.compress(np.frombuffer(buf, f"V{typesize}"), cname.encode(), clevel, shuffle, 0)
        assert _header(ours) == _header(theirs)
        if _same_payloads_as_numcodecs(cname):
            assert ours == theirs
        assert _header(ref.compress_py(buf, typesize, clevel, shuffle, cname)) == _header(ours)
        _decodes_everywhere(ours, buf)


@pytest.mark.parametrize("blocksize", [1, 128, 1000, 4096, 100_000])
@pytest.mark.parametrize("typesize", [4, 300])
def test_forced_blocksize_and_large_typesize_match_numcodecs(blocksize, typesize):
    buf = _data("small", 200 * typesize)
    theirs = nc_blosc.compress(np.frombuffer(buf, f"V{typesize}"), b"lz4", 5, 2, blocksize)
    ours = kb.compress(buf, typesize, 5, 2, "lz4", blocksize)
    assert ours[3] == (typesize if typesize <= 255 else 1)  # c-blosc stores typesizes > 255 as 1
    assert _header(ours) == _header(theirs)
    if _same_payloads_as_numcodecs("lz4"):
        assert ours == theirs
    _decodes_everywhere(ours, buf)


def test_empty_input_matches_numcodecs():
    for cname in CNAMES:
        ours = kb.compress(b"", 4, 5, 1, cname)
        assert ours == nc_blosc.compress(np.zeros(0, "V4"), cname.encode(), 5, 1, 0)
        assert len(ours) == 16 and kb.cbuffer_sizes(ours) == (0, 16, 1)
        assert kb.decompress(ours, 0) == b"" and ref.decompress_py(ours, 0) == b""
        assert blosc2.decompress(ours) == b""


def test_blosc2_frames_decode():
    buf = _data("ramp", 400_000)
    for codec in (blosc2.Codec.ZSTD, blosc2.Codec.LZ4, blosc2.Codec.BLOSCLZ):
        for filt in (blosc2.Filter.SHUFFLE, blosc2.Filter.BITSHUFFLE, blosc2.Filter.NOFILTER):
            frame = blosc2.compress(buf, typesize=8, codec=codec, filter=filt)
            assert kb.decompress(frame, len(buf)) == buf


def test_blosclz_frames_from_numcodecs_decode():
    buf = _data("small", 80_000)
    frame = nc_blosc.compress(np.frombuffer(buf, "V4"), b"blosclz", 5, 1, 0)
    assert kb.decompress(frame, len(buf)) == buf
    with pytest.raises(CodecError, match="blosclz"):
        ref.decompress_py(frame, len(buf))


def test_cbuffer_sizes_match_blosc2():
    buf = _data("runs", 123_456)
    frame = kb.compress(buf, 2, 7, 1, "zstd")
    assert kb.cbuffer_sizes(frame) == tuple(blosc2.get_cbuffer_sizes(frame))
    nbytes, cbytes, blocksize = kb.cbuffer_sizes(frame)
    assert (nbytes, cbytes) == (len(buf), len(frame))
    assert blocksize == kb.compute_blocksize(len(buf), 2, 7, "zstd") == ref.compute_blocksize_py(len(buf), 2, 7, "zstd")
    with pytest.raises(ChunkDecodeError):
        kb.cbuffer_sizes(frame[:15])


@pytest.mark.parametrize("nbytes, typesize, blocksize", [(40_003, 4, 0), (1_029, 8, 0), (40_000, 200, 128),
                                                         (40_000, 200, 192), (7_235 + 32_768, 4, 0)])
@pytest.mark.parametrize("shuffle", [1, 2])
def test_partial_element_tails_are_decoded(nbytes, typesize, blocksize, shuffle):
    # bit shuffle: blocks whose unshuffled tail libblosc2 would leave unwritten (see _blosc2_mishandles)
    buf = _data("steps", nbytes)
    for cname, clevel in [("lz4", 5), ("zstd", 1), ("zlib", 5), ("lz4hc", 9)]:
        frame = kb.compress(buf, typesize, clevel, shuffle, cname, blocksize)
        assert not frame[2] & 0x02, "test needs a compressed (not memcpyed) frame"
        assert kb.decompress(frame, nbytes) == buf == ref.decompress_py(frame, nbytes)
        assert nc_blosc.decompress(frame) == buf


# --- fast == reference (hypothesis) ----------------------------------------------------------------------------
payloads = st.builds(_data, st.sampled_from(["zeros", "small", "ramp", "runs", "random"]),
                     st.one_of(st.integers(0, 300), st.integers(0, 300_000)), st.integers(0, 3))


@given(buf=payloads, typesize=st.sampled_from([1, 2, 3, 4, 8, 12, 16, 17, 256]), clevel=st.integers(0, 9),
       shuffle=st.sampled_from([0, 1, 2]), cname=st.sampled_from(CNAMES),
       blocksize=st.sampled_from([0, 0, 0, 128, 1000, 4096, 70_000]))
def test_fast_encoder_agrees_with_reference(buf, typesize, clevel, shuffle, cname, blocksize):
    fast = kb.compress(buf, typesize, clevel, shuffle, cname, blocksize)
    slow = ref.compress_py(buf, typesize, clevel, shuffle, cname, blocksize)
    assert _header(fast) == _header(slow)
    if _same_payloads_as_reference(cname):
        _assert_same_frames(fast, slow, cname)
    for frame in (fast, slow):
        assert kb.decompress(frame, len(buf)) == buf
        assert ref.decompress_py(frame, len(buf)) == buf


@given(buf=payloads, typesize=st.sampled_from([1, 2, 4, 8, 16, 24]), clevel=st.integers(1, 9),
       shuffle=st.sampled_from([0, 1, 2]), cname=st.sampled_from(CNAMES + ["blosclz"]))
def test_fast_decoder_agrees_with_reference_on_numcodecs_frames(buf, typesize, clevel, shuffle, cname):
    buf = buf[: len(buf) // typesize * typesize]
    frame = nc_blosc.compress(np.frombuffer(buf, f"V{typesize}"), cname.encode(), clevel, shuffle, 0)
    assert kb.decompress(frame, len(buf)) == buf
    if cname != "blosclz" or frame[2] & 0x02:
        assert ref.decompress_py(frame, len(buf)) == buf


@given(nbytes=st.integers(0, 3_000_000), typesize=st.integers(1, 300), clevel=st.integers(0, 9),
       cname=st.sampled_from(CNAMES), blocksize=st.one_of(st.just(0), st.integers(1, 2**30)))
def test_compute_blocksize_agrees_with_reference(nbytes, typesize, clevel, cname, blocksize):
    ts = typesize if typesize <= 255 else 1
    assert kb.compute_blocksize(nbytes, typesize, clevel, cname, blocksize) == \
        ref.compute_blocksize_py(nbytes, ts, clevel, cname, blocksize)


@given(buf=st.binary(max_size=3000), typesize=st.integers(1, 40))
def test_shuffles_agree_with_numpy_reference(buf, typesize):
    s = kb.shuffle(buf, typesize)
    assert s == ref.shuffle_py(buf, typesize)
    assert kb.unshuffle(s, typesize) == ref.unshuffle_py(s, typesize) == buf
    b = kb.bitshuffle(buf, typesize)
    assert b == ref.bitshuffle_py(buf, typesize)
    assert kb.bitunshuffle(b, typesize) == ref.bitunshuffle_py(b, typesize) == buf


def test_shuffle_layouts_by_hand():
    # byte shuffle: all first bytes, then all second bytes; the partial last element stays at the end
    assert kb.shuffle(bytes([1, 2, 3, 4, 5, 6, 7]), 2) == bytes([1, 3, 5, 2, 4, 6, 7])
    # bit shuffle of eight 1-byte elements: output byte k holds bit k of each element (element b -> bit b)
    elems = bytes([0b0000_0001, 0, 0, 0, 0, 0, 0, 0b1000_0001])
    assert kb.bitshuffle(elems, 1) == bytes([0b1000_0001, 0, 0, 0, 0, 0, 0, 0b1000_0000])
    assert kb.bitshuffle(bytes(range(7)), 1) == bytes(range(7))  # fewer than 8 elements: unchanged (c-blosc 1.x)


# --- corrupt input -------------------------------------------------------------------------------------------------
def _corpus() -> list[tuple[bytes, int]]:
    frames = []
    for nbytes, typesize, kind in [(300, 1, "small"), (5000, 4, "small"), (70_001, 2, "runs"), (40_003, 4, "small"),
                                   (2000, 8, "random"), (100, 4, "ramp")]:
        buf = _data(kind, nbytes)
        for cname in CNAMES:
            for shuffle in (0, 1, 2):
                frames.append((kb.compress(buf, typesize, 5, shuffle, cname), nbytes))
    buf = _data("small", 8000)
    frames.append((nc_blosc.compress(np.frombuffer(buf, "V4"), b"blosclz", 5, 1, 0), 8000))
    frames.append((blosc2.compress(buf, typesize=4, codec=blosc2.Codec.ZSTD), 8000))
    return frames


CORPUS = _corpus()


def _decode_or_raise(frame: bytes, expected: int) -> None:
    try:
        out = kb.decompress(frame, expected)
    except ChunkDecodeError:
        pass
    else:
        assert len(out) == expected
    target = bytearray(expected)
    try:
        kb.decompress_into(frame, target)
    except ChunkDecodeError:
        pass


@given(index=st.integers(0, len(CORPUS) - 1), data=st.data())
def test_mutated_frames_raise_or_decode(index, data):
    frame, nbytes = CORPUS[index]
    frame = bytearray(frame)
    kind = data.draw(st.sampled_from(["truncate", "flip", "field", "offset", "flags"]))
    if kind == "truncate":
        frame = frame[: data.draw(st.integers(0, len(frame)))]
    elif kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            frame[data.draw(st.integers(0, len(frame) - 1))] ^= data.draw(st.integers(1, 255))
    elif kind == "field":
        pos = data.draw(st.sampled_from([4, 8, 12]))
        value = data.draw(st.one_of(st.integers(-2**31, 2**31 - 1), st.sampled_from(
            [0, 1, 15, 16, 17, nbytes - 1, nbytes + 1, len(frame) - 1, len(frame) + 1, 2**31 - 1])))
        struct.pack_into("<i", frame, pos, value)
        if data.draw(st.booleans()):
            frame[3] = data.draw(st.integers(0, 255))
    elif kind == "offset" and len(frame) > 24:
        pos = data.draw(st.integers(16, min(len(frame) - 4, 200)))
        struct.pack_into("<i", frame, pos, data.draw(st.integers(-1000, len(frame) + 1000)))
    else:
        frame[2] = data.draw(st.integers(0, 255))
    expected = data.draw(st.one_of(st.just(nbytes), st.integers(0, 2 * nbytes + 1)))
    _decode_or_raise(bytes(frame), expected)


def test_every_truncation_and_flag_value_is_handled():
    frame, nbytes = CORPUS[12 + 2]  # 5000 bytes, typesize 4, lz4, bitshuffle
    for cut in range(len(frame)):
        with pytest.raises(ChunkDecodeError):
            kb.decompress(frame[:cut], nbytes)
    for flags in range(256):
        _decode_or_raise(frame[:2] + bytes([flags]) + frame[3:], nbytes)
    for version in range(256):
        _decode_or_raise(bytes([version]) + frame[1:], nbytes)


def test_lying_header_fields_raise():
    buf = _data("small", 50_000)
    frame = kb.compress(buf, 4, 5, 1, "lz4")
    nblocks = -(-len(buf) // kb.cbuffer_sizes(frame)[2])

    def patched(pos, fmt, value):
        f = bytearray(frame)
        struct.pack_into(fmt, f, pos, value)
        return bytes(f)

    for nbytes in (0, 1, len(buf) - 1, len(buf) + 1, 2**31 - 1, -1):
        with pytest.raises(ChunkDecodeError, match="nbytes|blocksize|header"):
            kb.decompress(patched(4, "<i", nbytes), len(buf))
    for blocksize in (0, -1, len(buf) + 1, 2**31 - 1):
        with pytest.raises(ChunkDecodeError):
            kb.decompress(patched(8, "<i", blocksize), len(buf))
    for cbytes in (0, 15, len(frame) + 1, 2**31 - 1, -5):
        with pytest.raises(ChunkDecodeError):
            kb.decompress(patched(12, "<i", cbytes), len(buf))
    with pytest.raises(ChunkDecodeError):
        kb.decompress(patched(3, "<B", 0), len(buf))
    for j in range(nblocks):
        for off in (-1, 0, 15, 16 + 4 * nblocks - 1, len(frame), 2**31 - 1):
            with pytest.raises(ChunkDecodeError, match="offsets"):
                kb.decompress(patched(16 + 4 * j, "<i", off), len(buf))
    first_stream = struct.unpack_from("<i", frame, 16)[0]
    with pytest.raises(ChunkDecodeError, match="offsets"):
        kb.decompress(patched(first_stream, "<i", len(frame)), len(buf))


def test_decode_size_mismatch_raises():
    buf = _data("ramp", 10_000)
    frame = kb.compress(buf, 8, 5, 1, "zstd")
    for size in (0, len(buf) - 1, len(buf) + 1):
        with pytest.raises(ChunkDecodeError, match="nbytes"):
            kb.decompress_into(frame, bytearray(size))
        with pytest.raises(ChunkDecodeError, match="nbytes"):
            kb.decompress(frame, size)
    with pytest.raises(ChunkDecodeError):
        ref.decompress_py(frame, len(buf) + 1)


# --- arguments, messages, threads --------------------------------------------------------------------------------
def test_bad_arguments_raise_codec_error():
    with pytest.raises(CodecError, match="blosclz"):
        kb.compress(b"x" * 1000, 1, 5, 1, "blosclz")
    with pytest.raises(CodecError, match="cname"):
        kb.compress(b"x" * 1000, 1, 5, 1, "snappy")
    with pytest.raises(CodecError, match="clevel"):
        kb.compress(b"x" * 1000, 1, 10, 1, "lz4")
    with pytest.raises(CodecError, match="shuffle"):
        kb.compress(b"x" * 1000, 1, 5, 3, "lz4")
    with pytest.raises(CodecError, match="typesize"):
        kb.compress(b"x" * 1000, 0, 5, 1, "lz4")
    with pytest.raises(CodecError):
        ref.compress_py(b"x", 1, 5, 1, "blosclz")


def test_every_error_code_has_a_message():
    fallback = kb.error_message(-1)
    messages = {kb.error_message(code) for code in kb.ERROR_CODES.values()}
    assert all(code < 0 for code in kb.ERROR_CODES.values())
    assert fallback not in messages and len(messages) == len(kb.ERROR_CODES)


def test_kernels_are_thread_safe():
    bufs = [_data(kind, 200_000, i) for i, kind in enumerate(["small", "ramp", "runs", "random"] * 4)]

    def roundtrip(i):
        cname = CNAMES[i % 4]
        frame = kb.compress(bufs[i], 1 + i % 8, 5, i % 3, cname)
        return kb.decompress(frame, len(bufs[i])) == bufs[i]

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(roundtrip, range(len(bufs))))


def test_numpy_buffers_are_accepted():
    a = np.arange(10_000, dtype="<i4").reshape(100, 100)
    frame = kb.compress(a, 4, 5, 1, "lz4")
    assert frame == kb.compress(a.tobytes(), 4, 5, 1, "lz4")
    assert _header(frame) == _header(ref.compress_py(a, 4, 5, 1, "lz4"))
    out = np.empty_like(a)
    kb.decompress_into(frame, out)
    np.testing.assert_array_equal(out, a)
    f_order = np.asfortranarray(a)
    assert kb.decompress(kb.compress(f_order, 4), a.nbytes) == f_order.tobytes(order="F")
