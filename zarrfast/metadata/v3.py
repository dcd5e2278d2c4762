"""Zarr v3 ``zarr.json`` documents <-> the metadata model.

Parsing follows the v3 core spec: every mandatory field must be present and valid, and an unknown
top-level field is an error (MustUnderstandError) unless its value is an object with
``"must_understand": false`` - those are kept in ``extra_fields`` and written back.
Only the ``regular`` chunk grid and the ``default`` / ``v2`` chunk key encodings are supported;
storage transformers are not, except entries marked ``must_understand: false`` (kept and ignored).

Lenient where real writers differ: extension short-hand names (``"bytes"`` for ``{"name": "bytes"}``),
a ``chunk_key_encoding`` without ``configuration`` (tensorstore), missing ``attributes`` /
``storage_transformers``, bare ``NaN`` tokens.

Codecs are normalised to ``{"name": str, "configuration": dict}`` (other members such as
``must_understand`` are kept); the nested chains of ``sharding_indexed`` are normalised too. On write,
``configuration`` is omitted when empty (as zarr-python and tensorstore do, e.g. ``{"name": "crc32c"}``),
and core data types given as ``{"name": "int32"}`` are written as the short-hand ``"int32"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zarrfast.errors import MetadataError, MustUnderstandError
from zarrfast.metadata.dtypes import parse_v3_data_type
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
    "array_metadata_to_json_v3",
    "codec_to_json_v3",
    "group_metadata_to_json_v3",
    "normalize_codec_v3",
    "normalize_codecs_v3",
    "parse_array_v3",
    "parse_group_v3",
    "parse_node_v3",
]

_ARRAY_KEYS = frozenset(
    (
        "zarr_format",
        "node_type",
        "shape",
        "data_type",
        "chunk_grid",
        "chunk_key_encoding",
        "fill_value",
        "codecs",
        "attributes",
        "storage_transformers",
        "dimension_names",
    )
)
_REQUIRED = ("shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value", "codecs")
_GROUP_KEYS = frozenset(("zarr_format", "node_type", "attributes", "consolidated_metadata"))
_DEFAULT_SEPARATOR = {"default": "/", "v2": "."}
# Codecs whose configuration holds nested codec chains (normalised and written like the outer chain).
_NESTED_CHAINS = {"sharding_indexed": ("codecs", "index_codecs")}
# Codecs written with an explicit empty configuration, as zarr-python writes them (and every ``numcodecs.*``).
_KEEP_EMPTY_CONFIGURATION = frozenset(("vlen-utf8", "vlen-bytes"))

Doc = bytes | str | Mapping[str, Any]


# --- extension objects ---------------------------------------------------------------------------
def _extension(value: Any, field: str, where: str) -> tuple[str, dict, dict]:
    """Split an extension (short-hand name or object) into (name, configuration, other members)."""
    if isinstance(value, str):
        return value, {}, {}
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise MetadataError(
            f"{where}: field {field!r}: expected a name or an object with a string 'name', got {value!r}"
        )
    configuration = value.get("configuration")
    if configuration is None:
        configuration = {}
    if not isinstance(configuration, dict):
        raise MetadataError(
            f"{where}: field {field!r}: 'configuration' of {value['name']!r} must be an object"
        )
    others = {k: v for k, v in value.items() if k not in ("name", "configuration")}
    return value["name"], dict(configuration), others


def normalize_codec_v3(codec: Any, *, where: str = "zarr.json") -> dict:
    """One codec as ``{"name": str, "configuration": dict, ...}`` (short-hand names expanded)."""
    name, configuration, others = _extension(codec, "codecs", where)
    for key in _NESTED_CHAINS.get(name, ()):
        if key in configuration:
            configuration[key] = list(normalize_codecs_v3(configuration[key], where=where))
    return {"name": name, "configuration": configuration, **others}


def normalize_codecs_v3(codecs: Any, *, where: str = "zarr.json") -> tuple[dict, ...]:
    """A non-empty codec chain, normalised."""
    if not isinstance(codecs, (list, tuple)) or not codecs:
        raise MetadataError(f"{where}: field 'codecs' must be a non-empty array, got {codecs!r}")
    return tuple(normalize_codec_v3(c, where=where) for c in codecs)


def codec_to_json_v3(codec: Mapping[str, Any] | str) -> dict:
    """The JSON of one normalised codec: ``configuration`` only when non-empty."""
    if isinstance(codec, str):
        return {"name": codec}
    out: dict[str, Any] = {"name": codec["name"]}
    configuration = dict(codec.get("configuration") or {})
    for key in _NESTED_CHAINS.get(codec["name"], ()):
        if isinstance(configuration.get(key), (list, tuple)):
            configuration[key] = [codec_to_json_v3(c) for c in configuration[key]]
    if configuration or codec["name"] in _KEEP_EMPTY_CONFIGURATION or codec["name"].startswith("numcodecs."):
        out["configuration"] = configuration
    out.update((k, v) for k, v in codec.items() if k not in ("name", "configuration"))
    return out


def _extra_fields(doc: dict, known: frozenset, where: str) -> dict:
    """Unknown top-level fields: kept if ``must_understand: false``, else MustUnderstandError."""
    extra = {}
    for key, value in doc.items():
        if key in known:
            continue
        if isinstance(value, dict) and value.get("must_understand") is False:
            extra[key] = value
        else:
            raise MustUnderstandError(
                f"{where}: unknown field {key!r} is not supported (only extension objects with "
                f'"must_understand": false may be ignored)'
            )
    return extra


# --- parsing ------------------------------------------------------------------------------------
def _chunk_grid(value: Any, where: str) -> tuple[int, ...]:
    name, configuration, _ = _extension(value, "chunk_grid", where)
    if name != "regular":
        raise MetadataError(
            f"{where}: field 'chunk_grid': chunk grid {name!r} is not supported (only 'regular')"
        )
    if "chunk_shape" not in configuration:
        raise MetadataError(f"{where}: field 'chunk_grid': regular grid configuration needs 'chunk_shape'")
    return int_list(
        configuration["chunk_shape"], "chunk_grid.configuration.chunk_shape", where, positive=True
    )


def _chunk_key_encoding(value: Any, where: str) -> tuple[str, str]:
    name, configuration, _ = _extension(value, "chunk_key_encoding", where)
    if name not in _DEFAULT_SEPARATOR:
        raise MetadataError(
            f"{where}: field 'chunk_key_encoding': encoding {name!r} is not supported "
            "(only 'default' and 'v2')"
        )
    separator = configuration.get("separator", _DEFAULT_SEPARATOR[name])
    if separator not in ("/", "."):
        raise MetadataError(
            f"{where}: field 'chunk_key_encoding': separator must be '/' or '.', got {separator!r}"
        )
    return name, separator


def _storage_transformers(value: Any, where: str) -> tuple[dict, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise MetadataError(f"{where}: field 'storage_transformers' must be an array, got {value!r}")
    kept = []
    for item in value:
        name, configuration, others = _extension(item, "storage_transformers", where)
        if others.get("must_understand") is not False:
            raise MetadataError(
                f"{where}: field 'storage_transformers': storage transformer {name!r} is not supported"
            )
        kept.append({"name": name, "configuration": configuration, **others})
    return tuple(kept)


def _dimension_names(value: Any, ndim: int, where: str) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or any(v is not None and not isinstance(v, str) for v in value):
        raise MetadataError(
            f"{where}: field 'dimension_names' must be an array of strings or nulls, got {value!r}"
        )
    if len(value) != ndim:
        raise MetadataError(
            f"{where}: field 'dimension_names' has {len(value)} entries for {ndim} dimensions"
        )
    return tuple(value)


def _attributes(doc: dict, where: str) -> dict:
    attributes = doc.get("attributes")
    if attributes is None:
        return {}
    if not isinstance(attributes, dict):
        raise MetadataError(f"{where}: field 'attributes' must be an object, got {type(attributes).__name__}")
    return attributes


def _parse_array(doc: dict, where: str) -> ArrayMetadata:
    check_required(doc, _REQUIRED, where)
    extra = _extra_fields(doc, _ARRAY_KEYS, where)
    shape = int_list(doc["shape"], "shape", where, positive=False)
    chunk_shape = _chunk_grid(doc["chunk_grid"], where)
    check_rank(shape, chunk_shape, "chunk_grid", where)
    encoding, separator = _chunk_key_encoding(doc["chunk_key_encoding"], where)

    data_type = doc["data_type"]
    try:
        dtype = parse_v3_data_type(data_type)
    except MetadataError as exc:
        raise with_context(exc, where, "data_type") from None
    if (
        isinstance(data_type, dict)
        and not data_type.get("configuration")
        and set(data_type) <= {"name", "configuration"}
    ):
        data_type = data_type["name"]  # {"name": "int32"} is the short-hand "int32"
    try:
        fill_value = decode_fill_value(doc["fill_value"], dtype, 3)
    except MetadataError as exc:
        raise with_context(exc, where, "fill_value") from None

    try:
        return ArrayMetadata(
            zarr_format=3,
            shape=shape,
            chunk_shape=chunk_shape,
            dtype=dtype,
            fill_value=fill_value,
            order="C",
            codecs=normalize_codecs_v3(doc["codecs"], where=where),
            chunk_key_encoding=encoding,
            dimension_separator=separator,
            dimension_names=_dimension_names(doc.get("dimension_names"), len(shape), where),
            attributes=_attributes(doc, where),
            data_type=data_type,
            storage_transformers=_storage_transformers(doc.get("storage_transformers"), where),
            extra_fields=extra,
        )
    except MetadataError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _parse_group(doc: dict, where: str) -> GroupMetadata:
    extra = _extra_fields(doc, _GROUP_KEYS, where)
    consolidated = doc.get("consolidated_metadata")
    if consolidated is not None and not isinstance(consolidated, dict):
        raise MetadataError(f"{where}: field 'consolidated_metadata' must be an object or null")
    if consolidated is not None and not isinstance(consolidated.get("metadata", {}), dict):
        raise MetadataError(f"{where}: field 'consolidated_metadata.metadata' must be an object")
    return GroupMetadata(
        zarr_format=3,
        attributes=_attributes(doc, where),
        consolidated_metadata=consolidated,
        extra_fields=extra,
    )


def _load(zarr_json: Doc, path: str) -> tuple[dict, str]:
    where = document_name(path, "zarr.json")
    doc = load_json(zarr_json, where)
    check_zarr_format(doc, 3, where)
    if "node_type" not in doc:
        raise MetadataError(f"{where}: missing required field 'node_type'")
    if doc["node_type"] not in ("array", "group"):
        raise MetadataError(
            f"{where}: field 'node_type' must be 'array' or 'group', got {doc['node_type']!r}"
        )
    return doc, where


def parse_node_v3(zarr_json: Doc, *, path: str = "") -> ArrayMetadata | GroupMetadata:
    """Parse a ``zarr.json`` document of either node type."""
    doc, where = _load(zarr_json, path)
    return _parse_array(doc, where) if doc["node_type"] == "array" else _parse_group(doc, where)


def parse_array_v3(zarr_json: Doc, *, path: str = "") -> ArrayMetadata:
    """Parse an array's ``zarr.json``; raises MetadataError if the document describes a group."""
    doc, where = _load(zarr_json, path)
    if doc["node_type"] != "array":
        raise MetadataError(f"{where}: node_type is {doc['node_type']!r}, expected 'array'")
    return _parse_array(doc, where)


def parse_group_v3(zarr_json: Doc, *, path: str = "") -> GroupMetadata:
    """Parse a group's ``zarr.json``; raises MetadataError if the document describes an array."""
    doc, where = _load(zarr_json, path)
    if doc["node_type"] != "group":
        raise MetadataError(f"{where}: node_type is {doc['node_type']!r}, expected 'group'")
    return _parse_group(doc, where)


# --- writing ------------------------------------------------------------------------------------
def array_metadata_to_json_v3(meta: ArrayMetadata) -> dict[str, bytes]:
    """``{"zarr.json": ...}`` for a v3 array, keys in zarr-python's order."""
    if meta.zarr_format != 3:
        raise MetadataError(f"array metadata: expected zarr_format 3, got {meta.zarr_format}")
    doc: dict[str, Any] = {
        "shape": list(meta.shape),
        "data_type": meta.data_type,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(meta.chunk_shape)}},
        "chunk_key_encoding": {
            "name": meta.chunk_key_encoding,
            "configuration": {"separator": meta.dimension_separator},
        },
        "fill_value": encode_fill_value(meta.fill_value, meta.dtype, 3),
        "codecs": [codec_to_json_v3(c) for c in meta.codecs],
        "attributes": meta.attributes,
    }
    if meta.dimension_names is not None:
        doc["dimension_names"] = list(meta.dimension_names)
    doc["zarr_format"] = 3
    doc["node_type"] = "array"
    doc["storage_transformers"] = [codec_to_json_v3(t) for t in meta.storage_transformers]
    for key, value in meta.extra_fields.items():
        doc.setdefault(key, value)
    return {"zarr.json": dump_json(doc, "zarr.json")}


def group_metadata_to_json_v3(meta: GroupMetadata) -> dict[str, bytes]:
    """``{"zarr.json": ...}`` for a v3 group."""
    if meta.zarr_format != 3:
        raise MetadataError(f"group metadata: expected zarr_format 3, got {meta.zarr_format}")
    doc: dict[str, Any] = {"attributes": meta.attributes, "zarr_format": 3}
    if meta.consolidated_metadata is not None:
        doc["consolidated_metadata"] = meta.consolidated_metadata
    doc["node_type"] = "group"
    for key, value in meta.extra_fields.items():
        doc.setdefault(key, value)
    return {"zarr.json": dump_json(doc, "zarr.json")}
