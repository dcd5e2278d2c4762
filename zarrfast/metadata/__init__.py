"""Zarr metadata: parse v2 / v3 JSON documents into one model and write them back to spec.

This layer does not build codec objects; it hands normalised codec dicts to the codec layer.
"""

from __future__ import annotations

from zarrfast.errors import MetadataError
from zarrfast.metadata.dtypes import parse_v2_dtype, parse_v3_data_type, v2_dtype_str, v3_data_type_name
from zarrfast.metadata.fill_value import (
    coerce_fill_value,
    decode_fill_value,
    default_fill_value,
    encode_fill_value,
    fill_values_equal,
)
from zarrfast.metadata.model import ArrayMetadata, GroupMetadata, dump_json, load_json
from zarrfast.metadata.v2 import (
    array_metadata_to_json_v2,
    group_metadata_to_json_v2,
    parse_array_v2,
    parse_group_v2,
)
from zarrfast.metadata.v3 import (
    array_metadata_to_json_v3,
    codec_to_json_v3,
    group_metadata_to_json_v3,
    normalize_codec_v3,
    normalize_codecs_v3,
    parse_array_v3,
    parse_group_v3,
    parse_node_v3,
)

__all__ = [
    "ArrayMetadata",
    "GroupMetadata",
    "array_metadata_to_json",
    "codec_to_json_v3",
    "coerce_fill_value",
    "decode_fill_value",
    "default_fill_value",
    "dump_json",
    "encode_fill_value",
    "fill_values_equal",
    "group_metadata_to_json",
    "load_json",
    "normalize_codec_v3",
    "normalize_codecs_v3",
    "parse_array_v2",
    "parse_array_v3",
    "parse_group_v2",
    "parse_group_v3",
    "parse_node_v3",
    "parse_v2_dtype",
    "parse_v3_data_type",
    "v2_dtype_str",
    "v3_data_type_name",
]


def array_metadata_to_json(meta: ArrayMetadata) -> dict[str, bytes]:
    """Document name -> bytes: ``{".zarray", ".zattrs"}`` for v2, ``{"zarr.json"}`` for v3."""
    if meta.zarr_format == 2:
        return array_metadata_to_json_v2(meta)
    if meta.zarr_format == 3:
        return array_metadata_to_json_v3(meta)
    raise MetadataError(f"array metadata: unsupported zarr_format {meta.zarr_format!r}")


def group_metadata_to_json(meta: GroupMetadata) -> dict[str, bytes]:
    """Document name -> bytes: ``{".zgroup", ".zattrs"[, ".zmetadata"]}`` for v2, ``{"zarr.json"}`` for v3."""
    if meta.zarr_format == 2:
        return group_metadata_to_json_v2(meta)
    if meta.zarr_format == 3:
        return group_metadata_to_json_v3(meta)
    raise MetadataError(f"group metadata: unsupported zarr_format {meta.zarr_format!r}")
