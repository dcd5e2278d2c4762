"""zarr-python 3 with the zarrs (Rust) codec pipeline, set via ``zarr.config`` around its calls."""

from __future__ import annotations

import contextlib
from importlib.metadata import version as _dist_version
from typing import Any

import numpy as np
import zarr
import zarrs  # noqa: F401 - must import for the pipeline path to resolve

from benchmarks.impls._zarr_api import create_kwargs
from benchmarks.workloads import Selection, Workload

NAME = "zarrs"
PIPELINE = "zarrs.ZarrsCodecPipeline"


def version() -> str:
    return f"zarrs {_dist_version('zarrs')} (zarr {_dist_version('zarr')})"


def session() -> contextlib.AbstractContextManager[Any]:
    """The pipeline is chosen when an array object is built, and read from config while it runs."""
    return zarr.config.set({"codec_pipeline.path": PIPELINE})


def create(path: str, workload: Workload) -> Any:
    with session():
        return zarr.create_array(store=path, **create_kwargs(workload))


def open(path: str) -> Any:
    with session():
        return zarr.open_array(store=path, mode="r")


# The harness enters ``session()`` once around each timed block (a per-call ``config.set`` costs ~5 us,
# which would bias the many-small-reads operations), so these calls need not repeat it.
def write_all(arr: Any, data: np.ndarray) -> None:
    arr[...] = data


def read_all(arr: Any) -> np.ndarray:
    return arr[...]


def read_region(arr: Any, selection: Selection) -> np.ndarray:
    return arr[selection]
