"""Peers write, zarrfast reads: the live direction (the committed fixtures are the offline one).

For each writer (zarr-python v2 / v3, zarrs-python v2 / v3, tensorstore v2 / v3) hypothesis draws
an array (shape, chunk shape, dtype, codecs, fill value, order, key encoding), a few rectangular
and strided writes of random values, and a basic selection.  The writer writes in a temporary
directory; zarrfast must read the whole array and the selection equal to the numpy model, and
report the dtype and fill value zarr-python would.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import (
    V3_TO_NUMPY,
    ZARRS_CONFIG,
    assert_same_fill_value,
    assert_same_values,
    impl_supports_negative_steps,
    random_values,
    read_stored_metadata,
    reported_dtype,
)

pytestmark = pytest.mark.interop

# a moderate number per writer and format (6 tests, well under a minute); raise it locally with
# ZARRFAST_INTEROP_EXAMPLES=500 to hunt for rarer disagreements
EXAMPLES_PER_WRITER = int(os.environ.get("ZARRFAST_INTEROP_EXAMPLES", "40"))
SETTINGS = settings(
    max_examples=EXAMPLES_PER_WRITER,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

V2_DTYPES = ["|b1", "|i1", "|u1"] + [
    o + c for c in ["i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"] for o in "<>"
]
V2_NATIVE_DTYPES = [d for d in V2_DTYPES if d[0] != ">"]
V3_DTYPES = list(V3_TO_NUMPY)
CNAMES = ["lz4", "lz4hc", "zstd", "zlib", "blosclz"]


@dataclasses.dataclass
class Plan:
    writer: str  # "zarr-python" | "zarrs" | "tensorstore"
    zarr_format: int
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: str  # v2: numpy string with byte order; v3: data type name
    fill_value: Any
    compressors: Any  # v2: one numcodecs dict or None; v3: list of codec dicts
    serializer_endian: str  # v3 only
    transpose: tuple[int, ...] | None  # v3 only
    order: str  # v2 only
    separator: str
    key_encoding: str  # v3: "default" | "v2"
    writes: list[tuple]
    selection: Any
    seed: int

    @property
    def native_dtype(self) -> np.dtype:
        if self.zarr_format == 2:
            return np.dtype(self.dtype).newbyteorder("=")
        return np.dtype(V3_TO_NUMPY[self.dtype])


# ------------------------------------------------------------------------------------------------
# strategies


def fill_values(dtype: np.dtype, allow_none: bool):
    if dtype.kind == "b":
        base = st.booleans()
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        base = st.sampled_from([0, 42 if info.max >= 42 else 1, int(info.min), int(info.max)])
    elif dtype.kind == "f":
        base = st.sampled_from([0.0, 1.5, math.nan, math.inf, -math.inf])
    else:
        base = st.sampled_from([0j, 1 + 2j, complex(math.nan, 1.0), complex(-math.inf, 0.5)])
    return st.one_of(st.none(), base) if allow_none else base


@st.composite
def regions(draw, shape, strided: bool):
    """A basic selection to write to: per axis a slice with step 1 (or 2 when ``strided``)."""
    sel = []
    for size in shape:
        start = draw(st.integers(0, size - 1))
        stop = draw(st.integers(start + 1, size))
        step = draw(st.sampled_from([1, 1, 2])) if strided else 1
        sel.append(slice(start, stop, step))
    return tuple(sel)


@st.composite
def read_selections(draw, shape):
    negative = impl_supports_negative_steps()
    sel = []
    for size in shape:
        if draw(st.integers(0, 4)) == 0:
            sel.append(draw(st.integers(-size, size - 1)))
        else:
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            steps = [1, 2, 3, -1, -2] if negative else [1, 2, 3]
            sel.append(slice(start, stop, draw(st.sampled_from(steps))))
    if sel and draw(st.booleans()):
        return (Ellipsis, *sel[1:])  # Ellipsis stands for the first axis
    return tuple(sel)


def v2_compressors(writer: str):
    blosc_shuffles = [-1, 0, 1, 2] if writer == "tensorstore" else [0, 1, 2]
    options = [
        st.none(),
        st.builds(lambda lvl: {"id": "zstd", "level": lvl}, st.integers(1, 5)),
        st.builds(
            lambda c, lvl, s: {"id": "blosc", "cname": c, "clevel": lvl, "shuffle": s, "blocksize": 0},
            st.sampled_from(CNAMES),
            st.integers(1, 9),
            st.sampled_from(blosc_shuffles),
        ),
        st.builds(lambda lvl: {"id": "gzip", "level": lvl}, st.integers(1, 9)),
        st.builds(lambda lvl: {"id": "zlib", "level": lvl}, st.integers(1, 9)),
    ]
    if writer == "zarr-python":
        # tensorstore and zarrs have no numcodecs lz4 and reject a zstd "checksum" member
        options.append(st.just({"id": "lz4", "acceleration": 1}))
        options.append(
            st.builds(lambda lvl: {"id": "zstd", "level": lvl, "checksum": True}, st.integers(1, 5))
        )
    return st.one_of(*options)


def v3_compressors():
    zstd = st.builds(
        lambda lvl, ck: {"name": "zstd", "configuration": {"level": lvl, "checksum": ck}},
        st.integers(1, 5),
        st.booleans(),
    )
    blosc = st.builds(
        lambda c, lvl, s: {"name": "blosc", "configuration": {"cname": c, "clevel": lvl, "shuffle": s}},
        st.sampled_from(CNAMES),
        st.integers(1, 9),
        st.sampled_from(["noshuffle", "shuffle", "bitshuffle"]),
    )
    gzip = st.builds(lambda lvl: {"name": "gzip", "configuration": {"level": lvl}}, st.integers(1, 9))
    crc = {"name": "crc32c"}
    return st.one_of(
        st.just([]),
        st.lists(st.one_of(zstd, blosc, gzip), min_size=1, max_size=1),
        st.just([crc]),
        st.builds(lambda c: [c, crc], st.one_of(zstd, blosc, gzip)),
    )


@st.composite
def plans(draw, writer: str, zarr_format: int):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    # at most 4 chunks per axis (so at most 64 chunk files); chunks may exceed the shape
    chunks = tuple(draw(st.integers(-(-s // 4), s + 2)) for s in shape)
    if zarr_format == 2:
        dtypes = V2_NATIVE_DTYPES if writer == "zarrs" else V2_DTYPES
    else:
        dtypes = V3_DTYPES
    dtype = draw(st.sampled_from(dtypes))
    native = np.dtype(dtype if zarr_format == 2 else V3_TO_NUMPY[dtype]).newbyteorder("=")
    # zarrs-python (strict) has no path for a null fill value
    fill = draw(fill_values(native, allow_none=zarr_format == 2 and writer != "zarrs"))
    order, separator, key_encoding, endian, transpose = "C", ".", "v2", "little", None
    if zarr_format == 2:
        compressors = draw(v2_compressors(writer))
        # zarrs-python fails on order F; tensorstore 0.1.86 refuses order F for rank < 2 (it stores "C"
        # and then rejects its own metadata)
        order = (
            "C"
            if writer == "zarrs" or (writer == "tensorstore" and ndim < 2)
            else draw(st.sampled_from("CF"))
        )
        separator = draw(st.sampled_from("./"))
    else:
        compressors = draw(v3_compressors())
        key_encoding = draw(st.sampled_from(["default", "v2"]))
        separator = draw(st.sampled_from("/."))
        endian = draw(st.sampled_from(["little", "big"]))
        if writer == "zarrs" and native.kind == "c":
            endian = "little"  # zarrs 0.2.3 decodes big-endian complex edge chunks wrongly
        if ndim >= 2 and draw(st.booleans()):
            transpose = tuple(draw(st.permutations(range(ndim))))
    # zarrs-python (strict) raises DiscontiguousArrayError on strided writes
    writes = draw(st.lists(regions(shape, strided=writer != "zarrs"), min_size=1, max_size=3))
    if fill is None:  # no fill value: every element must be written
        writes = [tuple(slice(0, s, 1) for s in shape)] + writes
    selection = draw(read_selections(shape))
    seed = draw(st.integers(0, 2**32 - 1))
    return Plan(
        writer,
        zarr_format,
        shape,
        chunks,
        dtype,
        fill,
        compressors,
        endian,
        transpose,
        order,
        separator,
        key_encoding,
        writes,
        selection,
        seed,
    )


# ------------------------------------------------------------------------------------------------
# writers


def write_values(plan: Plan):
    """(list of (region, values) to write, numpy model of the array afterwards)."""
    rng = np.random.default_rng(plan.seed)
    model = np.full(plan.shape, 0 if plan.fill_value is None else plan.fill_value, dtype=plan.native_dtype)
    steps = []
    for region in plan.writes:
        values = random_values(rng, plan.native_dtype, model[region].shape)
        model[region] = values
        steps.append((region, values))
    return steps, model


def zarr_python_create_kwargs(plan: Plan) -> dict:
    kwargs = {
        "shape": plan.shape,
        "chunks": plan.chunks,
        "dtype": plan.dtype,
        "fill_value": plan.fill_value,
        "zarr_format": plan.zarr_format,
        "compressors": plan.compressors,
    }
    if plan.zarr_format == 2:
        kwargs["order"] = plan.order
        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": plan.separator}
    else:
        kwargs["serializer"] = {"name": "bytes", "configuration": {"endian": plan.serializer_endian}}
        kwargs["chunk_key_encoding"] = {"name": plan.key_encoding, "separator": plan.separator}
        if plan.transpose is not None:
            kwargs["filters"] = [{"name": "transpose", "configuration": {"order": list(plan.transpose)}}]
    return kwargs


def write_with_zarr_python(plan: Plan, path: Path, steps) -> None:
    zarr = pytest.importorskip("zarr", reason="zarr-python is not installed")
    arr = zarr.create_array(store=str(path), **zarr_python_create_kwargs(plan))
    for region, values in steps:
        arr[region] = values


def write_with_zarrs(plan: Plan, path: Path, steps) -> None:
    zarr = pytest.importorskip("zarr", reason="zarr-python is not installed (needed by zarrs-python)")
    pytest.importorskip("zarrs", reason="zarrs-python is not installed")
    with zarr.config.set(ZARRS_CONFIG):
        write_with_zarr_python(plan, path, steps)


def _fill_json(fill: Any, kind: str) -> Any:
    if kind == "c":
        fill = complex(fill)
        return [_fill_json(fill.real, "f"), _fill_json(fill.imag, "f")]
    if isinstance(fill, float) and not math.isfinite(fill):
        return "NaN" if math.isnan(fill) else ("Infinity" if fill > 0 else "-Infinity")
    return fill


def write_with_tensorstore(plan: Plan, path: Path, steps) -> None:
    ts = pytest.importorskip("tensorstore", reason="tensorstore is not installed")
    meta: dict[str, Any] = {"shape": list(plan.shape)}
    if plan.zarr_format == 2:
        driver = "zarr"
        meta.update(
            chunks=list(plan.chunks),
            dtype=plan.dtype,
            compressor=plan.compressors,
            order=plan.order,
            dimension_separator=plan.separator,
        )
    else:
        driver = "zarr3"
        codecs = []
        if plan.transpose is not None:
            codecs.append({"name": "transpose", "configuration": {"order": list(plan.transpose)}})
        codecs.append(
            {"name": "bytes", "configuration": {"endian": plan.serializer_endian}}
            if plan.native_dtype.itemsize > 1
            else {"name": "bytes"}
        )
        codecs += plan.compressors
        meta.update(
            chunk_grid={"name": "regular", "configuration": {"chunk_shape": list(plan.chunks)}},
            data_type=plan.dtype,
            codecs=codecs,
            chunk_key_encoding={"name": plan.key_encoding, "configuration": {"separator": plan.separator}},
        )
    if plan.fill_value is not None:
        meta["fill_value"] = _fill_json(plan.fill_value, plan.native_dtype.kind)
    store = ts.open(
        {"driver": driver, "kvstore": {"driver": "file", "path": str(path)}, "metadata": meta}, create=True
    ).result()
    for region, values in steps:
        store[region] = values


WRITERS = {
    "zarr-python": write_with_zarr_python,
    "zarrs": write_with_zarrs,
    "tensorstore": write_with_tensorstore,
}


# ------------------------------------------------------------------------------------------------
# the check


def check_zarrfast_reads(zf, plan: Plan) -> None:
    steps, model = write_values(plan)
    with tempfile.TemporaryDirectory(prefix="peer2zf-") as tmp:
        path = Path(tmp) / "a"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            WRITERS[plan.writer](plan, path, steps)
        meta = read_stored_metadata(path)

        arr = zf.open_array(str(path), mode="r")
        assert tuple(arr.shape) == plan.shape
        assert tuple(arr.chunks) == plan.chunks
        assert np.dtype(arr.dtype) == reported_dtype(meta)
        assert_same_fill_value(arr.fill_value, plan.fill_value, plan.native_dtype)
        assert_same_values(arr[...], model, context=f"{plan.writer} v{plan.zarr_format}: a[...]")
        assert_same_values(
            arr[plan.selection],
            model[plan.selection],
            context=f"{plan.writer} v{plan.zarr_format}: a[{plan.selection!r}]",
        )


@pytest.mark.parametrize("zarr_format", [2, 3])
@SETTINGS
@given(data=st.data())
def test_zarr_python_writes(zf, zarr_format, data):
    pytest.importorskip("zarr", reason="zarr-python is not installed")
    check_zarrfast_reads(zf, data.draw(plans("zarr-python", zarr_format), label="plan"))


@pytest.mark.parametrize("zarr_format", [2, 3])
@SETTINGS
@given(data=st.data())
def test_zarrs_writes(zf, zarr_format, data):
    pytest.importorskip("zarr", reason="zarr-python is not installed (needed by zarrs-python)")
    pytest.importorskip("zarrs", reason="zarrs-python is not installed")
    check_zarrfast_reads(zf, data.draw(plans("zarrs", zarr_format), label="plan"))


@pytest.mark.parametrize("zarr_format", [2, 3])
@SETTINGS
@given(data=st.data())
def test_tensorstore_writes(zf, zarr_format, data):
    pytest.importorskip("tensorstore", reason="tensorstore is not installed")
    check_zarrfast_reads(zf, data.draw(plans("tensorstore", zarr_format), label="plan"))
