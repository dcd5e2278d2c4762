cdef Py_ssize_t zf_blosc_max_compressed_size(size_t nbytes) noexcept nogil:
    return nbytes + 16 + 64
cdef Py_ssize_t zf_blosc_compress(const uint8_t* src, size_t nbytes, size_t typesize, int clevel, int shuffle, int cname, size_t blocksize, uint8_t* dst, size_t dst_capacity) noexcept nogil:
    return -1
cdef Py_ssize_t zf_blosc_decompress(const uint8_t* src, size_t srclen, uint8_t* dst, size_t expected_nbytes) noexcept nogil:
    return -1
