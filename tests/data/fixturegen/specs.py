"""Every fixture, per writer: zarr-python (v2, v3), zarrs, tensorstore, zstd without content size."""

from __future__ import annotations

import itertools

from .model import (
    ATTRS,
    BIG,
    CHUNKS1,
    CHUNKS2,
    CHUNKS3,
    CKE_V3,
    CNAMES,
    LITTLE,
    MULTIBYTE_V3,
    SHAPE1,
    SHAPE2,
    SHAPE3,
    SHUFFLE_V2,
    V2_DTYPES,
    V3_DTYPES,
    ZSTD_V2,
    ZSTD_V3,
    Spec,
    blosc_v2,
    blosc_v3,
    dtype_slug,
)

# ------------------------------------------------------------------------------------------------
# fixture specs


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
