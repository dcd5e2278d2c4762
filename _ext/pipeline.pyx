"""Batch chunk kernels: decode a list of chunks straight into the caller's array, or encode chunks from it.

One call handles a whole batch with the GIL released; the Python engine splits the batch across worker threads.
The `def` functions validate every shape, offset and length with the GIL held; the cores below them trust it.
"""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBuffer_FillInfo, PyBUF_STRIDES, PyBUF_WRITABLE, PyBUF_ANY_CONTIGUOUS, PyBUF_SIMPLE
from libc.stdlib cimport malloc, calloc, free, realloc
from libc.string cimport memcpy
from libc.stdint cimport uint8_t, uint32_t, int64_t
from _libs cimport *

include "copy_impl.pxi"
include "crc32c_impl.pxi"
include "codec_impl.pxi"
include "blosc_impl.pxi"
include "buffer_impl.pxi"

# Kinds of the one "expanding" bytes->bytes codec a native chain may hold (innermost in decode order).
EXP_NONE = 0
EXP_ZSTD = 1
EXP_LZ4 = 2
EXP_BLOSC = 3

cdef enum:
    K_NONE = 0
    K_ZSTD = 1
    K_LZ4 = 2
    K_BLOSC = 3

ERROR_MESSAGES = {
    ZF_ERR_TRUNCATED: "encoded chunk is truncated",
    ZF_ERR_SIZE: "decoded size does not match the chunk size",
    ZF_ERR_CORRUPT: "compressed data is corrupt",
    ZF_ERR_CHECKSUM: "crc32c checksum mismatch",
    ZF_ERR_NOMEM: "out of memory",
    ZF_ERR_CAPACITY: "encoder output exceeded its bound",
    ZF_ERR_UNSUPPORTED: "chunk too large for the codec",
    ZF_ERR_BLOSC: "blosc header is invalid or blosc decoding failed",
}


def error_message(int code) -> str:
    """Human text for a negative kernel status code."""
    if code <= -100:
        return "blosc: " + zf_blosc_error_text(code).decode()
    return ERROR_MESSAGES.get(code, f"kernel error {code}")


blosc2_init()


cdef class ChunkProgram:
    """What the kernels need to turn stored bytes into one chunk and back.

    The stored chunk is: [expander(...)] then `n_crc` crc32c codecs (encode order), over the chunk's elements laid
    out with `layout_strides` (byte strides per logical axis: C order, F order or any transpose), byte-swapped in
    units of `swap_unit` when the stored byte order differs from the in-memory one.
    """
    cdef public int ndim
    cdef int64_t chunk_shape[ZF_MAXDIM]
    cdef int64_t layout_strides[ZF_MAXDIM]
    cdef public Py_ssize_t itemsize
    cdef public size_t nbytes
    cdef public Py_ssize_t swap_unit
    cdef public int n_crc
    cdef public int expander
    cdef int p[6]
    cdef bytes fill

    def __init__(self, chunk_shape, Py_ssize_t itemsize, layout_strides, Py_ssize_t swap_unit, bytes fill,
                 int expander=0, params=(), int n_crc=0):
        cdef int i
        cdef int64_t n = itemsize
        self.ndim = len(chunk_shape)
        if self.ndim > ZF_MAXDIM:
            raise ValueError(f"arrays of more than {ZF_MAXDIM} dimensions are not supported by the fast path")
        if len(layout_strides) != self.ndim:
            raise ValueError("layout_strides rank differs from chunk_shape")
        if len(fill) != itemsize:
            raise ValueError("fill must be one element")
        for i in range(self.ndim):
            if chunk_shape[i] <= 0:
                raise ValueError("chunk dimensions must be positive")
            self.chunk_shape[i] = chunk_shape[i]
            self.layout_strides[i] = layout_strides[i]
            n *= chunk_shape[i]
        self.itemsize = itemsize
        self.nbytes = n
        self.swap_unit = swap_unit
        self.fill = fill
        if expander not in (K_NONE, K_ZSTD, K_LZ4, K_BLOSC):
            raise ValueError(f"unknown expander {expander}")
        self.expander = expander
        for i in range(6):
            self.p[i] = params[i] if i < len(params) else 0
        self.n_crc = n_crc

    @property
    def chunk_shape(self):
        return tuple(self.chunk_shape[i] for i in range(self.ndim))

    @property
    def layout_strides(self):
        return tuple(self.layout_strides[i] for i in range(self.ndim))


cdef struct Ctx:
    ZSTD_DCtx* dctx
    ZSTD_CCtx* cctx
    blosc2_context* bctx


cdef Py_ssize_t decode_core(ChunkProgram prog, Ctx* ctx, const uint8_t* src, size_t srclen, uint8_t* dst,
                            const uint8_t** raw_out, size_t need=0) noexcept nogil:
    """Decode one stored chunk into `dst` (prog.nbytes bytes, stored byte order).

    With no expander the decoded bytes are the input itself: `raw_out` then points into `src` and `dst` is untouched.
    `need` (0: all) asks only for the first `need` bytes: zstd (a single whole frame of the right declared size) and
    blosc (header and block offsets checked) then decode only the blocks that hold them, and the rest of `dst` is
    undefined. Checksums (crc32c codecs, zstd content checksums) are always verified.
    """
    cdef int i
    cdef uint32_t stored
    cdef Py_ssize_t r
    raw_out[0] = NULL
    for i in range(prog.n_crc):
        if srclen < 4:
            return ZF_ERR_TRUNCATED
        srclen -= 4
        stored = <uint32_t>src[srclen] | (<uint32_t>src[srclen + 1] << 8) | (<uint32_t>src[srclen + 2] << 16) | (<uint32_t>src[srclen + 3] << 24)
        if zf_crc32c(src, srclen) != stored:
            return ZF_ERR_CHECKSUM
    if prog.expander == K_NONE:
        if srclen != prog.nbytes:
            return ZF_ERR_SIZE
        raw_out[0] = src
        return <Py_ssize_t>srclen
    if prog.expander == K_ZSTD:
        if ctx.dctx == NULL:
            ctx.dctx = ZSTD_createDCtx()
            if ctx.dctx == NULL:
                return ZF_ERR_NOMEM
        if 0 < need < prog.nbytes:
            return zf_zstd_decompress_prefix(ctx.dctx, src, srclen, dst, need, prog.nbytes)
        return zf_zstd_decompress(ctx.dctx, src, srclen, dst, prog.nbytes)
    if prog.expander == K_LZ4:  # numcodecs' LZ4 framing records no compressed size: only a whole decode checks it
        return zf_lz4_decompress(src, srclen, dst, prog.nbytes)
    if prog.expander == K_BLOSC:
        if ctx.bctx == NULL:
            ctx.bctx = zf_new_blosc_dctx()
            if ctx.bctx == NULL:
                return ZF_ERR_NOMEM
        return zf_blosc_decompress_ctx(ctx.bctx, src, srclen, dst, prog.nbytes, need)
    return ZF_ERR_UNSUPPORTED


cdef size_t prefix_needed(ChunkProgram prog, const int64_t[:, ::1] chunk_start, const int64_t[:, ::1] count,
                          const int64_t[::1] steps, Py_ssize_t k) noexcept nogil:
    """Bytes of the decoded chunk (in layout order) up to and including the last element plan row k selects."""
    cdef int d
    cdef int64_t last, off = 0
    for d in range(prog.ndim):
        last = chunk_start[k, d]
        if steps[d] > 0:
            last += (count[k, d] - 1) * steps[d]
        off += last * prog.layout_strides[d]
    return <size_t>(off + prog.itemsize)


cdef size_t encode_bound(ChunkProgram prog) noexcept nogil:
    cdef size_t b = prog.nbytes
    if prog.expander == K_ZSTD:
        b = ZSTD_compressBound(prog.nbytes)
    elif prog.expander == K_LZ4:
        b = zf_lz4_bound(prog.nbytes)
    elif prog.expander == K_BLOSC:
        b = <size_t>zf_blosc_max_compressed_size(prog.nbytes)
    return b + 4 * <size_t>prog.n_crc


cdef Py_ssize_t encode_core(ChunkProgram prog, Ctx* ctx, const uint8_t* src, uint8_t* dst, size_t cap) noexcept nogil:
    """Encode prog.nbytes bytes (stored byte order) into dst; returns the encoded size or an error code."""
    cdef Py_ssize_t n
    cdef uint32_t c
    cdef int i
    if prog.expander == K_NONE:
        if cap < prog.nbytes:
            return ZF_ERR_CAPACITY
        memcpy(dst, src, prog.nbytes)
        n = prog.nbytes
    elif prog.expander == K_ZSTD:
        if ctx.cctx == NULL:
            ctx.cctx = ZSTD_createCCtx()
            if ctx.cctx == NULL:
                return ZF_ERR_NOMEM
        n = zf_zstd_compress(ctx.cctx, src, prog.nbytes, dst, cap - 4 * prog.n_crc, prog.p[0], prog.p[1])
    elif prog.expander == K_LZ4:
        n = zf_lz4_compress(src, prog.nbytes, dst, cap - 4 * prog.n_crc, prog.p[0])
    elif prog.expander == K_BLOSC:
        # params: typesize, clevel, shuffle, cname code, blocksize
        if ctx.cctx == NULL and prog.p[3] == 5:  # zstd inside blosc: one context for the batch
            ctx.cctx = ZSTD_createCCtx()
        n = zf_blosc_compress_ctx(src, prog.nbytes, prog.p[0], prog.p[1], prog.p[2], prog.p[3], prog.p[4],
                                  dst, cap - 4 * prog.n_crc, ctx.cctx)
        if n < 0:
            return ZF_ERR_CAPACITY
    else:
        return ZF_ERR_UNSUPPORTED
    if n < 0:
        return n
    return append_crcs(prog, dst, n)


cdef Py_ssize_t append_crcs(ChunkProgram prog, uint8_t* dst, Py_ssize_t n) noexcept nogil:
    """Append the chain's crc32c codecs to the ``n`` encoded bytes at ``dst`` (room for them is the caller's)."""
    cdef uint32_t c
    cdef int i
    for i in range(prog.n_crc):
        c = zf_crc32c(dst, <size_t>n)
        dst[n] = c & 0xFF
        dst[n + 1] = (c >> 8) & 0xFF
        dst[n + 2] = (c >> 16) & 0xFF
        dst[n + 3] = (c >> 24) & 0xFF
        n += 4
    return n


cdef blosc2_context* zf_new_blosc_dctx() noexcept nogil:
    cdef blosc2_dparams dp = BLOSC2_DPARAMS_DEFAULTS
    dp.nthreads = 1
    return blosc2_create_dctx(dp)


cdef void free_ctx(Ctx* ctx) noexcept nogil:
    if ctx.bctx != NULL:
        blosc2_free_ctx(ctx.bctx)
    if ctx.dctx != NULL:
        ZSTD_freeDCtx(ctx.dctx)
    if ctx.cctx != NULL:
        ZSTD_freeCCtx(ctx.cctx)


# zstd contexts outlive a call: creating one costs more than decoding a small chunk. Calls take one from
# this stack and give it back; both happen with the GIL held, which is the stack's only lock.
cdef enum:
    CTX_POOL_SIZE = 16
cdef Ctx _ctx_pool[CTX_POOL_SIZE]
cdef int _ctx_pool_n = 0


cdef void take_ctx(Ctx* ctx) noexcept:
    global _ctx_pool_n
    if _ctx_pool_n > 0:
        _ctx_pool_n -= 1
        ctx[0] = _ctx_pool[_ctx_pool_n]
    else:
        ctx.dctx = NULL
        ctx.cctx = NULL
        ctx.bctx = NULL


cdef void give_ctx(Ctx* ctx) noexcept:
    global _ctx_pool_n
    if ctx.bctx != NULL:  # blosc2 contexts are not reused: what they keep between frames is not documented
        blosc2_free_ctx(ctx.bctx)
        ctx.bctx = NULL
    if _ctx_pool_n < CTX_POOL_SIZE:
        _ctx_pool[_ctx_pool_n] = ctx[0]
        _ctx_pool_n += 1
    else:
        free_ctx(ctx)


# Chunk-sized scratch buffers outlive a call too: a fresh malloc of a chunk (512 kB and up) per call came back as
# fresh pages (glibc trims and re-faults them), 100-300 us of page faults per call for a 64^3 uint16 chunk.
# At most 8 buffers and 32 MiB kept; any buffer at least as large as the need serves it.
cdef BufPool _scratch_pool
pool_init(&_scratch_pool, 8, 32 * 1024 * 1024, 0)


include "plan_impl.pxi"


# Outputs of at least this many bytes are written with streaming stores (zf_copy_stream): they outgrow the caches
# anyway, and ordinary stores would first read every output line from memory (raw_v3 read_all: 1/3 of the memory
# traffic). Smaller outputs stay in cache for the caller.
cdef Py_ssize_t _stream_min = 16 * 1024 * 1024


def set_stream_threshold(Py_ssize_t nbytes) -> int:
    """Set the output size from which read_into streams its stores (0: always); returns the previous value."""
    global _stream_min
    old = _stream_min
    _stream_min = nbytes
    return old


def read_into(ChunkProgram prog, out, const int64_t[:, ::1] chunk_start, const int64_t[:, ::1] count,
              const int64_t[:, ::1] out_start, const int64_t[::1] steps, list encoded, int64_t[::1] status):
    """Decode `encoded[k]` (bytes, or None for a missing chunk = fill) into `out` for every plan row k.

    Row k copies chunk elements chunk_start[k] + i * steps (i < count[k]) to out[out_start[k] + i].
    Sets status[k] to 0 or a negative error code; returns the number of failed chunks.
    """
    cdef Py_buffer ob
    cdef Py_ssize_t n = chunk_start.shape[0], k
    cdef int d, nd = prog.ndim, failures = 0
    cdef const uint8_t** srcs
    cdef size_t* lens
    cdef uint8_t* scratch = NULL
    cdef size_t scratch_cap = 0
    cdef Ctx ctx
    cdef int64_t shape_k[ZF_MAXDIM]
    cdef int64_t src_strides[ZF_MAXDIM]
    cdef int64_t out_strides[ZF_MAXDIM]
    cdef uint8_t* optr
    cdef const uint8_t* cptr
    cdef const uint8_t* raw
    cdef const uint8_t* fillp = prog.fill
    cdef Py_ssize_t r
    cdef bint direct, all_unit
    cdef size_t need, swap_len
    cdef Py_buffer* views = NULL
    cdef char* held = NULL
    cdef bint stream
    if len(encoded) != n or status.shape[0] != n:
        raise ValueError("encoded/status length differs from the plan")
    PyObject_GetBuffer(out, &ob, PyBUF_STRIDES | PyBUF_WRITABLE)
    stream = ob.len >= _stream_min
    srcs = <const uint8_t**>malloc(max(n, 1) * sizeof(uint8_t*))
    lens = <size_t*>malloc(max(n, 1) * sizeof(size_t))
    views = <Py_buffer*>malloc(max(n, 1) * sizeof(Py_buffer))
    held = <char*>calloc(max(n, 1), 1)
    try:
        if srcs == NULL or lens == NULL or views == NULL or held == NULL:
            raise MemoryError()
        check_plan(prog, &ob, chunk_start, count, out_start, steps)
        collect_buffers(encoded, srcs, lens, views, held)
        all_unit = True
        for d in range(nd):
            out_strides[d] = ob.strides[d]
            src_strides[d] = steps[d] * prog.layout_strides[d]
            if steps[d] != 1:
                all_unit = False
        take_ctx(&ctx)
        scratch = pool_take(&_scratch_pool, max(prog.nbytes, 1), &scratch_cap)
        with nogil:
            for k in range(n):
                optr = <uint8_t*>ob.buf
                direct = all_unit
                for d in range(nd):
                    optr += out_start[k, d] * out_strides[d]
                    shape_k[d] = count[k, d]
                    if count[k, d] != prog.chunk_shape[d] or (count[k, d] > 1 and out_strides[d] != prog.layout_strides[d]):
                        direct = False
                if srcs[k] == NULL:
                    zf_fill_nd(optr, out_strides, shape_k, nd, fillp, prog.itemsize)
                    status[k] = 0
                    continue
                if not direct and scratch == NULL:
                    scratch = <uint8_t*>malloc(max(prog.nbytes, 1))
                    if scratch == NULL:
                        status[k] = ZF_ERR_NOMEM
                        failures += 1
                        continue
                # the codecs decide whether decoding only this prefix saves anything (a whole block skipped)
                need = 0 if direct else prefix_needed(prog, chunk_start, count, steps, k)
                r = decode_core(prog, &ctx, srcs[k], lens[k], optr if direct else scratch, &raw, need)
                if r < 0:
                    status[k] = r
                    failures += 1
                    continue
                status[k] = 0
                swap_len = need if need else prog.nbytes
                if raw != NULL:
                    if prog.swap_unit > 1:
                        if scratch == NULL:
                            scratch = <uint8_t*>malloc(max(prog.nbytes, 1))
                            if scratch == NULL:
                                status[k] = ZF_ERR_NOMEM
                                failures += 1
                                continue
                        memcpy(scratch, raw, swap_len)
                        zf_byteswap(scratch, swap_len, prog.swap_unit)
                        raw = scratch
                    elif direct:
                        if stream:
                            zf_copy_stream(optr, raw, prog.nbytes)
                        else:
                            memcpy(optr, raw, prog.nbytes)
                        continue
                    cptr = raw
                elif direct:
                    if prog.swap_unit > 1:
                        zf_byteswap(optr, prog.nbytes, prog.swap_unit)
                    continue
                else:
                    if prog.swap_unit > 1:
                        zf_byteswap(scratch, swap_len, prog.swap_unit)
                    cptr = scratch
                for d in range(nd):
                    cptr += chunk_start[k, d] * prog.layout_strides[d]
                zf_copy_nd(optr, out_strides, cptr, src_strides, shape_k, nd, prog.itemsize, stream)
            if stream:
                zf_stream_fence()  # the streamed stores are visible before the caller hands the output on
        give_ctx(&ctx)
    finally:
        release_buffers(n, views, held)
        free(views)
        free(held)
        pool_give(&_scratch_pool, scratch, scratch_cap)
        free(srcs)
        free(lens)
        PyBuffer_Release(&ob)
    return failures


def decode_chunk_into(ChunkProgram prog, bytes encoded, out):
    """Decode one whole chunk into a C-contiguous buffer `out` of prog.nbytes bytes laid out as stored
    (layout_strides order, stored byte order swapped to memory order). Returns a status code."""
    cdef Py_buffer ob
    cdef Ctx ctx
    cdef const uint8_t* raw
    cdef Py_ssize_t r
    cdef const uint8_t* ep = encoded
    cdef size_t elen = len(encoded)
    PyObject_GetBuffer(out, &ob, PyBUF_SIMPLE | PyBUF_WRITABLE)
    try:
        if <size_t>ob.len != prog.nbytes:
            raise ValueError("output buffer size differs from the chunk size")
        take_ctx(&ctx)
        with nogil:
            r = decode_core(prog, &ctx, ep, elen, <uint8_t*>ob.buf, &raw)
            if r >= 0 and raw != NULL:
                memcpy(ob.buf, raw, prog.nbytes)
            if r >= 0 and prog.swap_unit > 1:
                zf_byteswap(<uint8_t*>ob.buf, prog.nbytes, prog.swap_unit)
        give_ctx(&ctx)
    finally:
        PyBuffer_Release(&ob)
    return r if r < 0 else 0


include "encode_impl.pxi"

