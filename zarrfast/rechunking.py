"""``zarrfast.rechunk``: change an array's chunking (and sharding, codecs, format) within a memory budget.

Plan. The destination is written in blocks of whole write units (chunks, or shards), so parallel workers never share
a stored object. Reading a block decodes every source chunk it touches; when the blocks that fit in ``max_mem`` cut
source chunks into many pieces (each source chunk would be decoded many times), the copy goes through an
intermediate array in ``temp`` instead: pass 1 reads whole source chunks and writes intermediate chunks, pass 2
reads whole intermediate chunks and writes the destination, each stored chunk decoded about once per pass.

Memory. ``max_mem`` bounds the decoded block plus what the engine holds while reading and writing it (per-thread
store batches and chunk buffers, compressed and decoded, and a whole encoded shard for sharded destinations). It
is shared by ``workers`` local threads; with a dask cluster it applies to each worker process.

Resuming. Every finished block leaves a marker key; rerunning the same job skips finished blocks (and a finished
pass 1). Markers and the intermediate array are removed when the job completes.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from typing import Any, Sequence

from . import blockwise
from .array import Array
from .config import config
from .converting import array_kwargs, iter_source
from .errors import ContainsArrayError, NodeNotFoundError

AMPLIFICATION_LIMIT = 2.0  # above this many decodes per source chunk, use an intermediate array


def parse_size(value: Any) -> int:
    """``512MB`` (10**6), ``1GiB`` / ``1G`` (2**30), ``2e9``, ``1000`` -> bytes."""
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip().replace(" ", "")
    units = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
             "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30,
             "TIB": 2**40}
    i = len(text)
    while i and text[i - 1].isalpha():
        i -= 1
    num, unit = text[:i], text[i:].upper()
    try:
        return int(float(num) * units[unit])
    except (KeyError, ValueError):
        raise ValueError(f"not a size: {value!r} (examples: 512MB, 1GiB, 100M, 2e9)") from None


def engine_overhead(src_unit_bytes: int, dst_unit_bytes: int, batch_bytes: int) -> int:
    """Bytes the engine may hold besides the block: per thread a store batch and chunk buffers.

    The kernels' buffer pools (read scratch, uncompressed encode outputs) add nothing for one chunk size: a pool
    only grows when more buffers are in use at once than it holds, so it keeps at most what the threads used
    together, which is counted here. Buffers of another size (a two-pass job's first array) stay until evicted:
    at most one scratch buffer per thread, a few MB for the chunk sizes rechunk plans."""
    threads = int(config.get("threads"))
    # per engine thread: a store batch in and out, decode scratch for a source chunk, and for the destination a
    # chunk scratch, the encode bound buffer and the encoded copy
    return threads * (2 * batch_bytes + 2 * src_unit_bytes + 3 * dst_unit_bytes)


def _divisible(a: int, b: int, n: int) -> bool:
    big, small = max(a, b), min(a, b)
    return big >= n or big % small == 0


def plan(shape: Sequence[int], itemsize: int, src_chunks: Sequence[int], dst_unit: Sequence[int],
         block_budget: int, two_pass_budget: int | None = None) -> dict[str, Any]:
    """Choose one pass (block shape) or two passes (read block, intermediate chunks, write block).

    ``two_pass_budget`` (default ``block_budget``) is the block budget when an intermediate array is used (its
    engine buffers are larger: intermediate chunks may be as large as the larger of the two units).
    """
    ratio = [s / max(1, u) for s, u in zip(src_chunks, dst_unit)]
    axes = sorted(range(len(shape)), key=lambda a: (-ratio[a], -a))
    unit = blockwise.lcm_shape(dst_unit, src_chunks, shape)
    if math.prod(unit) * itemsize > block_budget:
        unit = tuple(min(u, n) for u, n in zip(dst_unit, shape))
    block = blockwise.grow_block(shape, unit, itemsize, block_budget, axes)
    amp = blockwise.decodes_per_source_chunk(src_chunks, block, shape)
    direct = {"passes": 1, "block": block, "amplification": amp}
    if amp <= AMPLIFICATION_LIMIT:
        return direct
    block_budget = block_budget if two_pass_budget is None else two_pass_budget
    inter0 = tuple(max(1, min(s, w, n)) for s, w, n in zip(src_chunks, dst_unit, shape))
    u1 = blockwise.lcm_shape(src_chunks, inter0, shape)
    u2 = blockwise.lcm_shape(dst_unit, inter0, shape)
    if max(math.prod(u1), math.prod(u2)) * itemsize > block_budget:
        return direct
    # pass 1 grows where the destination wants long extents, pass 2 where the source has them
    r1 = blockwise.grow_block(shape, u1, itemsize, block_budget, sorted(range(len(shape)), key=lambda a: ratio[a]))
    r2 = blockwise.grow_block(shape, u2, itemsize, block_budget, axes)
    inter = tuple(min(a, b) if _divisible(a, b, n) else i0 for a, b, n, i0 in zip(r1, r2, shape, inter0))
    if math.prod(inter) > max(math.prod(src_chunks), math.prod(dst_unit)):
        inter = inter0  # keep intermediate chunks no larger than the larger unit (engine buffers scale with them)
    amp2 = max(blockwise.decodes_per_source_chunk(src_chunks, r1, shape),
               blockwise.decodes_per_source_chunk(inter, r2, shape))
    if amp2 >= amp:
        return direct
    return {"passes": 2, "read_block": r1, "intermediate_chunks": inter, "write_block": r2,
            "amplification": amp2, "direct_amplification": amp}


def rechunk(src: Any, dst: Any, *, chunks: Sequence[int], shards: Sequence[int] | None = None, max_mem: Any,
            temp: Any = None, workers: int | None = None, executor: Any = None, progress: Any = None,
            overwrite: bool = False, storage_options: dict | None = None, path: str | None = None,
            compressor: Any = None, zarr_format: int | None = None) -> dict[str, Any]:
    """Copy array ``src`` to ``dst`` with new ``chunks`` (and ``shards``), holding at most about ``max_mem`` bytes.

    ``temp`` is where an intermediate array goes when one pass would decode source chunks many times (default: a
    temporary directory). Rerunning an interrupted job resumes it. Returns a summary (``passes``, ``blocks``,
    ``peak_estimate_bytes``, ``bytes_read``, ``seconds`` ...).
    """
    from .api import create_array, open_array
    from .storage.resolve import make_store

    t0 = time.perf_counter()
    items = iter_source(src, path=path, storage_options=storage_options)
    if items[0][0] != "array":
        raise ValueError(f"rechunk copies one array; {src!r} is a group (pass path=... to choose an array)")
    source = items[0][2]
    workers = max(1, int(workers or 1))
    max_mem = parse_size(max_mem)
    per_task = max_mem if executor is not None else max_mem // workers
    kw = array_kwargs(source, zarr_format=zarr_format, chunks=tuple(chunks), shards=shards, compressor=compressor)
    dst_unit = tuple(kw.get("shards") or kw["chunks"])
    src_chunks = tuple(getattr(source, "chunks", None) or source.shape)
    itemsize = max(1, source.dtype.itemsize)
    batch = int(max(2**18, min(8 * 2**20, per_task // 32)))
    overhead = engine_overhead(math.prod(src_chunks) * itemsize, math.prod(dst_unit) * itemsize, batch)
    need = overhead + math.prod(min(u, n) for u, n in zip(dst_unit, source.shape)) * itemsize
    if need > per_task:
        raise ValueError(f"max_mem {max_mem} bytes is too small for this rechunk: one block of the destination "
                         f"write unit {dst_unit} plus engine buffers needs about {need} bytes per worker")
    block_budget = per_task - overhead
    big_unit = max(math.prod(src_chunks), math.prod(dst_unit)) * itemsize
    overhead2 = engine_overhead(big_unit, big_unit, batch)
    p = plan(source.shape, itemsize, src_chunks, dst_unit, block_budget, max(per_task - overhead2, 1))
    if p["passes"] == 2:
        overhead = overhead2
    settings = {"batch_bytes": batch}
    token = blockwise.job_token("rechunk", repr(source), kw, p)

    store = make_store(dst, mode="a")
    dst_arr = _open_or_create(store, kw, token, overwrite, create_array, open_array)
    summary: dict[str, Any] = {"passes": p["passes"], "amplification": round(p["amplification"], 2),
                               "peak_estimate_bytes": 0, "bytes_read": 0, "blocks": 0}
    common = dict(workers=workers, executor=executor, progress=progress, settings=settings)
    if p["passes"] == 1:
        regions = blockwise.grid_regions(source.shape, p["block"])
        summary["peak_estimate_bytes"] = overhead + blockwise.region_nbytes(regions[0], itemsize) if regions else 0
        summary["bytes_read"] = blockwise.run_blocks(source, dst_arr, regions, label="rechunk",
                                                     resume=(store, "", token), **common)
        summary["blocks"] = len(regions)
    else:
        summary.update(_two_passes(source, dst_arr, store, p, kw, token, temp, overhead, itemsize, common))
    blockwise.clear_markers(store, "")
    summary["seconds"] = round(time.perf_counter() - t0, 3)
    return summary


def _open_or_create(store: Any, kw: dict, token: str, overwrite: bool, create_array: Any, open_array: Any) -> Array:
    try:
        existing = open_array(store, mode="r+")
    except NodeNotFoundError:
        existing = None
    if existing is not None and not overwrite:
        if not store.exists(_state_key(token, "started")):
            raise ContainsArrayError(f"destination {store!r} already holds an array (use overwrite=True)")
        return existing  # an interrupted run of the same job: resume it
    arr = create_array(store, overwrite=True, **kw)
    store.set(_state_key(token, "started"), b"")
    return arr


def _state_key(token: str, state: str) -> str:
    return f"{blockwise.MARKER_DIR}/{token}-{state}"


def _pass1_key(token: str) -> str:
    return _state_key(token, "pass1")


def _pass1_done(store: Any, token: str) -> bool:
    return store.exists(_pass1_key(token))


def _two_passes(source: Any, dst_arr: Array, store: Any, p: dict, kw: dict, token: str, temp: Any, overhead: int,
                itemsize: int, common: dict) -> dict[str, Any]:
    from .api import create_array, open_array
    from .storage.resolve import make_store

    made_temp = temp is None
    # a fixed place per job, so an interrupted job finds its intermediate array again
    temp_root = os.path.join(tempfile.gettempdir(), f"zarrfast-rechunk-{token}") if made_temp else os.fspath(temp)
    inter_store = make_store(os.path.join(temp_root, f"intermediate-{token}.zarr"), mode="a")
    inter_kw = {"shape": source.shape, "dtype": kw["dtype"], "chunks": p["intermediate_chunks"],
                "fill_value": kw.get("fill_value"), "zarr_format": 3}
    if kw["dtype"].kind not in "OTUSV":
        inter_kw["compressors"] = [{"name": "blosc", "configuration": {"cname": "lz4", "clevel": 1,
                                                                      "shuffle": "shuffle"}}]
    resuming = _pass1_done(store, token) or bool(blockwise.finished_blocks(inter_store, "", token))
    inter = open_array(inter_store, mode="r+") if resuming else create_array(inter_store, overwrite=True, **inter_kw)
    r1 = blockwise.grid_regions(source.shape, p["read_block"])
    r2 = blockwise.grid_regions(source.shape, p["write_block"])
    moved = 0
    if not _pass1_done(store, token):
        moved += blockwise.run_blocks(source, inter, r1, label="rechunk 1/2", resume=(inter_store, "", token),
                                      **common)
        store.set(_pass1_key(token), b"")
    moved += blockwise.run_blocks(inter, dst_arr, r2, label="rechunk 2/2", resume=(store, "", token), **common)
    inter_store.delete_prefix("")
    shutil.rmtree(os.path.join(temp_root, f"intermediate-{token}.zarr"), ignore_errors=True)
    if made_temp:
        shutil.rmtree(temp_root, ignore_errors=True)
    peak = overhead + max(blockwise.region_nbytes(r1[0], itemsize) if r1 else 0,
                          blockwise.region_nbytes(r2[0], itemsize) if r2 else 0)
    return {"peak_estimate_bytes": peak, "bytes_read": moved, "blocks": len(r1) + len(r2),
            "intermediate_chunks": p["intermediate_chunks"]}
