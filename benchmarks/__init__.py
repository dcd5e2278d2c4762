"""Benchmark harness comparing zarrfast with zarr-python, zarrs and tensorstore.

Run ``python -m benchmarks --help``. See ``docs/performance.md`` for the method and results.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks`` (lazy import keeps ``import benchmarks`` cheap)."""
    from benchmarks.cli import main as _main

    return _main(argv)
