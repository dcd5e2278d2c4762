# Blosc kernels: encode chunks in the Blosc1 frame format (what numcodecs / c-blosc 1.x write), decode any Blosc1
# or Blosc2 chunk through libblosc2.
#
# Textually included (`include "blosc_impl.pxi"`): C-level `noexcept nogil` functions only, every name prefixed
# `zf_blosc_` (shuffles: `zf_shuf_`), no module-level Python objects.  Temporary buffers are malloc'ed per call.
# A module including this file must call `blosc2_init()` once at import (libblosc2 registers its codecs there).
#
# Blosc1 frame (all integers little-endian):
#   0  version (2)          1  versionlz (1)        2  flags               3  typesize (1..255)
#   4  nbytes (int32)       8  blocksize (int32)    12 cbytes (int32, whole frame incl. header)
#   flags: bit0 byte shuffle, bit1 memcpyed, bit2 bit shuffle, bit4 "don't split", bits 5-7 compressor format.
#   memcpyed: the nbytes raw bytes follow the header.  Otherwise: an int32 start offset per block, then per block
#   1 or `typesize` streams (split), each an int32 compressed size followed by the payload; a stream whose size equals
#   its uncompressed size is stored raw.  The last block (leftover) is never split.

from libc.stdint cimport uint8_t, int32_t, uint32_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy, memset
from _libs cimport (blosc2_context, blosc2_dparams, BLOSC2_DPARAMS_DEFAULTS, blosc2_create_dctx, blosc2_free_ctx,
                    blosc2_decompress_ctx, blosc2_cbuffer_sizes, ZSTD_CCtx, ZSTD_createCCtx, ZSTD_freeCCtx,
                    ZSTD_compressCCtx, ZSTD_isError, LZ4_compress_fast, LZ4_compress_HC,
                    LZ4_decompress_safe)
from _zlibng cimport zng_compress2, zng_uncompress, ZARRFAST_Z_OK

include "shuffle_impl.pxi"

cdef extern from * nogil:
    """
    /* more entry points of the codecs bundled in libblosc2.a (their headers are not shipped) */
    int ZSTD_maxCLevel(void);
    size_t ZSTD_decompress(void* dst, size_t dstCapacity, const void* src, size_t compressedSize);
    int blosclz_decompress(const void* input, int length, void* output, int maxout);
    """
    int ZSTD_maxCLevel()
    size_t ZSTD_decompress(void* dst, size_t dstCapacity, const void* src, size_t compressedSize)
    int blosclz_decompress(const void* input, int length, void* output, int maxout)

cdef enum:
    # compressor codes (c-blosc's BLOSC_* compcodes)
    ZF_BLOSC_BLOSCLZ = 0
    ZF_BLOSC_LZ4 = 1
    ZF_BLOSC_LZ4HC = 2
    ZF_BLOSC_ZLIB = 4
    ZF_BLOSC_ZSTD = 5
    # shuffle codes (numcodecs' NOSHUFFLE / SHUFFLE / BITSHUFFLE)
    ZF_BLOSC_NOSHUFFLE = 0
    ZF_BLOSC_SHUFFLE = 1
    ZF_BLOSC_BITSHUFFLE = 2
    # format constants of c-blosc 1.x
    ZF_BLOSC_HEADER = 16                  # header length == BLOSC_MAX_OVERHEAD of c-blosc 1.x
    ZF_BLOSC_EXT_HEADER = 32              # Blosc2 extended header
    ZF_BLOSC_MIN_BUFFERSIZE = 128
    ZF_BLOSC_MAX_SPLITS = 16
    ZF_BLOSC_L1 = 32768
    ZF_BLOSC_MAX_TYPESIZE = 255
    ZF_BLOSC_MAX_BLOCKSIZE = 536866816    # libblosc2's limit (c-blosc 1.x allows 715827542; blosc2 can't read those)
    ZF_BLOSC_MAX_BUFFERSIZE = 2147483631  # INT_MAX - 16
    ZF_BLOSC_FLAG_SHUFFLE = 0x1
    ZF_BLOSC_FLAG_MEMCPYED = 0x2
    ZF_BLOSC_FLAG_BITSHUFFLE = 0x4
    ZF_BLOSC_FLAG_DONT_SPLIT = 0x10
    # error codes (negative returns)
    ZF_BLOSC_E_CNAME = -101
    ZF_BLOSC_E_BLOSCLZ = -102
    ZF_BLOSC_E_CLEVEL = -103
    ZF_BLOSC_E_SHUFFLE = -104
    ZF_BLOSC_E_TYPESIZE = -105
    ZF_BLOSC_E_TOO_LARGE = -106
    ZF_BLOSC_E_DST_SMALL = -107
    ZF_BLOSC_E_NOMEM = -108
    ZF_BLOSC_E_CODEC = -109
    ZF_BLOSC_E_TRUNCATED = -120
    ZF_BLOSC_E_HEADER = -121
    ZF_BLOSC_E_CBYTES = -122
    ZF_BLOSC_E_NBYTES = -123
    ZF_BLOSC_E_BLOCKSIZE = -124
    ZF_BLOSC_E_OFFSETS = -125
    ZF_BLOSC_E_DECODE = -126
    ZF_BLOSC_E_CTX = -127


cdef const char* zf_blosc_error_text(Py_ssize_t code) noexcept nogil:
    """A human message for a negative status code of the zf_blosc_* functions."""
    if code == ZF_BLOSC_E_CNAME:
        return "unknown blosc compressor code"
    if code == ZF_BLOSC_E_BLOSCLZ:
        return "writing blosclz is not supported (use lz4, lz4hc, zlib or zstd)"
    if code == ZF_BLOSC_E_CLEVEL:
        return "clevel must be between 0 and 9"
    if code == ZF_BLOSC_E_SHUFFLE:
        return "shuffle must be 0 (none), 1 (byte) or 2 (bit)"
    if code == ZF_BLOSC_E_TYPESIZE:
        return "typesize must be at least 1"
    if code == ZF_BLOSC_E_TOO_LARGE:
        return "input is larger than blosc's 2 GiB - 16 bytes limit"
    if code == ZF_BLOSC_E_DST_SMALL:
        return "output buffer too small (needs nbytes + 16 bytes)"
    if code == ZF_BLOSC_E_NOMEM:
        return "out of memory"
    if code == ZF_BLOSC_E_CODEC:
        return "the compressor library failed"
    if code == ZF_BLOSC_E_TRUNCATED:
        return "blosc chunk is truncated (shorter than its header or its cbytes field)"
    if code == ZF_BLOSC_E_HEADER:
        return "blosc header is invalid (version, typesize or flags)"
    if code == ZF_BLOSC_E_CBYTES:
        return "blosc header cbytes field is inconsistent"
    if code == ZF_BLOSC_E_NBYTES:
        return "blosc header nbytes differs from the expected decoded size"
    if code == ZF_BLOSC_E_BLOCKSIZE:
        return "blosc header blocksize is invalid"
    if code == ZF_BLOSC_E_OFFSETS:
        return "blosc block offsets or stream sizes point outside the chunk"
    if code == ZF_BLOSC_E_DECODE:
        return "blosc payload could not be decompressed (corrupt data)"
    if code == ZF_BLOSC_E_CTX:
        return "could not create a blosc2 decompression context"
    return "unknown blosc error"


cdef inline void zf_blosc_put32(uint8_t* p, uint32_t v) noexcept nogil:
    p[0] = <uint8_t>v
    p[1] = <uint8_t>(v >> 8)
    p[2] = <uint8_t>(v >> 16)
    p[3] = <uint8_t>(v >> 24)


cdef inline int32_t zf_blosc_get32(const uint8_t* p) noexcept nogil:
    return <int32_t>(<uint32_t>p[0] | (<uint32_t>p[1] << 8) | (<uint32_t>p[2] << 16) | (<uint32_t>p[3] << 24))


cdef Py_ssize_t zf_blosc_max_compressed_size(size_t nbytes) noexcept nogil:
    """Upper bound of an encoded chunk: the memcpyed fallback is never larger than nbytes + 16."""
    return <Py_ssize_t>(nbytes + ZF_BLOSC_HEADER)


cdef inline bint zf_blosc_split(int cname, size_t typesize, size_t blocksize) noexcept nogil:
    """c-blosc 1.x's default (FORWARD_COMPAT) rule for splitting a block into typesize streams."""
    return cname != ZF_BLOSC_ZSTD and typesize <= ZF_BLOSC_MAX_SPLITS and blocksize // typesize >= ZF_BLOSC_MIN_BUFFERSIZE


cdef size_t zf_blosc_compute_blocksize(int cname, int clevel, size_t typesize, size_t nbytes,
                                       size_t forced) noexcept nogil:
    """The block size c-blosc 1.x picks (compute_blocksize), so ratios and frames match numcodecs."""
    cdef size_t bs = nbytes
    cdef bint hcr = cname == ZF_BLOSC_LZ4HC or cname == ZF_BLOSC_ZLIB or cname == ZF_BLOSC_ZSTD
    if nbytes < typesize:
        return 1
    if forced:
        bs = forced
        if bs < ZF_BLOSC_MIN_BUFFERSIZE:
            bs = ZF_BLOSC_MIN_BUFFERSIZE
        if bs > ZF_BLOSC_MAX_BLOCKSIZE:
            bs = ZF_BLOSC_MAX_BLOCKSIZE
    elif nbytes >= ZF_BLOSC_L1:
        bs = ZF_BLOSC_L1 * 2 if hcr else ZF_BLOSC_L1
        if clevel == 0:
            bs //= 4
        elif clevel == 1:
            bs //= 2
        elif clevel == 3:
            bs *= 2
        elif clevel == 4 or clevel == 5:
            bs *= 4
        elif clevel >= 6 and clevel <= 8:
            bs *= 8
        elif clevel == 9:
            bs *= 16 if hcr else 8
    if clevel > 0 and zf_blosc_split(cname, typesize, bs):
        # split streams: at most 256 KiB each, a block of 64 KiB .. 1 MiB
        if bs > 262144:
            bs = 262144
        bs *= typesize
        if bs < 65536:
            bs = 65536
        if bs > 1048576:
            bs = 1048576
    if bs > nbytes:
        bs = nbytes
    if bs > typesize:
        bs = bs // typesize * typesize
    return bs


cdef Py_ssize_t zf_blosc_codec(int cname, int clevel, const uint8_t* src, Py_ssize_t n, uint8_t* dst,
                               Py_ssize_t maxout, ZSTD_CCtx* cctx) noexcept nogil:
    """Compress one stream with at most maxout output bytes; 0 = doesn't fit (or incompressible)."""
    cdef size_t zlen
    cdef size_t r
    if cname == ZF_BLOSC_LZ4:
        return LZ4_compress_fast(<const char*>src, <char*>dst, <int>n, <int>maxout, 10 - clevel)
    if cname == ZF_BLOSC_LZ4HC:
        return LZ4_compress_HC(<const char*>src, <char*>dst, <int>n, <int>maxout, clevel)
    if cname == ZF_BLOSC_ZLIB:
        zlen = <size_t>maxout
        if zng_compress2(dst, &zlen, src, <size_t>n, clevel) != ZARRFAST_Z_OK:
            return 0
        return <Py_ssize_t>zlen
    # zstd: c-blosc maps clevel 1..8 to 2*clevel-1 and 9 to the maximum level
    r = ZSTD_compressCCtx(cctx, dst, <size_t>maxout, src, <size_t>n,
                          clevel * 2 - 1 if clevel < 9 else ZSTD_maxCLevel())
    if ZSTD_isError(r):
        return 0
    return <Py_ssize_t>r


cdef Py_ssize_t zf_blosc_block(int cname, int clevel, int flags, size_t typesize, const uint8_t* src, Py_ssize_t bsize,
                               bint leftover, Py_ssize_t ntbytes, Py_ssize_t maxbytes, uint8_t* dst, uint8_t* tmp,
                               uint8_t* scratch, ZSTD_CCtx* cctx) noexcept nogil:
    """Shuffle and compress one block at dst (== frame start + ntbytes), as c-blosc's blosc_c.

    Returns the bytes written, 0 when the frame can't stay within maxbytes (caller falls back to memcpy), or < 0.
    """
    cdef const uint8_t* data = src
    cdef Py_ssize_t nsplits = 1, neblock, j, maxout, cbytes, written = 0
    if (flags & ZF_BLOSC_FLAG_SHUFFLE) and typesize > 1:
        zf_shuf_bytes(src, tmp, <size_t>bsize, typesize)
        data = tmp
    elif (flags & ZF_BLOSC_FLAG_BITSHUFFLE) and <size_t>bsize >= typesize:
        zf_shuf_bitshuffle_block(src, tmp, <size_t>bsize, typesize, scratch)
        data = tmp
    if not (flags & ZF_BLOSC_FLAG_DONT_SPLIT) and not leftover:
        nsplits = <Py_ssize_t>typesize
    neblock = bsize // nsplits
    for j in range(nsplits):
        dst += 4
        ntbytes += 4
        written += 4
        maxout = neblock
        if ntbytes + maxout > maxbytes:
            maxout = maxbytes - ntbytes
            if maxout <= 0:
                return 0
        cbytes = zf_blosc_codec(cname, clevel, data + j * neblock, neblock, dst, maxout, cctx)
        if cbytes > maxout or cbytes < 0:
            return ZF_BLOSC_E_CODEC
        if cbytes == 0 or cbytes == neblock:
            # incompressible stream: stored raw
            if ntbytes + neblock > maxbytes:
                return 0
            memcpy(dst, data + j * neblock, <size_t>neblock)
            cbytes = neblock
        zf_blosc_put32(dst - 4, <uint32_t>cbytes)
        dst += cbytes
        ntbytes += cbytes
        written += cbytes
    return written


cdef Py_ssize_t zf_blosc_compress_ctx(const uint8_t* src, size_t nbytes, size_t typesize, int clevel, int shuffle,
                                      int cname, size_t blocksize, uint8_t* dst, size_t dst_capacity,
                                      ZSTD_CCtx* cctx) noexcept nogil:
    """zf_blosc_compress with an optional caller-owned zstd context (NULL: one is made for the call)."""
    cdef Py_ssize_t maxbytes, ntbytes, nblocks, leftover, j, bsize, r
    cdef int flags = 0, compformat
    cdef uint8_t* tmp = NULL
    cdef uint8_t* scratch = NULL
    cdef bint own_cctx = False
    cdef bint memcpyed
    if cname == ZF_BLOSC_LZ4 or cname == ZF_BLOSC_LZ4HC:
        compformat = 1
    elif cname == ZF_BLOSC_ZLIB:
        compformat = 3
    elif cname == ZF_BLOSC_ZSTD:
        compformat = 4
    elif cname == ZF_BLOSC_BLOSCLZ:
        return ZF_BLOSC_E_BLOSCLZ
    else:
        return ZF_BLOSC_E_CNAME
    if clevel < 0 or clevel > 9:
        return ZF_BLOSC_E_CLEVEL
    if shuffle < 0 or shuffle > 2:
        return ZF_BLOSC_E_SHUFFLE
    if typesize < 1:
        return ZF_BLOSC_E_TYPESIZE
    if nbytes > ZF_BLOSC_MAX_BUFFERSIZE:
        return ZF_BLOSC_E_TOO_LARGE
    if typesize > ZF_BLOSC_MAX_TYPESIZE:
        typesize = 1  # as c-blosc: a stream of bytes
    # c-blosc is given destsize = nbytes + 16 by numcodecs; emulate it so that the same blocks fall back to memcpy
    maxbytes = <Py_ssize_t>(nbytes + ZF_BLOSC_HEADER)
    if <Py_ssize_t>dst_capacity < maxbytes:
        maxbytes = <Py_ssize_t>dst_capacity
    if maxbytes < ZF_BLOSC_HEADER:
        return ZF_BLOSC_E_DST_SMALL
    blocksize = zf_blosc_compute_blocksize(cname, clevel, typesize, nbytes, blocksize)
    nblocks = <Py_ssize_t>(nbytes // blocksize)
    leftover = <Py_ssize_t>(nbytes % blocksize)
    if leftover > 0:
        nblocks += 1
    if shuffle == ZF_BLOSC_SHUFFLE:
        flags |= ZF_BLOSC_FLAG_SHUFFLE
    elif shuffle == ZF_BLOSC_BITSHUFFLE:
        flags |= ZF_BLOSC_FLAG_BITSHUFFLE
    if not zf_blosc_split(cname, typesize, blocksize):
        flags |= ZF_BLOSC_FLAG_DONT_SPLIT
    flags |= compformat << 5
    dst[0] = 2
    dst[1] = 1
    dst[3] = <uint8_t>typesize
    zf_blosc_put32(dst + 4, <uint32_t>nbytes)
    zf_blosc_put32(dst + 8, <uint32_t>blocksize)
    memcpyed = clevel == 0 or nbytes < ZF_BLOSC_MIN_BUFFERSIZE
    ntbytes = ZF_BLOSC_HEADER + 4 * nblocks
    if ntbytes > maxbytes:
        memcpyed = True
    if not memcpyed:
        if shuffle != ZF_BLOSC_NOSHUFFLE:
            tmp = <uint8_t*>malloc(2 * blocksize)
            if tmp == NULL:
                return ZF_BLOSC_E_NOMEM
            scratch = tmp + blocksize
        if cname == ZF_BLOSC_ZSTD and cctx == NULL:
            cctx = ZSTD_createCCtx()
            if cctx == NULL:
                free(tmp)
                return ZF_BLOSC_E_NOMEM
            own_cctx = True
        for j in range(nblocks):
            zf_blosc_put32(dst + ZF_BLOSC_HEADER + 4 * j, <uint32_t>ntbytes)
            bsize = <Py_ssize_t>blocksize
            if j == nblocks - 1 and leftover > 0:
                bsize = leftover
            r = zf_blosc_block(cname, clevel, flags, typesize, src + j * <Py_ssize_t>blocksize, bsize,
                               j == nblocks - 1 and leftover > 0, ntbytes, maxbytes, dst + ntbytes, tmp, scratch,
                               cctx)
            if r <= 0:
                ntbytes = r
                break
            ntbytes += r
        free(tmp)
        if own_cctx:
            ZSTD_freeCCtx(cctx)
        if ntbytes < 0:
            return ntbytes
        memcpyed = ntbytes == 0
    if memcpyed:
        if <Py_ssize_t>nbytes + ZF_BLOSC_HEADER > maxbytes:
            return ZF_BLOSC_E_DST_SMALL
        flags |= ZF_BLOSC_FLAG_MEMCPYED
        memcpy(dst + ZF_BLOSC_HEADER, src, nbytes)
        ntbytes = <Py_ssize_t>nbytes + ZF_BLOSC_HEADER
    dst[2] = <uint8_t>flags
    zf_blosc_put32(dst + 12, <uint32_t>ntbytes)
    return ntbytes


cdef Py_ssize_t zf_blosc_compress(const uint8_t* src, size_t nbytes, size_t typesize, int clevel, int shuffle,
                                  int cname, size_t blocksize, uint8_t* dst, size_t dst_capacity) noexcept nogil:
    """Encode nbytes of src as one Blosc1 frame in dst; returns its size or a negative ZF_BLOSC_E_* code.

    shuffle: 0 none / 1 byte / 2 bit; cname: ZF_BLOSC_LZ4 / LZ4HC / ZLIB / ZSTD; blocksize 0 = automatic (c-blosc 1.x
    rules).  dst_capacity >= zf_blosc_max_compressed_size(nbytes) always suffices.
    """
    return zf_blosc_compress_ctx(src, nbytes, typesize, clevel, shuffle, cname, blocksize, dst, dst_capacity, NULL)


cdef Py_ssize_t zf_blosc_check_blosc1(const uint8_t* src, Py_ssize_t cbytes, Py_ssize_t nbytes,
                                      Py_ssize_t blocksize, int flags, Py_ssize_t typesize) noexcept nogil:
    """Walk a compressed Blosc1 frame's block offsets and stream sizes; every one must stay within cbytes.

    Streams are counted as libblosc2 reads them (typesize streams unless "don't split" or the leftover block).
    """
    cdef Py_ssize_t nblocks = nbytes // blocksize, leftover = nbytes % blocksize
    cdef Py_ssize_t table_end, j, s, off, nstreams, bsize, cs
    if leftover > 0:
        nblocks += 1
    table_end = ZF_BLOSC_HEADER + 4 * nblocks
    if table_end > cbytes:
        return ZF_BLOSC_E_OFFSETS
    for j in range(nblocks):
        off = zf_blosc_get32(src + ZF_BLOSC_HEADER + 4 * j)
        if off < table_end or off >= cbytes:
            return ZF_BLOSC_E_OFFSETS
        bsize = leftover if (j == nblocks - 1 and leftover > 0) else blocksize
        nstreams = 1 if ((flags & ZF_BLOSC_FLAG_DONT_SPLIT) or (j == nblocks - 1 and leftover > 0)) else typesize
        if bsize // nstreams == 0:
            return ZF_BLOSC_E_OFFSETS
        for s in range(nstreams):
            if off + 4 > cbytes:
                return ZF_BLOSC_E_OFFSETS
            cs = zf_blosc_get32(src + off)
            off += 4
            if cs > 0:
                if cs > cbytes - off:
                    return ZF_BLOSC_E_OFFSETS
                off += cs
            elif cs < 0:
                # a run (libblosc2 extension): one token byte follows
                if off + 1 > cbytes:
                    return ZF_BLOSC_E_OFFSETS
                off += 1
    return 0


cdef Py_ssize_t zf_blosc_stream_decode(int compformat, const uint8_t* src, Py_ssize_t cs, uint8_t* dst,
                                      Py_ssize_t neblock) noexcept nogil:
    """Decode one stream of a Blosc1 block into neblock bytes (bounds of src already checked); 0 or < 0."""
    cdef size_t zlen
    cdef size_t zr
    cdef Py_ssize_t r = -1
    if cs == neblock:
        memcpy(dst, src, <size_t>neblock)
        return 0
    if cs == 0:
        memset(dst, 0, <size_t>neblock)  # libblosc2's run of zeros
        return 0
    if cs < 0:
        if cs < -255 or not (src[0] & 1):
            return ZF_BLOSC_E_DECODE
        memset(dst, <int>(-cs), <size_t>neblock)  # libblosc2's run of one byte value
        return 0
    if compformat == 0:
        r = blosclz_decompress(src, <int>cs, dst, <int>neblock)
    elif compformat == 1:
        r = LZ4_decompress_safe(<const char*>src, <char*>dst, <int>cs, <int>neblock)
    elif compformat == 3:
        zlen = <size_t>neblock
        if zng_uncompress(dst, &zlen, src, <size_t>cs) == ZARRFAST_Z_OK:
            r = <Py_ssize_t>zlen
    elif compformat == 4:
        zr = ZSTD_decompress(dst, <size_t>neblock, src, <size_t>cs)
        if not ZSTD_isError(zr):
            r = <Py_ssize_t>zr
    return 0 if r == neblock else ZF_BLOSC_E_DECODE


cdef Py_ssize_t zf_blosc_repair_bitshuffle(const uint8_t* src, Py_ssize_t nbytes, Py_ssize_t blocksize, int flags,
                                          Py_ssize_t typesize, uint8_t* dst) noexcept nogil:
    """Rewrite the bytes libblosc2 gets wrong in bit-shuffled Blosc1 frames.

    c-blosc 1.x stores the bytes after the last whole element of a block (the whole block when it is shorter than
    typesize) unshuffled; libblosc2 (3.3) leaves those bytes of dst unwritten when the block's element count is a
    multiple of 8.  This decodes just the affected blocks (rare: nbytes % typesize != 0, or blocksize < typesize)
    and copies those bytes.  The caller has validated the frame with zf_blosc_check_blosc1.
    """
    cdef Py_ssize_t nblocks = nbytes // blocksize, leftover = nbytes % blocksize
    cdef Py_ssize_t j, s, bsize, head, off, nstreams, neblock, cs, r
    cdef bint last
    cdef uint8_t* tmp = NULL
    if leftover > 0:
        nblocks += 1
    for j in range(nblocks):
        last = j == nblocks - 1 and leftover > 0
        bsize = leftover if last else blocksize
        if bsize % typesize == 0 or (bsize // typesize) % 8 != 0:
            continue
        head = bsize // typesize * typesize
        nstreams = 1 if ((flags & ZF_BLOSC_FLAG_DONT_SPLIT) or last) else typesize
        neblock = bsize // nstreams
        if neblock * nstreams != bsize:
            free(tmp)
            return ZF_BLOSC_E_DECODE
        if tmp == NULL:
            tmp = <uint8_t*>malloc(<size_t>blocksize)
            if tmp == NULL:
                return ZF_BLOSC_E_NOMEM
        off = zf_blosc_get32(src + ZF_BLOSC_HEADER + 4 * j)
        for s in range(nstreams):
            cs = zf_blosc_get32(src + off)
            off += 4
            r = zf_blosc_stream_decode(flags >> 5, src + off, cs, tmp + s * neblock, neblock)
            if r < 0:
                free(tmp)
                return r
            off += cs if cs > 0 else (1 if cs < 0 else 0)
        memcpy(dst + j * blocksize + head, tmp + head, <size_t>(bsize - head))
    free(tmp)
    return 0


cdef Py_ssize_t zf_blosc_decompress_ctx(blosc2_context* dctx, const uint8_t* src, size_t srclen, uint8_t* dst,
                                        size_t expected_nbytes, size_t need=0) noexcept nogil:
    """zf_blosc_decompress with an optional caller-owned libblosc2 decompression context (NULL: one per call).

    `need` (0: all): only the blocks holding the first `need` bytes are decoded (the rest of `dst` is undefined)."""
    cdef int32_t nbytes = 0, cbytes = 0, blocksize = 0, want
    cdef int flags, typesize, version, rc
    cdef bint extended, repair
    cdef Py_ssize_t r
    cdef blosc2_dparams dparams
    cdef bint own_ctx = False
    if srclen < ZF_BLOSC_HEADER:
        return ZF_BLOSC_E_TRUNCATED
    version = src[0]
    flags = src[2]
    typesize = src[3]
    extended = (flags & (ZF_BLOSC_FLAG_SHUFFLE | ZF_BLOSC_FLAG_BITSHUFFLE)) == (ZF_BLOSC_FLAG_SHUFFLE | ZF_BLOSC_FLAG_BITSHUFFLE)
    if extended and srclen < ZF_BLOSC_EXT_HEADER:
        return ZF_BLOSC_E_TRUNCATED
    # Blosc2 "special value" chunks (byte 31, bits 4-6): zeros, NaNs and a repeated value decode deterministically;
    # "uninitialized" (4) would hand back whatever memory held, and 5-7 are undefined: refused
    if extended and ((src[31] >> 4) & 0x7) >= 4:
        return ZF_BLOSC_E_HEADER
    if version == 0 or typesize == 0:
        return ZF_BLOSC_E_HEADER
    if blosc2_cbuffer_sizes(src, &nbytes, &cbytes, &blocksize) < 0:
        return ZF_BLOSC_E_HEADER
    if cbytes < ZF_BLOSC_HEADER or (extended and cbytes < ZF_BLOSC_EXT_HEADER):
        return ZF_BLOSC_E_CBYTES
    if <size_t>cbytes > srclen:
        return ZF_BLOSC_E_TRUNCATED
    if nbytes < 0 or <size_t>nbytes != expected_nbytes:
        return ZF_BLOSC_E_NBYTES
    if nbytes == 0:
        return 0
    # the raw field: libblosc2 reports a blocksize above nbytes as nbytes; c-blosc 1.x rejects it
    if blocksize <= 0 or zf_blosc_get32(src + 8) != blocksize or blocksize > nbytes or blocksize > ZF_BLOSC_MAX_BLOCKSIZE:
        return ZF_BLOSC_E_BLOCKSIZE
    if not extended:
        if flags & ZF_BLOSC_FLAG_MEMCPYED:
            if <Py_ssize_t>cbytes != <Py_ssize_t>nbytes + ZF_BLOSC_HEADER:
                return ZF_BLOSC_E_CBYTES
        else:
            r = zf_blosc_check_blosc1(src, cbytes, nbytes, blocksize, flags, typesize)
            if r < 0:
                return r
    if dctx == NULL:
        dparams = BLOSC2_DPARAMS_DEFAULTS
        dparams.nthreads = 1
        dctx = blosc2_create_dctx(dparams)
        if dctx == NULL:
            return ZF_BLOSC_E_CTX
        own_ctx = True
    repair = version == 2 and not extended and \
        (flags & (ZF_BLOSC_FLAG_BITSHUFFLE | ZF_BLOSC_FLAG_MEMCPYED)) == ZF_BLOSC_FLAG_BITSHUFFLE
    want = nbytes
    if 0 < need < <size_t>nbytes and not repair:
        need = (need + <size_t>typesize - 1) // <size_t>typesize * <size_t>typesize  # whole items of the chunk
        if (need + <size_t>blocksize - 1) // <size_t>blocksize < (<size_t>nbytes + <size_t>blocksize - 1) // <size_t>blocksize:
            want = <int32_t>need  # at least one block is skipped
    if want < nbytes:
        rc = blosc2_getitem_bytes_ctx(dctx, src, cbytes, 0, want, dst, nbytes)
    else:
        rc = blosc2_decompress_ctx(dctx, src, cbytes, dst, nbytes)
    if own_ctx:
        blosc2_free_ctx(dctx)
    if rc != want:
        return ZF_BLOSC_E_DECODE
    if want < nbytes:
        return rc
    if repair:
        r = zf_blosc_repair_bitshuffle(src, nbytes, blocksize, flags, typesize, dst)
        if r < 0:
            return r
    return rc


cdef Py_ssize_t zf_blosc_decompress(const uint8_t* src, size_t srclen, uint8_t* dst,
                                    size_t expected_nbytes) noexcept nogil:
    """Decode a Blosc1 or Blosc2 chunk of srclen bytes into dst (expected_nbytes long).

    The header is validated first (nbytes must equal expected_nbytes, cbytes within srclen, sane blocksize, Blosc1
    block offsets within the chunk); never writes past expected_nbytes.  Returns nbytes or a ZF_BLOSC_E_* code.
    """
    return zf_blosc_decompress_ctx(NULL, src, srclen, dst, expected_nbytes)
