# encode_from: the batch chunk encoder (part of pipeline.pyx, split out for size).


def encode_from(ChunkProgram prog, src, const int64_t[:, ::1] chunk_start, const int64_t[:, ::1] count,
                const int64_t[:, ::1] src_start, const int64_t[::1] steps, list existing,
                const uint8_t[::1] complete, bint write_empty, int64_t[::1] status, bint packed=False):
    """Encode one chunk per plan row from `src` (any strides, zero strides for broadcast values).

    Row k writes src[src_start[k] + i] to chunk element chunk_start[k] + i * steps. A row that is not complete
    starts from `existing[k]` decoded (or the fill value when None). Returns a list with the encoded bytes per row,
    or None where the chunk equals the fill value everywhere and `write_empty` is false (the caller deletes it).
    The encoded chunks are read-only memoryviews of buffers the kernel allocated (no copy into ``bytes``); a chain
    without a compressor builds each chunk in its output buffer directly.

    ``packed``: every row is encoded into one buffer, one after the other in row order, and the views returned are
    slices of it (the inner chunks of a shard: one allocation per shard instead of one per inner chunk).
    """
    cdef Py_buffer sb
    cdef Py_ssize_t n = chunk_start.shape[0], k
    cdef int d, nd = prog.ndim
    cdef const uint8_t** olds
    cdef size_t* oldlens
    cdef uint8_t** outs
    cdef Py_ssize_t* outlens
    cdef uint8_t** spare = NULL  # direct chains: a pooled buffer per row, taken with the GIL before the loop
    cdef size_t* caps = NULL
    cdef uint8_t* scratch = NULL
    cdef uint8_t* work
    cdef bint direct = prog.expander == K_NONE
    cdef size_t direct_cap = prog.nbytes + 4 * prog.n_crc
    cdef Ctx ctx
    cdef int64_t shape_k[ZF_MAXDIM]
    cdef int64_t dst_strides[ZF_MAXDIM]
    cdef int64_t src_strides[ZF_MAXDIM]
    cdef int64_t full_shape[ZF_MAXDIM]
    cdef const uint8_t* sptr
    cdef uint8_t* cptr
    cdef const uint8_t* raw
    cdef const uint8_t* fillp = prog.fill
    cdef Py_ssize_t r
    cdef size_t bound = encode_bound(prog)
    cdef Py_buffer* views = NULL
    cdef char* held = NULL
    cdef uint8_t* pack = NULL  # packed: the one output buffer; rows are appended at pack + used
    cdef uint8_t* start = NULL
    cdef size_t pack_cap = 0, used = 0, row_cap
    if len(existing) != n or status.shape[0] != n or complete.shape[0] != n:
        raise ValueError("existing/complete/status length differs from the plan")
    PyObject_GetBuffer(src, &sb, PyBUF_STRIDES)
    olds = <const uint8_t**>malloc(max(n, 1) * sizeof(uint8_t*))
    oldlens = <size_t*>malloc(max(n, 1) * sizeof(size_t))
    outs = <uint8_t**>calloc(max(n, 1), sizeof(uint8_t*))
    outlens = <Py_ssize_t*>malloc(max(n, 1) * sizeof(Py_ssize_t))
    views = <Py_buffer*>malloc(max(n, 1) * sizeof(Py_buffer))
    held = <char*>calloc(max(n, 1), 1)
    if direct and not packed:
        spare = <uint8_t**>calloc(max(n, 1), sizeof(uint8_t*))
        caps = <size_t*>malloc(max(n, 1) * sizeof(size_t))
    result = [None] * n
    try:
        if olds == NULL or oldlens == NULL or outs == NULL or outlens == NULL or views == NULL or held == NULL:
            raise MemoryError()
        if direct and not packed and (spare == NULL or caps == NULL):
            raise MemoryError()
        if packed:
            row_cap = direct_cap if direct else bound
            if n and row_cap > (<size_t>-1) // <size_t>n:
                raise MemoryError()
            pack_cap = max(<size_t>n * row_cap, 1)
            pack = <uint8_t*>malloc(pack_cap)
            if pack == NULL:
                raise MemoryError()
            zf_advise_huge(pack, pack_cap)
        for k in range(n):
            outs[k] = NULL
            outlens[k] = 0
        check_plan(prog, &sb, chunk_start, count, src_start, steps)
        collect_buffers(existing, olds, oldlens, views, held)
        for d in range(nd):
            src_strides[d] = sb.strides[d]
            dst_strides[d] = steps[d] * prog.layout_strides[d]
            full_shape[d] = prog.chunk_shape[d]
        if packed and direct:
            pass  # each chunk is built where it is returned from, in the pack
        elif direct:  # no compressor: each chunk is built in its output buffer, no scratch
            for k in range(n):
                spare[k] = pool_take(&_out_pool, max(direct_cap, 1), &caps[k])
        else:
            # not from the scratch pool: freeing this chunk-sized buffer is what raises glibc's mmap threshold above
            # the encoders' output bound, so the outputs come from the heap (pooled, a zstd write_all faulted 48k
            # pages, not 11k)
            scratch = <uint8_t*>malloc(max(prog.nbytes, 1))
            if scratch == NULL:
                raise MemoryError()
        take_ctx(&ctx)
        with nogil:
            for k in range(n):
                status[k] = 0
                work = scratch
                if packed and direct:
                    work = pack + used
                elif direct:  # the chunk is built where it is returned from; spare[k] keeps it unless it is returned
                    if spare[k] == NULL:
                        spare[k] = <uint8_t*>malloc(max(direct_cap, 1))
                        if spare[k] == NULL:
                            status[k] = ZF_ERR_NOMEM
                            continue
                    work = spare[k]
                # 1. start from the old chunk or the fill value
                if complete[k]:
                    # every valid element is overwritten; only the padding of edge chunks needs the fill value
                    for d in range(nd):
                        if count[k, d] != prog.chunk_shape[d]:
                            zf_fill_nd(work, prog.layout_strides, full_shape, nd, fillp, prog.itemsize)
                            break
                elif olds[k] != NULL:
                    r = decode_core(prog, &ctx, olds[k], oldlens[k], work, &raw)
                    if r < 0:
                        status[k] = r
                        continue
                    if raw != NULL:
                        memcpy(work, raw, prog.nbytes)
                    if prog.swap_unit > 1:
                        zf_byteswap(work, prog.nbytes, prog.swap_unit)
                else:
                    zf_fill_nd(work, prog.layout_strides, full_shape, nd, fillp, prog.itemsize)
                # 2. copy the new values in
                sptr = <const uint8_t*>sb.buf
                cptr = work
                for d in range(nd):
                    sptr += src_start[k, d] * src_strides[d]
                    cptr += chunk_start[k, d] * prog.layout_strides[d]
                    shape_k[d] = count[k, d]
                zf_copy_nd(cptr, dst_strides, sptr, src_strides, shape_k, nd, prog.itemsize)
                # 3. an all-fill chunk is not stored
                if not write_empty and zf_all_equal(work, prog.nbytes, fillp, prog.itemsize):
                    continue
                if prog.swap_unit > 1:
                    zf_byteswap(work, prog.nbytes, prog.swap_unit)
                if direct:
                    outs[k] = work
                    outlens[k] = append_crcs(prog, work, prog.nbytes)
                    if packed:
                        used += outlens[k]
                    else:
                        spare[k] = NULL
                    continue
                if packed:
                    r = encode_core(prog, &ctx, scratch, pack + used, bound)
                    if r < 0:
                        status[k] = r
                        continue
                    outs[k] = pack + used
                    outlens[k] = r
                    used += r
                    continue
                # compress straight into the returned buffer, then give back the unused tail (realloc shrinks in place)
                work = <uint8_t*>malloc(max(bound, 1))
                if work == NULL:
                    status[k] = ZF_ERR_NOMEM
                    continue
                r = encode_core(prog, &ctx, scratch, work, bound)
                if r < 0:
                    free(work)
                    status[k] = r
                    continue
                outs[k] = <uint8_t*>realloc(work, max(r, 1))
                if outs[k] == NULL:
                    outs[k] = work
                outlens[k] = r
        give_ctx(&ctx)
        if packed:
            base = owned_view(pack, used)  # owns the pack from here on; each row's view is a slice of it
            start = pack
            pack = NULL  # the view frees it now, even if a slice below fails
            for k in range(n):
                if outs[k] != NULL:
                    r = outs[k] - start
                    outs[k] = NULL
                    result[k] = base[r:r + outlens[k]]
        for k in range(n):
            if outs[k] != NULL:
                # takes ownership; a direct output goes back to the output pool when the store is done with it
                result[k] = owned_view(outs[k], outlens[k], caps[k] if direct else 0)
                outs[k] = NULL
    finally:
        release_buffers(n, views, held)
        free(views)
        free(held)
        for k in range(n):
            if outs != NULL and outs[k] != NULL and not packed:  # packed rows point into the pack
                free(outs[k])
            if spare != NULL and spare[k] != NULL:  # skipped or failed rows: their buffer is reused
                pool_give(&_out_pool, spare[k], caps[k])
        free(spare)
        free(caps)
        free(scratch)
        free(pack)
        free(olds)
        free(oldlens)
        free(outs)
        free(outlens)
        PyBuffer_Release(&sb)
    return result
