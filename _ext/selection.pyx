"""Slice-to-chunk projection for basic selections (integers and slices with any step)."""
import numpy as np
from libc.stdint cimport int64_t

cdef inline int64_t floordiv(int64_t a, int64_t b) noexcept nogil:
    # b > 0
    return a // b if a >= 0 else -((-a + b - 1) // b)


def project_basic(const int64_t[::1] chunk_shape, const int64_t[::1] starts, const int64_t[::1] steps,
                  const int64_t[::1] lengths):
    """Map a basic selection onto the chunk grid.

    Axis d selects elements starts[d] + i * steps[d] for i < lengths[d] (steps may be negative; the caller has
    normalised them to lie inside the array). Returns int64 arrays of shape (n, ndim): chunk_coords, chunk_start
    (first selected element within the chunk), count, and out_start, with chunks in C order of the output.
    """
    cdef int nd = chunk_shape.shape[0], d
    cdef int64_t idx, c, cnt, remaining, out_pos, step, cs, m
    cdef Py_ssize_t total = 1, k, j, rep, block
    if starts.shape[0] != nd or steps.shape[0] != nd or lengths.shape[0] != nd:
        raise ValueError("selection rank differs from the array rank")
    per_axis = []
    for d in range(nd):
        step = steps[d]
        cs = chunk_shape[d]
        if step == 0 or cs <= 0 or lengths[d] < 0:
            raise ValueError("invalid step, chunk size or length")
        coords, cstart, counts, ostart = [], [], [], []
        idx = starts[d]
        remaining = lengths[d]
        out_pos = 0
        while remaining > 0:
            c = floordiv(idx, cs)
            if step > 0:
                cnt = ((c + 1) * cs - idx + step - 1) // step
            else:
                cnt = (idx - c * cs) // (-step) + 1
            if cnt > remaining:
                cnt = remaining
            coords.append(c)
            cstart.append(idx - c * cs)
            counts.append(cnt)
            ostart.append(out_pos)
            out_pos += cnt
            remaining -= cnt
            idx += cnt * step
        per_axis.append((np.array(coords, dtype=np.int64), np.array(cstart, dtype=np.int64),
                         np.array(counts, dtype=np.int64), np.array(ostart, dtype=np.int64)))
        total *= len(coords)
    coords_out = np.empty((total, nd), dtype=np.int64)
    start_out = np.empty((total, nd), dtype=np.int64)
    count_out = np.empty((total, nd), dtype=np.int64)
    ostart_out = np.empty((total, nd), dtype=np.int64)
    if total == 0:
        return coords_out, start_out, count_out, ostart_out
    cdef int64_t[:, ::1] co = coords_out, so = start_out, cn = count_out, oo = ostart_out
    cdef int64_t[::1] a0, a1, a2, a3
    cdef Py_ssize_t m_d
    # C-order Cartesian product of the per-axis lists: row k takes entry (k // block) % m of axis d
    block = total
    for d in range(nd):
        a0, a1, a2, a3 = per_axis[d]
        m_d = a0.shape[0]
        block //= m_d
        for k in range(total):
            j = (k // block) % m_d
            co[k, d] = a0[j]
            so[k, d] = a1[j]
            cn[k, d] = a2[j]
            oo[k, d] = a3[j]
    return coords_out, start_out, count_out, ostart_out
