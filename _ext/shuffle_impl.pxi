# Byte shuffle and bit shuffle of one Blosc block, in the layouts c-blosc 1.x writes.
#
# Textually included (by blosc_impl.pxi): C-level `noexcept nogil` functions only, every name prefixed `zf_shuf_`,
# no module-level Python objects.  Callers guarantee the buffer sizes stated in each docstring.
#
# Byte shuffle of `nbytes` bytes with element size `ts` (n = nbytes // ts whole elements):
#     out[j * n + i] = in[i * ts + j]   for i < n, j < ts;   the nbytes - n * ts trailing bytes are copied as-is.
# Bit shuffle (Kiyo Masui's bitshuffle, as c-blosc 1.x uses it), for n a multiple of 8, nb = n // 8:
#     bit b of out[(j * 8 + k) * nb + m] = bit k of byte j of element 8 * m + b;   trailing bytes copied as-is.
#   c-blosc 1.x only bit-shuffles a block whose element count is a multiple of 8; any other block is stored
#   unshuffled (see zf_shuf_bitshuffle_block).

from libc.stdint cimport uint8_t, uint64_t
from libc.string cimport memcpy


cdef inline uint64_t zf_shuf_load_le64(const uint8_t* p) noexcept nogil:
    """Eight bytes as a little-endian integer (byte b -> bits 8b..8b+7); compilers fuse this into one load."""
    return (<uint64_t>p[0] | (<uint64_t>p[1] << 8) | (<uint64_t>p[2] << 16) | (<uint64_t>p[3] << 24)
            | (<uint64_t>p[4] << 32) | (<uint64_t>p[5] << 40) | (<uint64_t>p[6] << 48) | (<uint64_t>p[7] << 56))


cdef inline void zf_shuf_store_le64(uint8_t* p, uint64_t x) noexcept nogil:
    p[0] = <uint8_t>x
    p[1] = <uint8_t>(x >> 8)
    p[2] = <uint8_t>(x >> 16)
    p[3] = <uint8_t>(x >> 24)
    p[4] = <uint8_t>(x >> 32)
    p[5] = <uint8_t>(x >> 40)
    p[6] = <uint8_t>(x >> 48)
    p[7] = <uint8_t>(x >> 56)


cdef inline uint64_t zf_shuf_transpose8x8(uint64_t x) noexcept nogil:
    """Transpose an 8x8 bit matrix held as 8 row bytes: bit c of byte r <-> bit r of byte c (self-inverse)."""
    cdef uint64_t t
    t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL
    x = x ^ t ^ (t << 7)
    t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL
    x = x ^ t ^ (t << 14)
    t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL
    x = x ^ t ^ (t << 28)
    return x


cdef inline void zf_shuf_transpose_bytes8(uint64_t* w) noexcept nogil:
    """Transpose the 8x8 byte matrix w[r] (byte c of word r) in place: byte c of w[r] <-> byte r of w[c]."""
    cdef uint64_t t
    cdef int r, q
    for r in range(0, 8, 2):
        t = ((w[r] >> 8) ^ w[r + 1]) & 0x00FF00FF00FF00FFULL
        w[r + 1] ^= t
        w[r] ^= t << 8
    for q in range(4):
        r = q + (q & 2)  # rows 0, 1, 4, 5
        t = ((w[r] >> 16) ^ w[r + 2]) & 0x0000FFFF0000FFFFULL
        w[r + 2] ^= t
        w[r] ^= t << 16
    for r in range(4):
        t = ((w[r] >> 32) ^ w[r + 4]) & 0x00000000FFFFFFFFULL
        w[r + 4] ^= t
        w[r] ^= t << 32


cdef void zf_shuf_bytes_x8(const uint8_t* src, uint8_t* dst, size_t n, size_t ts) noexcept nogil:
    """Byte shuffle of n elements for ts % 8 == 0: 8 elements x 8 bytes at a time through an 8x8 transpose."""
    cdef uint64_t w[8]
    cdef size_t i, g, c, j
    cdef size_t n8 = n - n % 8
    for i in range(0, n8, 8):
        for g in range(ts // 8):
            for c in range(8):
                w[c] = zf_shuf_load_le64(src + (i + c) * ts + 8 * g)
            zf_shuf_transpose_bytes8(w)
            for c in range(8):
                zf_shuf_store_le64(dst + (8 * g + c) * n + i, w[c])
    for i in range(n8, n):
        for j in range(ts):
            dst[j * n + i] = src[i * ts + j]


cdef void zf_shuf_unbytes_x8(const uint8_t* src, uint8_t* dst, size_t n, size_t ts) noexcept nogil:
    """Inverse of zf_shuf_bytes_x8."""
    cdef uint64_t w[8]
    cdef size_t i, g, c, j
    cdef size_t n8 = n - n % 8
    for i in range(0, n8, 8):
        for g in range(ts // 8):
            for c in range(8):
                w[c] = zf_shuf_load_le64(src + (8 * g + c) * n + i)
            zf_shuf_transpose_bytes8(w)
            for c in range(8):
                zf_shuf_store_le64(dst + (i + c) * ts + 8 * g, w[c])
    for i in range(n8, n):
        for j in range(ts):
            dst[i * ts + j] = src[j * n + i]


cdef void zf_shuf_bytes(const uint8_t* src, uint8_t* dst, size_t nbytes, size_t ts) noexcept nogil:
    """Byte-shuffle nbytes bytes of src into dst (no overlap): dst[j*n + i] = src[i*ts + j]."""
    cdef size_t n, i, j, i0, i1
    cdef const uint8_t* s
    cdef uint8_t* d
    if ts <= 1:
        memcpy(dst, src, nbytes)
        return
    n = nbytes // ts
    if ts == 2:
        for i in range(n):
            dst[i] = src[2 * i]
            dst[n + i] = src[2 * i + 1]
    elif ts == 4:
        for i in range(n):
            dst[i] = src[4 * i]
            dst[n + i] = src[4 * i + 1]
            dst[2 * n + i] = src[4 * i + 2]
            dst[3 * n + i] = src[4 * i + 3]
    elif ts % 8 == 0:
        zf_shuf_bytes_x8(src, dst, n, ts)
    else:
        # tiles of 64 elements keep the strided reads in L1 while each output row is written sequentially
        i0 = 0
        while i0 < n:
            i1 = i0 + 64 if i0 + 64 < n else n
            for j in range(ts):
                d = dst + j * n
                s = src + j
                for i in range(i0, i1):
                    d[i] = s[i * ts]
            i0 = i1
    memcpy(dst + n * ts, src + n * ts, nbytes - n * ts)


cdef void zf_shuf_unbytes(const uint8_t* src, uint8_t* dst, size_t nbytes, size_t ts) noexcept nogil:
    """Inverse of zf_shuf_bytes: dst[i*ts + j] = src[j*n + i]."""
    cdef size_t n, i, j, i0, i1
    cdef const uint8_t* s
    cdef uint8_t* d
    if ts <= 1:
        memcpy(dst, src, nbytes)
        return
    n = nbytes // ts
    if ts == 2:
        for i in range(n):
            dst[2 * i] = src[i]
            dst[2 * i + 1] = src[n + i]
    elif ts == 4:
        for i in range(n):
            dst[4 * i] = src[i]
            dst[4 * i + 1] = src[n + i]
            dst[4 * i + 2] = src[2 * n + i]
            dst[4 * i + 3] = src[3 * n + i]
    elif ts == 8:
        for i in range(n):
            dst[8 * i] = src[i]
            dst[8 * i + 1] = src[n + i]
            dst[8 * i + 2] = src[2 * n + i]
            dst[8 * i + 3] = src[3 * n + i]
            dst[8 * i + 4] = src[4 * n + i]
            dst[8 * i + 5] = src[5 * n + i]
            dst[8 * i + 6] = src[6 * n + i]
            dst[8 * i + 7] = src[7 * n + i]
    elif ts % 8 == 0:
        zf_shuf_unbytes_x8(src, dst, n, ts)
    else:
        i0 = 0
        while i0 < n:
            i1 = i0 + 64 if i0 + 64 < n else n
            for j in range(ts):
                s = src + j * n
                d = dst + j
                for i in range(i0, i1):
                    d[i * ts] = s[i]
            i0 = i1
    memcpy(dst + n * ts, src + n * ts, nbytes - n * ts)


cdef void zf_shuf_bit_elems(const uint8_t* src, uint8_t* dst, size_t n, size_t ts, uint8_t* scratch) noexcept nogil:
    """Bit-shuffle n elements (n % 8 == 0) of ts bytes; scratch: n*ts bytes (unused when ts == 1).

    Byte-shuffle into scratch, then per byte row: bit-transpose 8 bytes at a time; 8 such words are byte-transposed
    together so that each of the row's 8 bit-planes gets one 8-byte store.
    """
    cdef size_t nb = n // 8, nb8 = nb - nb % 8, j, m, k
    cdef const uint8_t* rows = src
    cdef const uint8_t* row
    cdef uint8_t* out
    cdef uint64_t x
    cdef uint64_t w[8]
    if ts > 1:
        zf_shuf_bytes(src, scratch, n * ts, ts)
        rows = scratch
    for j in range(ts):
        row = rows + j * n
        out = dst + j * 8 * nb
        for m in range(0, nb8, 8):
            for k in range(8):
                w[k] = zf_shuf_transpose8x8(zf_shuf_load_le64(row + 8 * (m + k)))
            zf_shuf_transpose_bytes8(w)
            for k in range(8):
                zf_shuf_store_le64(out + k * nb + m, w[k])
        for m in range(nb8, nb):
            x = zf_shuf_transpose8x8(zf_shuf_load_le64(row + 8 * m))
            for k in range(8):
                out[k * nb + m] = <uint8_t>(x >> (8 * k))


cdef void zf_shuf_unbit_elems(const uint8_t* src, uint8_t* dst, size_t n, size_t ts, uint8_t* scratch) noexcept nogil:
    """Inverse of zf_shuf_bit_elems (same scratch rule)."""
    cdef size_t nb = n // 8, nb8 = nb - nb % 8, j, m, k
    cdef uint8_t* rows = dst if ts <= 1 else scratch
    cdef uint8_t* row
    cdef const uint8_t* inp
    cdef uint64_t x
    cdef uint64_t w[8]
    for j in range(ts):
        row = rows + j * n
        inp = src + j * 8 * nb
        for m in range(0, nb8, 8):
            for k in range(8):
                w[k] = zf_shuf_load_le64(inp + k * nb + m)
            zf_shuf_transpose_bytes8(w)
            for k in range(8):
                zf_shuf_store_le64(row + 8 * (m + k), zf_shuf_transpose8x8(w[k]))
        for m in range(nb8, nb):
            x = 0
            for k in range(8):
                x |= <uint64_t>inp[k * nb + m] << (8 * k)
            zf_shuf_store_le64(row + 8 * m, zf_shuf_transpose8x8(x))
    if ts > 1:
        zf_shuf_unbytes(scratch, dst, n * ts, ts)


cdef void zf_shuf_bitshuffle_block(const uint8_t* src, uint8_t* dst, size_t nbytes, size_t ts,
                                   uint8_t* scratch) noexcept nogil:
    """Bit-shuffle one block as c-blosc 1.x does: only when its element count is a multiple of 8, else a copy.

    scratch: nbytes bytes (used when ts > 1).
    """
    cdef size_t n = nbytes // ts if ts > 0 else 0
    if ts == 0 or n % 8 != 0:
        memcpy(dst, src, nbytes)
        return
    zf_shuf_bit_elems(src, dst, n, ts, scratch)
    memcpy(dst + n * ts, src + n * ts, nbytes - n * ts)


cdef void zf_shuf_bitunshuffle_block(const uint8_t* src, uint8_t* dst, size_t nbytes, size_t ts,
                                     uint8_t* scratch) noexcept nogil:
    """Inverse of zf_shuf_bitshuffle_block."""
    cdef size_t n = nbytes // ts if ts > 0 else 0
    if ts == 0 or n % 8 != 0:
        memcpy(dst, src, nbytes)
        return
    zf_shuf_unbit_elems(src, dst, n, ts, scratch)
    memcpy(dst + n * ts, src + n * ts, nbytes - n * ts)
