# zstd and lz4 (numcodecs framing) cores on the libraries bundled in libblosc2.a.
# Requires `from _libs cimport *` in the including module.
from libc.string cimport memcpy
from libc.stdint cimport uint8_t, uint32_t, int64_t

# Error codes shared by all kernel cores (negative; 0 and positive values are sizes).
cdef enum:
    ZF_OK = 0
    ZF_ERR_TRUNCATED = -1        # input shorter than its framing says
    ZF_ERR_SIZE = -2             # decoded size differs from the expected chunk size
    ZF_ERR_CORRUPT = -3          # the decompressor rejected the data
    ZF_ERR_CHECKSUM = -4         # crc32c mismatch
    ZF_ERR_NOMEM = -5
    ZF_ERR_CAPACITY = -6         # output buffer too small (encoder)
    ZF_ERR_UNSUPPORTED = -7
    ZF_ERR_BLOSC = -8            # blosc header invalid or decode failed


cdef enum:
    ZF_ZSTD_MAX_WINDOW = (1 << 27) + 1   # libzstd's default limit for streaming decoders (python-zstandard's too)


cdef bint zf_zstd_windows_ok(const uint8_t* src, size_t srclen) noexcept nogil:
    """False if a frame declares a window larger than ZF_ZSTD_MAX_WINDOW. One-shot decoding into the chunk buffer
    never allocates that window, but a streaming decoder (the reference path, numcodecs) refuses such frames, so
    the kernel does too: both paths accept the same inputs. Damage the walk can't parse is left to the decoder."""
    cdef size_t pos = 0, fsize
    cdef uint32_t magic
    cdef unsigned int fhd, wd, wlog
    cdef unsigned long long window
    while srclen - pos >= 6:
        magic = (<uint32_t>src[pos] | (<uint32_t>src[pos + 1] << 8) | (<uint32_t>src[pos + 2] << 16)
                 | (<uint32_t>src[pos + 3] << 24))
        if magic == 0xFD2FB528u:
            fhd = src[pos + 4]
            if not (fhd & 0x20):  # no single-segment flag: a window descriptor follows
                wd = src[pos + 5]
                wlog = 10 + (wd >> 3)
                window = (1ULL << wlog) + ((1ULL << wlog) >> 3) * (wd & 7)
                if window > ZF_ZSTD_MAX_WINDOW:
                    return False
        fsize = ZSTD_findFrameCompressedSize(src + pos, srclen - pos)
        if ZSTD_isError(fsize) or fsize == 0:
            return True
        pos += fsize
    return True


cdef Py_ssize_t zf_zstd_decompress(ZSTD_DCtx* dctx, const uint8_t* src, size_t srclen, uint8_t* dst,
                                   size_t expected) noexcept nogil:
    """Decode one or more zstd frames into exactly `expected` bytes (frames without a content size are fine)."""
    cdef unsigned long long csize
    cdef size_t r
    if srclen < 4:
        return ZF_ERR_TRUNCATED
    csize = ZSTD_getFrameContentSize(src, srclen)
    if csize == ZARRFAST_ZSTD_CONTENTSIZE_ERROR:
        return ZF_ERR_CORRUPT
    if not zf_zstd_windows_ok(src, srclen):
        return ZF_ERR_CORRUPT
    if csize != ZARRFAST_ZSTD_CONTENTSIZE_UNKNOWN and csize > expected:
        return ZF_ERR_SIZE
    r = ZSTD_decompressDCtx(dctx, dst, expected, src, srclen)
    if ZSTD_isError(r):
        return ZF_ERR_CORRUPT
    if r != expected:
        return ZF_ERR_SIZE
    return <Py_ssize_t>r


cdef size_t ZF_ZSTD_BLOCK_MAX = 128 * 1024  # zstd blocks decode at most this much each


cdef Py_ssize_t zf_zstd_decompress_prefix(ZSTD_DCtx* dctx, const uint8_t* src, size_t srclen, uint8_t* dst,
                                          size_t need, size_t expected) noexcept nogil:
    """Decode the first `need` bytes of a zstd chunk of `expected` bytes into `dst` (room for `expected`).

    Only a single complete frame (its block headers walked to exactly `srclen`) that declares a content size of
    exactly `expected` and has no content checksum is streamed, block by block, stopping after the block that
    completes `need`. Anything else (no content size, several frames, a checksum, damage the header walk finds) is
    decoded whole, so that it is checked as a whole read would check it. Returns `need` or `expected`, or an error."""
    cdef unsigned long long csize
    cdef size_t r, in_before, out_before
    cdef uint32_t magic
    cdef ZSTD_inBuffer ib
    cdef ZSTD_outBuffer ob
    if srclen < 5 or need + ZF_ZSTD_BLOCK_MAX > expected:  # no whole block to skip: one-shot is faster
        return zf_zstd_decompress(dctx, src, srclen, dst, expected)
    magic = <uint32_t>src[0] | (<uint32_t>src[1] << 8) | (<uint32_t>src[2] << 16) | (<uint32_t>src[3] << 24)
    if magic != 0xFD2FB528u or (src[4] & 0x04):
        return zf_zstd_decompress(dctx, src, srclen, dst, expected)
    csize = ZSTD_getFrameContentSize(src, srclen)
    if csize != <unsigned long long>expected or ZSTD_findFrameCompressedSize(src, srclen) != srclen:
        return zf_zstd_decompress(dctx, src, srclen, dst, expected)
    if not zf_zstd_windows_ok(src, srclen):
        return ZF_ERR_CORRUPT
    ZSTD_DCtx_reset(dctx, ZARRFAST_ZSTD_reset_session_only)
    ib.src = src
    ib.size = srclen
    ib.pos = 0
    ob.dst = dst
    ob.size = need
    ob.pos = 0
    while ob.pos < need:
        in_before = ib.pos
        out_before = ob.pos
        r = ZSTD_decompressStream(dctx, &ob, &ib)
        if ZSTD_isError(r) or (ob.pos < need and (r == 0 or (ib.pos == in_before and ob.pos == out_before))):
            ZSTD_DCtx_reset(dctx, ZARRFAST_ZSTD_reset_session_only)
            return ZF_ERR_CORRUPT  # the walk found the frame whole and sized right: the blocks must be damaged
    ZSTD_DCtx_reset(dctx, ZARRFAST_ZSTD_reset_session_only)
    return <Py_ssize_t>need


cdef Py_ssize_t zf_zstd_compress(ZSTD_CCtx* cctx, const uint8_t* src, size_t n, uint8_t* dst, size_t cap,
                                 int level, int checksum) noexcept nogil:
    cdef size_t r
    ZSTD_CCtx_reset(cctx, ZARRFAST_ZSTD_reset_session_and_parameters)
    ZSTD_CCtx_setParameter(cctx, ZARRFAST_ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(cctx, ZARRFAST_ZSTD_c_checksumFlag, 1 if checksum else 0)
    r = ZSTD_compress2(cctx, dst, cap, src, n)
    if ZSTD_isError(r):
        return ZF_ERR_CAPACITY
    return <Py_ssize_t>r


cdef inline size_t zf_lz4_bound(size_t n) noexcept nogil:
    return <size_t>LZ4_compressBound(<int>n) + 4


cdef Py_ssize_t zf_lz4_decompress(const uint8_t* src, size_t srclen, uint8_t* dst, size_t expected) noexcept nogil:
    """numcodecs LZ4 framing: little-endian uint32 decoded size, then one LZ4 block."""
    cdef uint32_t n
    cdef int r
    if srclen < 4:
        return ZF_ERR_TRUNCATED
    n = <uint32_t>src[0] | (<uint32_t>src[1] << 8) | (<uint32_t>src[2] << 16) | (<uint32_t>src[3] << 24)
    if n != expected:
        return ZF_ERR_SIZE
    if expected > 0x7E000000 or srclen - 4 > 0x7E000000:
        return ZF_ERR_UNSUPPORTED
    if expected == 0:
        return 0
    r = LZ4_decompress_safe(<const char*>(src + 4), <char*>dst, <int>(srclen - 4), <int>expected)
    if r < 0:
        return ZF_ERR_CORRUPT
    if <size_t>r != expected:
        return ZF_ERR_SIZE
    return r


cdef Py_ssize_t zf_lz4_compress(const uint8_t* src, size_t n, uint8_t* dst, size_t cap, int acceleration) noexcept nogil:
    cdef int r
    if n > 0x7E000000 or cap < zf_lz4_bound(n):
        return ZF_ERR_CAPACITY
    dst[0] = n & 0xFF
    dst[1] = (n >> 8) & 0xFF
    dst[2] = (n >> 16) & 0xFF
    dst[3] = (n >> 24) & 0xFF
    r = LZ4_compress_fast(<const char*>src, <char*>(dst + 4), <int>n, <int>(cap - 4), acceleration)
    if r <= 0:
        return ZF_ERR_CAPACITY
    return r + 4
