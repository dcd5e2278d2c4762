# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batch whole-file reads for LocalStore without the GIL: open, fstat, pread, close for many paths per call.

Python allocates the result ``bytes`` objects (sized by fstat) between two GIL-free phases, so a batch of small
chunk files costs a few system calls each and no Python bytecode per file.
"""
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.errno cimport errno, EINTR
from libc.stdlib cimport free, malloc
from posix.types cimport off_t

cdef extern from "<fcntl.h>" nogil:
    int c_open "open"(const char *path, int flags)
    int O_RDONLY
    int O_NOFOLLOW
    int O_CLOEXEC

cdef extern from "<unistd.h>" nogil:
    int c_close "close"(int fd)
    ssize_t c_pread "pread"(int fd, void *buf, size_t count, off_t offset)

cdef extern from "<sys/stat.h>" nogil:
    cdef struct stat:
        off_t st_size
        unsigned int st_mode
    int c_fstat "fstat"(int fd, stat *buf)
    bint S_ISREG(unsigned int mode)

# per-path status codes returned to Python
STATUS_OK = 0          # the bytes object holds the whole file
STATUS_MISSING = 1     # no such file (ENOENT / ENOTDIR / not a regular file): the key is absent
STATUS_RETRY = 2       # anything else (symlink, error, file changed size): let the Python path decide


cdef int _open_one(const char *path, int *fd_out, long long *size_out) noexcept nogil:
    cdef int fd
    cdef stat st
    cdef int err
    while True:
        fd = c_open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 or errno != EINTR:
            break
    if fd < 0:
        err = errno
        # ENOENT 2, ENOTDIR 20, EISDIR 21, ENAMETOOLONG 36: the key does not exist as a file
        if err == 2 or err == 20 or err == 21 or err == 36:
            return 1
        return 2
    if c_fstat(fd, &st) != 0:
        c_close(fd)
        return 2
    if not S_ISREG(st.st_mode):
        c_close(fd)
        return 1
    fd_out[0] = fd
    size_out[0] = st.st_size
    return 0


cdef int _read_one(int fd, char *buf, long long size) noexcept nogil:
    cdef long long got = 0
    cdef ssize_t n
    cdef char probe
    while got < size:
        n = c_pread(fd, buf + got, <size_t>(size - got), <off_t>got)
        if n < 0:
            if errno == EINTR:
                continue
            return 2
        if n == 0:
            return 2  # the file shrank since fstat
        got += n
    # the file grew since fstat: let Python read it again
    n = c_pread(fd, &probe, 1, <off_t>size)
    if n != 0:
        return 2
    return 0


def read_files(list paths):
    """Read whole files. Returns ``(values, status)``: ``values[i]`` is bytes when ``status[i] == 0``, else None;
    status 1 = missing, 2 = let the caller retry on its own slow path."""
    cdef Py_ssize_t n = len(paths)
    cdef Py_ssize_t i
    cdef const char **cpaths = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef int *fds = <int *>malloc(max(n, 1) * sizeof(int))
    cdef long long *sizes = <long long *>malloc(max(n, 1) * sizeof(long long))
    cdef int *status = <int *>malloc(max(n, 1) * sizeof(int))
    cdef char **bufs = <char **>malloc(max(n, 1) * sizeof(char *))
    values = [None] * n
    if cpaths == NULL or fds == NULL or sizes == NULL or status == NULL or bufs == NULL:
        free(cpaths); free(fds); free(sizes); free(status); free(bufs)
        raise MemoryError()
    try:
        for i in range(n):
            fds[i] = -1
            sizes[i] = 0
            bufs[i] = NULL
        for i in range(n):
            p = paths[i]
            if not isinstance(p, bytes):
                raise TypeError("paths must be bytes")
            cpaths[i] = <const char *>p
        with nogil:
            for i in range(n):
                status[i] = _open_one(cpaths[i], &fds[i], &sizes[i])
        for i in range(n):
            if status[i] == 0:
                b = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>sizes[i])
                values[i] = b
                bufs[i] = PyBytes_AS_STRING(b)
        with nogil:
            for i in range(n):
                if status[i] == 0:
                    status[i] = _read_one(fds[i], bufs[i], sizes[i])
        out_status = [0] * n
        for i in range(n):
            if status[i] != 0:
                values[i] = None
            out_status[i] = status[i]
        return values, out_status
    finally:
        for i in range(n):
            if fds[i] >= 0:
                c_close(fds[i])
        free(cpaths); free(fds); free(sizes); free(status); free(bufs)
