"""Single-buffer byte codecs on the kernels' C cores: crc32c and zstd (tests and the Python codec layer use them)."""
from libc.stdint cimport uint8_t, uint32_t
from _libs cimport *

include "crc32c_impl.pxi"
include "codec_impl.pxi"

cdef extern from *:
    """
    #ifndef ZARRFAST_DEBUG_BUILD
    #define ZARRFAST_DEBUG_BUILD 0
    #endif
    #if defined(__SANITIZE_ADDRESS__)
    #define ZARRFAST_ASAN 1
    #else
    #define ZARRFAST_ASAN 0
    #endif
    """
    int ZARRFAST_DEBUG_BUILD
    int ZARRFAST_ASAN


def build_info() -> dict:
    """How the kernels were compiled: {'debug': bounds/initialized checks on (ZARRFAST_DEBUG=1 build),
    'asan': built with AddressSanitizer}."""
    return {"debug": bool(ZARRFAST_DEBUG_BUILD), "asan": bool(ZARRFAST_ASAN)}

def crc32c(data) -> int:
    """CRC-32C of a bytes-like object (hardware instruction when available)."""
    cdef const uint8_t[::1] v = memoryview(data).cast("B")
    cdef uint32_t c
    with nogil:
        c = zf_crc32c(&v[0] if v.shape[0] else NULL, v.shape[0])
    return c


def crc32c_table(data) -> int:
    """CRC-32C with the portable table loop (for tests of the hardware path)."""
    cdef const uint8_t[::1] v = memoryview(data).cast("B")
    return zf_crc32c_sw_only(&v[0] if v.shape[0] else NULL, v.shape[0])


def zstd_compress(data, int level=0, bint checksum=False) -> bytes:
    """zstd frame of `data` (content size recorded), as the v3 zstd codec writes it."""
    cdef const uint8_t[::1] v = memoryview(data).cast("B")
    cdef size_t cap = ZSTD_compressBound(v.shape[0])
    cdef bytearray out = bytearray(cap)
    cdef uint8_t* o = out
    cdef ZSTD_CCtx* c = ZSTD_createCCtx()
    cdef Py_ssize_t r
    if c == NULL:
        raise MemoryError()
    with nogil:
        r = zf_zstd_compress(c, &v[0] if v.shape[0] else NULL, v.shape[0], o, cap, level, checksum)
        ZSTD_freeCCtx(c)
    if r < 0:
        raise RuntimeError(f"zstd compression failed ({r})")
    return bytes(out[:r])


def zstd_decompress(data, Py_ssize_t expected) -> bytes:
    """Decode zstd frames into exactly `expected` bytes (raises ValueError otherwise)."""
    cdef const uint8_t[::1] v = memoryview(data).cast("B")
    cdef bytearray out = bytearray(max(expected, 1))
    cdef uint8_t* o = out
    cdef ZSTD_DCtx* c = ZSTD_createDCtx()
    cdef Py_ssize_t r
    if c == NULL:
        raise MemoryError()
    with nogil:
        r = zf_zstd_decompress(c, &v[0] if v.shape[0] else NULL, v.shape[0], o, expected)
        ZSTD_freeDCtx(c)
    if r < 0:
        raise ValueError(f"zstd: {_ZSTD_ERRORS.get(r, r)}")
    return bytes(out[:expected])


_ZSTD_ERRORS = {ZF_ERR_TRUNCATED: "frame is truncated", ZF_ERR_SIZE: "decoded size differs from the expected size",
                ZF_ERR_CORRUPT: "corrupt frame", ZF_ERR_NOMEM: "out of memory"}
