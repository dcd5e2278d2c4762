"""Shared helpers for the interop tests.

The implementation under test is ``zarrfast``.  Setting ``ZARRFAST_INTEROP_IMPL=zarr`` runs the
same tests with zarr-python in its place: that checks the harness itself (the cases, the peer
readers and the known-limitation tables), so a failure with zarrfast is zarrfast's.

Peers are optional: every helper that needs one calls ``pytest.importorskip`` so a module still
runs (and reports the skip reason) where a peer is not installed.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures"
IMPL_ENV = "ZARRFAST_INTEROP_IMPL"

V3_TO_NUMPY = {
    "bool": "|b1",
    "int8": "|i1",
    "uint8": "|u1",
    "int16": "<i2",
    "uint16": "<u2",
    "int32": "<i4",
    "uint32": "<u4",
    "int64": "<i8",
    "uint64": "<u8",
    "float16": "<f2",
    "float32": "<f4",
    "float64": "<f8",
    "complex64": "<c8",
    "complex128": "<c16",
}
NUMPY_TO_V3 = {np.dtype(v).str: k for k, v in V3_TO_NUMPY.items()}

ZARRS_CONFIG = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}


# ------------------------------------------------------------------------------------------------
# the implementation under test


def load_impl():
    """``zarrfast`` (or the module named by $ZARRFAST_INTEROP_IMPL, e.g. ``zarr``)."""
    return importlib.import_module(impl_name())


def impl_name() -> str:
    return os.environ.get(IMPL_ENV, "zarrfast")


def impl_supports_negative_steps() -> bool:
    """zarrfast takes slices with any step; zarr-python 3.1 (the harness check) raises on step < 0."""
    return impl_name() != "zarr"


def has_negative_step(selection) -> bool:
    items = selection if isinstance(selection, tuple) else (selection,)
    return any(isinstance(s, slice) and s.step is not None and s.step < 0 for s in items)


@pytest.fixture(scope="session")
def zf():
    return load_impl()


# ------------------------------------------------------------------------------------------------
# fixtures manifest


@functools.lru_cache(maxsize=1)
def load_manifest() -> dict:
    path = FIXTURES / "manifest.json"
    if not path.exists():
        return {"versions": {}, "fixtures": []}
    return json.loads(path.read_text())


def manifest_params():
    return [pytest.param(e, id=e["name"]) for e in load_manifest()["fixtures"]]


# ------------------------------------------------------------------------------------------------
# values


def decode_fill_value(fill: Any) -> Any:
    """A JSON fill value (as stored in .zarray / zarr.json) as a Python value."""
    special = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
    if isinstance(fill, list):
        return complex(decode_fill_value(fill[0]), decode_fill_value(fill[1]))
    if isinstance(fill, str):
        return special[fill]
    return fill


def _equal_nan_signed(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Element-wise equality where NaN equals NaN and -0.0 differs from 0.0."""
    if expected.dtype.kind == "c":
        return _equal_nan_signed(actual.real, expected.real) & _equal_nan_signed(actual.imag, expected.imag)
    if expected.dtype.kind == "f":
        both_nan = np.isnan(actual) & np.isnan(expected)
        return both_nan | ((actual == expected) & (np.signbit(actual) == np.signbit(expected)))
    return actual == expected


def assert_same_values(actual: Any, expected: Any, *, context: str = "") -> None:
    """Same shape, same kind and item size (byte order may differ), same values.

    NaN equals NaN; for complex values real and imaginary parts are compared separately, so a
    swapped (re, im) pair or a NaN in the other component is caught.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    where = f" ({context})" if context else ""
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}{where}"
    assert (actual.dtype.kind, actual.dtype.itemsize) == (expected.dtype.kind, expected.dtype.itemsize), (
        f"dtype {actual.dtype.str} is not {expected.dtype.str} up to byte order{where}"
    )
    equal = _equal_nan_signed(actual, expected)
    if not np.all(equal):
        bad = np.argwhere(~np.asarray(equal))
        first = tuple(int(i) for i in bad[0]) if bad.size else ()
        raise AssertionError(
            f"{int((~equal).sum())} of {equal.size} values differ{where}; first at {first}: "
            f"got {actual[first]!r}, expected {expected[first]!r}"
        )


def assert_same_fill_value(actual: Any, expected: Any, dtype: Any, *, context: str = "") -> None:
    """``expected`` is a Python value (or None); ``actual`` what an Array reports."""
    where = f" ({context})" if context else ""
    if expected is None:
        assert actual is None, f"fill_value {actual!r} != None{where}"
        return
    assert actual is not None, f"fill_value None != {expected!r}{where}"
    native = np.dtype(dtype).newbyteorder("=")
    assert_same_values(
        np.asarray(actual).astype(native), np.asarray(expected, dtype=native), context=f"fill_value{where}"
    )


def random_values(rng: np.random.Generator, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Values spread over ``dtype``'s range, with NaN/inf/-0.0 sprinkled into float arrays."""
    dtype = np.dtype(dtype).newbyteorder("=")
    size = math.prod(shape)
    if dtype.kind == "b":
        flat = rng.random(size) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
    elif dtype.kind == "f":
        flat = (rng.standard_normal(size) * 1000).astype(dtype)
        specials = np.array([np.nan, np.inf, -np.inf, -0.0], dtype=dtype)
        pick = rng.random(size) < 0.1
        flat[pick] = rng.choice(specials, size=int(pick.sum()))
    elif dtype.kind == "c":
        part = np.float32 if dtype.itemsize == 8 else np.float64
        flat = (
            rng.standard_normal(size).astype(part) * 100 + 1j * rng.standard_normal(size).astype(part) * 100
        )
        flat = flat.astype(dtype)
        pick = rng.random(size) < 0.1
        flat[pick] = complex(np.nan, 1.0)
    else:  # pragma: no cover
        raise ValueError(dtype)
    return flat.reshape(shape)


# ------------------------------------------------------------------------------------------------
# stored metadata


def read_stored_metadata(path: Path) -> dict:
    """The raw JSON of the array at ``path``.

    v2: ``.zarray`` plus ``attributes`` taken from ``.zattrs``; v3: ``zarr.json``.
    """
    path = Path(path)
    if (path / "zarr.json").exists():
        return json.loads((path / "zarr.json").read_text())
    meta = json.loads((path / ".zarray").read_text())
    attrs = path / ".zattrs"
    meta["attributes"] = json.loads(attrs.read_text()) if attrs.exists() else {}
    return meta


def reported_dtype(meta: dict) -> np.dtype:
    """The dtype zarr-python reports for stored metadata: v2 keeps the stored byte order, v3 is native."""
    if meta["zarr_format"] == 2:
        return np.dtype(meta["dtype"])
    return np.dtype(V3_TO_NUMPY[meta["data_type"]])


# ------------------------------------------------------------------------------------------------
# peers: readers and known limitations


def read_with_zarr_python(path: Path):
    zarr = pytest.importorskip("zarr", reason="zarr-python is not installed")
    arr = zarr.open_array(str(path), mode="r")
    return arr, arr[...]


def tensorstore_limitation(meta: dict) -> str | None:
    """Why tensorstore (0.1.86) cannot open this array, or None.  Observed, not guessed."""
    if meta["zarr_format"] == 2:
        comp = meta.get("compressor") or {}
        if comp.get("id") == "lz4":
            return "tensorstore's zarr driver has no numcodecs 'lz4' compressor"
        if comp.get("id") == "zstd" and "checksum" in comp:
            return "tensorstore's zarr driver rejects the 'checksum' member of a v2 zstd compressor"
        if meta.get("filters"):
            return "tensorstore's zarr driver supports no v2 filters"
    return None


def read_with_tensorstore(path: Path, zarr_format: int) -> np.ndarray:
    ts = pytest.importorskip("tensorstore", reason="tensorstore is not installed")
    driver = "zarr" if zarr_format == 2 else "zarr3"
    store = ts.open(
        {"driver": driver, "kvstore": {"driver": "file", "path": str(path)}}, open=True, read=True
    ).result()
    return store.read().result()


def _big_endian_v3(meta: dict) -> bool:
    return any(
        c.get("name") == "bytes" and (c.get("configuration") or {}).get("endian") == "big"
        for c in meta.get("codecs", [])
    )


def zarrs_limitation(meta: dict) -> str | None:
    """Why zarrs-python (0.2.3, strict) can't read this array, or None.  Observed, not guessed."""
    if meta["zarr_format"] == 2:
        dtype = np.dtype(meta["dtype"])
        comp = meta.get("compressor") or {}
        if dtype.itemsize > 1 and not dtype.isnative:
            return "zarrs-python raises 'Non-native byte order not supported' for v2 big-endian dtypes"
        if meta.get("order") == "F":
            return "zarrs-python fails on v2 order 'F' ('input array must be a C contiguous array')"
        if comp.get("id") == "lz4":
            return "zarrs has no numcodecs 'lz4' codec"
        if comp.get("id") == "zstd" and comp.get("checksum"):
            return "zarrs rejects a v2 zstd compressor with checksum"
        if meta.get("filters"):
            return "v2 filters are not exercised with zarrs"
    return None


def zarrs_known_bug(meta: dict) -> str | None:
    """Arrays zarrs-python (0.2.3) opens but decodes wrongly (checked against zarr-python and tensorstore)."""
    if meta["zarr_format"] == 3 and meta["data_type"].startswith("complex") and _big_endian_v3(meta):
        return (
            "zarrs 0.2.3 swaps real and imaginary parts of big-endian complex values in partial (edge) chunks"
        )
    return None


def read_with_zarrs(path: Path) -> np.ndarray:
    zarr = pytest.importorskip("zarr", reason="zarr-python is not installed (needed by zarrs-python)")
    pytest.importorskip("zarrs", reason="zarrs-python is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zarr.config.set(ZARRS_CONFIG):
            return zarr.open_array(str(path), mode="r")[...]


def check_peer_can_read(peer: str, meta: dict, request: pytest.FixtureRequest) -> None:
    """Skip (peer can't open it) or mark xfail, non-strict (known peer bug), before reading with ``peer``."""
    if peer == "tensorstore":
        reason = tensorstore_limitation(meta)
        if reason:
            pytest.skip(reason)
    elif peer == "zarrs":
        reason = zarrs_limitation(meta)
        if reason:
            pytest.skip(reason)
        bug = zarrs_known_bug(meta)
        if bug:
            request.node.add_marker(pytest.mark.xfail(reason=bug, strict=False))
