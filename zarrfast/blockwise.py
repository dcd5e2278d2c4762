"""Blockwise copying for batch jobs: plan blocks of whole write units, run them locally or on dask, resume.

A *block* is a region of the destination made of whole destination write units (chunks, or shards for sharded
arrays), so blocks never share a stored object and can be written by parallel workers in any process. Each block
is copied by :func:`copy_block` (read the source region, write the destination region); a finished block leaves a
marker key in the destination store so a rerun skips it (markers are removed when the job completes).
"""
from __future__ import annotations

import hashlib
import itertools
import json
import math
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .config import config
from .progress import NULL_PROGRESS, Progress

Region = tuple[slice, ...]
MARKER_DIR = ".zarrfast-progress"


def lcm_shape(a: Sequence[int], b: Sequence[int], shape: Sequence[int]) -> tuple[int, ...]:
    """Per axis the least common multiple of ``a`` and ``b``, clipped to the array's length."""
    return tuple(max(1, min(math.lcm(int(x), int(y)), int(n))) for x, y, n in zip(a, b, shape))


def grow_block(shape: Sequence[int], unit: Sequence[int], itemsize: int, budget: int,
               axes: Iterable[int] | None = None) -> tuple[int, ...]:
    """The largest block made of whole ``unit`` multiples (per axis, clipped to ``shape``) that fits ``budget``.

    Axes grow one at a time in the order of ``axes`` (default: last axis first), each as far as the budget allows.
    The result is never smaller than one unit, even if that unit alone exceeds the budget.
    """
    ndim = len(shape)
    block = [max(1, min(int(u), int(n))) for u, n in zip(unit, shape)]
    elems = max(1, budget // max(1, itemsize))
    for a in (reversed(range(ndim)) if axes is None else axes):
        n = int(shape[a])
        if n <= block[a]:
            continue
        others = math.prod(block) // block[a]
        factor = max(1, elems // max(1, others) // block[a])
        block[a] = min(n, block[a] * factor)
    return tuple(block)


def grid_regions(shape: Sequence[int], block: Sequence[int]) -> list[Region]:
    """All regions of a regular grid of ``block`` over ``shape`` (C order; edge blocks are clipped)."""
    if any(n == 0 for n in shape):
        return []
    ranges = [range(0, int(n), int(b)) for n, b in zip(shape, block)]
    return [tuple(slice(s, min(s + int(b), int(n))) for s, b, n in zip(starts, block, shape))
            for starts in itertools.product(*ranges)]


def region_nbytes(region: Region, itemsize: int) -> int:
    return math.prod(s.stop - s.start for s in region) * itemsize


def decodes_per_source_chunk(src_chunks: Sequence[int], block: Sequence[int], shape: Sequence[int]) -> float:
    """About how many times each source chunk is decoded when the destination is read block by block."""
    factor = 1.0
    for c, b, n in zip(src_chunks, block, shape):
        c, b = min(int(c), int(n)), min(int(b), int(n))
        if b >= int(n):  # one block spans the axis: every chunk is read by it alone
            continue
        # blocks overlapping one chunk: ceil(c / b) when blocks are smaller, plus misalignment at the edges
        factor *= (c + b - 1) // b + (0 if (b % c == 0 or c % b == 0) else 1) if c > 0 and b > 0 else 1
    return factor


def copy_block(src: Any, dst: Any, region: Region, settings: dict | None = None) -> int:
    """Copy ``src[region]`` into ``dst[region]``; returns the decoded bytes moved. Runs in any worker process.

    ``settings`` (zarrfast config values) are applied to the worker process that runs the task and kept there.
    """
    if settings:
        config.set(settings)
    data = src[region]
    dst[region] = data
    return int(np.asarray(data).nbytes)


# ---- resumable jobs ------------------------------------------------------------------------------------------------
def job_token(*parts: Any) -> str:
    """A short stable id for a job's plan (markers of a different plan are never reused)."""
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _marker_prefix(path: str, token: str) -> str:
    return f"{path}/{MARKER_DIR}/{token}/" if path else f"{MARKER_DIR}/{token}/"


def finished_blocks(store: Any, path: str, token: str) -> set[int]:
    """Numbers of the blocks a previous run of the same job finished."""
    prefix = _marker_prefix(path, token)
    done = set()
    if not getattr(store, "supports_listing", True):
        return done
    for key in store.list_prefix(prefix):
        tail = key[len(prefix):]
        if tail.isdigit():
            done.add(int(tail))
    return done


def mark_finished(store: Any, path: str, token: str, index: int) -> None:
    store.set(f"{_marker_prefix(path, token)}{index}", b"")


def clear_markers(store: Any, path: str) -> None:
    store.delete_prefix(f"{path}/{MARKER_DIR}/" if path else f"{MARKER_DIR}/")


# ---- execution -----------------------------------------------------------------------------------------------------
def _is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.startswith("distributed") and hasattr(executor, "scheduler_info")


def run_blocks(src: Any, dst: Any, regions: Sequence[Region], *, workers: int = 1, executor: Any = None,
               progress: Progress | None = None, label: str = "", settings: dict | None = None,
               resume: tuple[Any, str, str] | None = None,
               task: Callable[..., int] = copy_block) -> int:
    """Copy every region from ``src`` to ``dst``; returns decoded bytes moved.

    ``executor``: None (a local thread pool of ``workers`` threads, one block each), a ``concurrent.futures``
    executor, or a ``distributed.Client`` (blocks become tasks on the cluster; arrays travel pickled as their
    store location). ``resume=(store, path, token)`` skips blocks a previous run finished and marks new ones.
    """
    progress = progress or NULL_PROGRESS
    itemsize = int(np.dtype(dst.dtype).itemsize)
    done = finished_blocks(*resume) if resume else set()
    todo = [i for i in range(len(regions)) if i not in done]
    progress.start(len(regions), sum(region_nbytes(r, itemsize) for r in regions), label)
    if done:
        progress.update(len(done), sum(region_nbytes(regions[i], itemsize) for i in done))
    moved = 0

    def finish(i: int, nbytes: int) -> None:
        nonlocal moved
        moved += nbytes
        if resume:
            mark_finished(resume[0], resume[1], resume[2], i)
        progress.update(1, nbytes)

    remote = executor is not None and _is_dask_client(executor)
    with (nullcontext() if remote else config.set(settings or {})):
        _dispatch(src, dst, regions, todo, workers, executor, remote, settings, task, finish)
    progress.close()
    return moved


def _dispatch(src: Any, dst: Any, regions: Sequence[Region], todo: list[int], workers: int, executor: Any,
              remote: bool, settings: dict | None, task: Callable[..., int],
              finish: Callable[[int, int], None]) -> None:
    if remote:
        from distributed import as_completed as dask_completed

        futures = {executor.submit(task, src, dst, regions[i], settings, pure=False): i for i in todo}
        for fut in dask_completed(list(futures)):
            finish(futures[fut], fut.result())
    elif executor is not None:
        futures = {executor.submit(task, src, dst, regions[i], None): i for i in todo}
        for fut in as_completed(futures):
            finish(futures[fut], fut.result())
    elif workers <= 1:
        for i in todo:
            finish(i, task(src, dst, regions[i], None))
    else:
        with ThreadPoolExecutor(workers) as pool:
            futures = {pool.submit(task, src, dst, regions[i], None): i for i in todo}
            for fut in as_completed(futures):
                finish(futures[fut], fut.result())
