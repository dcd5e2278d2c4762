"""Reads and writes of sharded arrays (``sharding_indexed`` as the whole v3 chain), on the batch kernels.

Read: the selection is projected onto the *inner* chunk grid and grouped by shard. Per shard: one request for the
whole shard when every inner chunk of it is needed, otherwise one suffix/prefix range for the index and one
``get_ranges`` call for just the inner chunks selected (ranges closer than ``COALESCE_GAP`` are merged into one
request). The inner chunks are then decoded straight into the output by the same kernel as unsharded chunks.

Write: per shard, under a per-shard lock: inner chunks the selection covers completely are encoded from the value;
partly covered ones are merged with their old contents; untouched inner chunks are copied forward as their stored
bytes (never re-encoded). The new shard (chunks in inner C order, then the index) replaces the old one in a single
``set`` (atomic on LocalStore). A shard whose inner chunks are all empty is deleted.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .codecs.sharding import decode_index, encode_index, validate_index
from .config import config
from .engine import ChunkEngine, grow_thread_arena, run_parts, thread_arena
from .errors import ChunkDecodeError
from .indexing import BasicSelection
from .locks import key_locks
from .pipeline import CodecChain

EMPTY = np.uint64(2**64 - 1)
COALESCE_GAP = 64 * 1024          # merge two inner-chunk ranges when the bytes between them are at most this
COALESCE_MAX = 32 * 1024 * 1024   # ... and the merged request stays below this size

_MIN_PIECE = 8  # inner chunks: smaller reads are not split across threads (each piece is a store request)
_INDEX_CACHE_ENTRIES = 256  # parsed shard indexes kept per array (cleared when full)

def coalesce(offsets: np.ndarray, nbytes: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray, np.ndarray]:
    """Merge byte ranges: returns the requests, and for each input range its request number and offset inside it."""
    order = np.argsort(offsets, kind="stable")
    requests: list[tuple[int, int]] = []
    which = np.empty(len(offsets), dtype=np.int64)
    within = np.empty(len(offsets), dtype=np.int64)
    cur_start = cur_end = -1
    for i in order.tolist():
        o, n = int(offsets[i]), int(nbytes[i])
        if requests and o - cur_end <= COALESCE_GAP and max(cur_end, o + n) - cur_start <= COALESCE_MAX:
            cur_end = max(cur_end, o + n)
            requests[-1] = (cur_start, cur_end - cur_start)
        else:
            cur_start, cur_end = o, o + n
            requests.append((o, n))
        which[i] = len(requests) - 1
        within[i] = o - cur_start
    return requests, which, within



class InnerChunkNames:
    """The names errors give the inner chunks ``flat`` of shard ``key``, built only when one is asked for."""

    __slots__ = ("key", "flat", "cps")

    def __init__(self, key: str, flat: np.ndarray, cps: tuple[int, ...]) -> None:
        self.key, self.flat, self.cps = key, flat, cps

    def __len__(self) -> int:
        return len(self.flat)

    def __getitem__(self, i: int) -> str:
        coords = tuple(int(c) for c in np.unravel_index(int(self.flat[i]), self.cps))
        return f"{self.key} (inner chunk {coords})"

class ShardedEngine(ChunkEngine):
    """``ChunkEngine`` whose chunks are the inner chunks of shards."""

    def __init__(self, store: Any, path: str, codec: Any, shape: tuple[int, ...], shard_shape: tuple[int, ...],
                 key_encoder: Any, dtype: np.dtype, fill_value: Any) -> None:
        inner = tuple(codec.chunk_shape)
        chain = CodecChain.from_v3(codec.get_config()["codecs"], inner, dtype, fill_value)
        super().__init__(store, path, chain, shape, inner, key_encoder)
        self.codec = codec
        self.shard_shape = tuple(shard_shape)
        self.cps = tuple(s // c for s, c in zip(shard_shape, inner))
        self.n_inner = int(np.prod(self.cps, dtype=np.int64))
        self.index_size = codec.index_nbytes(self.cps)
        self.index_at_start = codec.index_location == "start"
        self._index_cache: dict[str, tuple[bytes, np.ndarray]] = {}  # shard key -> (raw index, parsed index)

    # ---- index ----------------------------------------------------------------------------------------------
    def _index_range(self) -> tuple[int, int | None]:
        return (0, self.index_size) if self.index_at_start else (-self.index_size, None)

    def _parse_index(self, raw: bytes, key: str, shard_nbytes: int | None) -> np.ndarray:
        """(n_inner, 2) uint64 offsets/lengths, checked against the shard size when known."""
        try:
            index = decode_index(raw, self.cps, self.codec.index_codecs).reshape(-1, 2)
            # half-empty entries, overflows, overlaps; ranges past the end only when the shard size is known
            validate_index(index.reshape(*self.cps, 2), shard_nbytes, self.codec.index_location, self.index_size)
        except ChunkDecodeError as e:
            raise self._decode_error(f"shard index: {e}", key) from None
        present = index[:, 0] != EMPTY
        off, n = index[present, 0], index[present, 1]
        lo = self.index_size if self.index_at_start else 0
        hi = None if shard_nbytes is None else shard_nbytes - (0 if self.index_at_start else self.index_size)
        bad = (off < lo) | (off + n < off) | (off + n > np.uint64(2**63 - 1))  # no store range beyond int64
        if hi is not None:
            bad |= off + n > hi
        if bad.any():
            where = np.flatnonzero(present)[np.flatnonzero(bad)[0]]
            coords = tuple(int(c) for c in np.unravel_index(where, self.cps))
            raise self._decode_error(f"shard index entry {coords} points outside the shard's data", key)
        return index

    def _cached_index(self, raw: bytes, key: str) -> np.ndarray:
        """``_parse_index(raw, key, None)``, reused while the shard's index bytes are unchanged.

        The index is read on every call anyway (one small range read); only its parsing and checking are skipped
        when the bytes equal the cached copy, so a shard rewritten by anyone is never served from a stale index.
        """
        hit = self._index_cache.get(key)
        if hit is not None and hit[0] == raw:
            return hit[1]
        index = self._parse_index(raw, key, None)
        if len(self._index_cache) >= _INDEX_CACHE_ENTRIES:
            self._index_cache.clear()
        self._index_cache[key] = (bytes(raw), index)
        return index

    def _shard_groups(self, coords: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Rows grouped by shard: (row indices per shard, shard coords per group, inner flat index per row)."""
        cps = np.asarray(self.cps, dtype=np.int64)
        shard = coords // cps
        local = coords - shard * cps
        flat = np.ravel_multi_index(tuple(local.T), self.cps) if len(coords) else np.zeros(0, dtype=np.int64)
        if len(coords) and (shard == shard[0]).all():  # the common small read: one shard
            return [np.arange(len(coords))], shard[:1], flat
        sid = np.ravel_multi_index(tuple(shard.T), tuple(int(m) + 1 for m in shard.max(axis=0))) if len(coords) \
            else np.zeros(0, dtype=np.int64)
        order = np.argsort(sid, kind="stable")
        bounds = np.flatnonzero(np.diff(sid[order])) + 1
        groups = np.split(order, bounds) if len(order) else []
        return groups, np.array([shard[g[0]] for g in groups], dtype=np.int64).reshape(-1, len(self.shape)), flat

    def _inner_names(self, key: str, flat: np.ndarray) -> InnerChunkNames:
        """How errors name inner chunks: the shard key plus the inner chunk's coordinates."""
        return InnerChunkNames(key, flat, self.cps)

    # ---- read ------------------------------------------------------------------------------------------------
    def read(self, sel: BasicSelection, out: np.ndarray) -> None:
        if sel.size == 0:
            return
        program, (coords, cstart, count, ostart), steps = self._plan(sel, for_write=False)
        groups, shard_coords, flat = self._shard_groups(coords)
        keys = self._keys(shard_coords)
        pieces = self._balanced_pieces(groups, len(coords))

        def work(lo: int, hi: int) -> None:
            for g, rows in pieces[lo:hi]:
                encoded = self._fetch_inner(keys[g], flat[rows])
                names = self._inner_names(keys[g], flat[rows])
                if program is not None:
                    self._read_native(program, out, cstart[rows], count[rows], ostart[rows], steps, encoded, names)
                else:
                    self._read_python(out, cstart[rows], count[rows], ostart[rows], steps, encoded, names)
                del encoded  # before the next shard is fetched: one shard in memory per thread, not two

        run_parts(work, len(pieces))

    def _balanced_pieces(self, groups: list[np.ndarray], n_rows: int) -> list[tuple[int, np.ndarray]]:
        """(shard, rows) pieces for the worker threads: a shard read in part is cut into pieces of at most a
        quarter of a thread's share, so that threads get similar amounts of work when the shards touched hold very
        different numbers of selected inner chunks (a slab crossing shard corners). Whole shards stay whole."""
        threads = int(config.get("threads"))
        target = max(_MIN_PIECE, -(-n_rows // (threads * 4)))
        pieces: list[tuple[int, np.ndarray]] = []
        for g, rows in enumerate(groups):
            if threads > 1 and target < len(rows) < self.n_inner:
                pieces += [(g, rows[i:i + target]) for i in range(0, len(rows), target)]
            else:
                pieces.append((g, rows))
        return pieces

    def _fetch_inner(self, key: str, flat: np.ndarray) -> list:
        """Encoded bytes (memoryviews) of the inner chunks ``flat`` of one shard; None where missing."""
        if len(flat) == self.n_inner:
            return self._fetch_whole(key, flat)
        raw = self.store.get_range(key, *self._index_range())
        if raw is None:
            return [None] * len(flat)
        if len(raw) != self.index_size:
            raise self._decode_error("shard is shorter than its index", key)
        index = self._cached_index(raw, key)
        # A writer may replace the shard between the index read and the chunk reads. The same get_ranges call (one
        # version of the value) fetches the index entries of the chunks read too: they are used only if those entries
        # are the ones planned with (then each chunk is intact).
        shift = 0 if self.index_at_start else -self.index_size
        for _ in range(3):
            entries = index[flat]
            present = np.flatnonzero(entries[:, 0] != EMPTY)
            result: list = [None] * len(flat)
            if len(present) == 0:
                return result
            requests, which, within = coalesce(entries[present, 0].astype(np.int64),
                                               entries[present, 1].astype(np.int64))
            # one span of the index, from the first to the last entry used (one extra read, not one per chunk)
            lo = int(flat[present].min()) * 16
            hi = int(flat[present].max()) * 16 + 16
            blobs = self.store.get_ranges(key, [*requests, (lo + shift, hi - lo)])
            if blobs is None:
                return result  # deleted meanwhile (a writer emptied it): all fill now
            seen = blobs.pop()
            if bytes(seen) == raw[lo:hi]:
                break
            raw = self.store.get_range(key, *self._index_range())  # replaced meanwhile: plan again
            if raw is None:
                return result
            if len(raw) != self.index_size:
                raise self._decode_error("shard is shorter than its index", key)
            index = self._cached_index(raw, key)
        else:  # rewritten again and again while we read: one whole read is one version
            return self._fetch_whole(key, flat)
        views = [memoryview(b) for b in blobs]
        for j, i in enumerate(present.tolist()):
            r = int(which[j])
            start = int(within[j])
            n = int(entries[i, 1])
            if start + n > len(views[r]):
                coords = tuple(int(c) for c in np.unravel_index(int(flat[i]), self.cps))
                raise self._decode_error(f"shard index entry {coords} points past the end of the shard", key)
            result[i] = views[r][start:start + n]
        return result

    def _fetch_whole(self, key: str, flat: np.ndarray) -> list:
        """Like ``_fetch_inner``, from one read of the whole shard (into this thread's read arena when the store
        can: the views returned are valid until the thread's next fetch)."""
        get_into = getattr(self.store, "get_many_into", None)
        if get_into is not None:
            values, needed = get_into([key], thread_arena())
            grow_thread_arena(needed)
            data = values[0]
        else:
            data = self.store.get(key)
        if data is None:
            return [None] * len(flat)
        raw = data[:self.index_size] if self.index_at_start else data[-self.index_size:]
        if len(data) < self.index_size:
            raise self._decode_error("shard is shorter than its index", key)
        index = self._parse_index(bytes(raw), key, len(data))
        view = memoryview(data)
        entries = index[flat]
        return [None if o == EMPTY else view[int(o):int(o) + int(n)] for o, n in entries.tolist()]

    # ---- write -----------------------------------------------------------------------------------------------
    def stored_keys(self, coords: np.ndarray) -> list[str]:
        """The keys of the shards holding the inner chunks ``coords``."""
        return self._keys(self._shard_groups(coords)[1])

    def write(self, sel: BasicSelection, value: np.ndarray, write_empty_chunks: bool, locked: bool = False) -> None:
        if sel.size == 0:
            return
        # a store that can't delete (zip) keeps all-fill chunks rather than failing to remove them
        write_empty_chunks = write_empty_chunks or not getattr(self.store, "supports_deletes", True)
        program, (coords, cstart, count, vstart), steps = self._plan(sel, for_write=True)
        complete = self._complete(coords, count, steps)
        inner = np.asarray(self.chunk_shape, dtype=np.int64)
        groups, shard_coords, flat = self._shard_groups(coords)
        keys = self._keys(shard_coords)
        shape = np.asarray(self.shape, dtype=np.int64)
        sshape = np.asarray(self.shard_shape, dtype=np.int64)

        def work(lo: int, hi: int) -> None:
            for g in range(lo, hi):
                rows = groups[g]
                # inner chunks of this shard that hold array elements
                valid = np.minimum(sshape, shape - shard_coords[g] * sshape)
                n_valid = int(np.prod(-(-valid // inner)))
                full = len(rows) == n_valid and bool(complete[rows].all())
                # a partly written shard is read, merged and rewritten: lock it (threads and processes)
                with key_locks(self.store, () if full or locked else (keys[g],)):
                    self._write_shard(keys[g], rows, flat[rows], full, program, value,
                                      cstart, count, vstart, steps, complete, write_empty_chunks)

        run_parts(work, len(groups))

    def _write_shard(self, key: str, rows: np.ndarray, flat: np.ndarray, full: bool, program: Any,
                     value: np.ndarray, cstart: np.ndarray, count: np.ndarray, vstart: np.ndarray, steps: np.ndarray,
                     complete: np.ndarray, write_empty: bool) -> None:
        old_parts: list = [None] * self.n_inner
        if not full:
            data = self.store.get(key)
            if data is not None:
                if len(data) < self.index_size:
                    raise self._decode_error("existing shard is shorter than its index", key)
                raw = data[:self.index_size] if self.index_at_start else data[-self.index_size:]
                index = self._parse_index(bytes(raw), key, len(data))
                view = memoryview(data)
                for i, (o, n) in enumerate(index.tolist()):
                    if o != int(EMPTY):
                        old_parts[i] = view[o:o + n]
        existing = [None if complete[r] else old_parts[f] for r, f in zip(rows.tolist(), flat.tolist())]
        names = self._inner_names(key, flat)
        if program is not None:
            # packed: the shard's new inner chunks in one buffer (one allocation per shard, not one per inner chunk)
            new = self._encode_native(program, value, cstart[rows], count[rows], vstart[rows], steps, existing,
                                      complete[rows], write_empty, names, packed=True)
        else:
            new = self._encode_python(value, cstart[rows], count[rows], vstart[rows], steps, existing,
                                      complete[rows], write_empty, names)
        parts = old_parts
        for f, b in zip(flat.tolist(), new):
            parts[f] = b
        self._store_shard(key, parts)

    def _store_shard(self, key: str, parts: list) -> None:
        present = [i for i, b in enumerate(parts) if b is not None]
        if not present:
            self.store.delete(key)
            return
        chunks = [parts[i] for i in present]
        sizes = np.fromiter((len(b) for b in chunks), dtype=np.uint64, count=len(chunks))
        index = np.full((self.n_inner, 2), EMPTY, dtype=np.uint64)
        start = self.index_size if self.index_at_start else 0
        index[present, 1] = sizes
        index[present, 0] = np.cumsum(sizes) - sizes + np.uint64(start)
        raw_index = encode_index(index.reshape(*self.cps, 2), self.codec.index_codecs)
        if self.index_at_start:
            chunks.insert(0, raw_index)
        else:
            chunks.append(raw_index)
        set_parts = getattr(self.store, "set_parts", None)
        if set_parts is not None:
            set_parts(key, chunks)  # LocalStore: writev of the pieces, no joined copy of the shard
        else:
            self.store.set(key, b"".join(chunks))

def sharding_codec(meta: Any) -> Any:
    """The ShardingCodec when the array's whole v3 chain is one ``sharding_indexed`` codec (else None)."""
    if meta.zarr_format != 3 or len(meta.codecs) != 1 or meta.codecs[0].get("name") != "sharding_indexed":
        return None
    from .codecs.registry import codec_from_v3

    codec = codec_from_v3(meta.codecs[0])
    codec.validate(meta.chunk_shape, meta.dtype)
    return codec
