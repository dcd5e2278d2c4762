"""Implementation adapters: one module per implementation, each import-guarded.

Every adapter module exposes ``NAME``, ``version()``, ``create(path, workload)``, ``open(path)``,
``write_all(arr, data)``, ``read_all(arr)`` and ``read_region(arr, selection)``; optionally
``session()`` (a context manager entered around every call) and ``set_threads(n) -> bool``.
"""

from __future__ import annotations

import contextlib
import importlib
import traceback
from collections.abc import Iterator
from types import ModuleType
from typing import Any

IMPL_MODULES: dict[str, str] = {
    "zarrfast": "benchmarks.impls.zarrfast_impl",
    "zarr": "benchmarks.impls.zarr_python",
    "zarrs": "benchmarks.impls.zarrs_pipeline",
    "tensorstore": "benchmarks.impls.tensorstore_impl",
}
DEFAULT_IMPLS: tuple[str, ...] = tuple(IMPL_MODULES)
REFERENCE_IMPL = "zarr"
SUBJECT_IMPL = "zarrfast"


def load_adapters(names: list[str]) -> tuple[dict[str, ModuleType], dict[str, str]]:
    """Import the requested adapters; return (loaded, skipped-with-reason). Never raises for peers."""
    loaded: dict[str, ModuleType] = {}
    skipped: dict[str, str] = {}
    for name in names:
        if name not in IMPL_MODULES:
            raise SystemExit(f"unknown implementation {name!r}; known: {', '.join(IMPL_MODULES)}")
        try:
            loaded[name] = importlib.import_module(IMPL_MODULES[name])
        except Exception as exc:  # noqa: BLE001 - a peer that does not import is skipped
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            skipped[name] = f"import failed: {last}"
    return loaded, skipped


def session(adapter: ModuleType) -> contextlib.AbstractContextManager[Any]:
    """The adapter's per-call context (e.g. the zarrs codec pipeline config), or a no-op."""
    factory = getattr(adapter, "session", None)
    return factory() if factory is not None else contextlib.nullcontext()


@contextlib.contextmanager
def threads(adapter: ModuleType, n: int) -> Iterator[bool]:
    """Ask the adapter to use ``n`` threads for the duration; yields whether it could."""
    setter = getattr(adapter, "set_threads", None)
    if setter is None:
        yield False
        return
    previous = getattr(adapter, "get_threads", lambda: None)()
    ok = bool(setter(n))
    try:
        yield ok
    finally:
        if ok and previous is not None:
            setter(previous)
