"""zarrfast through its zarr-python-compatible API (``import zarrfast as zarr``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np

import zarrfast
from benchmarks.impls._zarr_api import create_kwargs
from benchmarks.workloads import Selection, Workload

NAME = "zarrfast"

if not hasattr(zarrfast, "create_array") or not hasattr(zarrfast, "open_array"):
    raise ImportError("zarrfast does not offer create_array/open_array yet")


def version() -> str:
    v = getattr(zarrfast, "__version__", None)
    if v:
        return str(v)
    try:
        return _dist_version("zarrfast")
    except PackageNotFoundError:
        return "unknown"


def create(path: str, workload: Workload) -> Any:
    return zarrfast.create_array(store=path, **create_kwargs(workload))


def open(path: str) -> Any:
    return zarrfast.open_array(store=path, mode="r")


def write_all(arr: Any, data: np.ndarray) -> None:
    arr[...] = data


def read_all(arr: Any) -> np.ndarray:
    return np.asarray(arr[...])


def read_region(arr: Any, selection: Selection) -> np.ndarray:
    return np.asarray(arr[selection])


def _config() -> Any:
    return getattr(zarrfast, "config", None)


def get_threads() -> int | None:
    cfg = _config()
    try:
        return int(cfg.get("threads"))  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - report, never crash
        return None


def set_threads(n: int) -> bool:
    """``zarrfast.config.set({"threads": n})``; False until zarrfast supports it."""
    cfg = _config()
    try:
        cfg.set({"threads": int(n)})  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - report, never crash
        return False
    return True
