# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Batch file I/O for LocalStore without the GIL.

``read_files``: open, fstat, pread, close for many paths per call. Python allocates the result ``bytes`` objects
(sized by fstat) between two GIL-free phases, so a batch of small chunk files costs a few system calls each and no
Python bytecode per file.

``write_files``: for each item, create a fresh temp file (``O_EXCL``, no symlink follow), write the value, optionally
fsync, close and rename it onto the final path - the same atomic-replace protocol as ``LocalStore._set``, for a
whole batch under one GIL release.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object s, Py_ssize_t *size)
from libc.errno cimport errno, EINTR
from libc.stdlib cimport free, malloc
from libc.string cimport memcmp, memcpy
from cpython.exc cimport PyErr_Clear
from cpython.unicode cimport PyUnicode_DecodeUTF8
from posix.types cimport off_t

cdef extern from "<fcntl.h>" nogil:
    int c_open "open"(const char *path, int flags)
    int c_open_mode "open"(const char *path, int flags, int mode)
    int O_RDONLY
    int O_WRONLY
    int O_CREAT
    int O_EXCL
    int O_NOFOLLOW
    int O_CLOEXEC

cdef extern from "<unistd.h>" nogil:
    int c_close "close"(int fd)
    ssize_t c_pread "pread"(int fd, void *buf, size_t count, off_t offset)
    ssize_t c_write "write"(int fd, const void *buf, size_t count)
    int c_fsync "fsync"(int fd)
    int c_unlink "unlink"(const char *path)

cdef extern from "<stdio.h>" nogil:
    int c_rename "rename"(const char *old, const char *new)

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


cdef int _read_one(int fd, char *buf, long long size, bint slack) noexcept nogil:
    """Read the ``size`` bytes of an open file into ``buf``; 0, or 2 if the file changed size meanwhile.
    ``slack``: ``buf`` has room for one more byte, so the first read asks for ``size + 1`` and a short answer
    proves the end of the file without a second system call."""
    cdef long long got = 0
    cdef ssize_t n
    cdef char probe
    if slack:
        while True:
            n = c_pread(fd, buf, <size_t>(size + 1), 0)
            if n >= 0 or errno != EINTR:
                break
        if n < 0:
            return 2
        if n == size:
            return 0
        if n > size:
            return 2  # the file grew since fstat: let Python read it again
        got = n
        if n == 0:
            return 2  # the file shrank since fstat
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


cdef object _read_paths(const char **cpaths, Py_ssize_t n, object arena, int *status):
    """Read files ``cpaths[:n]`` (see :func:`read_files`); fills ``status`` and returns ``(values, needed)``."""
    cdef Py_ssize_t i
    cdef long long used = 0, need = 0, cap = 0, slot
    cdef char *base = NULL
    cdef int *fds = <int *>malloc(max(n, 1) * sizeof(int))
    cdef long long *sizes = <long long *>malloc(max(n, 1) * sizeof(long long))
    cdef char **bufs = <char **>malloc(max(n, 1) * sizeof(char *))
    cdef unsigned char *slack = <unsigned char *>malloc(max(n, 1))
    if fds == NULL or sizes == NULL or bufs == NULL or slack == NULL:
        free(fds); free(sizes); free(bufs); free(slack)
        raise MemoryError()
    values = [None] * n
    view = None
    if arena is not None:
        if not isinstance(arena, bytearray):
            free(fds); free(sizes); free(bufs); free(slack)
            raise TypeError("arena must be a bytearray")
        cap = len(arena)
        if cap:
            base = PyByteArray_AS_STRING(arena)
        view = memoryview(arena)
    try:
        for i in range(n):
            fds[i] = -1
            sizes[i] = 0
            bufs[i] = NULL
            slack[i] = 0
        with nogil:
            for i in range(n):
                status[i] = _open_one(cpaths[i], &fds[i], &sizes[i])
        for i in range(n):
            if status[i] == 0:
                if view is not None:
                    slot = (sizes[i] + 63) & ~63  # 64-byte aligned slots
                    need += slot
                    if used + sizes[i] <= cap:
                        values[i] = view[used:used + sizes[i]]
                        bufs[i] = base + used
                        # one spare byte (slot padding, or the next slot, read later): one read proves the end
                        slack[i] = used + sizes[i] < cap
                        used += slot
                        continue
                b = PyBytes_FromStringAndSize(NULL, <Py_ssize_t>sizes[i])
                values[i] = b
                bufs[i] = PyBytes_AS_STRING(b)
        with nogil:
            for i in range(n):
                if status[i] == 0:
                    status[i] = _read_one(fds[i], bufs[i], sizes[i], slack[i])
        for i in range(n):
            if status[i] != 0:
                values[i] = None
        return values, need
    finally:
        for i in range(n):
            if fds[i] >= 0:
                c_close(fds[i])
        free(fds); free(sizes); free(bufs); free(slack)


def read_files(list paths, object arena=None):
    """Read whole files. Returns ``(values, status, needed)``: ``values[i]`` holds file ``i`` when
    ``status[i] == 0``, else None; status 1 = missing, 2 = let the caller retry on its own slow path.

    Without ``arena`` each value is a new ``bytes``. With ``arena`` (a writable bytearray the caller reuses) the
    files are read into it one after the other and the values are memoryviews of it, valid until the caller next
    reuses the arena; files that don't fit get their own ``bytes``. ``needed`` is the arena size that would have
    held them all (0 without an arena). Reusing one arena saves page-faulting fresh buffers for every batch."""
    cdef Py_ssize_t n = len(paths)
    cdef Py_ssize_t i
    cdef const char **cpaths = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef int *status = <int *>malloc(max(n, 1) * sizeof(int))
    if cpaths == NULL or status == NULL:
        free(cpaths); free(status)
        raise MemoryError()
    try:
        for i in range(n):
            p = paths[i]
            if not isinstance(p, bytes):
                raise TypeError("paths must be bytes")
            cpaths[i] = <const char *>p
        values, need = _read_paths(cpaths, n, arena, status)
        return values, [status[i] for i in range(n)], need
    finally:
        free(cpaths); free(status)


cdef bint _plain_key(const char *s, Py_ssize_t n) noexcept nogil:
    """True if the UTF-8 key ``s[:n]`` obeys the store key rules (zarrfast.storage.keys): non-empty
    ``/``-separated segments that are never empty, ``.`` or ``..``, and no backslash or NUL byte."""
    cdef Py_ssize_t i, seg = 0
    cdef char c
    if n == 0:
        return False
    for i in range(n + 1):
        c = s[i] if i < n else 47  # a '/' after the last segment
        if c == 47:
            if i == seg:
                return False
            if i - seg == 1 and s[seg] == 46:
                return False
            if i - seg == 2 and s[seg] == 46 and s[seg + 1] == 46:
                return False
            seg = i + 1
        elif c == 92 or c == 0:  # backslash, NUL
            return False
    return True


def read_keys(bytes root, list keys, object arena=None):
    """:func:`read_files` of store keys under the directory ``root``, with each key checked against the store key
    rules and joined to ``root`` here instead of in Python.

    Returns None (nothing read) if a key is not a str whose UTF-8 obeys the rules: the caller then checks the keys
    itself (and names the bad one). Otherwise ``(values, needed, found_dirs, retry)``: ``found_dirs`` holds
    ``(dirkey, i)`` for each file found whose directory differs from that of the previous file found (the caller
    checks that directory resolves inside the root); ``retry`` holds the indices with status 2."""
    cdef Py_ssize_t n = len(keys)
    cdef Py_ssize_t i, j, ln, total = 0, rlen = len(root), dlen, prev_dlen = -1
    cdef const char *s
    cdef const char *prev = NULL
    cdef char *buf
    cdef const char **ks = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef Py_ssize_t *lens = <Py_ssize_t *>malloc(max(n, 1) * sizeof(Py_ssize_t))
    cdef const char **cpaths = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef int *status = <int *>malloc(max(n, 1) * sizeof(int))
    cdef char *paths = NULL
    if ks == NULL or lens == NULL or cpaths == NULL or status == NULL:
        free(ks); free(lens); free(cpaths); free(status)
        raise MemoryError()
    try:
        if b"\x00" in root:
            return None
        for i in range(n):
            key = keys[i]
            if type(key) is not str:
                return None
            s = PyUnicode_AsUTF8AndSize(key, &ln)
            if s == NULL:  # not encodable as plain UTF-8 (lone surrogates): the caller's path decides
                PyErr_Clear()
                return None
            if not _plain_key(s, ln):
                return None
            ks[i] = s
            lens[i] = ln
            total += rlen + 1 + ln + 1
        paths = <char *>malloc(max(total, 1))
        if paths == NULL:
            raise MemoryError()
        buf = paths
        for i in range(n):
            cpaths[i] = buf
            memcpy(buf, <const char *>root, rlen)
            buf[rlen] = b'/'
            memcpy(buf + rlen + 1, ks[i], lens[i])
            buf[rlen + 1 + lens[i]] = 0
            buf += rlen + 1 + lens[i] + 1
        values, need = _read_paths(cpaths, n, arena, status)
        found_dirs = []
        retry = []
        for i in range(n):
            if status[i] == 0:
                s = ks[i]
                dlen = 0
                for j in range(lens[i] - 1, -1, -1):
                    if s[j] == 47:
                        dlen = j
                        break
                if dlen != prev_dlen or (dlen and memcmp(s, prev, dlen) != 0):
                    found_dirs.append((PyUnicode_DecodeUTF8(s, dlen, NULL), i))
                    prev, prev_dlen = s, dlen
            elif status[i] != 1:
                retry.append(i)
        return values, need, found_dirs, retry
    finally:
        free(ks); free(lens); free(cpaths); free(status); free(paths)


cdef int _write_one(const char *tmp, const char *final, const char *buf, Py_ssize_t size,
                    bint do_fsync) noexcept nogil:
    """Write ``buf`` to a new ``tmp`` file and rename it onto ``final``; 0 or the errno of the failed step.
    On failure the temp file is removed and ``final`` is untouched."""
    cdef int fd, err
    cdef Py_ssize_t done = 0
    cdef ssize_t n
    while True:
        fd = c_open_mode(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        if fd >= 0 or errno != EINTR:
            break
    if fd < 0:
        return errno
    while done < size:
        n = c_write(fd, buf + done, <size_t>(size - done))
        if n < 0:
            if errno == EINTR:
                continue
            err = errno
            c_close(fd)
            c_unlink(tmp)
            return err
        done += n
    if do_fsync and c_fsync(fd) != 0:
        err = errno
        c_close(fd)
        c_unlink(tmp)
        return err
    if c_close(fd) != 0:
        err = errno
        c_unlink(tmp)
        return err
    if c_rename(tmp, final) != 0:
        err = errno
        c_unlink(tmp)
        return err
    return 0


def write_files(list tmp_paths, list final_paths, list values, bint fsync=False):
    """Write ``values[i]`` (any contiguous buffer) to ``tmp_paths[i]`` and rename it onto ``final_paths[i]``.
    Returns one errno per item (0 = written); a failed item leaves its final path as it was."""
    cdef Py_ssize_t n = len(values)
    cdef Py_ssize_t i, taken = 0
    if len(tmp_paths) != n or len(final_paths) != n:
        raise ValueError("tmp_paths, final_paths and values differ in length")
    cdef const char **tmps = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef const char **finals = <const char **>malloc(max(n, 1) * sizeof(char *))
    cdef Py_buffer *views = <Py_buffer *>malloc(max(n, 1) * sizeof(Py_buffer))
    cdef int *status = <int *>malloc(max(n, 1) * sizeof(int))
    if tmps == NULL or finals == NULL or views == NULL or status == NULL:
        free(tmps); free(finals); free(views); free(status)
        raise MemoryError()
    try:
        for i in range(n):
            t = tmp_paths[i]
            f = final_paths[i]
            if not isinstance(t, bytes) or not isinstance(f, bytes):
                raise TypeError("paths must be bytes")
            tmps[i] = <const char *>t
            finals[i] = <const char *>f
        for i in range(n):
            PyObject_GetBuffer(values[i], &views[i], PyBUF_SIMPLE)
            taken += 1
        with nogil:
            for i in range(n):
                status[i] = _write_one(tmps[i], finals[i], <const char *>views[i].buf, views[i].len, fsync)
        return [status[i] for i in range(n)]
    finally:
        for i in range(taken):
            PyBuffer_Release(&views[i])
        free(tmps); free(finals); free(views); free(status)
