# C declarations of the codec libraries bundled in libblosc2.a (blosc2, zstd, lz4, lz4hc).
# Declarations only: no code here.  Signatures follow the libraries' stable public APIs.
from libc.stdint cimport int16_t, int32_t, uint8_t, uint32_t, int64_t
from libc.stddef cimport size_t

cdef extern from "blosc2.h" nogil:
    ctypedef struct blosc2_context:
        pass
    ctypedef struct blosc2_dparams:
        int16_t nthreads
        void* schunk
        void* postfilter
        void* postparams
        int32_t typesize
    blosc2_dparams BLOSC2_DPARAMS_DEFAULTS
    blosc2_context* blosc2_create_dctx(blosc2_dparams dparams)
    void blosc2_free_ctx(blosc2_context* context)
    int blosc2_decompress_ctx(blosc2_context* context, const void* src, int32_t srcsize,
                              void* dest, int32_t destsize)
    int blosc2_getitem_bytes_ctx(blosc2_context* context, const void* src, int32_t srcsize, int32_t start,
                                 int32_t nbytes, void* dest, int32_t destsize)
    int blosc2_cbuffer_sizes(const void* cbuffer, int32_t* nbytes, int32_t* cbytes, int32_t* blocksize)
    void blosc2_init()
    int BLOSC_MIN_HEADER_LENGTH
    int BLOSC_EXTENDED_HEADER_LENGTH
    int BLOSC2_MAX_OVERHEAD


cdef extern from * nogil:
    """
    /* zstd, lz4 and lz4hc symbols come from libblosc2.a; their headers are not shipped, so the
       stable prototypes are declared here. */
    #include <stddef.h>
    typedef struct ZSTD_DCtx_s ZSTD_DCtx;
    typedef struct ZSTD_CCtx_s ZSTD_CCtx;
    size_t ZSTD_compressBound(size_t srcSize);
    unsigned ZSTD_isError(size_t code);
    const char* ZSTD_getErrorName(size_t code);
    unsigned long long ZSTD_getFrameContentSize(const void *src, size_t srcSize);
    size_t ZSTD_findFrameCompressedSize(const void* src, size_t srcSize);
    ZSTD_DCtx* ZSTD_createDCtx(void);
    size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx);
    size_t ZSTD_decompressDCtx(ZSTD_DCtx* dctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize);
    ZSTD_CCtx* ZSTD_createCCtx(void);
    size_t ZSTD_freeCCtx(ZSTD_CCtx* cctx);
    size_t ZSTD_compressCCtx(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize, int compressionLevel);
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx* cctx, int param, int value);
    size_t ZSTD_CCtx_reset(ZSTD_CCtx* cctx, int reset);
    size_t ZSTD_compress2(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize);
    unsigned ZSTD_versionNumber(void);
    typedef struct { const void* src; size_t size; size_t pos; } ZSTD_inBuffer;
    typedef struct { void* dst; size_t size; size_t pos; } ZSTD_outBuffer;
    size_t ZSTD_decompressStream(ZSTD_DCtx* zds, ZSTD_outBuffer* output, ZSTD_inBuffer* input);
    size_t ZSTD_DCtx_reset(ZSTD_DCtx* dctx, int reset);
    #define ZARRFAST_ZSTD_CONTENTSIZE_UNKNOWN (0ULL - 1)
    #define ZARRFAST_ZSTD_CONTENTSIZE_ERROR   (0ULL - 2)
    #define ZARRFAST_ZSTD_c_compressionLevel 100
    #define ZARRFAST_ZSTD_c_checksumFlag 201
    #define ZARRFAST_ZSTD_c_contentSizeFlag 200
    #define ZARRFAST_ZSTD_reset_session_only 1
    #define ZARRFAST_ZSTD_reset_session_and_parameters 3

    int LZ4_compressBound(int inputSize);
    int LZ4_compress_fast(const char* src, char* dst, int srcSize, int dstCapacity, int acceleration);
    int LZ4_compress_default(const char* src, char* dst, int srcSize, int dstCapacity);
    int LZ4_decompress_safe(const char* src, char* dst, int compressedSize, int dstCapacity);
    int LZ4_compress_HC(const char* src, char* dst, int srcSize, int dstCapacity, int compressionLevel);
    """
    ctypedef struct ZSTD_DCtx:
        pass
    ctypedef struct ZSTD_CCtx:
        pass
    ctypedef struct ZSTD_inBuffer:
        const void* src
        size_t size
        size_t pos
    ctypedef struct ZSTD_outBuffer:
        void* dst
        size_t size
        size_t pos
    size_t ZSTD_compressBound(size_t srcSize)
    unsigned ZSTD_isError(size_t code)
    const char* ZSTD_getErrorName(size_t code)
    unsigned long long ZSTD_getFrameContentSize(const void* src, size_t srcSize)
    size_t ZSTD_findFrameCompressedSize(const void* src, size_t srcSize)
    ZSTD_DCtx* ZSTD_createDCtx()
    size_t ZSTD_freeDCtx(ZSTD_DCtx* dctx)
    size_t ZSTD_decompressDCtx(ZSTD_DCtx* dctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize)
    ZSTD_CCtx* ZSTD_createCCtx()
    size_t ZSTD_freeCCtx(ZSTD_CCtx* cctx)
    size_t ZSTD_compressCCtx(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize, int level)
    size_t ZSTD_CCtx_setParameter(ZSTD_CCtx* cctx, int param, int value)
    size_t ZSTD_CCtx_reset(ZSTD_CCtx* cctx, int reset)
    size_t ZSTD_compress2(ZSTD_CCtx* cctx, void* dst, size_t dstCapacity, const void* src, size_t srcSize)
    unsigned ZSTD_versionNumber()
    size_t ZSTD_decompressStream(ZSTD_DCtx* zds, ZSTD_outBuffer* output, ZSTD_inBuffer* input)
    size_t ZSTD_DCtx_reset(ZSTD_DCtx* dctx, int reset)
    unsigned long long ZARRFAST_ZSTD_CONTENTSIZE_UNKNOWN
    unsigned long long ZARRFAST_ZSTD_CONTENTSIZE_ERROR
    int ZARRFAST_ZSTD_c_compressionLevel
    int ZARRFAST_ZSTD_c_checksumFlag
    int ZARRFAST_ZSTD_c_contentSizeFlag
    int ZARRFAST_ZSTD_reset_session_only
    int ZARRFAST_ZSTD_reset_session_and_parameters

    int LZ4_compressBound(int inputSize)
    int LZ4_compress_fast(const char* src, char* dst, int srcSize, int dstCapacity, int acceleration)
    int LZ4_compress_default(const char* src, char* dst, int srcSize, int dstCapacity)
    int LZ4_decompress_safe(const char* src, char* dst, int compressedSize, int dstCapacity)
    int LZ4_compress_HC(const char* src, char* dst, int srcSize, int dstCapacity, int compressionLevel)
