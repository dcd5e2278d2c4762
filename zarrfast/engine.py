"""Read and write regions of an array: projection, batched store I/O, and chunk decode/encode on worker threads.

Read: project the selection onto the chunk grid, split the chunk list across workers; each worker fetches its
chunks in batches (``store.get_many``) and decodes each batch straight into the output with one kernel call
(GIL released), or runs the Python reference path per chunk when the chain has no native program.
Write: the same split; chunks not fully covered are read first, merged, encoded, then ``set_many``; chunks that
end up equal to the fill value everywhere are deleted instead (unless ``write_empty_chunks``).
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any, Callable, Sequence

import numpy as np

from .config import config
from .errors import ChunkDecodeError, ChunkEncodeError, CodecError
from .indexing import BasicSelection, ChunkPlan, project_basic_py
from .locks import key_locks
from .pipeline import CodecChain, fill_scalar
from .storage.base import set_parallel_part

_FEW_CHUNKS = 8
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def _executor(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="zarrfast")
            _pool_size = n
        return _pool


def _reset_pool_after_fork() -> None:
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size = None, 0  # a forked child has none of the parent's worker threads (work would never run)
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_after_fork)


class _Kernels:
    """The Cython entry points the engine calls, imported once (a function-level import costs ~1 us per call)."""

    def __init__(self) -> None:
        from ._ext.pipeline import encode_from, error_message, read_into
        from ._ext.selection import project_basic

        self.read_into, self.error_message, self.encode_from = read_into, error_message, encode_from
        self.project_basic = project_basic


_kernels: _Kernels | None = None


def _native() -> _Kernels:
    global _kernels
    if _kernels is None:
        _kernels = _Kernels()
    return _kernels


_ARENA_MAX = 32 * 2**20  # bytes of read arena a thread keeps (a batch is about ``batch_bytes``)
_arenas = threading.local()


def thread_arena() -> bytearray:
    """This thread's read arena (batches of encoded chunks are read into it, decoded, and dropped).

    Grown here, when the next batch is fetched, to what the last batch needed (plus 1/8, up to ``_ARENA_MAX``):
    by then the caller has dropped the last batch, so the old arena, the values that did not fit it and the new
    arena are never all alive at once (sharded reads of 24 MB shards peaked at 1.44-1.63x the array before)."""
    arena = getattr(_arenas, "buf", None)
    if arena is None:
        arena = _arenas.buf = bytearray()
        _arenas.want = 0
    want = _arenas.want
    if want > len(arena) and len(arena) < _ARENA_MAX:
        _arenas.buf = arena = None  # released before the larger one is allocated
        arena = _arenas.buf = bytearray(min(want + want // 8, _ARENA_MAX))
    return arena


def grow_thread_arena(needed: int) -> None:
    """Ask for an arena of at least ``needed`` bytes for this thread's next batch (see :func:`thread_arena`)."""
    if needed > _arenas.want:
        _arenas.want = needed


def _as_parallel_part(fn: Callable[[int, int], None], lo: int, hi: int) -> None:
    """``fn(lo, hi)`` with this thread marked as one of several parallel parts (stores then skip their own
    thread pools: measured on 4,000 small chunks with 2 parts, 42 -> 37 ms)."""
    old = set_parallel_part(True)
    try:
        fn(lo, hi)
    finally:
        set_parallel_part(old)


def run_parts(fn: Callable[[int, int], None], n_items: int, min_per_part: int = 1) -> None:
    """Run ``fn(lo, hi)`` over contiguous parts of ``range(n_items)`` on the worker threads (and this one)."""
    threads = config.get("threads")
    parts = max(1, min(threads, n_items // max(min_per_part, 1)))
    if parts <= 1 or threading.current_thread().name.startswith("zarrfast"):
        if n_items:
            fn(0, n_items)
        return
    bounds = [n_items * i // parts for i in range(parts + 1)]
    pool = _executor(threads)
    futures = [pool.submit(_as_parallel_part, fn, bounds[i], bounds[i + 1]) for i in range(1, parts)]
    try:
        _as_parallel_part(fn, bounds[0], bounds[1])
    finally:
        errors = []
        for f in futures:
            try:
                f.result()
            except BaseException as e:  # noqa: BLE001 - re-raised below
                errors.append(e)
    if errors:
        raise errors[0]


class ChunkEngine:
    """Reads and writes regions of one array in one store."""

    def __init__(self, store: Any, path: str, chain: CodecChain, shape: tuple[int, ...],
                 chunk_shape: tuple[int, ...], key_encoder: Any) -> None:
        self.store = store
        self.path = path
        self.chain = chain
        self.shape = shape
        self.chunk_shape = chunk_shape
        self.key_encoder = key_encoder
        self.prefix = f"{path}/" if path else ""
        self._chunk_shape_arr = np.asarray(chunk_shape, dtype=np.int64)

    # ---- helpers ---------------------------------------------------------------------------------------------
    def chunk_key(self, coords: Sequence[int]) -> str:
        return self.prefix + self.key_encoder(coords)

    def _keys(self, coords: np.ndarray) -> list[str]:
        if len(coords) <= _FEW_CHUNKS:  # one call per key beats the vectorised tables for a handful of chunks
            encode, prefix = self.key_encoder, self.prefix
            return [prefix + encode(c) for c in coords.tolist()]
        keys = self.key_encoder.encode_many(coords)
        if self.prefix:
            prefix = self.prefix
            keys = [prefix + k for k in keys]
        return keys

    def _project(self, sel: BasicSelection, native: bool) -> tuple[np.ndarray, ...]:
        if isinstance(sel, ChunkPlan):  # advanced indexing brings its own plan
            return sel.coords, sel.cstart, sel.count, sel.ostart
        if native and len(self.shape):
            return _native().project_basic(self._chunk_shape_arr, np.array(sel.starts, dtype=np.int64),
                                           np.array(sel.steps, dtype=np.int64), np.array(sel.lengths, dtype=np.int64))
        return project_basic_py(self.chunk_shape, sel)

    def _use_native(self, program: Any) -> bool:
        if config.get("engine") == "python":
            return False
        if program is None and config.get("strict"):
            raise CodecError(f"array {self.path!r}: strict mode and the codec chain has no native program")
        return program is not None

    def _batches(self, lo: int, hi: int, for_read: bool = False) -> list[tuple[int, int]]:
        """Contiguous runs of chunk rows ``lo:hi`` of about ``batch_bytes`` decoded bytes each (reads: also at
        most ``read_batch_bytes``, so the encoded batch and the decoded chunk stay in the core's cache)."""
        budget = int(config.get("batch_bytes"))
        if for_read:
            budget = min(budget, int(config.get("read_batch_bytes", budget)))
        per = max(1, budget // max(1, self.chain.spec.nbytes))
        return [(a, min(a + per, hi)) for a in range(lo, hi, per)]

    def _plan(self, sel: BasicSelection, for_write: bool) -> tuple[Any, tuple[np.ndarray, ...], np.ndarray]:
        """(native program or None, projection (coords, chunk_start, count, out_start), steps)."""
        program = self.chain.write_program if for_write else self.chain.read_program
        native = self._use_native(program)
        return (program if native else None), self._project(sel, native), np.asarray(sel.steps, dtype=np.int64)

    def _complete(self, coords: np.ndarray, count: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """Per chunk: 1 if the selection covers every valid element of it with unit steps."""
        if not len(self.shape):
            return np.ones(len(coords), dtype=np.uint8)
        cs = np.asarray(self.chunk_shape, dtype=np.int64)
        extent = np.minimum(cs, np.asarray(self.shape, dtype=np.int64) - coords * cs)
        return np.all((count == extent) & (np.abs(steps) == 1), axis=1).astype(np.uint8)

    def _decode_error(self, message: str, key: str) -> ChunkDecodeError:
        return ChunkDecodeError(message, path=self.path or "/", chunk_key=key)

    # ---- read ------------------------------------------------------------------------------------------------
    def read(self, sel: BasicSelection, out: np.ndarray) -> None:
        """Fill ``out`` (shape ``sel.lengths``, the array's dtype) with the selected region."""
        if sel.size == 0:
            return
        program, (coords, cstart, count, ostart), steps = self._plan(sel, for_write=False)
        keys = self._keys(coords)

        get_into = getattr(self.store, "get_many_into", None) if program is not None else None

        def work(lo: int, hi: int) -> None:
            for a, b in self._batches(lo, hi, for_read=True):
                if get_into is not None:  # into this thread's reused arena: the kernel keeps no reference
                    # no local name for the arena: when it grows, the old one must be free to go first
                    encoded, needed = get_into(keys[a:b], thread_arena())
                    grow_thread_arena(needed)
                else:
                    encoded = self.store.get_many(keys[a:b])
                if program is not None:
                    self._read_native(program, out, cstart[a:b], count[a:b], ostart[a:b], steps, encoded, keys[a:b])
                else:
                    self._read_python(out, cstart[a:b], count[a:b], ostart[a:b], steps, encoded, keys[a:b])
                del encoded  # before the next batch is fetched: one batch in memory per thread, not two

        run_parts(work, len(keys))

    def _read_native(self, program: Any, out: np.ndarray, cstart: np.ndarray, count: np.ndarray, ostart: np.ndarray,
                     steps: np.ndarray, encoded: list, keys: Sequence[str]) -> None:
        kernels = _native()
        status = np.zeros(len(keys), dtype=np.int64)
        if kernels.read_into(program, out, cstart, count, ostart, steps, encoded, status):
            k = int(np.flatnonzero(status)[0])
            raise self._decode_error(kernels.error_message(int(status[k])), keys[k])

    def _read_python(self, out: np.ndarray, cstart: np.ndarray, count: np.ndarray, ostart: np.ndarray,
                     steps: np.ndarray, encoded: list, keys: Sequence[str]) -> None:
        fill = self.chain.fill_value
        for k, data in enumerate(encoded):
            osl = tuple(slice(o, o + c) for o, c in zip(ostart[k], count[k]))
            if data is None:
                out[osl] = fill_scalar(fill, out.dtype)
                continue
            try:
                chunk = self.chain.decode(data if isinstance(data, bytes) else bytes(data))
            except ChunkDecodeError as e:
                raise self._decode_error(str(e), keys[k]) from None
            except CodecError:
                raise
            except Exception as e:  # a third-party codec failing on corrupt data
                raise self._decode_error(f"{type(e).__name__}: {e}", keys[k]) from None
            out[osl] = chunk[_chunk_slices(cstart[k], count[k], steps)]

    # ---- write -----------------------------------------------------------------------------------------------
    def stored_keys(self, coords: np.ndarray) -> list[str]:
        """The store keys that hold the chunks ``coords`` (what a read-modify-write of them must lock)."""
        return self._keys(coords)

    def write(self, sel: BasicSelection, value: np.ndarray, write_empty_chunks: bool, locked: bool = False) -> None:
        """Store ``value`` (already broadcast to ``sel.lengths``, the array's dtype) into the selected region.
        ``locked``: the caller already holds the read-modify-write locks of every key touched."""
        if sel.size == 0:
            return
        # a store that can't delete (zip) keeps all-fill chunks rather than failing to remove them
        write_empty_chunks = write_empty_chunks or not getattr(self.store, "supports_deletes", True)
        program, (coords, cstart, count, vstart), steps = self._plan(sel, for_write=True)
        complete = self._complete(coords, count, steps)
        keys = self._keys(coords)

        def work(lo: int, hi: int) -> None:
            for a, b in self._batches(lo, hi):
                bkeys = keys[a:b]
                need = [k for k, c in zip(bkeys, complete[a:b]) if not c]
                # partial chunks are read, merged and written back: serialise that per key within the process
                with key_locks(self.store, need) if need and not locked else nullcontext():
                    old = dict(zip(need, self.store.get_many(need))) if need else {}
                    existing = [old.get(k) for k in bkeys]
                    if program is not None:
                        encoded = self._encode_native(program, value, cstart[a:b], count[a:b], vstart[a:b], steps,
                                                      existing, complete[a:b], write_empty_chunks, bkeys)
                    else:
                        encoded = self._encode_python(value, cstart[a:b], count[a:b], vstart[a:b], steps,
                                                      existing, complete[a:b], write_empty_chunks, bkeys)
                    puts = [(k, e) for k, e in zip(bkeys, encoded) if e is not None]
                    drops = [k for k, e in zip(bkeys, encoded) if e is None]
                    if puts:
                        self.store.set_many(puts)
                    if drops:
                        self.store.delete_many(drops)

        run_parts(work, len(keys))

    def _encode_native(self, program: Any, value: np.ndarray, cstart: np.ndarray, count: np.ndarray,
                       vstart: np.ndarray, steps: np.ndarray, existing: list, complete: np.ndarray,
                       write_empty: bool, keys: Sequence[str], packed: bool = False) -> list:
        """Encoded bytes per row (None: all fill, to delete). ``packed``: the rows are slices of one buffer."""
        kernels = _native()
        status = np.zeros(len(keys), dtype=np.int64)
        result = kernels.encode_from(program, value, cstart, count, vstart, steps, existing,
                                     np.ascontiguousarray(complete), write_empty, status, packed)
        bad = np.flatnonzero(status)
        if len(bad):
            k = int(bad[0])
            msg = kernels.error_message(int(status[k]))
            if existing[k] is not None and not complete[k]:
                raise self._decode_error(f"existing chunk can't be updated: {msg}", keys[k])
            raise ChunkEncodeError(f"array {self.path or '/'!r}, chunk {keys[k]!r}: {msg}")
        return result

    def _encode_python(self, value: np.ndarray, cstart: np.ndarray, count: np.ndarray, vstart: np.ndarray,
                       steps: np.ndarray, existing: list, complete: np.ndarray, write_empty: bool,
                       keys: Sequence[str]) -> list:
        spec = self.chain.spec
        fill = self.chain.fill_value
        result: list = []
        for k in range(len(keys)):
            if existing[k] is not None and not complete[k]:
                try:
                    old = existing[k] if isinstance(existing[k], bytes) else bytes(existing[k])
                    chunk = np.array(self.chain.decode(old), dtype=spec.dtype, order="C")
                except ChunkDecodeError as e:
                    raise self._decode_error(f"existing chunk can't be updated: {e}", keys[k]) from None
            else:
                chunk = np.empty(spec.shape, dtype=spec.dtype)
                chunk[...] = fill_scalar(fill, spec.dtype)
            vsl = tuple(slice(v, v + c) for v, c in zip(vstart[k], count[k]))
            chunk[_chunk_slices(cstart[k], count[k], steps)] = value[vsl]
            if not write_empty and self.chain.all_fill(chunk):
                result.append(None)
                continue
            result.append(self.chain.encode(chunk))
        return result


def _chunk_slices(start: np.ndarray, count: np.ndarray, steps: np.ndarray) -> tuple[slice, ...]:
    out = []
    for s, c, st in zip(start.tolist(), count.tolist(), steps.tolist()):
        stop = s + c * st
        out.append(slice(s, stop if stop >= 0 else None, st))
    return tuple(out)


def _all_fill(chunk: np.ndarray, fill: bytes) -> bool:
    """Bytewise comparison with the fill element (what the native kernel does)."""
    raw = np.ascontiguousarray(chunk).view(np.uint8).reshape(-1, chunk.dtype.itemsize)
    return bool((raw == np.frombuffer(fill, dtype=np.uint8)).all())
