"""Physical limits on the workload's own chunks: raw codec decode/encode throughput and memcpy.

Decode uses the chunks as stored by one implementation's copy (sharded: the inner chunks, located
through each shard's index), read into memory first, so only the codec is timed. Encode compresses
every chunk of the source data. N threads split the chunk list into N contiguous batches (one task
per thread, so no per-chunk pool overhead). Codec libraries: numcodecs' blosc (its internal
threading off), ``zstandard``, and a plain copy for the bytes-only codec. Reading the stored files
from the warm page cache is timed too (``file_read``, in stored bytes per second), since it bounds
uncompressed reads.
"""

from __future__ import annotations

import itertools
import math
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from benchmarks.workloads import Workload

Codec = Callable[[Any], Any]
_EMPTY = 2**64 - 1


def _chunk_keys(w: Workload, grid: Sequence[int]) -> list[tuple[tuple[int, ...], str]]:
    """(grid index, relative key) of every chunk (or shard) in C order, default key encodings."""
    out = []
    for idx in itertools.product(*(range(g) for g in grid)):
        if w.zarr_format == 2:
            key = ".".join(map(str, idx))
        else:
            key = os.path.join("c", *map(str, idx))
        out.append((idx, key))
    return out


def load_stored_chunks(path: str, w: Workload) -> list[bytes]:
    """Every stored encoded (inner) chunk of the copy at ``path``, in C order."""
    if w.shards is None:
        out = []
        for _, key in _chunk_keys(w, w.chunk_grid):
            with open(os.path.join(path, key), "rb") as f:
                out.append(f.read())
        return out
    per_shard = tuple(s // c for s, c in zip(w.shards, w.chunks))
    n_inner = math.prod(per_shard)
    shard_grid = tuple(-(-s // sh) for s, sh in zip(w.shape, w.shards))
    chunks: list[bytes] = []
    for _, key in _chunk_keys(w, shard_grid):
        with open(os.path.join(path, key), "rb") as f:
            blob = f.read()
        index = np.frombuffer(blob, dtype="<u8", count=2 * n_inner, offset=len(blob) - 16 * n_inner - 4)
        for offset, nbytes in index.reshape(-1, 2):
            if int(offset) != _EMPTY:
                chunks.append(blob[int(offset) : int(offset) + int(nbytes)])
    return chunks


def stored_files(path: str, w: Workload) -> list[str]:
    """Paths of every stored chunk (or shard) file of the copy at ``path``, in C order."""
    grid = w.chunk_grid if w.shards is None else tuple(-(-s // sh) for s, sh in zip(w.shape, w.shards))
    return [os.path.join(path, key) for _, key in _chunk_keys(w, grid)]


def _read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def source_chunks(src: np.ndarray, w: Workload) -> list[np.ndarray]:
    """Contiguous copies of every (inner) chunk of the source data, in C order."""
    out = []
    for idx in itertools.product(*(range(g) for g in w.chunk_grid)):
        sel = tuple(slice(i * c, (i + 1) * c) for i, c in zip(idx, w.chunks))
        out.append(np.ascontiguousarray(src[sel]))
    return out


def codecs_for(w: Workload) -> tuple[Codec, Codec]:
    """(decode, encode) callables using the codec library directly; both thread-safe."""
    if w.codec == "blosc_lz4":
        from numcodecs import blosc

        # ``measure`` turns blosc's own threads off: parallelism comes from our threads only.
        return blosc.decompress, lambda a: blosc.compress(a, b"lz4", 5, blosc.SHUFFLE)
    if w.codec == "zstd":
        import zstandard

        local = threading.local()
        size = w.chunk_nbytes

        def decode(buf: bytes) -> bytes:
            d = getattr(local, "d", None)
            if d is None:
                d = local.d = zstandard.ZstdDecompressor()
            return d.decompress(buf, max_output_size=size)

        def encode(arr: np.ndarray) -> bytes:
            c = getattr(local, "c", None)
            if c is None:
                c = local.c = zstandard.ZstdCompressor(level=1)
            return c.compress(arr.data.cast("B"))

        return decode, encode
    if w.codec == "raw":
        return (lambda buf: np.frombuffer(buf, dtype=np.uint8).copy()), (lambda a: a.tobytes())
    raise ValueError(f"no codec limit for {w.codec}")


def time_batches(fn: Codec, items: Sequence[Any], n_threads: int, reps: int) -> list[float]:
    """Seconds to apply ``fn`` to all ``items`` using ``n_threads`` threads, ``reps`` times."""

    def work(part: Sequence[Any]) -> None:
        for item in part:
            fn(item)

    times = []
    if n_threads <= 1:
        work(items[:1])
        for _ in range(reps):
            t0 = time.perf_counter()
            work(items)
            times.append(time.perf_counter() - t0)
        return times
    step = -(-len(items) // n_threads)
    parts = [items[i : i + step] for i in range(0, len(items), step)]
    with ThreadPoolExecutor(n_threads) as pool:
        list(pool.map(work, [p[:1] for p in parts]))  # warm threads and per-thread contexts
        for _ in range(reps):
            t0 = time.perf_counter()
            list(pool.map(work, parts))
            times.append(time.perf_counter() - t0)
    return times


def memcpy_seconds(nbytes: int, reps: int) -> list[float]:
    """Single-threaded copy of ``nbytes`` between two pre-faulted buffers."""
    src = np.ones(nbytes, dtype=np.uint8)
    dst = np.zeros(nbytes, dtype=np.uint8)
    np.copyto(dst, src)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return times


def measure(
    w: Workload, src: np.ndarray, stored_path: str | None, n_threads: int, reps: int
) -> dict[str, Any]:
    """Decode/encode throughput with 1 and ``n_threads`` threads, and memcpy of the array's size."""
    if w.codec == "blosc_lz4":
        from numcodecs import blosc

        saved = blosc.use_threads
        blosc.use_threads = False
        try:
            return _measure(w, src, stored_path, n_threads, reps)
        finally:
            blosc.use_threads = saved
    return _measure(w, src, stored_path, n_threads, reps)


def _measure(
    w: Workload, src: np.ndarray, stored_path: str | None, n_threads: int, reps: int
) -> dict[str, Any]:
    decode, encode = codecs_for(w)
    raw = source_chunks(src, w)
    origin = "self-encoded"
    encoded: list[Any] = []
    if stored_path is not None:
        try:
            encoded = load_stored_chunks(stored_path, w)
            origin = f"stored chunks of {stored_path}"
        except OSError:
            encoded = []
    if len(encoded) != len(raw):
        encoded = [encode(c) for c in raw]
        origin = "self-encoded"
    decoded_bytes = sum(c.nbytes for c in raw)
    stored_bytes = sum(len(c) for c in encoded)
    counts = sorted({1, max(1, n_threads)})
    out: dict[str, Any] = {
        "chunk_source": origin,
        "n_chunks": len(raw),
        "decoded_bytes": decoded_bytes,
        "stored_bytes": stored_bytes,
        "compression_ratio": decoded_bytes / max(stored_bytes, 1),
        "decode": {},
        "encode": {},
    }
    for kind, fn, items in (("decode", decode, encoded), ("encode", encode, raw)):
        for n in counts:
            times = time_batches(fn, items, n, reps)
            med = statistics.median(times)
            out[kind][str(n)] = {"times_s": times, "median_s": med, "gbps": decoded_bytes / med / 1e9}
    if origin != "self-encoded" and stored_path is not None:
        files = stored_files(stored_path, w)
        for n in counts:  # reading the stored files from the (warm) page cache
            times = time_batches(_read_file, files, n, reps)
            med = statistics.median(times)
            out.setdefault("file_read", {})[str(n)] = {
                "times_s": times, "median_s": med, "gbps": stored_bytes / med / 1e9}
    mc = memcpy_seconds(decoded_bytes, max(reps, 3))
    med = statistics.median(mc)
    out["memcpy"] = {"times_s": mc, "median_s": med, "gbps": decoded_bytes / med / 1e9}
    out["threads"] = max(counts)
    return out
