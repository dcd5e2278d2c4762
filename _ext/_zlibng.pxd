# C declarations of the zlib-ng native API (zng_* symbols) bundled in libblosc2.a.
# Declarations only: no code here.  libblosc2 ships no zlib-ng header, so the stable prototypes of
# zlib-ng 2.x (zlib-ng.h) are written out below.
from libc.stdint cimport uint8_t, int32_t
from libc.stddef cimport size_t

cdef extern from * nogil:
    """
    #include <stddef.h>
    #include <stdint.h>
    int32_t zng_compress2(uint8_t *dest, size_t *destLen, const uint8_t *source, size_t sourceLen, int32_t level);
    size_t zng_compressBound(size_t sourceLen);
    int32_t zng_uncompress(uint8_t *dest, size_t *destLen, const uint8_t *source, size_t sourceLen);
    const char *zlibng_version(void);
    #define ZARRFAST_Z_OK 0
    """
    int32_t zng_compress2(uint8_t* dest, size_t* destLen, const uint8_t* source, size_t sourceLen, int32_t level)
    size_t zng_compressBound(size_t sourceLen)
    int32_t zng_uncompress(uint8_t* dest, size_t* destLen, const uint8_t* source, size_t sourceLen)
    const char* zlibng_version()
    int ZARRFAST_Z_OK
