"""zarr-python 3 with its default codec pipeline."""

from __future__ import annotations

from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
import zarr

from benchmarks.impls._zarr_api import create_kwargs
from benchmarks.workloads import Selection, Workload

NAME = "zarr"


def version() -> str:
    return _dist_version("zarr")


def create(path: str, workload: Workload) -> Any:
    return zarr.create_array(store=path, **create_kwargs(workload))


def open(path: str) -> Any:
    return zarr.open_array(store=path, mode="r")


def write_all(arr: Any, data: np.ndarray) -> None:
    arr[...] = data


def read_all(arr: Any) -> np.ndarray:
    return arr[...]


def read_region(arr: Any, selection: Selection) -> np.ndarray:
    return arr[selection]
