"""Writer processes for tests/test_crash_safety.py and tests/test_concurrency.py (killed or run to completion).

The crash writer applies a deterministic sequence of operations to one array: operation ``g`` depends only on
``g`` and the array's current shape, so the test replays it on a numpy model. Every operation writes the constant
``g`` into its region (or resizes, or replaces the attributes). Around each one the writer appends ``B g`` and
``E g`` to a log with unbuffered ``os.write`` calls, which survive SIGKILL: after a kill every stored key must hold
the model state before the last begun operation or after it.
"""
from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

import zarrfast
from zarrfast.storage.local import LocalStore

FILL = -1
MAX_SHAPE = (48, 48)
MIN_SHAPE = (20, 20)
LAYOUTS: dict[str, dict[str, Any]] = {
    "v2": dict(zarr_format=2, chunks=(8, 8)),
    "v3": dict(zarr_format=3, chunks=(8, 8)),
    "v3-sharded": dict(zarr_format=3, chunks=(4, 4), shards=(16, 16)),
}


def make_store(kind: str, path: str) -> Any:
    if kind == "local":
        return LocalStore(path)
    if kind == "sqlite":
        from zarrfast.storage.sqlite import SQLiteStore

        return SQLiteStore(path)
    if kind == "lmdb":
        from zarrfast.storage.lmdb_store import LMDBStore

        return LMDBStore(path)
    raise ValueError(kind)


def create(kind: str, path: str, layout: str) -> Any:
    store = make_store(kind, path)
    arr = zarrfast.create_array(store=store, name="a", shape=(40, 40), dtype="i4", fill_value=FILL,
                                attributes={"gen": 0}, **LAYOUTS[layout])
    return store, arr


def plan_op(g: int, shape: tuple[int, ...]) -> dict[str, Any]:
    """Operation number ``g`` on an array of ``shape`` (deterministic)."""
    rng = np.random.default_rng(g)
    kind = rng.choice(["whole", "region", "region", "aligned", "resize", "attrs"])
    if kind == "whole":
        return {"kind": "region", "g": g, "box": [(0, n) for n in shape]}
    if kind == "resize":
        return {"kind": "resize", "g": g,
                "shape": tuple(int(rng.integers(lo, hi + 1)) for lo, hi in zip(MIN_SHAPE, MAX_SHAPE))}
    if kind == "attrs":
        return {"kind": "attrs", "g": g, "attrs": {"gen": g, "payload": list(range(int(rng.integers(1, 200))))}}
    box = []
    for n in shape:
        if kind == "aligned":
            a = int(rng.integers(0, (n + 7) // 8)) * 8
            b = min(n, a + 8 * int(rng.integers(1, 3)))
        else:
            a = int(rng.integers(0, n))
            b = int(rng.integers(a + 1, n + 1))
        box.append((a, b))
    return {"kind": "region", "g": g, "box": box}


def apply_op(arr: Any, op: dict[str, Any]) -> None:
    if op["kind"] == "region":
        arr[tuple(slice(a, b) for a, b in op["box"])] = op["g"]
    elif op["kind"] == "resize":
        arr.resize(op["shape"])
    else:
        arr.attrs.put(op["attrs"])


class Model:
    """The numpy oracle: values on the largest possible grid (fill outside the shape), shape and attributes."""

    def __init__(self, values: np.ndarray, shape: tuple[int, ...], attrs: dict) -> None:
        self.values, self.shape, self.attrs = values, tuple(shape), attrs

    @classmethod
    def initial(cls) -> Model:
        return cls(np.full(MAX_SHAPE, FILL, dtype="i4"), (40, 40), {"gen": 0})

    @classmethod
    def observe(cls, arr: Any) -> Model:
        values = np.full(MAX_SHAPE, FILL, dtype="i4")
        values[tuple(slice(0, n) for n in arr.shape)] = arr[...]
        return cls(values, arr.shape, dict(arr.attrs))

    def after(self, op: dict[str, Any]) -> Model:
        values, shape, attrs = self.values.copy(), self.shape, self.attrs
        if op["kind"] == "region":
            values[tuple(slice(a, b) for a, b in op["box"])] = op["g"]
        elif op["kind"] == "resize":
            shape = tuple(op["shape"])
            keep = np.zeros(MAX_SHAPE, dtype=bool)
            keep[tuple(slice(0, n) for n in shape)] = True
            values[~keep] = FILL
        else:
            attrs = op["attrs"]
        return Model(values, shape, attrs)


def log_line(fd: int, text: str) -> None:
    os.write(fd, f"{text}\n".encode())


def run(kind: str, path: str, start: int, log_path: str, max_ops: int | None = None) -> None:
    """Open the array and apply operations ``start, start + 1, ...`` (forever, or ``max_ops`` of them)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    arr = zarrfast.open_array(make_store(kind, path), path="a", mode="r+")
    g = start
    while max_ops is None or g < start + max_ops:
        op = plan_op(g, arr.shape)
        log_line(fd, f"B {g}")
        apply_op(arr, op)
        log_line(fd, f"E {g}")
        g += 1
    os.close(fd)


def run_zip(path: str, log_path: str) -> None:
    """Write a zip store without ever closing it (the test kills this process)."""
    from zarrfast.storage.zip import ZipStore

    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    store = ZipStore(path, mode="w")
    arr = zarrfast.create_array(store=store, name="a", shape=(4000,), chunks=(10,), dtype="i4", fill_value=FILL)
    log_line(fd, "created")
    g = 0
    while True:  # a fresh member per chunk key, never rewritten
        arr[g * 10:(g + 1) * 10] = g
        log_line(fd, f"E {g}")
        g = (g + 1) % 400


def write_region_job(path: str, box: list[tuple[int, int]], value: int, lock: bool, steps: int) -> None:
    """tests/test_concurrency.py: write ``value`` into ``box`` of the array at ``path`` in ``steps`` slices along
    axis 0 (several partial writes per process). ``lock=False`` disables the cross-process lock (to show the
    lost updates it prevents)."""
    if not lock:
        LocalStore.rmw_lock = lambda self, keys: None  # type: ignore[method-assign]
    arr = zarrfast.open_array(LocalStore(path), path="a", mode="r+")
    (r0, r1), *rest = box
    rows = np.linspace(r0, r1, steps + 1).astype(int)
    for a, b in zip(rows[:-1], rows[1:]):
        if b > a:
            arr[(slice(int(a), int(b)),) + tuple(slice(lo, hi) for lo, hi in rest)] = value


def write_boxes_job(path: str, boxes: list, p: int, n_proc: int, lock: bool, steps: int) -> None:
    """tests/test_concurrency.py: process ``p`` of ``n_proc`` writes its ``k``-th box with ``p + 1 + n_proc * k``."""
    for k, box in enumerate(boxes):
        write_region_job(path, list(box), p + 1 + n_proc * k, lock, steps)


def read_job(path: str, finals: np.ndarray, rounds: int) -> int:
    """tests/test_concurrency.py: read the whole array ``rounds`` times; every element must be the fill value or its
    final value. Returns the number of reads."""
    arr = zarrfast.open_array(LocalStore(path), path="a", mode="r")
    for _ in range(rounds):
        got = arr[...]
        ok = (got == FILL) | (got == finals)
        if not ok.all():
            raise AssertionError(f"read saw values that are neither fill nor final at {np.argwhere(~ok)[:5]}")
    return rounds


if __name__ == "__main__":  # manual use: python tests/crash_writer.py KIND PATH START LOG
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
