# N-d strided copy, fill and byteswap cores (textually included by the kernel modules).
# All functions are `noexcept nogil` and trust their arguments: the callers validate shapes and bounds.
from libc.string cimport memcpy, memset, memcmp
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t

cdef extern from * nogil:
    """
    static inline uint16_t zf_bswap16(uint16_t x) { return __builtin_bswap16(x); }
    static inline uint32_t zf_bswap32(uint32_t x) { return __builtin_bswap32(x); }
    static inline uint64_t zf_bswap64(uint64_t x) { return __builtin_bswap64(x); }
    /* A short row (the 64-byte rows of a 32^3 uint16 inner chunk) inline: fixed-size moves, the tail by one
       overlapping move. A call to libc memcpy per row cost more than the copy. d and s must not overlap. */
    static inline void zf_copy_short(uint8_t* d, const uint8_t* s, size_t n) {
        size_t i;
        if (n >= 32) {
            for (i = 0; i + 32 <= n; i += 32) __builtin_memcpy(d + i, s + i, 32);
            if (i < n) __builtin_memcpy(d + n - 32, s + n - 32, 32);
        } else if (n >= 16) {
            __builtin_memcpy(d, s, 16); __builtin_memcpy(d + n - 16, s + n - 16, 16);
        } else if (n >= 8) {
            __builtin_memcpy(d, s, 8); __builtin_memcpy(d + n - 8, s + n - 8, 8);
        } else if (n >= 4) {
            __builtin_memcpy(d, s, 4); __builtin_memcpy(d + n - 4, s + n - 4, 4);
        } else {
            for (i = 0; i < n; i++) d[i] = s[i];
        }
    }
    /* Streaming (non-temporal) copy for rows of a large output: the full 64-byte lines of d are written with
       movntdq, past the caches, so they are neither read for ownership first nor evict the source. The partial
       lines at either end take ordinary stores (a partial streaming line costs several bus writes). Callers fence
       with zf_stream_fence() before anyone else may read d. Without SSE2 it is a plain copy. */
    #if defined(__SSE2__)
    #include <emmintrin.h>
    static inline void zf_copy_stream(uint8_t* d, const uint8_t* s, size_t n) {
        size_t head = (size_t)(-(uintptr_t)d) & 63, i;
        if (n < head + 64) { __builtin_memcpy(d, s, n); return; }
        if (head) { zf_copy_short(d, s, head); d += head; s += head; n -= head; }
        for (i = 0; i + 64 <= n; i += 64) {
            __m128i a = _mm_loadu_si128((const __m128i*)(s + i));
            __m128i b = _mm_loadu_si128((const __m128i*)(s + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i*)(s + i + 32));
            __m128i e = _mm_loadu_si128((const __m128i*)(s + i + 48));
            _mm_stream_si128((__m128i*)(d + i), a);
            _mm_stream_si128((__m128i*)(d + i + 16), b);
            _mm_stream_si128((__m128i*)(d + i + 32), c);
            _mm_stream_si128((__m128i*)(d + i + 48), e);
        }
        if (i < n) zf_copy_short(d + i, s + i, n - i);
    }
    static inline void zf_stream_fence(void) { _mm_sfence(); }
    #else
    static inline void zf_copy_stream(uint8_t* d, const uint8_t* s, size_t n) { __builtin_memcpy(d, s, n); }
    static inline void zf_stream_fence(void) { }
    #endif
    """
    uint16_t zf_bswap16(uint16_t x)
    uint32_t zf_bswap32(uint32_t x)
    uint64_t zf_bswap64(uint64_t x)
    void zf_copy_short(uint8_t* d, const uint8_t* s, size_t n)
    void zf_copy_stream(uint8_t* d, const uint8_t* s, size_t n)
    void zf_stream_fence()

cdef enum:
    ZF_SHORT_ROW = 256  # bytes; longer contiguous rows go to libc memcpy

cdef enum:
    ZF_MAXDIM = 32

cdef enum:
    ZF_STREAM_ROW = 64  # bytes; shorter rows hold no full cache line to stream


cdef inline int zf_simplify(int ndim, int64_t* shape, int64_t* a_strides, int64_t* b_strides) noexcept nogil:
    """Drop length-1 axes and merge axes contiguous in both operands; returns the new rank (0 = empty)."""
    cdef int i, n = 0
    for i in range(ndim):
        if shape[i] == 0:
            return 0
        if shape[i] == 1:
            continue
        if n > 0 and a_strides[n - 1] == a_strides[i] * shape[i] and (b_strides == NULL or b_strides[n - 1] == b_strides[i] * shape[i]):
            shape[n - 1] *= shape[i]
            a_strides[n - 1] = a_strides[i]
            if b_strides != NULL:
                b_strides[n - 1] = b_strides[i]
            continue
        shape[n] = shape[i]
        a_strides[n] = a_strides[i]
        if b_strides != NULL:
            b_strides[n] = b_strides[i]
        n += 1
    if n == 0:
        shape[0] = 1
        a_strides[0] = 0
        if b_strides != NULL:
            b_strides[0] = 0
        n = 1
    return n


cdef inline void zf_copy_row(uint8_t* d, int64_t ds, const uint8_t* s, int64_t ss, int64_t n,
                             Py_ssize_t itemsize, bint stream) noexcept nogil:
    cdef int64_t i
    if ds == itemsize and ss == itemsize:
        if stream and n * itemsize >= ZF_STREAM_ROW:
            zf_copy_stream(d, s, <size_t>(n * itemsize))
        elif n * itemsize <= ZF_SHORT_ROW:
            zf_copy_short(d, s, <size_t>(n * itemsize))
        else:
            memcpy(d, s, <size_t>(n * itemsize))
    elif itemsize == 1:
        for i in range(n):
            d[i * ds] = s[i * ss]
    elif itemsize == 2:
        for i in range(n):
            (<uint16_t*>(d + i * ds))[0] = (<const uint16_t*>(s + i * ss))[0]
    elif itemsize == 4:
        for i in range(n):
            (<uint32_t*>(d + i * ds))[0] = (<const uint32_t*>(s + i * ss))[0]
    elif itemsize == 8:
        for i in range(n):
            (<uint64_t*>(d + i * ds))[0] = (<const uint64_t*>(s + i * ss))[0]
    else:
        for i in range(n):
            memcpy(d + i * ds, s + i * ss, itemsize)


cdef void zf_copy_nd(uint8_t* dst, const int64_t* dst_strides, const uint8_t* src, const int64_t* src_strides,
                     const int64_t* shape, int ndim, Py_ssize_t itemsize, bint stream=False) noexcept nogil:
    """dst[idx] = src[idx] for every index of `shape` (strides in bytes, may be negative or zero).

    With `stream`, contiguous rows of 64 bytes and more go past the caches (zf_copy_stream); the caller fences."""
    cdef int64_t sh[ZF_MAXDIM]
    cdef int64_t ds[ZF_MAXDIM]
    cdef int64_t ss[ZF_MAXDIM]
    cdef int64_t idx[ZF_MAXDIM]
    cdef int i, n
    for i in range(ndim):
        sh[i] = shape[i]
        ds[i] = dst_strides[i]
        ss[i] = src_strides[i]
    n = zf_simplify(ndim, sh, ds, ss)
    if n == 0:
        return
    for i in range(n):
        idx[i] = 0
    cdef int64_t inner = sh[n - 1]
    while True:
        zf_copy_row(dst, ds[n - 1], src, ss[n - 1], inner, itemsize, stream)
        i = n - 2
        while i >= 0:
            idx[i] += 1
            dst += ds[i]
            src += ss[i]
            if idx[i] < sh[i]:
                break
            dst -= ds[i] * sh[i]
            src -= ss[i] * sh[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return


cdef inline bint zf_pattern_uniform(const uint8_t* pattern, Py_ssize_t itemsize) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(1, itemsize):
        if pattern[k] != pattern[0]:
            return False
    return True


cdef void zf_fill_nd(uint8_t* dst, const int64_t* dst_strides, const int64_t* shape, int ndim,
                     const uint8_t* pattern, Py_ssize_t itemsize) noexcept nogil:
    """dst[idx] = pattern (one element of `itemsize` bytes) for every index of `shape`."""
    cdef int64_t sh[ZF_MAXDIM]
    cdef int64_t ds[ZF_MAXDIM]
    cdef int64_t idx[ZF_MAXDIM]
    cdef int i, n
    cdef int64_t j
    for i in range(ndim):
        sh[i] = shape[i]
        ds[i] = dst_strides[i]
    n = zf_simplify(ndim, sh, ds, NULL)
    if n == 0:
        return
    for i in range(n):
        idx[i] = 0
    cdef int64_t inner = sh[n - 1]
    cdef int64_t st = ds[n - 1]
    cdef bint uniform = zf_pattern_uniform(pattern, itemsize)
    cdef uint64_t p8 = 0
    cdef uint32_t p4 = 0
    cdef uint16_t p2 = 0
    if itemsize == 8:
        memcpy(&p8, pattern, 8)
    elif itemsize == 4:
        memcpy(&p4, pattern, 4)
    elif itemsize == 2:
        memcpy(&p2, pattern, 2)
    while True:
        if uniform and st == itemsize:
            memset(dst, pattern[0], <size_t>(inner * itemsize))
        elif itemsize == 8:
            for j in range(inner):
                (<uint64_t*>(dst + j * st))[0] = p8
        elif itemsize == 4:
            for j in range(inner):
                (<uint32_t*>(dst + j * st))[0] = p4
        elif itemsize == 2:
            for j in range(inner):
                (<uint16_t*>(dst + j * st))[0] = p2
        else:
            for j in range(inner):
                memcpy(dst + j * st, pattern, itemsize)
        i = n - 2
        while i >= 0:
            idx[i] += 1
            dst += ds[i]
            if idx[i] < sh[i]:
                break
            dst -= ds[i] * sh[i]
            idx[i] = 0
            i -= 1
        if i < 0:
            return


cdef void zf_byteswap(uint8_t* buf, size_t nbytes, Py_ssize_t unit) noexcept nogil:
    """Reverse the byte order of each `unit`-byte word of a contiguous buffer, in place."""
    cdef size_t i, n = nbytes // <size_t>unit
    cdef uint16_t v2
    cdef uint32_t v4
    cdef uint64_t v8
    cdef uint8_t t
    cdef Py_ssize_t k
    if unit == 2:
        for i in range(n):
            memcpy(&v2, buf + 2 * i, 2)
            v2 = zf_bswap16(v2)
            memcpy(buf + 2 * i, &v2, 2)
    elif unit == 4:
        for i in range(n):
            memcpy(&v4, buf + 4 * i, 4)
            v4 = zf_bswap32(v4)
            memcpy(buf + 4 * i, &v4, 4)
    elif unit == 8:
        for i in range(n):
            memcpy(&v8, buf + 8 * i, 8)
            v8 = zf_bswap64(v8)
            memcpy(buf + 8 * i, &v8, 8)
    elif unit > 1:
        for i in range(n):
            for k in range(unit // 2):
                t = buf[i * unit + k]
                buf[i * unit + k] = buf[i * unit + unit - 1 - k]
                buf[i * unit + unit - 1 - k] = t


cdef bint zf_all_equal(const uint8_t* buf, size_t nbytes, const uint8_t* pattern, Py_ssize_t itemsize) noexcept nogil:
    """True if every `itemsize`-byte element of a contiguous buffer equals `pattern` bytewise."""
    cdef size_t i
    cdef uint64_t p8
    if nbytes == 0:
        return True
    if itemsize == 8:
        memcpy(&p8, pattern, 8)
        for i in range(nbytes // 8):
            if (<const uint64_t*>(buf + 8 * i))[0] != p8:
                return False
        return True
    if zf_pattern_uniform(pattern, itemsize):
        for i in range(nbytes):
            if buf[i] != pattern[0]:
                return False
        return True
    for i in range(nbytes // <size_t>itemsize):
        if memcmp(buf + i * itemsize, pattern, itemsize) != 0:
            return False
    return True
