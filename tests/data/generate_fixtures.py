"""Write the cross-implementation fixtures under ``tests/data/fixtures/``.

Each fixture is a small Zarr array written by a peer implementation (zarr-python 3 with its
default codec pipeline, zarr-python 3 with the zarrs pipeline, tensorstore), plus the values it
must hold as a ``.npy`` file.  ``manifest.json`` lists one entry per fixture and the versions of
the writers.  The fixtures are committed so zarrfast's interop tests run without any peer
installed; re-run this script only when a fixture is added or a writer is upgraded on purpose.

Usage::

    python tests/data/generate_fixtures.py            # regenerate tests/data/fixtures/
    python tests/data/generate_fixtures.py --check    # regenerate into a temp dir, compare bytes
    python tests/data/generate_fixtures.py --verify   # only re-run the zarr-python self-check

Determinism: values come from a generator seeded by a CRC of the fixture's name, every writer is
told exactly which codecs to use, and nothing depends on the clock.  Running twice with the
pinned versions below gives byte-identical trees (``--check`` proves it).
"""

from __future__ import annotations

import argparse
import dataclasses
import filecmp
import importlib.metadata
import itertools
import json
import math
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "fixtures"

# The versions the committed fixtures were written with.  Another version may write other bytes
# (a different blosc block size, JSON key order ...), so the script refuses to run with a
# different version unless --allow-version-mismatch is given.
PINNED = {
    "zarr": "3.1.6",
    "numcodecs": "0.16.6",
    "tensorstore": "0.1.86",
    "zarrs": "0.2.3",
    "numpy": "2.4.6",
    "zstandard": "0.25.0",
}

MAX_TREE_BYTES = 2_000_000

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


def zarr_python_specs(writer: str = "zarr-python") -> list[Spec]:
    specs: list[Spec] = []
    add = specs.append

    # ---- v2 ------------------------------------------------------------------------------------
    v2_compressors = [None, ZSTD_V2, blosc_v2("lz4", 1)]
    for i, dt in enumerate(V2_DTYPES):
        order = "CF"[i % 2]
        sep = "./"[(i // 2) % 2]
        comp = v2_compressors[i % 3]
        add(
            Spec(
                writer,
                2,
                f"dtype_{dtype_slug(dt)}",
                dt,
                zarr_kwargs={
                    "compressors": comp,
                    "order": order,
                    "chunk_key_encoding": {"name": "v2", "separator": sep},
                },
            )
        )
    for j, (cname, shuffle) in enumerate(itertools.product(CNAMES, [0, 1, 2])):
        dt = ["<f8", ">i4", "<u2"][j % 3]
        add(
            Spec(
                writer,
                2,
                f"blosc_{cname}_{SHUFFLE_V2[shuffle]}",
                dt,
                zarr_kwargs={"compressors": blosc_v2(cname, shuffle)},
            )
        )
    add(Spec(writer, 2, "zstd", "<f8", zarr_kwargs={"compressors": {"id": "zstd", "level": 3}}))
    add(
        Spec(
            writer,
            2,
            "zstd_checksum",
            "<i8",
            zarr_kwargs={"compressors": {"id": "zstd", "level": 3, "checksum": True}},
        )
    )
    add(Spec(writer, 2, "gzip", "<f4", zarr_kwargs={"compressors": {"id": "gzip", "level": 5}}))
    add(Spec(writer, 2, "zlib", ">u2", zarr_kwargs={"compressors": {"id": "zlib", "level": 1}}))
    add(Spec(writer, 2, "lz4", "<i4", zarr_kwargs={"compressors": {"id": "lz4", "acceleration": 1}}))
    add(Spec(writer, 2, "none", "<c16", zarr_kwargs={"compressors": None}))
    for fname, dt, fill in [
        ("fill_nan", "<f8", float("nan")),
        ("fill_inf", ">f8", float("inf")),
        ("fill_neginf", "<f4", float("-inf")),
        ("fill_nan_f2", ">f2", float("nan")),
        ("fill_42", "<i2", 42),
        ("fill_u8_max", "<u8", 2**64 - 1),
        ("fill_i8_min", ">i8", -(2**63)),
        ("fill_complex", "<c16", 1 + 2j),
        ("fill_complex_nan", ">c8", complex(float("nan"), -1.0)),
        ("fill_true", "|b1", True),
    ]:
        add(Spec(writer, 2, fname, dt, fill_value=fill, zarr_kwargs={"compressors": ZSTD_V2}))
    add(
        Spec(
            writer,
            2,
            "fill_null",
            "<i4",
            fill_value=None,
            missing=[],
            zarr_kwargs={"compressors": ZSTD_V2},
            note="fill_value null: every chunk is written",
        )
    )
    add(
        Spec(
            writer,
            2,
            "nd3_F_slash",
            ">f4",
            SHAPE3,
            CHUNKS3,
            fill_value=-1.5,
            zarr_kwargs={
                "compressors": blosc_v2("zstd", 2),
                "order": "F",
                "chunk_key_encoding": {"name": "v2", "separator": "/"},
            },
        )
    )
    add(Spec(writer, 2, "nd1", "<i8", SHAPE1, CHUNKS1, fill_value=42, zarr_kwargs={"compressors": ZSTD_V2}))
    add(Spec(writer, 2, "nd0", "<f8", (), (), fill_value=3.5, zarr_kwargs={"compressors": ZSTD_V2}))
    add(
        Spec(
            writer,
            2,
            "never_written",
            "<f4",
            fill_value=float("nan"),
            missing=[(0, 0), (0, 1), (1, 0), (1, 1)],
            zarr_kwargs={"compressors": ZSTD_V2},
            note="no chunk stored: all fill value",
        )
    )
    add(Spec(writer, 2, "attributes", "<u4", zarr_kwargs={"compressors": ZSTD_V2, "attributes": ATTRS}))

    # ---- v3 ------------------------------------------------------------------------------------
    v3_compressors = [None, [ZSTD_V3], [blosc_v3("lz4", "shuffle")]]
    for i, dt in enumerate(V3_DTYPES):
        add(
            Spec(
                writer,
                3,
                f"dtype_{dt}",
                dt,
                zarr_kwargs={"compressors": v3_compressors[i % 3], "chunk_key_encoding": CKE_V3[i % 4]},
            )
        )
    for i, dt in enumerate(MULTIBYTE_V3):
        add(
            Spec(
                writer,
                3,
                f"dtype_{dt}_be",
                dt,
                zarr_kwargs={
                    "serializer": BIG,
                    "compressors": v3_compressors[(i + 1) % 3],
                    "chunk_key_encoding": CKE_V3[(i + 1) % 4],
                },
            )
        )
    for j, (cname, shuffle) in enumerate(itertools.product(CNAMES, ["noshuffle", "shuffle", "bitshuffle"])):
        dt = ["float64", "int32", "uint16"][j % 3]
        kw = {"compressors": [blosc_v3(cname, shuffle)]}
        if j % 5 == 4:
            kw["serializer"] = BIG
        add(Spec(writer, 3, f"blosc_{cname}_{shuffle}", dt, zarr_kwargs=kw))
    add(
        Spec(
            writer,
            3,
            "zstd",
            "float64",
            zarr_kwargs={"compressors": [{"name": "zstd", "configuration": {"level": 3, "checksum": False}}]},
        )
    )
    add(
        Spec(
            writer,
            3,
            "zstd_checksum",
            "int64",
            zarr_kwargs={"compressors": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}]},
        )
    )
    add(
        Spec(
            writer,
            3,
            "gzip",
            "float32",
            zarr_kwargs={"compressors": [{"name": "gzip", "configuration": {"level": 5}}]},
        )
    )
    add(Spec(writer, 3, "crc32c", "uint16", zarr_kwargs={"compressors": [{"name": "crc32c"}]}))
    add(Spec(writer, 3, "zstd_crc32c", "int32", zarr_kwargs={"compressors": [ZSTD_V3, {"name": "crc32c"}]}))
    add(Spec(writer, 3, "none", "complex128", zarr_kwargs={"compressors": None}))
    add(
        Spec(
            writer,
            3,
            "transpose",
            "int16",
            zarr_kwargs={
                "filters": [{"name": "transpose", "configuration": {"order": [1, 0]}}],
                "compressors": None,
            },
        )
    )
    add(
        Spec(
            writer,
            3,
            "transpose_3d_be_blosc_crc32c",
            "float32",
            SHAPE3,
            CHUNKS3,
            zarr_kwargs={
                "filters": [{"name": "transpose", "configuration": {"order": [2, 0, 1]}}],
                "serializer": BIG,
                "compressors": [blosc_v3("zstd", "shuffle"), {"name": "crc32c"}],
            },
        )
    )
    for cke in CKE_V3:
        sep = "slash" if cke["separator"] == "/" else "dot"
        add(
            Spec(
                writer,
                3,
                f"cke_{cke['name']}_{sep}",
                "uint8",
                SHAPE3,
                CHUNKS3,
                zarr_kwargs={"compressors": None, "chunk_key_encoding": cke},
            )
        )
    for fname, dt, fill in [
        ("fill_nan", "float64", float("nan")),
        ("fill_inf", "float32", float("inf")),
        ("fill_neginf", "float64", float("-inf")),
        ("fill_nan_f2", "float16", float("nan")),
        ("fill_42", "int16", 42),
        ("fill_u8_max", "uint64", 2**64 - 1),
        ("fill_i8_min", "int64", -(2**63)),
        ("fill_complex", "complex128", 1 + 2j),
        ("fill_complex_nan_inf", "complex64", complex(float("nan"), float("inf"))),
        ("fill_true", "bool", True),
    ]:
        add(Spec(writer, 3, fname, dt, fill_value=fill, zarr_kwargs={"compressors": [ZSTD_V3]}))
    add(
        Spec(
            writer,
            3,
            "dimension_names_attributes",
            "float64",
            fill_value=float("nan"),
            zarr_kwargs={"compressors": [ZSTD_V3], "dimension_names": ["y", "x"], "attributes": ATTRS},
        )
    )
    add(
        Spec(
            writer,
            3,
            "dimension_names_partial",
            "int32",
            SHAPE3,
            CHUNKS3,
            zarr_kwargs={
                "compressors": [ZSTD_V3],
                "dimension_names": ["z", None, "x"],
                "attributes": {"k": [1, 2, 3]},
            },
        )
    )
    add(
        Spec(
            writer, 3, "nd1", "int64", SHAPE1, CHUNKS1, fill_value=42, zarr_kwargs={"compressors": [ZSTD_V3]}
        )
    )
    add(Spec(writer, 3, "nd0", "float64", (), (), fill_value=3.5, zarr_kwargs={"compressors": [ZSTD_V3]}))
    add(
        Spec(
            writer,
            3,
            "never_written",
            "float32",
            fill_value=float("nan"),
            missing=[(0, 0), (0, 1), (1, 0), (1, 1)],
            zarr_kwargs={"compressors": [ZSTD_V3]},
            note="no chunk stored: all fill value",
        )
    )
    return specs


def zarrs_specs() -> list[Spec]:
    """zarr-python with the zarrs codec pipeline (strict: zarrs encodes every chunk)."""
    w = "zarrs"
    return [
        Spec(
            w,
            3,
            "blosc_zstd_bitshuffle",
            "float64",
            fill_value=float("nan"),
            zarr_kwargs={"compressors": [blosc_v3("zstd", "bitshuffle")]},
        ),
        Spec(w, 3, "blosc_lz4_shuffle", "int32", zarr_kwargs={"compressors": [blosc_v3("lz4", "shuffle")]}),
        Spec(
            w,
            3,
            "zstd_checksum",
            "uint64",
            zarr_kwargs={"compressors": [{"name": "zstd", "configuration": {"level": 5, "checksum": True}}]},
        ),
        Spec(
            w,
            3,
            "gzip",
            "int16",
            fill_value=42,
            zarr_kwargs={"compressors": [{"name": "gzip", "configuration": {"level": 6}}]},
        ),
        Spec(
            w,
            3,
            "crc32c",
            "float32",
            fill_value=float("-inf"),
            zarr_kwargs={"compressors": [{"name": "crc32c"}]},
        ),
        Spec(
            w,
            3,
            "transpose_be",
            "complex64",
            SHAPE3,
            CHUNKS3,
            fill_value=1 + 2j,
            zarr_kwargs={
                "filters": [{"name": "transpose", "configuration": {"order": [1, 2, 0]}}],
                "serializer": BIG,
                "compressors": None,
            },
        ),
        Spec(w, 3, "bool", "bool", zarr_kwargs={"compressors": [ZSTD_V3]}),
        Spec(
            w,
            3,
            "float16_cke_dot",
            "float16",
            zarr_kwargs={"compressors": None, "chunk_key_encoding": {"name": "default", "separator": "."}},
        ),
        Spec(w, 3, "uint8_nd1", "uint8", SHAPE1, CHUNKS1, zarr_kwargs={"compressors": [ZSTD_V3]}),
        Spec(w, 2, "blosc_lz4", "<f8", zarr_kwargs={"compressors": blosc_v2("lz4", 1)}),
        Spec(w, 2, "zstd", "<i2", fill_value=42, zarr_kwargs={"compressors": {"id": "zstd", "level": 2}}),
        Spec(w, 2, "zlib", "<u4", zarr_kwargs={"compressors": {"id": "zlib", "level": 4}}),
        Spec(
            w,
            2,
            "gzip_slash",
            "<c16",
            zarr_kwargs={
                "compressors": {"id": "gzip", "level": 4},
                "chunk_key_encoding": {"name": "v2", "separator": "/"},
            },
        ),
    ]


def tensorstore_specs() -> list[Spec]:
    w = "tensorstore"

    def v2(name, dt, fill=0, shape=SHAPE2, chunks=CHUNKS2, missing=None, **meta):
        return Spec(w, 2, name, dt, shape, chunks, fill, ts_metadata=meta, missing=missing)

    def v3(name, dt, fill=0, shape=SHAPE2, chunks=CHUNKS2, missing=None, **meta):
        return Spec(w, 3, name, dt, shape, chunks, fill, ts_metadata=meta, missing=missing)

    def ts_blosc_v3(cname, shuffle, typesize):
        return {
            "name": "blosc",
            "configuration": {
                "cname": cname,
                "clevel": 5,
                "shuffle": shuffle,
                "typesize": typesize,
                "blocksize": 0,
            },
        }

    return [
        # v2: tensorstore's default compressor is blosc lz4 with shuffle -1 (automatic)
        v2("default_f8", "<f8", float("nan")),
        v2("default_i2", "<i2", 42),
        v2("default_u1_null_fill", "|u1", None, missing=[]),
        v2("default_b1", "|b1", True),
        v2("default_c8", "<c8", 1 + 2j),
        v2("be_i4_F_slash", ">i4", -7, order="F", dimension_separator="/"),
        v2("be_u8_blosc_zstd_bitshuffle", ">u8", 0, compressor=blosc_v2("zstd", 2)),
        v2("be_f2_blosc_blosclz_noshuffle", ">f2", float("inf"), compressor=blosc_v2("blosclz", 0)),
        v2("zstd", "<f4", float("-inf"), compressor={"id": "zstd", "level": 3}),
        v2("zlib_3d", "<i8", 5, SHAPE3, CHUNKS3, compressor={"id": "zlib", "level": 4}),
        v2("none_c16", ">c16", complex(float("nan"), 0.0), compressor=None),
        # v3: tensorstore's default codecs are a bare little-endian bytes codec
        v3("default_f8", "float64", float("nan")),
        v3("default_i2", "int16", 42),
        v3("default_b1", "bool", False),
        v3("default_c16", "complex128", 1 - 1j),
        v3("blosc_lz4_shuffle", "int32", codecs=[LITTLE, ts_blosc_v3("lz4", "shuffle", 4)]),
        v3("blosc_zstd_bitshuffle", "uint16", codecs=[LITTLE, ts_blosc_v3("zstd", "bitshuffle", 2)]),
        v3("zstd", "float32", float("nan"), codecs=[LITTLE, {"name": "zstd", "configuration": {"level": 3}}]),
        v3(
            "zstd_checksum",
            "int64",
            codecs=[LITTLE, {"name": "zstd", "configuration": {"level": 3, "checksum": True}}],
        ),
        v3("gzip", "uint32", codecs=[LITTLE, {"name": "gzip", "configuration": {"level": 5}}]),
        v3("crc32c", "float16", float("-inf"), codecs=[LITTLE, {"name": "crc32c"}]),
        v3(
            "transpose_be_3d",
            "int16",
            0,
            SHAPE3,
            CHUNKS3,
            codecs=[{"name": "transpose", "configuration": {"order": [2, 1, 0]}}, BIG],
        ),
        v3("be_u8", "uint64", 2**64 - 1, codecs=[BIG]),
        v3(
            "cke_default_dot",
            "int8",
            -1,
            chunk_key_encoding={"name": "default", "configuration": {"separator": "."}},
        ),
        v3("cke_v2", "uint8", 200, chunk_key_encoding={"name": "v2"}),
        v3(
            "cke_v2_slash",
            "complex64",
            0,
            chunk_key_encoding={"name": "v2", "configuration": {"separator": "/"}},
        ),
        v3(
            "dimension_names_attributes",
            "float64",
            0.5,
            dimension_names=["y", "x"],
            attributes=ATTRS,
            codecs=[LITTLE, {"name": "zstd", "configuration": {"level": 1}}],
        ),
    ]


def no_content_size_specs() -> list[Spec]:
    """zstd frames without a Frame_Content_Size field.

    tensorstore 0.1.86 turns out to write the content size (checked in ``self_check``), so these
    chunks are re-encoded by the generator with python-zstandard's ``write_content_size=False``,
    the way a streaming encoder that doesn't know the size up front writes them.  The v3 one is
    written as two zstd blocks (a flush in the middle), like a chunked streaming writer.
    """
    w = "zstandard-no-content-size"
    return [
        Spec(
            w,
            3,
            "zstd_streamed",
            "float64",
            fill_value=float("nan"),
            zarr_kwargs={"compressors": [{"name": "zstd", "configuration": {"level": 3, "checksum": True}}]},
        ),
        Spec(
            w,
            2,
            "zstd_oneshot",
            "<i4",
            fill_value=42,
            zarr_kwargs={"compressors": {"id": "zstd", "level": 3}},
        ),
    ]


def all_specs() -> list[Spec]:
    specs = zarr_python_specs() + zarrs_specs() + tensorstore_specs() + no_content_size_specs()
    keys = [s.key for s in specs]
    dupes = {k for k in keys if keys.count(k) > 1}
    if dupes:
        raise SystemExit(f"duplicate fixture names: {sorted(dupes)}")
    return specs


# ------------------------------------------------------------------------------------------------
# writing


def grid_shape(shape, chunks):
    return tuple(-(-s // c) for s, c in zip(shape, chunks, strict=False))


def chunk_region(coords, shape, chunks):
    return tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(coords, chunks, shape, strict=False))


def written_values(spec: Spec) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """(expected values, chunk coordinates to write)."""
    values = make_values(spec.key, spec.value_dtype, spec.shape)
    expected = values.copy()
    missing = set(spec.missing_chunks())
    to_write = []
    for coords in np.ndindex(*grid_shape(spec.shape, spec.chunks)):
        if coords in missing:
            expected[chunk_region(coords, spec.shape, spec.chunks)] = full_of(
                spec.fill_value, spec.value_dtype, ()
            )
        else:
            to_write.append(coords)
    return expected, to_write


def write_zarr_python(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zarr

    kwargs = dict(spec.zarr_kwargs)
    arr = zarr.create_array(
        store=str(dest),
        shape=spec.shape,
        chunks=spec.chunks,
        dtype=spec.dtype,
        fill_value=spec.fill_value,
        zarr_format=spec.zarr_format,
        **kwargs,
    )
    for coords in to_write:
        region = chunk_region(coords, spec.shape, spec.chunks)
        arr[region] = values[region]


def write_zarrs(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zarr

    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}):
        write_zarr_python(spec, dest, values, to_write)


def fill_json(fill: Any) -> Any:
    if fill is None or isinstance(fill, bool):
        return fill
    if isinstance(fill, complex):
        return [fill_json(fill.real), fill_json(fill.imag)]
    if isinstance(fill, float):
        if math.isnan(fill):
            return "NaN"
        if math.isinf(fill):
            return "Infinity" if fill > 0 else "-Infinity"
    return fill


def write_tensorstore(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import tensorstore as ts

    meta: dict[str, Any] = {"shape": list(spec.shape)}
    if spec.zarr_format == 2:
        driver = "zarr"
        meta["chunks"] = list(spec.chunks)
        meta["dtype"] = spec.dtype
    else:
        driver = "zarr3"
        meta["chunk_grid"] = {"name": "regular", "configuration": {"chunk_shape": list(spec.chunks)}}
        meta["data_type"] = spec.dtype
    if spec.fill_value is not None:
        fill = complex(spec.fill_value) if spec.value_dtype.kind == "c" else spec.fill_value
        meta["fill_value"] = fill_json(fill)
    meta.update(spec.ts_metadata)
    store = ts.open(
        {"driver": driver, "kvstore": {"driver": "file", "path": str(dest)}, "metadata": meta}, create=True
    ).result()
    native = store.dtype.numpy_dtype
    for coords in to_write:
        region = chunk_region(coords, spec.shape, spec.chunks)
        store[region].write(np.ascontiguousarray(values[region], dtype=native)).result()


def write_no_content_size(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zstandard

    write_zarr_python(spec, dest, values, to_write)
    if spec.zarr_format == 3:
        cfg = spec.zarr_kwargs["compressors"][0]["configuration"]
        level, checksum = cfg["level"], cfg["checksum"]
    else:
        level, checksum = (
            spec.zarr_kwargs["compressors"]["level"],
            spec.zarr_kwargs["compressors"].get("checksum", False),
        )
    for path in sorted(chunk_files(dest, spec.zarr_format)):
        raw = zstandard.ZstdDecompressor().decompress(path.read_bytes())
        cctx = zstandard.ZstdCompressor(level=level, write_content_size=False, write_checksum=checksum)
        if spec.zarr_format == 3:
            half = len(raw) // 2
            cobj = cctx.compressobj()
            frame = (
                cobj.compress(raw[:half])
                + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                + cobj.compress(raw[half:])
                + cobj.flush()
            )
        else:
            frame = cctx.compress(raw)
        path.write_bytes(frame)


WRITERS = {
    "zarr-python": write_zarr_python,
    "zarrs": write_zarrs,
    "tensorstore": write_tensorstore,
    "zstandard-no-content-size": write_no_content_size,
}

METADATA_FILES = {".zarray", ".zattrs", ".zgroup", "zarr.json"}


def chunk_files(root: Path, zarr_format: int) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name not in METADATA_FILES]


def zero_gzip_mtime(root: Path, zarr_format: int) -> bool:
    """numcodecs' GZip writes the current time into the gzip header; zero it so reruns match.

    The header has no CRC of its own (FHCRC is not set), so the stream stays valid.
    """
    changed = False
    for path in chunk_files(root, zarr_format):
        data = bytearray(path.read_bytes())
        if data[:3] == b"\x1f\x8b\x08" and not data[3] & 0x02 and data[4:8] != b"\0\0\0\0":
            data[4:8] = b"\0\0\0\0"
            path.write_bytes(bytes(data))
            changed = True
    return changed


# ------------------------------------------------------------------------------------------------
# manifest


def chunk_key(coords, zarr_format: int, encoding: str, separator: str) -> str:
    if zarr_format == 3 and encoding == "default":
        return separator.join(["c", *map(str, coords)])
    return separator.join(map(str, coords)) if coords else "0"


def describe(spec: Spec, dest: Path, rel: str, expected_name: str) -> dict:
    """One manifest entry, taken from the metadata the writer actually stored."""
    if spec.zarr_format == 2:
        zarray = json.loads((dest / ".zarray").read_text())
        attrs_file = dest / ".zattrs"
        attributes = json.loads(attrs_file.read_text()) if attrs_file.exists() else {}
        separator = zarray.get("dimension_separator", ".")
        entry = {
            "dtype": zarray["dtype"],
            "shape": zarray["shape"],
            "chunks": zarray["chunks"],
            "codecs": {"compressor": zarray["compressor"], "filters": zarray["filters"]},
            "order": zarray["order"],
            "separator": separator,
            "chunk_key_encoding": {"name": "v2", "separator": separator},
            "fill_value": zarray["fill_value"],
            "attributes": attributes,
            "dimension_names": None,
        }
        encoding = "v2"
    else:
        meta = json.loads((dest / "zarr.json").read_text())
        cke = meta["chunk_key_encoding"]
        encoding = cke["name"]
        separator = cke.get("configuration", {}).get("separator", "/" if encoding == "default" else ".")
        entry = {
            "dtype": meta["data_type"],
            "shape": meta["shape"],
            "chunks": meta["chunk_grid"]["configuration"]["chunk_shape"],
            "codecs": meta["codecs"],
            "order": None,
            "separator": separator,
            "chunk_key_encoding": {"name": encoding, "separator": separator},
            "fill_value": meta["fill_value"],
            "attributes": meta.get("attributes", {}),
            "dimension_names": meta.get("dimension_names"),
        }
    missing = [chunk_key(c, spec.zarr_format, encoding, separator) for c in spec.missing_chunks()]
    return dict(
        name=spec.key,
        path=rel,
        writer=spec.writer,
        zarr_format=spec.zarr_format,
        **entry,
        numpy_dtype=None,  # filled in by the self-check: what zarr-python reports as arr.dtype
        expected=expected_name,
        missing_chunks=sorted(missing),
        n_stored_chunks=len(chunk_files(dest, spec.zarr_format)),
        note=spec.note,
    )


def versions() -> dict[str, str]:
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for pkg in PINNED:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    for pkg in ["blosc2", "crc32c"]:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def generate(out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    (out / "expected").mkdir(parents=True)
    entries = []
    for spec in all_specs():
        dest = out / spec.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        values, to_write = written_values(spec)
        WRITERS[spec.writer](spec, dest, values, to_write)
        if zero_gzip_mtime(dest, spec.zarr_format):
            spec.note = "; ".join(filter(None, [spec.note, "gzip header MTIME zeroed by the generator"]))
        expected_name = f"expected/{spec.key}.npy"
        entries.append((spec, describe(spec, dest, spec.path, expected_name), values))
    manifest_entries = []
    for _spec, entry, values in entries:
        entry["numpy_dtype"] = zarr_python_dtype(out / entry["path"])
        np.save(out / entry["expected"], values.astype(np.dtype(entry["numpy_dtype"])), allow_pickle=False)
        manifest_entries.append(entry)
    manifest = {
        "format_version": 1,
        "generator": "tests/data/generate_fixtures.py",
        "description": "Small Zarr arrays written by peer implementations; see tests/data/README.md.",
        "versions": versions(),
        "fixtures": manifest_entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
    return manifest


# ------------------------------------------------------------------------------------------------
# self-check with zarr-python


def zarr_python_dtype(path: Path) -> str:
    import zarr

    return zarr.open_array(str(path), mode="r").dtype.str


def decode_fill(fill: Any) -> Any:
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    if isinstance(fill, list):
        return complex(decode_fill(fill[0]), decode_fill(fill[1]))
    if isinstance(fill, str):
        return special[fill]
    return fill


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "c":
        return same_values(a.real, b.real) and same_values(a.imag, b.imag)
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))
    return bool(np.array_equal(a, b))


def outer_codec_name(entry: dict) -> str | None:
    """The codec that produced the stored bytes (v2 compressor id or last v3 codec name)."""
    if entry["zarr_format"] == 2:
        return (entry["codecs"]["compressor"] or {}).get("id")
    return entry["codecs"][-1]["name"]


def self_check(out: Path) -> list[str]:
    """Every fixture opened by zarr-python (default pipeline) matches its manifest entry."""
    import zarr
    import zstandard

    problems = []
    manifest = json.loads((out / "manifest.json").read_text())
    for e in manifest["fixtures"]:
        where = e["name"]
        arr = zarr.open_array(str(out / e["path"]), mode="r")
        expected = np.load(out / e["expected"], allow_pickle=False)
        got = arr[...]
        if not same_values(np.asarray(got), expected):
            problems.append(f"{where}: zarr-python reads other values")
        if arr.dtype.str != e["numpy_dtype"] or expected.dtype.str != e["numpy_dtype"]:
            problems.append(f"{where}: dtype {arr.dtype.str} / {expected.dtype.str} != {e['numpy_dtype']}")
        if list(arr.shape) != e["shape"] or list(arr.chunks) != e["chunks"]:
            problems.append(f"{where}: shape/chunks")
        if dict(arr.attrs) != e["attributes"]:
            problems.append(f"{where}: attributes")
        fill = decode_fill(e["fill_value"])
        if fill is None:
            if arr.fill_value is not None:
                problems.append(f"{where}: fill_value {arr.fill_value!r} != None")
        elif not same_values(np.asarray(arr.fill_value), np.asarray(fill, dtype=arr.dtype)):
            problems.append(f"{where}: fill_value {arr.fill_value!r} != {fill!r}")
        if e["zarr_format"] == 3:
            names = arr.metadata.dimension_names
            if (list(names) if names is not None else None) != e["dimension_names"]:
                problems.append(f"{where}: dimension_names")
        root = out / e["path"]
        for key in e["missing_chunks"]:
            if (root / key).exists():
                problems.append(f"{where}: chunk {key} should be missing")
        if e["missing_chunks"] and not got.size:
            problems.append(f"{where}: empty")
        stored = chunk_files(root, e["zarr_format"])
        if len(stored) != e["n_stored_chunks"]:
            problems.append(f"{where}: stored chunk count")
        if e["writer"] == "zstandard-no-content-size":
            for p in stored:
                if (
                    zstandard.get_frame_parameters(p.read_bytes()).content_size
                    != zstandard.CONTENTSIZE_UNKNOWN
                ):
                    problems.append(f"{where}: {p.name} has a content size")
        if e["writer"] == "tensorstore" and outer_codec_name(e) == "zstd":
            # record (in the README) whether tensorstore writes the content size: it does in 0.1.86
            for p in stored:
                if (
                    zstandard.get_frame_parameters(p.read_bytes()).content_size
                    == zstandard.CONTENTSIZE_UNKNOWN
                ):
                    print(f"note: {where}/{p.name}: tensorstore wrote a zstd frame without content size")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if total > MAX_TREE_BYTES:
        problems.append(f"fixture tree is {total} bytes (limit {MAX_TREE_BYTES})")
    return problems


def compare_trees(a: Path, b: Path) -> list[str]:
    diffs = []
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if files_a != files_b:
        diffs.append(f"file lists differ: {sorted(set(map(str, files_a)) ^ set(map(str, files_b)))[:10]}")
    for rel in set(files_a) & set(files_b):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            diffs.append(str(rel))
    return sorted(diffs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and compare with --out byte for byte",
    )
    parser.add_argument("--verify", action="store_true", help="only run the zarr-python self-check on --out")
    parser.add_argument("--allow-version-mismatch", action="store_true")
    args = parser.parse_args(argv)

    if not args.verify:
        have = versions()
        wrong = {k: (have.get(k), v) for k, v in PINNED.items() if have.get(k) != v}
        if wrong and not args.allow_version_mismatch:
            print(
                "installed versions differ from the pinned ones (installed, pinned):", wrong, file=sys.stderr
            )
            print("install the pinned versions or pass --allow-version-mismatch", file=sys.stderr)
            return 2

    if args.verify:
        problems = self_check(args.out)
    elif args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fixtures"
            generate(fresh)
            problems = self_check(fresh) + [f"differs: {d}" for d in compare_trees(args.out, fresh)]
    else:
        manifest = generate(args.out)
        problems = self_check(args.out)
        total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
        n_files = sum(1 for p in args.out.rglob("*") if p.is_file())
        print(f"wrote {len(manifest['fixtures'])} fixtures, {n_files} files, {total} bytes to {args.out}")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    if not problems:
        print("self-check with zarr-python: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
