"""zarrfast writes, the peers read: zarr-python 3, tensorstore and zarrs-python.

Each case is written once (module-scoped fixture) with ``zarrfast.create_array`` followed by a
whole-array write and two partial writes, then read back by every peer and compared with the
numpy model of the same writes.  ``test_metadata_validates`` checks the stored JSON through
zarr-python and directly.  A peer that is not installed skips its tests with the reason; a
peer's known limitation skips (or, for a known peer bug, xfails) with the reason.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import zlib
from typing import Any

import numpy as np
import pytest

from .conftest import (
    NUMPY_TO_V3,
    V3_TO_NUMPY,
    assert_same_fill_value,
    assert_same_values,
    check_peer_can_read,
    random_values,
    read_stored_metadata,
    read_with_tensorstore,
    read_with_zarr_python,
    read_with_zarrs,
)

pytestmark = pytest.mark.interop

AUTO = "auto"  # "leave this keyword out"


@dataclasses.dataclass
class Case:
    id: str
    zarr_format: int
    dtype: str  # numpy dtype string for v2 ('>i4'), v3 data type name ('int32')
    shape: tuple[int, ...] = (7, 11)
    chunks: tuple[int, ...] = (4, 6)
    fill_value: Any = 0
    order: str | None = None  # v2 only
    compressors: Any = None  # numcodecs dict(s) for v2, list of v3 codec dicts for v3, None: none
    filters: Any = None
    serializer: Any = AUTO
    chunk_key_encoding: dict | None = None
    dimension_names: list | None = None
    attributes: dict | None = None

    @property
    def native_dtype(self) -> np.dtype:
        if self.zarr_format == 2:
            return np.dtype(self.dtype).newbyteorder("=")
        return np.dtype(V3_TO_NUMPY[self.dtype])

    @property
    def reported_dtype(self) -> np.dtype:
        """What zarr-python reports as ``arr.dtype`` for the stored array."""
        if self.zarr_format == 2:
            return np.dtype(self.dtype)
        return np.dtype(V3_TO_NUMPY[self.dtype])

    def create_kwargs(self) -> dict:
        kwargs = {
            "shape": self.shape,
            "chunks": self.chunks,
            "dtype": self.dtype,
            "fill_value": self.fill_value,
            "zarr_format": self.zarr_format,
            "compressors": self.compressors,
        }
        optional = {
            "order": self.order,
            "filters": self.filters,
            "chunk_key_encoding": self.chunk_key_encoding,
            "dimension_names": self.dimension_names,
            "attributes": self.attributes,
        }
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        if self.serializer is not AUTO:
            kwargs["serializer"] = self.serializer
        return kwargs


# ------------------------------------------------------------------------------------------------
# the cases

V2_DTYPES = ["|b1", "|i1", "|u1"] + [
    o + c for c in ["i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"] for o in "<>"
]
V3_DTYPES = list(V3_TO_NUMPY)
CNAMES = ["lz4", "lz4hc", "zstd", "zlib", "blosclz"]
BIG = {"name": "bytes", "configuration": {"endian": "big"}}
ZSTD_V2 = {"id": "zstd", "level": 1}
ZSTD_V3 = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
CRC = {"name": "crc32c"}


def blosc_v2(cname, shuffle):
    return {"id": "blosc", "cname": cname, "clevel": 5, "shuffle": shuffle}


def blosc_v3(cname, shuffle):
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": 5, "shuffle": shuffle}}


def typical_fill(dtype: np.dtype, i: int) -> Any:
    kind = dtype.kind
    if kind == "b":
        return [False, True][i % 2]
    if kind in "iu":
        return [0, 42][i % 2]
    if kind == "f":
        return [0.0, math.nan, -1.5][i % 3]
    return [0j, 1 + 2j, complex(math.nan, 1.0)][i % 3]


def v2_cases() -> list[Case]:
    cases = []
    compressors = [
        None,
        ZSTD_V2,
        blosc_v2("lz4", 1),
        {"id": "zlib", "level": 1},
        {"id": "gzip", "level": 1},
        [{"id": "zstd", "level": 3}],
    ]  # the last one in list form
    for i, dt in enumerate(V2_DTYPES):
        order, sep = "CF"[i % 2], "./"[(i // 2) % 2]
        cases.append(
            Case(
                f"v2-dtype-{dt}-{order}-sep{sep}",
                2,
                dt,
                order=order,
                compressors=compressors[i % len(compressors)],
                fill_value=typical_fill(np.dtype(dt), i),
                chunk_key_encoding={"name": "v2", "separator": sep},
            )
        )
    for j, (cname, shuffle) in enumerate(itertools.product(CNAMES, [0, 1, 2])):
        dt = ["<f8", ">i4", "<u2"][j % 3]
        cases.append(
            Case(f"v2-blosc-{cname}-shuffle{shuffle}-{dt}", 2, dt, compressors=blosc_v2(cname, shuffle))
        )
    cases += [
        Case("v2-zstd", 2, "<f8", compressors={"id": "zstd", "level": 3}),
        Case("v2-zstd-checksum", 2, "<i8", compressors={"id": "zstd", "level": 3, "checksum": True}),
        Case("v2-gzip", 2, "<f4", compressors={"id": "gzip", "level": 5}),
        Case("v2-zlib", 2, ">u2", compressors={"id": "zlib", "level": 1}),
        Case("v2-lz4", 2, "<i4", compressors={"id": "lz4", "acceleration": 1}),
        Case("v2-none", 2, "<c16", compressors=None),
    ]
    for name, dt, fill in [
        ("nan", "<f8", math.nan),
        ("inf", ">f8", math.inf),
        ("neginf", "<f4", -math.inf),
        ("nan-f2", ">f2", math.nan),
        ("42", "<i2", 42),
        ("u8max", "<u8", 2**64 - 1),
        ("i8min", ">i8", -(2**63)),
        ("complex", "<c16", 1 + 2j),
        ("complex-nan", ">c8", complex(math.nan, -1.0)),
        ("true", "|b1", True),
        ("null", "<i4", None),
    ]:
        cases.append(Case(f"v2-fill-{name}", 2, dt, fill_value=fill, compressors=ZSTD_V2))
    cases += [
        Case(
            "v2-3d-F-slash",
            2,
            ">f4",
            (5, 6, 4),
            (3, 4, 3),
            fill_value=-1.5,
            order="F",
            compressors=blosc_v2("zstd", 2),
            chunk_key_encoding={"name": "v2", "separator": "/"},
        ),
        Case("v2-1d", 2, "<i8", (13,), (5,), fill_value=42, compressors=ZSTD_V2),
        Case("v2-0d", 2, "<f8", (), (), fill_value=3.5, compressors=ZSTD_V2),
        Case("v2-chunks-exceed-shape", 2, "<u4", (5, 3), (8, 8), compressors=ZSTD_V2),
        Case(
            "v2-attributes",
            2,
            "<u4",
            compressors=ZSTD_V2,
            attributes={"title": "zarrfast", "nested": {"a": [1, 2.5, None]}, "unicode": "\u03bcm"},
        ),
    ]
    return cases


def v3_cases() -> list[Case]:
    cases = []
    compressors = [
        None,
        [ZSTD_V3],
        [blosc_v3("lz4", "shuffle")],
        [{"name": "gzip", "configuration": {"level": 1}}],
        [CRC],
    ]
    ckes = [
        {"name": "default", "separator": "/"},
        {"name": "default", "separator": "."},
        {"name": "v2", "separator": "."},
        {"name": "v2", "separator": "/"},
    ]
    for i, dt in enumerate(V3_DTYPES):
        cases.append(
            Case(
                f"v3-dtype-{dt}",
                3,
                dt,
                compressors=compressors[i % len(compressors)],
                fill_value=typical_fill(np.dtype(V3_TO_NUMPY[dt]), i),
                chunk_key_encoding=ckes[i % 4],
            )
        )
    for i, dt in enumerate(d for d in V3_DTYPES if np.dtype(V3_TO_NUMPY[d]).itemsize > 1):
        cases.append(
            Case(
                f"v3-dtype-{dt}-big",
                3,
                dt,
                serializer=BIG,
                compressors=compressors[(i + 1) % len(compressors)],
                fill_value=typical_fill(np.dtype(V3_TO_NUMPY[dt]), i + 1),
                chunk_key_encoding=ckes[(i + 1) % 4],
            )
        )
    for j, (cname, shuffle) in enumerate(itertools.product(CNAMES, ["noshuffle", "shuffle", "bitshuffle"])):
        dt = ["float64", "int32", "uint16"][j % 3]
        cases.append(
            Case(
                f"v3-blosc-{cname}-{shuffle}-{dt}",
                3,
                dt,
                compressors=[blosc_v3(cname, shuffle)],
                serializer=BIG if j % 5 == 4 else AUTO,
            )
        )
    cases += [
        Case(
            "v3-zstd",
            3,
            "float64",
            compressors=[{"name": "zstd", "configuration": {"level": 3, "checksum": False}}],
        ),
        Case(
            "v3-zstd-checksum",
            3,
            "int64",
            compressors=[{"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
        ),
        Case("v3-gzip", 3, "float32", compressors=[{"name": "gzip", "configuration": {"level": 5}}]),
        Case("v3-crc32c", 3, "uint16", compressors=[CRC]),
        Case("v3-zstd-crc32c", 3, "int32", compressors=[ZSTD_V3, CRC]),
        Case("v3-transpose", 3, "int16", filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}]),
        Case(
            "v3-transpose-3d-big-blosc-crc32c",
            3,
            "float32",
            (5, 6, 4),
            (3, 4, 3),
            filters=[{"name": "transpose", "configuration": {"order": [2, 0, 1]}}],
            serializer=BIG,
            compressors=[blosc_v3("zstd", "shuffle"), CRC],
        ),
    ]
    for cke in ckes:
        sep = "slash" if cke["separator"] == "/" else "dot"
        cases.append(
            Case(f"v3-cke-{cke['name']}-{sep}", 3, "uint8", (5, 6, 4), (3, 4, 3), chunk_key_encoding=cke)
        )
    for name, dt, fill in [
        ("nan", "float64", math.nan),
        ("inf", "float32", math.inf),
        ("neginf", "float64", -math.inf),
        ("nan-f2", "float16", math.nan),
        ("42", "int16", 42),
        ("u8max", "uint64", 2**64 - 1),
        ("i8min", "int64", -(2**63)),
        ("complex", "complex128", 1 + 2j),
        ("complex-nan-inf", "complex64", complex(math.nan, math.inf)),
        ("true", "bool", True),
    ]:
        cases.append(Case(f"v3-fill-{name}", 3, dt, fill_value=fill, compressors=[ZSTD_V3]))
    cases += [
        Case(
            "v3-dimension-names-attributes",
            3,
            "float64",
            fill_value=math.nan,
            compressors=[ZSTD_V3],
            dimension_names=["y", "x"],
            attributes={"title": "zarrfast", "nested": {"a": [1, 2.5, None]}},
        ),
        Case(
            "v3-dimension-names-partial",
            3,
            "int32",
            (5, 6, 4),
            (3, 4, 3),
            compressors=[ZSTD_V3],
            dimension_names=["z", None, "x"],
            attributes={"k": [1, 2, 3]},
        ),
        Case("v3-1d", 3, "int64", (13,), (5,), fill_value=42, compressors=[ZSTD_V3]),
        Case("v3-0d", 3, "float64", (), (), fill_value=3.5, compressors=[ZSTD_V3]),
        Case("v3-chunks-exceed-shape", 3, "uint32", (5, 3), (8, 8), compressors=[ZSTD_V3]),
    ]
    return cases


CASES = v2_cases() + v3_cases()
assert len({c.id for c in CASES}) == len(CASES)


# ------------------------------------------------------------------------------------------------
# writing with zarrfast and the numpy model of the same writes


def fill_region(case: Case):
    """One chunk left all fill value (so it need not be stored), untouched by the partial writes."""
    ndim = len(case.shape)
    if ndim == 0:
        return None
    coords = (1,) if ndim == 1 else (0, 1) + (0,) * (ndim - 2)
    axes = list(zip(coords, case.chunks, case.shape, strict=True))
    if any(c * n >= s for c, n, s in axes):
        return None
    return tuple(slice(c * n, min((c + 1) * n, s)) for c, n, s in axes)


def partial_selections(ndim: int) -> list[tuple]:
    if ndim == 0:
        return [()]
    if ndim == 1:
        return [(slice(2, 5),), (slice(None, None, 3),)]
    return [(slice(2, 5), 1), (slice(None, None, 3), slice(0, 2))]


@dataclasses.dataclass
class Written:
    case: Case
    path: Any
    expected: np.ndarray
    error: BaseException | None = None


@pytest.fixture(scope="module", params=CASES, ids=[c.id for c in CASES])
def written(request, tmp_path_factory, zf) -> Written:
    case: Case = request.param
    path = tmp_path_factory.mktemp("zf2peer") / "a"
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    data = random_values(rng, case.native_dtype, case.shape)
    region = fill_region(case)
    if region is not None and case.fill_value is not None:
        data[region] = case.fill_value
    expected = data.copy()
    try:
        arr = zf.create_array(store=str(path), **case.create_kwargs())
        arr[...] = data
        for sel in partial_selections(len(case.shape)):
            arr[sel] = 7
            expected[sel] = 7
    except Exception as exc:  # noqa: BLE001 - reported by every test of the case, not as a setup error
        return Written(case, path, expected, exc)
    return Written(case, path, expected)


def require_written(w: Written) -> None:
    if w.error is not None:
        raise AssertionError(f"zarrfast failed to write {w.case.id}: {w.error!r}") from w.error


# ------------------------------------------------------------------------------------------------
# peers read it


def test_zarr_python_reads(written):
    require_written(written)
    arr, values = read_with_zarr_python(written.path)
    assert_same_values(values, written.expected, context="zarr-python")
    assert arr.dtype == written.case.reported_dtype


def test_tensorstore_reads(written, request):
    require_written(written)
    check_peer_can_read("tensorstore", read_stored_metadata(written.path), request)
    values = read_with_tensorstore(written.path, written.case.zarr_format)
    assert_same_values(values, written.expected, context="tensorstore")


def test_zarrs_reads(written, request):
    require_written(written)
    check_peer_can_read("zarrs", read_stored_metadata(written.path), request)
    values = read_with_zarrs(written.path)
    assert_same_values(values, written.expected, context="zarrs-python")


# ------------------------------------------------------------------------------------------------
# the stored JSON


def assert_config_subset(requested: dict, stored: dict, what: str) -> None:
    """Every option the caller gave is stored with that value (a writer may add defaults: blosc typesize)."""
    for key, value in requested.items():
        if key == "configuration":
            assert_config_subset(value, stored.get("configuration", {}), what)
            continue
        assert key in stored, f"{what}: {key!r} missing from stored {stored}"
        assert stored[key] == value, f"{what}: {key} = {stored[key]!r}, requested {value!r}"


def as_list(codecs) -> list:
    if codecs is None:
        return []
    return list(codecs) if isinstance(codecs, (list, tuple)) else [codecs]


def test_metadata_validates(written):
    require_written(written)
    case = written.case
    raw = read_stored_metadata(written.path)

    # the raw JSON
    assert raw["zarr_format"] == case.zarr_format
    assert raw["shape"] == list(case.shape)
    if case.zarr_format == 2:
        assert raw["chunks"] == list(case.chunks)
        assert (
            np.dtype(raw["dtype"]) == np.dtype(case.dtype) and raw["dtype"][0] == np.dtype(case.dtype).str[0]
        )
        assert raw["order"] == (case.order or "C")
        sep = (case.chunk_key_encoding or {}).get("separator", ".")
        assert raw.get("dimension_separator", ".") == sep
        comps = as_list(case.compressors)
        if comps:
            assert raw["compressor"] is not None
            assert_config_subset(comps[0], raw["compressor"], "compressor")
        else:
            assert raw["compressor"] is None
        assert not raw.get("filters")
    else:
        assert raw["node_type"] == "array"
        assert raw["data_type"] == case.dtype
        assert raw["chunk_grid"]["name"] == "regular"
        assert raw["chunk_grid"]["configuration"]["chunk_shape"] == list(case.chunks)
        cke = case.chunk_key_encoding or {"name": "default", "separator": "/"}
        stored_cke = raw["chunk_key_encoding"]
        assert stored_cke["name"] == cke["name"]
        default_sep = "/" if cke["name"] == "default" else "."
        assert stored_cke.get("configuration", {}).get("separator", default_sep) == cke["separator"]
        requested = (
            as_list(case.filters)
            + [case.serializer if case.serializer is not AUTO else {"name": "bytes"}]
            + as_list(case.compressors)
        )
        stored = raw["codecs"]
        assert [c["name"] for c in stored] == [c["name"] for c in requested]
        for want, got in zip(requested, stored, strict=False):
            assert_config_subset(want, got, f"codec {want['name']}")
        if np.dtype(V3_TO_NUMPY[case.dtype]).itemsize > 1:
            bytes_codec = next(c for c in stored if c["name"] == "bytes")
            want_endian = "big" if case.serializer is BIG else "little"
            assert bytes_codec["configuration"]["endian"] == want_endian
        assert raw.get("dimension_names") == case.dimension_names
    assert raw.get("attributes", {}) == (case.attributes or {})

    # zarr-python's reading of it
    zarr = pytest.importorskip("zarr", reason="zarr-python is not installed")
    arr = zarr.open_array(str(written.path), mode="r")
    assert arr.shape == case.shape
    assert arr.chunks == case.chunks
    assert arr.dtype == case.reported_dtype
    assert arr.metadata.zarr_format == case.zarr_format
    assert_same_fill_value(arr.fill_value, case.fill_value, case.native_dtype)
    assert dict(arr.attrs) == (case.attributes or {})
    if case.zarr_format == 3:
        names = arr.metadata.dimension_names
        assert (list(names) if names is not None else None) == case.dimension_names
    else:
        assert arr.order == (case.order or "C")


def test_case_table_covers_the_plan():
    """The parametrisation covers every axis the interop plan names (no zarrfast needed)."""
    v2 = [c for c in CASES if c.zarr_format == 2]
    v3 = [c for c in CASES if c.zarr_format == 3]
    assert {c.dtype for c in v2} == set(V2_DTYPES)
    assert {c.dtype for c in v3} == set(V3_DTYPES)
    assert {c.order for c in v2} >= {"C", "F"}
    assert {(c.chunk_key_encoding or {}).get("separator", ".") for c in v2} == {".", "/"}
    assert {(c.chunk_key_encoding or {"name": "default"})["name"] for c in v3} == {"default", "v2"}
    assert any(c.serializer is BIG for c in v3)
    names = {(comp.get("id") or comp.get("name")) for c in CASES for comp in as_list(c.compressors)}
    assert {"blosc", "zstd", "gzip", "zlib", "lz4", "crc32c"} <= names
    fills = [c.fill_value for c in CASES]
    assert any(isinstance(f, float) and math.isnan(f) for f in fills)
    assert (
        math.inf in fills
        and -math.inf in fills
        and 42 in fills
        and any(isinstance(f, complex) for f in fills)
    )
    assert NUMPY_TO_V3["<i4"] == "int32"
