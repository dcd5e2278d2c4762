"""Fixture model: dtypes, deterministic values, ``Spec`` (one fixture) and the codec/attribute constants."""

from __future__ import annotations

import dataclasses
import math
import zlib
from typing import Any

import numpy as np

# ------------------------------------------------------------------------------------------------
# dtypes

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
V3_DTYPES = list(V3_TO_NUMPY)
MULTIBYTE_V3 = [name for name in V3_DTYPES if np.dtype(V3_TO_NUMPY[name]).itemsize > 1]

V2_DTYPES = ["|b1", "|i1", "|u1"] + [
    order + code
    for code in ["i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8", "c8", "c16"]
    for order in "<>"
]


def dtype_slug(dtype: str) -> str:
    """'>i4' -> 'i4_be', '<f8' -> 'f8_le', '|b1' -> 'b1' (file-name safe)."""
    if dtype[0] == ">":
        return dtype[1:] + "_be"
    if dtype[0] == "<":
        return dtype[1:] + "_le"
    return dtype.lstrip("|")


# ------------------------------------------------------------------------------------------------
# values


def seed_for(key: str) -> int:
    return zlib.crc32(key.encode()) & 0xFFFFFFFF


def make_values(key: str, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    """Deterministic values of ``dtype`` (native byte order) that exercise the dtype's range."""
    rng = np.random.default_rng(seed_for(key))
    dtype = np.dtype(dtype).newbyteorder("=")
    size = math.prod(shape)
    if dtype.kind == "b":
        flat = rng.random(size) < 0.5
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(info.min, info.max, size=size, dtype=dtype, endpoint=True)
        extremes = [info.min, info.max, 0, 1]
        flat[: min(size, 4)] = np.array(extremes[: min(size, 4)], dtype=dtype)
    elif dtype.kind == "f":
        flat = (rng.standard_normal(size) * 1000).astype(dtype)
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).max, np.finfo(dtype).tiny]
        # not at the very start so the first chunk also holds ordinary numbers
        for i, v in enumerate(specials):
            if 3 + 2 * i < size:
                flat[3 + 2 * i] = v
    elif dtype.kind == "c":
        part = np.float32 if dtype.itemsize == 8 else np.float64
        flat = (rng.standard_normal(size) * 100).astype(part) + 1j * (rng.standard_normal(size) * 100).astype(
            part
        )
        flat = flat.astype(dtype)
        specials = [complex(np.nan, 1.0), complex(1.0, np.inf), complex(-np.inf, np.nan), complex(-0.0, 0.0)]
        for i, v in enumerate(specials):
            if 3 + 2 * i < size:
                flat[3 + 2 * i] = v
    else:  # pragma: no cover - generator only uses the dtypes above
        raise ValueError(dtype)
    return flat.reshape(shape)


def full_of(fill: Any, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    dtype = np.dtype(dtype).newbyteorder("=")
    return np.full(shape, 0 if fill is None else fill, dtype=dtype)


# ------------------------------------------------------------------------------------------------
# fixture specs

SHAPE2, CHUNKS2, MISSING2 = (7, 11), (4, 6), (0, 1)  # grid 2x2, both edges partial
SHAPE3, CHUNKS3, MISSING3 = (5, 6, 4), (3, 4, 3), (1, 0, 1)  # grid 2x2x2
SHAPE1, CHUNKS1, MISSING1 = (13,), (5,), (1,)  # grid 3


@dataclasses.dataclass
class Spec:
    writer: str  # "zarr-python" | "zarrs" | "tensorstore" | "zstandard-no-content-size"
    zarr_format: int
    name: str
    dtype: str  # v2: numpy dtype string; v3: data_type name
    shape: tuple[int, ...] = SHAPE2
    chunks: tuple[int, ...] = CHUNKS2
    fill_value: Any = 0
    # zarr-python create_array keywords (compressors, filters, serializer, order, ...)
    zarr_kwargs: dict = dataclasses.field(default_factory=dict)
    # tensorstore metadata keys beyond shape / chunks / dtype / fill_value
    ts_metadata: dict = dataclasses.field(default_factory=dict)
    # chunks (grid coordinates) that are never written; None: the default one for the shape
    missing: list | None = None
    note: str = ""

    @property
    def writer_dir(self) -> str:
        return self.writer.replace("-", "_")

    @property
    def path(self) -> str:
        return f"{self.writer_dir}/v{self.zarr_format}/{self.name}"

    @property
    def key(self) -> str:
        return f"{self.writer_dir}-v{self.zarr_format}-{self.name}"

    @property
    def value_dtype(self) -> np.dtype:
        if self.zarr_format == 2:
            return np.dtype(self.dtype).newbyteorder("=")
        return np.dtype(V3_TO_NUMPY[self.dtype])

    def missing_chunks(self) -> list[tuple[int, ...]]:
        if self.missing is not None:
            return [tuple(m) for m in self.missing]
        default = {2: MISSING2, 3: MISSING3, 1: MISSING1}.get(len(self.shape))
        return [default] if default is not None else []


def blosc_v2(cname: str, shuffle: int, clevel: int = 5) -> dict:
    return {"id": "blosc", "cname": cname, "clevel": clevel, "shuffle": shuffle, "blocksize": 0}


def blosc_v3(cname: str, shuffle: str, clevel: int = 5) -> dict:
    return {"name": "blosc", "configuration": {"cname": cname, "clevel": clevel, "shuffle": shuffle}}


ZSTD_V2 = {"id": "zstd", "level": 1}
ZSTD_V3 = {"name": "zstd", "configuration": {"level": 1, "checksum": False}}
BIG = {"name": "bytes", "configuration": {"endian": "big"}}
LITTLE = {"name": "bytes", "configuration": {"endian": "little"}}
CNAMES = ["lz4", "lz4hc", "zstd", "zlib", "blosclz"]
SHUFFLE_V2 = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}
CKE_V3 = [
    {"name": "default", "separator": "/"},
    {"name": "default", "separator": "."},
    {"name": "v2", "separator": "."},
    {"name": "v2", "separator": "/"},
]
ATTRS = {
    "title": "zarrfast interop fixture",
    "nested": {"list": [1, 2.5, None, "x"], "flag": True},
    "unicode": "\u03bcm \u2713",
    "units": "m",
}
