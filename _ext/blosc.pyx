"""Blosc kernels for Python: Blosc1-format encoder and libblosc2-backed decoder, plus the block shuffles.

Every function releases the GIL around its C core (see blosc_impl.pxi).  Errors raise
``zarrfast.errors.ChunkDecodeError`` (decoding), ``ChunkEncodeError`` (encoding) or ``CodecError`` (bad arguments).
"""
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_ANY_CONTIGUOUS, PyBUF_WRITABLE
from cpython.ref cimport PyObject, Py_DECREF
from libc.stdint cimport uint8_t, int32_t
from libc.stdlib cimport malloc, free
from _libs cimport blosc2_init, blosc2_cbuffer_sizes, blosc2_getitem_bytes_ctx, ZSTD_versionNumber
from _zlibng cimport zlibng_version

include "blosc_impl.pxi"

from zarrfast.errors import ChunkDecodeError, ChunkEncodeError, CodecError

cdef extern from "Python.h":
    PyObject* zf_raw_bytes "PyBytes_FromStringAndSize"(const char* s, Py_ssize_t n)
    char* zf_raw_bytes_data "PyBytes_AS_STRING"(PyObject* b)
    int zf_raw_bytes_resize "_PyBytes_Resize"(PyObject** b, Py_ssize_t n)

cdef extern from * nogil:
    """
    int LZ4_versionNumber(void);
    """
    int LZ4_versionNumber()

blosc2_init()

NOSHUFFLE = ZF_BLOSC_NOSHUFFLE
SHUFFLE = ZF_BLOSC_SHUFFLE
BITSHUFFLE = ZF_BLOSC_BITSHUFFLE
MAX_OVERHEAD = ZF_BLOSC_HEADER
#: compressor name -> code accepted by zf_blosc_compress (blosclz is listed so callers get a clear error)
CNAME_CODES = {"blosclz": ZF_BLOSC_BLOSCLZ, "lz4": ZF_BLOSC_LZ4, "lz4hc": ZF_BLOSC_LZ4HC, "zlib": ZF_BLOSC_ZLIB,
               "zstd": ZF_BLOSC_ZSTD}
#: compressors this module can write
WRITABLE_CNAMES = ("lz4", "lz4hc", "zlib", "zstd")
#: the negative status codes of the C kernels, by name
ERROR_CODES = {
    "CNAME": ZF_BLOSC_E_CNAME, "BLOSCLZ": ZF_BLOSC_E_BLOSCLZ, "CLEVEL": ZF_BLOSC_E_CLEVEL,
    "SHUFFLE": ZF_BLOSC_E_SHUFFLE, "TYPESIZE": ZF_BLOSC_E_TYPESIZE, "TOO_LARGE": ZF_BLOSC_E_TOO_LARGE,
    "DST_SMALL": ZF_BLOSC_E_DST_SMALL, "NOMEM": ZF_BLOSC_E_NOMEM, "CODEC": ZF_BLOSC_E_CODEC,
    "TRUNCATED": ZF_BLOSC_E_TRUNCATED, "HEADER": ZF_BLOSC_E_HEADER, "CBYTES": ZF_BLOSC_E_CBYTES,
    "NBYTES": ZF_BLOSC_E_NBYTES, "BLOCKSIZE": ZF_BLOSC_E_BLOCKSIZE, "OFFSETS": ZF_BLOSC_E_OFFSETS,
    "DECODE": ZF_BLOSC_E_DECODE, "CTX": ZF_BLOSC_E_CTX,
}


def error_message(code: int) -> str:
    """Human message for a negative status code of the blosc kernels."""
    return zf_blosc_error_text(code).decode()


def codec_versions() -> dict:
    """Versions of the compressor libraries the encoder uses: {'lz4': 'x.y.z', 'zstd': ..., 'zlib-ng': ...}."""
    lz4v = LZ4_versionNumber()
    zv = ZSTD_versionNumber()
    return {"lz4": f"{lz4v // 10000}.{lz4v // 100 % 100}.{lz4v % 100}",
            "zstd": f"{zv // 10000}.{zv // 100 % 100}.{zv % 100}",
            "zlib-ng": zlibng_version().decode()}


def max_compressed_size(nbytes: int) -> int:
    """Upper bound of the encoded size of nbytes bytes (nbytes + 16)."""
    return zf_blosc_max_compressed_size(nbytes)


def compute_blocksize(nbytes: int, typesize: int, clevel: int = 5, cname: str = "lz4", blocksize: int = 0) -> int:
    """The block size the encoder (like c-blosc 1.x) uses for these parameters."""
    cdef int code = _cname_code(cname)
    if nbytes < 0 or typesize < 1 or blocksize < 0:
        raise CodecError(f"blosc: invalid nbytes {nbytes}, typesize {typesize} or blocksize {blocksize}")
    if typesize > ZF_BLOSC_MAX_TYPESIZE:
        typesize = 1
    return zf_blosc_compute_blocksize(code, clevel, typesize, nbytes, blocksize)


cdef int _cname_code(cname) except -1:
    try:
        return CNAME_CODES[cname]
    except (KeyError, TypeError):
        raise CodecError(f"blosc: unknown cname {cname!r} (known: {', '.join(CNAME_CODES)})") from None


cdef object _new_bytes(Py_ssize_t n, PyObject** raw):
    raw[0] = zf_raw_bytes(NULL, n)
    if raw[0] == NULL:
        raise MemoryError()


cdef object _finish_bytes(PyObject* raw, Py_ssize_t n):
    """Shrink the raw bytes object to n bytes and hand its reference to Python."""
    if zf_raw_bytes_resize(&raw, n) < 0:
        raise MemoryError()
    result = <object>raw
    Py_DECREF(result)
    return result


def compress(src, typesize: int, clevel: int = 5, shuffle: int = 1, cname: str = "lz4", blocksize: int = 0) -> bytes:
    """Encode the bytes of a C/F-contiguous buffer as one Blosc1 frame (readable by numcodecs, blosc2, tensorstore).

    shuffle: 0 none, 1 byte, 2 bit.  blocksize 0 = automatic (as c-blosc 1.x).  Typesizes above 255 are treated
    as 1, like c-blosc does.
    """
    cdef int code = _cname_code(cname)
    cdef Py_buffer view
    cdef PyObject* raw = NULL
    cdef Py_ssize_t n, cap
    cdef uint8_t* out
    cdef size_t ts, bs
    cdef int cl = clevel, sh = shuffle
    if typesize < 1:
        raise CodecError(f"blosc: typesize must be >= 1, got {typesize}")
    if blocksize < 0:
        raise CodecError(f"blosc: blocksize must be >= 0, got {blocksize}")
    ts = typesize
    bs = blocksize
    PyObject_GetBuffer(src, &view, PyBUF_ANY_CONTIGUOUS)
    try:
        cap = zf_blosc_max_compressed_size(<size_t>view.len)
        _new_bytes(cap, &raw)
        out = <uint8_t*>zf_raw_bytes_data(raw)
        with nogil:
            n = zf_blosc_compress(<const uint8_t*>view.buf, <size_t>view.len, ts, cl, sh, code, bs, out, <size_t>cap)
    finally:
        PyBuffer_Release(&view)
    if n < 0:
        Py_DECREF(<object>raw)
        msg = f"blosc encode ({cname}, clevel {clevel}, shuffle {shuffle}): {error_message(n)}"
        if n in (ZF_BLOSC_E_CNAME, ZF_BLOSC_E_BLOSCLZ, ZF_BLOSC_E_CLEVEL, ZF_BLOSC_E_SHUFFLE, ZF_BLOSC_E_TYPESIZE):
            raise CodecError(msg)
        raise ChunkEncodeError(msg)
    return _finish_bytes(raw, n)


cdef Py_ssize_t _decode_view(Py_buffer* view, uint8_t* dst, size_t expected) noexcept nogil:
    return zf_blosc_decompress(<const uint8_t*>view.buf, <size_t>view.len, dst, expected)


def decompress(src, expected_nbytes: int) -> bytes:
    """Decode a Blosc1/Blosc2 chunk whose header must say expected_nbytes; raises ChunkDecodeError otherwise."""
    cdef Py_buffer view
    cdef PyObject* raw = NULL
    cdef Py_ssize_t n
    cdef uint8_t* out
    cdef size_t expected
    if expected_nbytes < 0:
        raise CodecError(f"blosc: expected_nbytes must be >= 0, got {expected_nbytes}")
    expected = expected_nbytes
    PyObject_GetBuffer(src, &view, PyBUF_ANY_CONTIGUOUS)
    try:
        _new_bytes(expected_nbytes, &raw)
        out = <uint8_t*>zf_raw_bytes_data(raw)
        with nogil:
            n = _decode_view(&view, out, expected)
    finally:
        PyBuffer_Release(&view)
    if n < 0:
        Py_DECREF(<object>raw)
        raise ChunkDecodeError(f"blosc decode: {error_message(n)}")
    return _finish_bytes(raw, n)


def decompress_into(src, out) -> None:
    """Decode a Blosc1/Blosc2 chunk into the writable contiguous buffer out, whose size must equal the header's nbytes."""
    cdef Py_buffer view, oview
    cdef Py_ssize_t n
    PyObject_GetBuffer(out, &oview, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE)
    try:
        PyObject_GetBuffer(src, &view, PyBUF_ANY_CONTIGUOUS)
        try:
            with nogil:
                n = _decode_view(&view, <uint8_t*>oview.buf, <size_t>oview.len)
        finally:
            PyBuffer_Release(&view)
    finally:
        PyBuffer_Release(&oview)
    if n < 0:
        raise ChunkDecodeError(f"blosc decode into a {oview.len}-byte buffer: {error_message(n)}")


def cbuffer_sizes(src) -> tuple:
    """(nbytes, cbytes, blocksize) from a Blosc1/Blosc2 header; ChunkDecodeError if it is short or invalid."""
    cdef Py_buffer view
    cdef int32_t nbytes = 0, cbytes = 0, blocksize = 0
    cdef int rc = -1
    PyObject_GetBuffer(src, &view, PyBUF_ANY_CONTIGUOUS)
    try:
        if view.len >= ZF_BLOSC_HEADER:
            rc = blosc2_cbuffer_sizes(view.buf, &nbytes, &cbytes, &blocksize)
        else:
            raise ChunkDecodeError(f"blosc: {view.len}-byte buffer is shorter than the 16-byte header")
    finally:
        PyBuffer_Release(&view)
    if rc < 0:
        raise ChunkDecodeError(f"blosc: invalid header (libblosc2 error {rc})")
    return nbytes, cbytes, blocksize


cdef enum:
    _SHUF = 0
    _UNSHUF = 1
    _BITSHUF = 2
    _BITUNSHUF = 3


cdef object _shuffle_op(src, Py_ssize_t typesize, int op):
    cdef Py_buffer view
    cdef PyObject* raw = NULL
    cdef uint8_t* scratch = NULL
    cdef uint8_t* out
    cdef size_t n, ts
    if typesize < 1:
        raise CodecError(f"shuffle: typesize must be >= 1, got {typesize}")
    ts = typesize
    PyObject_GetBuffer(src, &view, PyBUF_ANY_CONTIGUOUS)
    try:
        n = <size_t>view.len
        _new_bytes(view.len, &raw)
        out = <uint8_t*>zf_raw_bytes_data(raw)
        if op >= _BITSHUF:
            scratch = <uint8_t*>malloc(n if n > 0 else 1)
            if scratch == NULL:
                Py_DECREF(<object>raw)
                raise MemoryError()
        with nogil:
            if op == _SHUF:
                zf_shuf_bytes(<const uint8_t*>view.buf, out, n, ts)
            elif op == _UNSHUF:
                zf_shuf_unbytes(<const uint8_t*>view.buf, out, n, ts)
            elif op == _BITSHUF:
                zf_shuf_bitshuffle_block(<const uint8_t*>view.buf, out, n, ts, scratch)
            else:
                zf_shuf_bitunshuffle_block(<const uint8_t*>view.buf, out, n, ts, scratch)
    finally:
        PyBuffer_Release(&view)
        free(scratch)
    return _finish_bytes(raw, <Py_ssize_t>n)


def shuffle(src, typesize: int) -> bytes:
    """Byte-shuffle a buffer as one Blosc block (out[j*n + i] = in[i*typesize + j]; trailing bytes kept)."""
    return _shuffle_op(src, typesize, _SHUF)


def unshuffle(src, typesize: int) -> bytes:
    """Inverse of shuffle."""
    return _shuffle_op(src, typesize, _UNSHUF)


def bitshuffle(src, typesize: int) -> bytes:
    """Bit-shuffle a buffer as one Blosc1 block: only if its element count is a multiple of 8, else a plain copy."""
    return _shuffle_op(src, typesize, _BITSHUF)


def bitunshuffle(src, typesize: int) -> bytes:
    """Inverse of bitshuffle."""
    return _shuffle_op(src, typesize, _BITUNSHUF)
