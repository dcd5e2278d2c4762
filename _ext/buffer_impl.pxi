# Memory the kernels allocated with malloc, handed to Python without a copy.
# Requires PyBuffer_FillInfo (cpython.buffer) and free (libc.stdlib) in the including module.
from libc.stdint cimport uint8_t
from libc.string cimport memmove


cdef extern from "<sys/mman.h>" nogil:
    int madvise(void* addr, size_t length, int advice)
    int MADV_HUGEPAGE


cdef enum:
    BUF_POOL_MAX = 32
    ZF_HUGE_MIN = 4 * 1024 * 1024  # buffers at least this large get transparent huge pages when the system allows


cdef void zf_advise_huge(uint8_t* p, size_t n) noexcept nogil:
    """Ask for transparent huge pages over the page-aligned part of a large fresh buffer: one fault (and one clear)
    per 2 MiB instead of per 4 KiB page. A hint only: ignored where THP is off or unsupported."""
    cdef size_t page = 4096
    cdef size_t start = (<size_t>p + page - 1) & ~(page - 1)
    cdef size_t end = (<size_t>p + n) & ~(page - 1)
    if n >= ZF_HUGE_MIN and end > start:
        madvise(<void*>start, end - start, MADV_HUGEPAGE)


cdef struct BufPool:
    # malloc'd buffers kept between kernel calls, oldest first; taken and given back with the GIL held
    uint8_t* bufs[BUF_POOL_MAX]
    size_t caps[BUF_POOL_MAX]
    int n
    int max_n           # at most BUF_POOL_MAX
    size_t kept         # sum of caps
    size_t max_bytes
    size_t slack_div    # a buffer serves a need n if n <= cap <= n + n / slack_div (0: any larger cap)


cdef void pool_init(BufPool* pool, int max_n, size_t max_bytes, size_t slack_div) noexcept:
    pool.n = 0
    pool.kept = 0
    pool.max_n = min(max_n, <int>BUF_POOL_MAX)
    pool.max_bytes = max_bytes
    pool.slack_div = slack_div


cdef void _pool_remove(BufPool* pool, int i) noexcept:
    """Drop entry `i`, keeping the others oldest first."""
    pool.kept -= pool.caps[i]
    pool.n -= 1
    memmove(&pool.bufs[i], &pool.bufs[i + 1], (pool.n - i) * sizeof(uint8_t*))
    memmove(&pool.caps[i], &pool.caps[i + 1], (pool.n - i) * sizeof(size_t))


cdef uint8_t* pool_take(BufPool* pool, size_t n, size_t* cap) noexcept:
    """A pooled buffer for `n` bytes (its capacity in `cap`), or NULL (the caller then mallocs `n`)."""
    cdef int i
    cdef uint8_t* p
    for i in range(pool.n - 1, -1, -1):  # newest first: its pages are the likeliest to be in cache
        if n <= pool.caps[i] and (pool.slack_div == 0 or pool.caps[i] <= n + n // pool.slack_div):
            p = pool.bufs[i]
            cap[0] = pool.caps[i]
            _pool_remove(pool, i)
            return p
    cap[0] = n
    return NULL


cdef void pool_give(BufPool* pool, uint8_t* p, size_t cap) noexcept:
    """Keep `p` (pooled or malloc'd, `cap` bytes) for a later pool_take. When the pool is full the oldest buffers
    are freed first, so buffers of an array used long ago do not keep out those of the current one."""
    if p == NULL:
        return
    if cap > pool.max_bytes:
        free(p)
        return
    while pool.n == pool.max_n or pool.kept + cap > pool.max_bytes:
        free(pool.bufs[0])
        _pool_remove(pool, 0)
    pool.bufs[pool.n] = p
    pool.caps[pool.n] = cap
    pool.n += 1
    pool.kept += cap


# Buffers of encoded chunks that a chain without a compressor builds in place (one chunk each, 512 kB for 64^3
# uint16) come back here when the store has written them and Python drops the view, so the next batch reuses pages
# that are already mapped. A fresh malloc per chunk came back as fresh pages (glibc trims the freed batch), and the
# kernel clearing them was ~15 % of a raw write_all. Compressed outputs are not pooled: their sizes vary, and glibc
# already serves them from its heap.
cdef BufPool _out_pool
pool_init(&_out_pool, 32, 16 * 1024 * 1024, 4)


def out_pool_state() -> tuple:
    """(buffers, bytes) held by the output pool now (for tests)."""
    return _out_pool.n, _out_pool.kept


cdef class OwnedBuffer:
    """A read-only buffer over ``malloc``'d bytes, freed (or given back to the output pool) with the object
    (exported as ``memoryview(OwnedBuffer)``)."""
    cdef uint8_t* ptr
    cdef Py_ssize_t size
    cdef size_t pool_cap  # 0: free(ptr); else it goes back to the output pool

    def __dealloc__(self):
        if self.pool_cap:
            pool_give(&_out_pool, self.ptr, self.pool_cap)
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
    back to the output pool when the view is dropped. If it raises, ``ptr`` still belongs to the caller."""
    cdef OwnedBuffer b = OwnedBuffer.__new__(OwnedBuffer)
    b.ptr = ptr
    b.size = size
    b.pool_cap = pool_cap
    try:
        return memoryview(b)
    except BaseException:
        b.ptr = NULL  # not ours after all: the caller frees it
        b.pool_cap = 0
        raise
