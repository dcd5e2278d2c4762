# Memory the kernels allocated with malloc, handed to Python without a copy.
# Requires PyBuffer_FillInfo (cpython.buffer) and free (libc.stdlib) in the including module.
from libc.stdint cimport uint8_t
from libc.string cimport memmove


# Buffers of encoded chunks that a chain without a compressor builds in place (one chunk each, 512 kB for 64^3
# uint16) come back here when the store has written them and Python drops the view, so the next batch reuses pages
# that are already mapped. A fresh malloc per chunk came back as fresh pages (glibc trims the freed batch), and the
# kernel clearing them was ~15 % of a raw write_all. Taken and given back with the GIL held; at most OUT_KEEP_BYTES
# kept, the oldest freed first. Compressed outputs are not pooled: their sizes vary, and glibc already serves them
# from its heap.
cdef enum:
    OUT_POOL_SIZE = 32
cdef size_t OUT_KEEP_BYTES = 16 * 1024 * 1024
cdef uint8_t* _out_pool[OUT_POOL_SIZE]
cdef size_t _out_cap[OUT_POOL_SIZE]
cdef int _out_n = 0
cdef size_t _out_kept = 0


cdef void _out_remove(int i) noexcept:
    """Drop entry `i` from the pool, keeping the others oldest first."""
    global _out_n, _out_kept
    _out_kept -= _out_cap[i]
    _out_n -= 1
    memmove(&_out_pool[i], &_out_pool[i + 1], (_out_n - i) * sizeof(uint8_t*))
    memmove(&_out_cap[i], &_out_cap[i + 1], (_out_n - i) * sizeof(size_t))


cdef uint8_t* take_out(size_t n, size_t* cap) noexcept:
    """A pooled output buffer of `n` to `n + n/4` bytes (its capacity in `cap`), or NULL (the caller mallocs `n`)."""
    cdef int i
    cdef uint8_t* p
    for i in range(_out_n - 1, -1, -1):  # newest first: its pages are the likeliest to be in cache
        if n <= _out_cap[i] <= n + n // 4:
            p = _out_pool[i]
            cap[0] = _out_cap[i]
            _out_remove(i)
            return p
    cap[0] = n
    return NULL


cdef void give_out(uint8_t* p, size_t cap) noexcept:
    """Return an output buffer (pooled or malloc'd, `cap` bytes) to the pool. When the pool is full the oldest
    buffers are freed first, so buffers of an array written long ago do not keep out those of the current one."""
    global _out_n, _out_kept
    if p == NULL:
        return
    if cap > OUT_KEEP_BYTES:
        free(p)
        return
    while _out_n == OUT_POOL_SIZE or _out_kept + cap > OUT_KEEP_BYTES:
        free(_out_pool[0])
        _out_remove(0)
    _out_pool[_out_n] = p
    _out_cap[_out_n] = cap
    _out_n += 1
    _out_kept += cap


def out_pool_state() -> tuple:
    """(buffers, bytes) held by the output pool now (for tests)."""
    return _out_n, _out_kept


cdef class OwnedBuffer:
    """A read-only buffer over ``malloc``'d bytes, freed (or given back to the output pool) with the object
    (exported as ``memoryview(OwnedBuffer)``)."""
    cdef uint8_t* ptr
    cdef Py_ssize_t size
    cdef size_t pool_cap  # 0: free(ptr); else give_out(ptr, pool_cap)

    def __dealloc__(self):
        if self.pool_cap:
            give_out(self.ptr, self.pool_cap)
        else:
            free(self.ptr)
        self.ptr = NULL

    def __len__(self):
        return self.size

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        PyBuffer_FillInfo(buffer, self, <void*>self.ptr, self.size, 1, flags)

    def __releasebuffer__(self, Py_buffer* buffer):
        pass


cdef object owned_view(uint8_t* ptr, Py_ssize_t size, size_t pool_cap=0):
    """A memoryview that owns ``ptr`` (``size`` bytes) from now on; with ``pool_cap`` (its capacity) the buffer goes
    back to the output pool when the view is dropped."""
    cdef OwnedBuffer b = OwnedBuffer.__new__(OwnedBuffer)
    b.ptr = ptr
    b.size = size
    b.pool_cap = pool_cap
    return memoryview(b)
