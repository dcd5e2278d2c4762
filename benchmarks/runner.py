"""Timing loop: set up every implementation's copy, check answers once, then time interleaved reps."""

from __future__ import annotations

import gc
import os
import shutil
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from benchmarks.impls import session, threads
from benchmarks.workloads import Selection, Workload, selections_for

Log = Callable[[str], None]


def stderr_log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sync() -> None:
    """Write dirty page-cache data back (no-op where ``os.sync`` is missing)."""
    sync = getattr(os, "sync", None)
    if sync is not None:
        sync()


def prime_memory(nbytes: int) -> None:
    """Touch ``nbytes`` of fresh memory and free it again, right before a timed run (untimed).

    This VM (Firecracker, free page reporting) hands memory freed in blocks of 2 MiB and more back to the host within
    a fraction of a second, and the next first touch of such a page faults on the host: 256 MiB took 22 ms to touch
    when freed just before, 290-580 ms after a pause of 0.2-8 s. Whatever an implementation allocates (its output,
    page cache for what it writes, its buffers) would otherwise cost 10-25x more or less depending only on how long
    the machine idled before. Freed just before the run, these pages are what the run's allocations get back.
    """
    if nbytes > 0:
        buf = np.ones(nbytes, dtype=np.uint8)  # written, so every page is really there
        del buf


@dataclass
class Cell:
    """Outcome of one (workload, op, impl): timings in seconds, or why there are none."""

    status: str = "ok"  # ok | wrong | error | skipped
    times_s: list[float] = field(default_factory=list)
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "times_s": self.times_s}
        if self.times_s:
            out["median_s"] = statistics.median(self.times_s)
            out["min_s"] = min(self.times_s)
        if self.message:
            out["message"] = self.message
        return out


def _short_error(exc: BaseException) -> str:
    return traceback.format_exception_only(type(exc), exc)[-1].strip()


def _check(result: Any, expected: np.ndarray, what: str) -> str | None:
    """None when ``result`` equals ``expected`` in shape, dtype and values, else a description."""
    got = np.asarray(result)
    if got.shape != expected.shape:
        return f"{what}: shape {got.shape} != expected {expected.shape}"
    if got.dtype != expected.dtype:
        return f"{what}: dtype {got.dtype} != expected {expected.dtype}"
    if not np.array_equal(got, expected):
        bad = int(np.count_nonzero(got != expected))
        return f"{what}: {bad} of {expected.size} elements differ"
    return None


def _fmt_sel(sel: Selection) -> str:
    return "[" + ", ".join(f"{s.start}:{s.stop}" for s in sel) + "]"


class WorkloadRun:
    """All implementations on one workload: their array copies live under ``root``."""

    def __init__(
        self,
        w: Workload,
        src: np.ndarray,
        adapters: dict[str, ModuleType],
        root: str,
        log: Log = stderr_log,
    ) -> None:
        self.w, self.src, self.adapters, self.root, self.log = w, src, adapters, root, log
        self.read_paths: dict[str, str] = {}
        self.handles: dict[str, Any] = {}
        self.setup_errors: dict[str, str] = {}
        self.selections = {op: selections_for(w, op) for op in ("read_chunk_by_chunk",
                                                                "read_unaligned_slab",
                                                                "read_random_chunks")}

    def _path(self, impl: str, kind: str) -> str:
        return os.path.join(self.root, self.w.name, impl, f"{kind}.zarr")

    def setup(self) -> None:
        """Write each implementation's own read copy (untimed) and open it."""
        for name, ad in self.adapters.items():
            path = self._path(name, "read")
            try:
                with session(ad):
                    arr = ad.create(path, self.w)
                    ad.write_all(arr, self.src)
                    del arr
                    self.handles[name] = ad.open(path)
                self.read_paths[name] = path
            except Exception as exc:  # noqa: BLE001 - report, never crash
                self.setup_errors[name] = f"setup (create/write/open) failed: {_short_error(exc)}"
                self.log(f"  !! {name}: {self.setup_errors[name]}")

    # -- one execution of an operation -------------------------------------------------------
    def _fresh_write_target(self, name: str) -> Any:
        path = self._path(name, "write")
        shutil.rmtree(path, ignore_errors=True)
        with session(self.adapters[name]):
            return self.adapters[name].create(path, self.w)

    def run_once(self, op: str, name: str, verify: bool = False) -> float:
        """Run ``op`` once for ``name``; return seconds. With ``verify``, raise AssertionError if wrong."""
        ad = self.adapters[name]
        if op == "write_all":
            target = self._fresh_write_target(name)
            gc.collect()
            # Flush the previous writer's dirty pages first: otherwise the kernel throttles whoever writes next
            # (balance_dirty_pages), and on this machine that alone moved a 4,000-file write from 0.3 s to 2.5 s.
            _sync()
            prime_memory(self.w.nbytes)
            with session(ad):
                t0 = time.perf_counter()
                ad.write_all(target, self.src)
                elapsed = time.perf_counter() - t0
            if verify:
                with session(ad):
                    back = ad.read_all(ad.open(self._path(name, "write")))
                problem = _check(back, self.src, "read back after write_all")
                if problem:
                    raise AssertionError(problem)
            return elapsed
        arr = self.handles[name]
        gc.collect()
        prime_memory(self.w.nbytes)
        if op == "read_all":
            with session(ad):
                t0 = time.perf_counter()
                out = ad.read_all(arr)
                elapsed = time.perf_counter() - t0
            if verify:
                problem = _check(out, self.src, "read_all")
                if problem:
                    raise AssertionError(problem)
            return elapsed
        sels = self.selections[op]
        if verify:
            with session(ad):
                for sel in sels:
                    problem = _check(ad.read_region(arr, sel), self.src[sel], f"{op} {_fmt_sel(sel)}")
                    if problem:
                        raise AssertionError(problem)
        read_region = ad.read_region
        with session(ad):
            t0 = time.perf_counter()
            for sel in sels:
                read_region(arr, sel)
            return time.perf_counter() - t0

    # -- the interleaved timing loop -----------------------------------------------------------
    def run(self, ops: list[str], reps: int) -> dict[str, dict[str, Cell]]:
        """Check every (op, impl) once (untimed warm-up), then time ``reps`` interleaved rounds."""
        names = list(self.adapters)
        cells: dict[str, dict[str, Cell]] = {op: {} for op in ops}
        for op in ops:
            for name in names:
                cell = cells[op][name] = Cell()
                if name in self.setup_errors and op != "write_all":
                    cell.status, cell.message = "error", self.setup_errors[name]
                    continue
                try:
                    self.run_once(op, name, verify=True)
                except AssertionError as exc:
                    cell.status, cell.message = "wrong", str(exc)
                    self.log(f"\n  !!!!!! WRONG ANSWER: {name} {self.w.name} {op}: {exc} !!!!!!\n")
                except Exception as exc:  # noqa: BLE001 - report, never crash
                    cell.status, cell.message = "error", _short_error(exc)
                    self.log(f"  !! {name} {self.w.name} {op} raised {cell.message}")
            live = [n for n in names if cells[op][n].status == "ok"]
            for rep in range(reps):
                k = rep % max(len(live), 1)
                for name in live[k:] + live[:k]:
                    cell = cells[op][name]
                    if cell.status != "ok":
                        continue
                    try:
                        cell.times_s.append(self.run_once(op, name))
                    except Exception as exc:  # noqa: BLE001 - report, never crash
                        cell.status, cell.message = "error", f"rep {rep}: {_short_error(exc)}"
                        self.log(f"  !! {name} {self.w.name} {op} raised {cell.message}")
            if op == "write_all":
                for name in names:
                    shutil.rmtree(self._path(name, "write"), ignore_errors=True)
            self.log("  " + op.ljust(20) + "  ".join(
                f"{n}={statistics.median(c.times_s) * 1e3:.1f}ms" if c.times_s else f"{n}={c.status}"
                for n, c in cells[op].items()))
        return cells

    def scaling(self, thread_counts: list[int], reps: int) -> dict[str, Any]:
        """read_all throughput per thread count for adapters that can set their thread count."""
        out: dict[str, Any] = {}
        for name, ad in self.adapters.items():
            if name not in self.handles:
                continue
            if not hasattr(ad, "set_threads"):
                continue
            rows: dict[str, Any] = {}
            for n in thread_counts:
                with threads(ad, n) as ok:
                    if not ok:
                        out[name] = {"status": "unsupported", "message": "set_threads failed"}
                        break
                    try:
                        self.run_once("read_all", name)  # warm-up at this thread count
                        times = [self.run_once("read_all", name) for _ in range(reps)]
                    except Exception as exc:  # noqa: BLE001 - report, never crash
                        rows[str(n)] = {"status": "error", "message": _short_error(exc)}
                        continue
                med = statistics.median(times)
                rows[str(n)] = {"status": "ok", "times_s": times, "median_s": med,
                                "gbps": self.w.nbytes / med / 1e9}
            else:
                out[name] = {"status": "ok", "threads": rows}
        return out

    def cleanup(self) -> None:
        self.handles.clear()
        gc.collect()
        shutil.rmtree(os.path.join(self.root, self.w.name), ignore_errors=True)
