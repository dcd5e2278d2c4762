"""Workload definitions and the selections each operation reads (see shared WORKLOADS.md)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import numpy as np

Selection = tuple[slice, ...]

OPS: tuple[str, ...] = (
    "write_all",
    "read_all",
    "read_chunk_by_chunk",
    "read_unaligned_slab",
    "read_random_chunks",
)
READ_OPS: tuple[str, ...] = tuple(op for op in OPS if op.startswith("read_"))
N_RANDOM_CHUNKS = 200
RANDOM_SEED = 1234


@dataclass(frozen=True)
class Workload:
    """One array layout: shape, dtype, chunking, optional sharding, codec and Zarr format.

    ``codec`` is one of ``"blosc_lz4"`` (blosc lz4 clevel 5 byte shuffle), ``"zstd"`` (zstd level 1)
    or ``"raw"`` (bytes codec only). For sharded workloads ``chunks`` is the inner chunk shape.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    chunks: tuple[int, ...]
    codec: str
    zarr_format: int
    shards: tuple[int, ...] | None = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def nbytes(self) -> int:
        """Uncompressed size of the whole array."""
        return math.prod(self.shape) * self.itemsize

    @property
    def chunk_nbytes(self) -> int:
        """Uncompressed size of one (inner) chunk."""
        return math.prod(self.chunks) * self.itemsize

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        """Number of (inner) chunks along each axis."""
        return tuple(-(-s // c) for s, c in zip(self.shape, self.chunks))

    @property
    def n_chunks(self) -> int:
        return math.prod(self.chunk_grid)

    def describe(self) -> str:
        shards = "x".join(map(str, self.shards)) if self.shards else "-"
        return (
            f"{self.name}: {'x'.join(map(str, self.shape))} {self.dtype}, chunks "
            f"{'x'.join(map(str, self.chunks))}, shards {shards}, {self.codec}, v{self.zarr_format}"
        )

    def quick(self) -> Workload:
        """A small variant for smoke runs: 128^3 for 3-D (shards 64^3), 250k elements for 1-D."""
        if self.ndim == 1:
            return replace(self, shape=(250_000,))
        shape = tuple(min(s, 128) for s in self.shape)
        shards = tuple(min(s, 64) for s in self.shards) if self.shards else None
        return replace(self, shape=shape, shards=shards)


_CUBE = (512, 512, 512)
WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("dense_lz4_v2", _CUBE, "uint16", (64, 64, 64), "blosc_lz4", 2),
        Workload("dense_zstd_v3", _CUBE, "uint16", (64, 64, 64), "zstd", 3),
        Workload("raw_v3", _CUBE, "uint16", (64, 64, 64), "raw", 3),
        Workload("sharded_zstd_v3", _CUBE, "uint16", (32, 32, 32), "zstd", 3, shards=(256, 256, 256)),
        Workload("small_chunks_v3", (4_000_000,), "float64", (1000,), "zstd", 3),
    )
}


def get_workloads(names: list[str] | None, quick: bool) -> list[Workload]:
    """Look workloads up by name (all when ``names`` is empty), shrunk when ``quick``."""
    chosen = names or list(WORKLOADS)
    unknown = [n for n in chosen if n not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}; known: {', '.join(WORKLOADS)}")
    return [WORKLOADS[n].quick() if quick else WORKLOADS[n] for n in chosen]


def chunk_region(w: Workload, index: tuple[int, ...]) -> Selection:
    """The chunk-aligned region of the (inner) chunk at grid position ``index``."""
    return tuple(
        slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(index, w.chunks, w.shape)
    )


def chunk_by_chunk_selections(w: Workload) -> list[Selection]:
    """Every (inner) chunk of the first z-slab of chunks (grid index 0 on axis 0), C order.

    A 1-D array has no slab structure, so there every chunk is read.
    """
    grid = w.chunk_grid
    if w.ndim == 1:
        return [chunk_region(w, (i,)) for i in range(grid[0])]
    ranges = [range(1)] + [range(g) for g in grid[1:]]
    return [chunk_region(w, idx) for idx in itertools.product(*ranges)]


def _mid_chunk(pos: int, chunk: int, limit: int) -> int:
    """Move ``pos`` to the middle of its chunk, within ``[1, limit - 1]``."""
    return max(1, min((pos // chunk) * chunk + chunk // 2, limit - 1))


def unaligned_selection(w: Workload) -> Selection:
    """``a[10:300, 17:400, 100:101]`` (clipped to the shape); 1-D: a slice from mid-chunk to mid-chunk."""
    if w.ndim == 1:
        n, c = w.shape[0], w.chunks[0]
        return (slice(_mid_chunk(n * 3 // 100, c, n), _mid_chunk(n * 86 // 100, c, n)),)
    base = [(10, 300), (17, 400), (100, 101)]
    sel = []
    for axis, size in enumerate(w.shape):
        start, stop = base[axis] if axis < len(base) else (0, size)
        start = min(start, size - 1)
        sel.append(slice(start, max(start + 1, min(stop, size))))
    return tuple(sel)


def random_chunk_selections(
    w: Workload, n: int = N_RANDOM_CHUNKS, seed: int = RANDOM_SEED
) -> list[Selection]:
    """``n`` randomly chosen (inner) chunk regions; without replacement when the grid is big enough."""
    rng = np.random.default_rng(seed)
    flat = rng.choice(w.n_chunks, size=n, replace=w.n_chunks < n)
    return [chunk_region(w, tuple(int(i) for i in np.unravel_index(f, w.chunk_grid))) for f in flat]


def selections_for(w: Workload, op: str) -> list[Selection]:
    """The region reads an operation makes (empty for whole-array operations)."""
    if op == "read_chunk_by_chunk":
        return chunk_by_chunk_selections(w)
    if op == "read_unaligned_slab":
        return [unaligned_selection(w)]
    if op == "read_random_chunks":
        return random_chunk_selections(w)
    return []
