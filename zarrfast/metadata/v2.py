"""Zarr v2 documents: ``.zarray``, ``.zgroup``, ``.zattrs`` (and ``.zmetadata``) <-> the metadata model.

Strict where the spec is (``zarr_format``, ``shape``, ``chunks``, ``dtype``, ``compressor``, ``fill_value``
and ``order`` must be present and valid); lenient where real writers differ:

* unknown keys (NCZarr's ``_nczarr_array`` ...) are kept in ``extra_fields`` but not written back;
* ``filters: []`` and a missing ``filters`` read as ``None`` (written back as ``null``);
* a missing or ``null`` ``dimension_separator`` reads as ``"."``;
* bare ``NaN`` / ``Infinity`` JSON tokens are accepted.

Writing follows zarr-python 3: the same key order, 2-space indent, and a ``.zattrs`` document even when
the attributes are empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zarrfast.errors import MetadataError
from zarrfast.metadata.dtypes import parse_v2_dtype, resolve_v2_object_dtype
from zarrfast.metadata.fill_value import decode_fill_value, encode_fill_value
from zarrfast.metadata.model import (
    ArrayMetadata,
    GroupMetadata,
    check_rank,
    check_required,
    check_zarr_format,
    document_name,
    dump_json,
    int_list,
    load_json,
    with_context,
)

__all__ = [
    "array_metadata_to_json_v2",
    "group_metadata_to_json_v2",
    "parse_array_v2",
    "parse_attributes",
    "parse_group_v2",
]

_ARRAY_KEYS = frozenset(
    (
        "zarr_format",
        "shape",
        "chunks",
        "dtype",
        "compressor",
        "fill_value",
        "order",
        "filters",
        "dimension_separator",
    )
)
_REQUIRED = ("shape", "chunks", "dtype", "compressor", "fill_value", "order")

Doc = bytes | str | Mapping[str, Any]


def parse_attributes(zattrs: Doc | None, *, path: str = "") -> dict:
    """The ``.zattrs`` object (``{}`` when the document is absent)."""
    if zattrs is None:
        return {}
    return load_json(zattrs, document_name(path, ".zattrs"))


def _codec_v2(value: Any, field: str, where: str) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise MetadataError(f"{where}: field {field!r} must be an object with a string 'id', got {value!r}")
    return dict(value)


def parse_array_v2(zarray: Doc, zattrs: Doc | None = None, *, path: str = "") -> ArrayMetadata:
    """Parse a ``.zarray`` document (and the node's ``.zattrs``, if any) into ``ArrayMetadata``."""
    where = document_name(path, ".zarray")
    doc = load_json(zarray, where)
    attributes = parse_attributes(zattrs, path=path)
    check_zarr_format(doc, 2, where)
    check_required(doc, _REQUIRED, where)

    shape = int_list(doc["shape"], "shape", where, positive=False)
    chunks = int_list(doc["chunks"], "chunks", where, positive=True)
    check_rank(shape, chunks, "chunks", where)
    try:
        dtype = parse_v2_dtype(doc["dtype"])
    except MetadataError as exc:
        raise with_context(exc, where, "dtype") from None
    filters = doc.get("filters")
    if filters is not None:
        if not isinstance(filters, list):
            raise MetadataError(f"{where}: field 'filters' must be an array or null, got {filters!r}")
        filters = tuple(_codec_v2(f, "filters", where) for f in filters) or None
    dtype = resolve_v2_object_dtype(dtype, filters)
    try:
        fill_value = decode_fill_value(doc["fill_value"], dtype, 2)
    except MetadataError as exc:
        raise with_context(exc, where, "fill_value") from None

    order = doc["order"]
    if order not in ("C", "F"):
        raise MetadataError(f"{where}: field 'order' must be 'C' or 'F', got {order!r}")
    compressor = doc["compressor"]
    if compressor is not None:
        compressor = _codec_v2(compressor, "compressor", where)
    separator = doc.get("dimension_separator")
    if separator is None:
        separator = "."
    if separator not in (".", "/"):
        raise MetadataError(f"{where}: field 'dimension_separator' must be '.' or '/', got {separator!r}")

    try:
        return ArrayMetadata(
            zarr_format=2,
            shape=shape,
            chunk_shape=chunks,
            dtype=dtype,
            fill_value=fill_value,
            null_fill=doc["fill_value"] is None and dtype.kind in "OT",
            order=order,
            compressor=compressor,
            filters=filters,
            chunk_key_encoding="v2",
            dimension_separator=separator,
            attributes=attributes,
            data_type=doc["dtype"],
            extra_fields={k: v for k, v in doc.items() if k not in _ARRAY_KEYS},
        )
    except MetadataError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def parse_group_v2(
    zgroup: Doc, zattrs: Doc | None = None, *, path: str = "", zmetadata: Doc | None = None
) -> GroupMetadata:
    """Parse a ``.zgroup`` document, the group's ``.zattrs`` and optionally its ``.zmetadata``."""
    where = document_name(path, ".zgroup")
    doc = load_json(zgroup, where)
    check_zarr_format(doc, 2, where)
    consolidated = None
    if zmetadata is not None:
        zwhere = document_name(path, ".zmetadata")
        consolidated = load_json(zmetadata, zwhere)
        if not isinstance(consolidated.get("metadata"), dict):
            raise MetadataError(f"{zwhere}: field 'metadata' must be an object")
        if consolidated.get("zarr_consolidated_format") != 1:
            raise MetadataError(
                f"{zwhere}: field 'zarr_consolidated_format' must be 1, "
                f"got {consolidated.get('zarr_consolidated_format')!r}"
            )
    return GroupMetadata(
        zarr_format=2,
        attributes=parse_attributes(zattrs, path=path),
        consolidated_metadata=consolidated,
        extra_fields={k: v for k, v in doc.items() if k != "zarr_format"},
    )


def array_metadata_to_json_v2(meta: ArrayMetadata) -> dict[str, bytes]:
    """``{".zarray": ..., ".zattrs": ...}`` for a v2 array."""
    if meta.zarr_format != 2:
        raise MetadataError(f"array metadata: expected zarr_format 2, got {meta.zarr_format}")
    zarray = {
        "shape": list(meta.shape),
        "chunks": list(meta.chunk_shape),
        "dtype": meta.data_type,
        "fill_value": None if meta.null_fill else encode_fill_value(meta.fill_value, meta.dtype, 2),
        "order": meta.order,
        "filters": [dict(f) for f in meta.filters] if meta.filters else None,
        "dimension_separator": meta.dimension_separator,
        "compressor": dict(meta.compressor) if meta.compressor is not None else None,
        "zarr_format": 2,
    }
    return {".zarray": dump_json(zarray, ".zarray"), ".zattrs": dump_json(meta.attributes, ".zattrs")}


def group_metadata_to_json_v2(meta: GroupMetadata) -> dict[str, bytes]:
    """``{".zgroup": ..., ".zattrs": ...}`` (plus ``".zmetadata"`` when consolidated) for a v2 group."""
    if meta.zarr_format != 2:
        raise MetadataError(f"group metadata: expected zarr_format 2, got {meta.zarr_format}")
    out = {
        ".zgroup": dump_json({"zarr_format": 2}, ".zgroup"),
        ".zattrs": dump_json(meta.attributes, ".zattrs"),
    }
    if meta.consolidated_metadata is not None:
        out[".zmetadata"] = dump_json(meta.consolidated_metadata, ".zmetadata")
    return out
