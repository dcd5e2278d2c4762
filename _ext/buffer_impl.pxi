# Memory the kernels allocated with malloc, handed to Python without a copy.
# Requires PyBuffer_FillInfo (cpython.buffer) and free (libc.stdlib) in the including module.
from libc.stdint cimport uint8_t


cdef class OwnedBuffer:
    """A read-only buffer over ``malloc``'d bytes, freed with the object (exported as ``memoryview(OwnedBuffer)``)."""
    cdef uint8_t* ptr
    cdef Py_ssize_t size

    def __dealloc__(self):
        free(self.ptr)
        self.ptr = NULL

    def __len__(self):
        return self.size

    def __getbuffer__(self, Py_buffer* buffer, int flags):
        PyBuffer_FillInfo(buffer, self, <void*>self.ptr, self.size, 1, flags)

    def __releasebuffer__(self, Py_buffer* buffer):
        pass


cdef object owned_view(uint8_t* ptr, Py_ssize_t size):
    """A memoryview that owns ``ptr`` (``size`` bytes) from now on."""
    cdef OwnedBuffer b = OwnedBuffer.__new__(OwnedBuffer)
    b.ptr = ptr
    b.size = size
    return memoryview(b)
