"""Pure-Python reference of the Blosc kernels in ``zarrfast._ext.blosc``.

``compress_py`` writes the same Blosc1 frames as the Cython encoder (c-blosc 1.x layout and block-size rules, payloads
from ``lz4.block``, ``zstandard`` and ``zlib``, (bit)shuffles in numpy); ``decompress_py`` reads the Blosc1 frames it
and numcodecs write (lz4, lz4hc, zstd, zlib; no/byte/bit shuffle; memcpyed; split and unsplit blocks), following
c-blosc 1.x's decoder.  Slow by design: it exists to be obviously right and to be compared with the fast path.

Frame layout (little-endian): 16-byte header ``version=2, versionlz=1, flags, typesize, nbytes:i32, blocksize:i32,
cbytes:i32``; flags bit0 byte shuffle, bit1 memcpyed, bit2 bit shuffle, bit4 don't split, bits 5-7 compressor format.
Then (unless memcpyed) an i32 start offset per block and, per block, 1 or ``typesize`` streams, each an i32 size and
its payload (stored raw when the size equals the stream's uncompressed size).
"""
from __future__ import annotations

import struct
import zlib

import lz4.block
import numpy as np
import zstandard

from ..errors import ChunkDecodeError, ChunkEncodeError, CodecError

HEADER = 16
MIN_BUFFERSIZE = 128
MAX_SPLITS = 16
L1 = 32 * 1024
MAX_TYPESIZE = 255
MAX_BLOCKSIZE = 536866816  # libblosc2's limit, which the fast encoder also applies to forced block sizes
MAX_BUFFERSIZE = 2**31 - 1 - HEADER
FLAG_SHUFFLE = 0x1
FLAG_MEMCPYED = 0x2
FLAG_BITSHUFFLE = 0x4
FLAG_DONT_SPLIT = 0x10
#: Blosc compressor formats (header bits 5-7) of the compressors this module writes
COMPFORMATS = {"lz4": 1, "lz4hc": 1, "zlib": 3, "zstd": 4}
_FORMAT_NAMES = {0: "blosclz", 1: "lz4", 2: "snappy", 3: "zlib", 4: "zstd"}
_HCR = ("lz4hc", "zlib", "zstd")


def _raw(src) -> bytes:
    """The bytes of a contiguous buffer in memory order."""
    if isinstance(src, bytes):
        return src
    return memoryview(src).tobytes(order="A")


def split_py(cname: str, typesize: int, blocksize: int) -> bool:
    """c-blosc 1.x's default rule for splitting blocks into typesize streams."""
    return cname != "zstd" and typesize <= MAX_SPLITS and blocksize // typesize >= MIN_BUFFERSIZE


def compute_blocksize_py(nbytes: int, typesize: int, clevel: int, cname: str, blocksize: int = 0) -> int:
    """The block size c-blosc 1.x (compute_blocksize) picks for these parameters."""
    if nbytes < typesize:
        return 1
    hcr = cname in _HCR
    bs = nbytes
    if blocksize:
        bs = min(max(blocksize, MIN_BUFFERSIZE), MAX_BLOCKSIZE)
    elif nbytes >= L1:
        bs = L1 * 2 if hcr else L1
        factor = {0: 0.25, 1: 0.5, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 8, 8: 8, 9: 16 if hcr else 8}[clevel]
        bs = int(bs * factor)
    if clevel > 0 and split_py(cname, typesize, bs):
        bs = min(max(min(bs, 256 * 1024) * typesize, 64 * 1024), 1024 * 1024)
    bs = min(bs, nbytes)
    if bs > typesize:
        bs = bs // typesize * typesize
    return bs


def shuffle_py(buf, typesize: int) -> bytes:
    """Byte shuffle of one block: out[j*n + i] = in[i*typesize + j]; the trailing partial element is kept as is."""
    buf = _raw(buf)
    n = len(buf) // typesize
    a = np.frombuffer(buf, np.uint8, n * typesize).reshape(n, typesize)
    return a.T.tobytes() + buf[n * typesize:]


def unshuffle_py(buf, typesize: int) -> bytes:
    """Inverse of shuffle_py."""
    buf = _raw(buf)
    n = len(buf) // typesize
    a = np.frombuffer(buf, np.uint8, n * typesize).reshape(typesize, n)
    return a.T.tobytes() + buf[n * typesize:]


def bitshuffle_py(buf, typesize: int) -> bytes:
    """Bit shuffle of one block as c-blosc 1.x: only when the element count is a multiple of 8, else unchanged.

    bit b of out[(j*8 + k) * n/8 + m] = bit k of byte j of element 8*m + b.
    """
    buf = _raw(buf)
    n = len(buf) // typesize
    if n % 8:
        return buf
    rows = np.frombuffer(buf, np.uint8, n * typesize).reshape(n, typesize).T  # [byte j][element i]
    bits = np.unpackbits(rows, axis=1, bitorder="little").reshape(typesize, n, 8)  # [j][i][bit k]
    planes = np.ascontiguousarray(bits.transpose(0, 2, 1))  # [j][k][i]
    return np.packbits(planes, axis=2, bitorder="little").tobytes() + buf[n * typesize:]


def bitunshuffle_py(buf, typesize: int) -> bytes:
    """Inverse of bitshuffle_py."""
    buf = _raw(buf)
    n = len(buf) // typesize
    if n % 8:
        return buf
    packed = np.frombuffer(buf, np.uint8, n * typesize).reshape(typesize, 8, n // 8)
    planes = np.unpackbits(packed, axis=2, bitorder="little")  # [j][k][i]
    bits = np.ascontiguousarray(planes.transpose(0, 2, 1))  # [j][i][k]
    rows = np.packbits(bits, axis=2, bitorder="little").reshape(typesize, n)
    return rows.T.tobytes() + buf[n * typesize:]


def _compress_stream(cname: str, clevel: int, data: bytes) -> bytes:
    """One stream with c-blosc 1.x's per-codec settings (no output limit)."""
    if cname == "lz4":
        return lz4.block.compress(data, mode="fast", acceleration=10 - clevel, store_size=False)
    if cname == "lz4hc":
        return lz4.block.compress(data, mode="high_compression", compression=clevel, store_size=False)
    if cname == "zlib":
        return zlib.compress(data, clevel)
    level = clevel * 2 - 1 if clevel < 9 else zstandard.MAX_COMPRESSION_LEVEL
    return zstandard.ZstdCompressor(level=level).compress(data)


def _encode_blocks(data: bytes, typesize: int, clevel: int, cname: str, flags: int, blocksize: int) -> bytes | None:
    """Offsets table and block streams, or None when the frame would exceed nbytes + 16 (-> memcpyed)."""
    nbytes = len(data)
    maxbytes = nbytes + HEADER
    nblocks, leftover = divmod(nbytes, blocksize)
    nblocks += leftover > 0
    ntbytes = HEADER + 4 * nblocks
    if ntbytes > maxbytes:
        return None
    starts, body = [], []
    for j in range(nblocks):
        starts.append(ntbytes)
        last = j == nblocks - 1 and leftover > 0
        block = data[j * blocksize: j * blocksize + (leftover if last else blocksize)]
        bsize = len(block)
        if flags & FLAG_SHUFFLE and typesize > 1:
            block = shuffle_py(block, typesize)
        elif flags & FLAG_BITSHUFFLE and bsize >= typesize:
            block = bitshuffle_py(block, typesize)
        nsplits = typesize if not (flags & FLAG_DONT_SPLIT) and not last else 1
        neblock = bsize // nsplits
        for s in range(nsplits):
            ntbytes += 4
            maxout = neblock
            if ntbytes + maxout > maxbytes:
                maxout = maxbytes - ntbytes
                if maxout <= 0:
                    return None
            stream = block[s * neblock: (s + 1) * neblock]
            payload = _compress_stream(cname, clevel, stream)
            if len(payload) > maxout or len(payload) == neblock:
                payload = b""
            if not payload:
                if ntbytes + neblock > maxbytes:
                    return None
                payload = stream
            body.append(struct.pack("<i", len(payload)))
            body.append(payload)
            ntbytes += len(payload)
    return struct.pack(f"<{nblocks}i", *starts) + b"".join(body)


def compress_py(src, typesize: int, clevel: int = 5, shuffle: int = 1, cname: str = "lz4", blocksize: int = 0) -> bytes:
    """Reference of ``zarrfast._ext.blosc.compress``: the same Blosc1 frame, built in Python."""
    if cname not in COMPFORMATS:
        raise CodecError(f"blosc reference: cannot write cname {cname!r}")
    if not 0 <= clevel <= 9 or shuffle not in (0, 1, 2) or typesize < 1 or blocksize < 0:
        raise CodecError(f"blosc reference: bad parameters clevel={clevel} shuffle={shuffle} typesize={typesize}")
    data = _raw(src)
    nbytes = len(data)
    if nbytes > MAX_BUFFERSIZE:
        raise ChunkEncodeError(f"blosc reference: {nbytes} bytes exceed the Blosc1 limit")
    if typesize > MAX_TYPESIZE:
        typesize = 1
    bs = compute_blocksize_py(nbytes, typesize, clevel, cname, blocksize)
    flags = COMPFORMATS[cname] << 5
    flags |= {0: 0, 1: FLAG_SHUFFLE, 2: FLAG_BITSHUFFLE}[shuffle]
    if not split_py(cname, typesize, bs):
        flags |= FLAG_DONT_SPLIT
    body = None
    if clevel > 0 and nbytes >= MIN_BUFFERSIZE:
        body = _encode_blocks(data, typesize, clevel, cname, flags, bs)
    if body is None:
        flags |= FLAG_MEMCPYED
        body = data
    return struct.pack("<BBBBiii", 2, 1, flags, typesize, nbytes, bs, HEADER + len(body)) + body


def _decompress_stream(compformat: int, payload: bytes, neblock: int) -> bytes:
    try:
        if compformat == 1:
            out = lz4.block.decompress(payload, uncompressed_size=neblock)
        elif compformat == 3:
            out = zlib.decompressobj().decompress(payload, neblock + 1)  # bounded: never more than one byte extra
        elif compformat == 4:
            if zstandard.frame_content_size(payload) > neblock:  # the frame would allocate what it claims
                raise ChunkDecodeError(f"blosc reference: zstd stream claims more than {neblock} bytes")
            out = zstandard.ZstdDecompressor().decompress(payload, max_output_size=neblock)
        else:
            raise CodecError(f"blosc reference: cannot decode the {_FORMAT_NAMES.get(compformat, compformat)!r} format")
    except (lz4.block.LZ4BlockError, zlib.error, zstandard.ZstdError) as exc:
        raise ChunkDecodeError(f"blosc reference: corrupt stream ({exc})") from None
    if len(out) != neblock:
        raise ChunkDecodeError(f"blosc reference: stream decoded to {len(out)} bytes, expected {neblock}")
    return out


def decompress_py(src, expected_nbytes: int) -> bytes:
    """Reference decoder of Blosc1 frames (c-blosc 1.x rules); ChunkDecodeError on anything malformed."""
    data = _raw(src)
    if len(data) < HEADER:
        raise ChunkDecodeError(f"blosc reference: {len(data)} bytes is shorter than the header")
    version, _versionlz, flags, typesize, nbytes, blocksize, cbytes = struct.unpack_from("<BBBBiii", data)
    if version != 2 or flags & 0x08 or (flags & 0x05) == 0x05:
        raise ChunkDecodeError(f"blosc reference: not a Blosc1 frame (version {version}, flags {flags:#x})")
    if cbytes < HEADER or cbytes > len(data):
        raise ChunkDecodeError(f"blosc reference: cbytes {cbytes} outside 16..{len(data)}")
    if nbytes != expected_nbytes:
        raise ChunkDecodeError(f"blosc reference: header nbytes {nbytes} != expected {expected_nbytes}")
    if nbytes == 0:
        return b""
    if typesize == 0 or not 0 < blocksize <= min(nbytes, MAX_BLOCKSIZE):
        raise ChunkDecodeError(f"blosc reference: bad typesize {typesize} or blocksize {blocksize}")
    if flags & FLAG_MEMCPYED:
        if cbytes != nbytes + HEADER:
            raise ChunkDecodeError("blosc reference: memcpyed frame with cbytes != nbytes + 16")
        return data[HEADER: HEADER + nbytes]
    nblocks, leftover = divmod(nbytes, blocksize)
    nblocks += leftover > 0
    table_end = HEADER + 4 * nblocks
    if table_end > cbytes:
        raise ChunkDecodeError("blosc reference: block offset table exceeds cbytes")
    starts = struct.unpack_from(f"<{nblocks}i", data, HEADER)
    out = bytearray(nbytes)
    for j, off in enumerate(starts):
        last = j == nblocks - 1 and leftover > 0
        bsize = leftover if last else blocksize
        if not table_end <= off < cbytes:
            raise ChunkDecodeError(f"blosc reference: block {j} starts at {off}, outside {table_end}..{cbytes}")
        # the stream count comes from the flag alone (as libblosc2 reads it; encoders set "don't split"
        # whenever split_py is false), not from re-applying split_py to the header's typesize
        nsplits = typesize if not flags & FLAG_DONT_SPLIT and not last else 1
        neblock = bsize // nsplits
        pieces = []
        for _ in range(nsplits):
            if off + 4 > cbytes:
                raise ChunkDecodeError(f"blosc reference: block {j} stream header outside the frame")
            (cs,) = struct.unpack_from("<i", data, off)
            off += 4
            if not 0 <= cs <= cbytes - off:
                raise ChunkDecodeError(f"blosc reference: block {j} stream size {cs} outside the frame")
            payload = data[off: off + cs]
            off += cs
            pieces.append(payload if cs == neblock else _decompress_stream(flags >> 5, payload, neblock))
        block = b"".join(pieces)
        if len(block) != bsize:
            raise ChunkDecodeError(f"blosc reference: block {j} decoded to {len(block)} bytes, expected {bsize}")
        if flags & FLAG_SHUFFLE and typesize > 1:
            block = unshuffle_py(block, typesize)
        elif flags & FLAG_BITSHUFFLE and bsize >= typesize:
            block = bitunshuffle_py(block, typesize)
        out[j * blocksize: j * blocksize + bsize] = block
    return bytes(out)
