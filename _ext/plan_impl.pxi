# Plan validation and buffer collection for the batch kernels (included by pipeline.pyx after ChunkProgram).

cdef int check_plan(ChunkProgram prog, Py_buffer* arr, const int64_t[:, ::1] chunk_start, const int64_t[:, ::1] count,
                    const int64_t[:, ::1] arr_start, const int64_t[::1] steps) except -1:
    """Validate that every chunk region lies inside the chunk and inside the array buffer."""
    cdef Py_ssize_t n = chunk_start.shape[0], k
    cdef int d, nd = prog.ndim
    cdef int64_t first, last
    if arr.ndim != nd:
        raise ValueError(f"array has {arr.ndim} dimensions, chunk program {nd}")
    if arr.itemsize != prog.itemsize:
        raise ValueError(f"array itemsize {arr.itemsize} differs from the chunk program's {prog.itemsize}")
    if count.shape[0] != n or arr_start.shape[0] != n or (n and (chunk_start.shape[1] != nd or count.shape[1] != nd
                                                                  or arr_start.shape[1] != nd)):
        raise ValueError("plan arrays disagree in shape")
    if steps.shape[0] != nd:
        raise ValueError("steps rank differs")
    for k in range(n):
        for d in range(nd):
            if count[k, d] < 0:
                raise ValueError("negative count in plan")
            if count[k, d] == 0:
                continue
            first = chunk_start[k, d]
            last = first + (count[k, d] - 1) * steps[d]
            if first < 0 or first >= prog.chunk_shape[d] or last < 0 or last >= prog.chunk_shape[d]:
                raise IndexError(f"plan row {k} leaves the chunk along axis {d}")
            if arr_start[k, d] < 0 or arr_start[k, d] + count[k, d] > arr.shape[d]:
                raise IndexError(f"plan row {k} leaves the array along axis {d}")
    return 0


cdef int collect_buffers(list items, const uint8_t** ptrs, size_t* lens, Py_buffer* views, char* held) except -1:
    """Pointers to each item's bytes: bytes objects directly, other buffers (memoryview slices of a shard ...)
    through the buffer protocol (released by release_buffers); None stays NULL."""
    cdef Py_ssize_t k
    cdef bytes eb
    for k in range(len(items)):
        held[k] = 0
        e = items[k]
        if e is None:
            ptrs[k] = NULL
            lens[k] = 0
        elif type(e) is bytes:
            eb = e
            ptrs[k] = <const uint8_t*>eb
            lens[k] = len(eb)
        else:
            PyObject_GetBuffer(e, &views[k], PyBUF_SIMPLE)
            held[k] = 1
            ptrs[k] = <const uint8_t*>views[k].buf
            lens[k] = views[k].len
    return 0


cdef void release_buffers(Py_ssize_t n, Py_buffer* views, char* held) noexcept:
    cdef Py_ssize_t k
    if views == NULL or held == NULL:
        return
    for k in range(n):
        if held[k]:
            PyBuffer_Release(&views[k])
            held[k] = 0
