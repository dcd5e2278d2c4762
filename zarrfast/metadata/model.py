"""The format-neutral metadata model (frozen dataclasses) and the JSON document helpers.

``ArrayMetadata`` holds both v2 and v3 arrays. Construction normalises containers (lists -> tuples,
``np.int64`` -> ``int``), fills format-dependent defaults and checks the invariants, so
``dataclasses.replace(meta, shape=(20, 30))`` gives a checked, normalised object too.

Equality compares fill values bit-exactly (two arrays with a NaN fill value are equal).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from zarrfast.errors import (
    CodecError,
    CodecMetadataError,
    FillValueError,
    MetadataError,
    UnknownCodecError,
    UnknownCodecMetadataError,
)
from zarrfast.metadata.dtypes import (
    V2_OBJECT_CODEC_IDS,
    VLEN_CODEC_OF_DTYPE,
    native_dtype,
    normalize_user_dtype,
    parse_v2_dtype,
    parse_v3_data_type,
    resolve_v2_object_dtype,
    v2_dtype_str,
    v3_data_type_json,
)
from zarrfast.metadata.fill_value import coerce_fill_value, default_fill_value, fill_values_equal

__all__ = ["ArrayMetadata", "GroupMetadata", "dump_json", "load_json", "to_json_value"]

CHUNK_KEY_ENCODINGS = ("default", "v2")
SEPARATORS = ("/", ".")


def _int_tuple(values: Any, what: str) -> tuple[int, ...]:
    try:
        items = tuple(values)
    except TypeError:
        raise MetadataError(
            f"array metadata: {what} must be a sequence of integers, got {values!r}"
        ) from None
    out = []
    for v in items:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise MetadataError(f"array metadata: {what} must contain only integers, got {values!r}")
        out.append(int(v))
    return tuple(out)


def _with_vlen_serializer(codecs: Any, name: str) -> list:
    """``codecs`` with a plain ``bytes`` serializer replaced by the vlen codec ``name`` (also inside sharding)."""
    out = []
    for c in codecs:
        cname = c if isinstance(c, str) else c.get("name")
        if cname == "bytes":
            out.append({"name": name, "configuration": {}})
        elif cname == "sharding_indexed" and isinstance(c, Mapping):
            configuration = dict(c.get("configuration") or {})
            if isinstance(configuration.get("codecs"), (list, tuple)):
                configuration["codecs"] = _with_vlen_serializer(configuration["codecs"], name)
            out.append({**c, "configuration": configuration})
        else:
            out.append(c)
    return out


@dataclass(frozen=True, eq=False)
class ArrayMetadata:
    """Metadata of one Zarr array, v2 or v3.

    ``chunk_shape`` is the regular grid's chunk shape (the shard shape for sharded v3 arrays).
    ``dtype`` is the v2 ``.zarray`` dtype as written (may be big-endian) or the native dtype of the v3
    ``data_type``. ``fill_value`` is a numpy scalar of ``dtype`` or ``None`` (v2 ``null`` only).
    ``codecs`` is the normalised v3 chain (``{"name", "configuration"}`` dicts), ``()`` for v2;
    ``compressor`` / ``filters`` are v2 only (numcodecs-style ``{"id": ...}`` dicts).
    ``chunk_key_encoding`` and ``dimension_separator`` default from the format when left empty.
    ``data_type`` is the data type as written; it is re-derived from ``dtype`` when it does not match.
    ``extra_fields`` are v3 ``must_understand: false`` extensions (written back) or unknown v2 keys (not).
    """

    zarr_format: int
    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    order: str = "C"
    codecs: tuple[dict, ...] = ()
    compressor: dict | None = None
    filters: tuple[dict, ...] | None = None
    chunk_key_encoding: str = ""
    dimension_separator: str = ""
    dimension_names: tuple[str | None, ...] | None = None
    attributes: dict = field(default_factory=dict)
    data_type: str | dict = ""
    storage_transformers: tuple = ()
    extra_fields: dict = field(default_factory=dict)
    # a v2 variable-length array whose .zarray said "fill_value": null: reads use the default fill value, and
    # the document keeps null when it is written back (zarr-python and xarray treat null and "" differently)
    null_fill: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.zarr_format not in (2, 3) or isinstance(self.zarr_format, bool):
            raise MetadataError(f"array metadata: zarr_format must be 2 or 3, got {self.zarr_format!r}")
        v3 = self.zarr_format == 3
        shape = _int_tuple(self.shape, "shape")
        chunk_shape = _int_tuple(self.chunk_shape, "chunk_shape")
        if len(shape) != len(chunk_shape):
            raise MetadataError(
                f"array metadata: shape {list(shape)} and chunk shape {list(chunk_shape)} differ in rank"
            )
        if any(s < 0 for s in shape):
            raise MetadataError(f"array metadata: shape {list(shape)} has a negative length")
        if any(c <= 0 for c in chunk_shape):
            raise MetadataError(f"array metadata: chunk shape {list(chunk_shape)} must be positive")
        put(self, "shape", shape)
        put(self, "chunk_shape", chunk_shape)

        dtype = normalize_user_dtype(self.dtype)
        if v3:
            dtype = native_dtype(dtype)
        else:
            dtype = resolve_v2_object_dtype(dtype, self.filters)
        put(self, "dtype", dtype)
        # every index must fit int64 and a chunk must be addressable; the element count of the whole array may
        # exceed 2**63 (a sparse (2**40, 2**40) array is fine: nothing is ever allocated per chunk)
        if max(shape, default=0) > 2**63 - 1 or math.prod(chunk_shape) * max(dtype.itemsize, 1) > 2**63 - 1:
            raise MetadataError(f"array metadata: shape {list(shape)} or chunk shape {list(chunk_shape)} is too "
                                "large (a dimension beyond 2**63 - 1, or more than 2**63 - 1 chunk bytes)")
        if dtype.kind in VLEN_CODEC_OF_DTYPE:
            self._add_object_codec(dtype)
        put(self, "data_type", self._consistent_data_type(dtype))

        try:
            fill_value = coerce_fill_value(self.fill_value, dtype)
        except FillValueError as exc:
            raise FillValueError(f"array metadata: {exc}") from None
        if fill_value is None and dtype.kind in VLEN_CODEC_OF_DTYPE:
            fill_value = default_fill_value(dtype)  # zarr-python writes "" for v2 strings / bytes too
        if fill_value is None and v3:
            raise FillValueError(f"array metadata: a zarr v3 array needs a fill value (data type {dtype!s})")
        put(self, "fill_value", fill_value)

        if self.order not in ("C", "F") or (v3 and self.order != "C"):
            allowed = "'C'" if v3 else "'C' or 'F'"
            raise MetadataError(f"array metadata: order must be {allowed}, got {self.order!r}")

        encoding = self.chunk_key_encoding or ("default" if v3 else "v2")
        if encoding not in CHUNK_KEY_ENCODINGS or (not v3 and encoding != "v2"):
            raise MetadataError(f"array metadata: unsupported chunk key encoding {encoding!r}")
        put(self, "chunk_key_encoding", encoding)
        separator = self.dimension_separator or ("/" if encoding == "default" else ".")
        if separator not in SEPARATORS:
            raise MetadataError(f"array metadata: dimension separator must be '/' or '.', got {separator!r}")
        put(self, "dimension_separator", separator)

        put(self, "codecs", tuple(self.codecs))
        if v3 and not self.codecs:
            raise MetadataError("array metadata: a zarr v3 array needs at least one codec")
        if not v3 and self.codecs:
            raise MetadataError("array metadata: zarr v2 arrays use compressor/filters, not codecs")
        if v3 and (self.compressor is not None or self.filters is not None):
            raise MetadataError("array metadata: compressor/filters are v2 fields; zarr v3 arrays use codecs")
        if self.filters is not None:
            put(self, "filters", tuple(self.filters) or None)

        if not v3:  # v2 keeps dimension names in xarray's `_ARRAY_DIMENSIONS` attribute: one source of truth
            self._v2_dimension_names(shape, put)
        elif self.dimension_names is not None:
            names = tuple(self.dimension_names)
            if len(names) != len(shape):
                raise MetadataError(
                    f"array metadata: dimension_names {list(names)} must have one entry "
                    f"per dimension ({len(shape)})"
                )
            if any(n is not None and not isinstance(n, str) for n in names):
                raise MetadataError(f"array metadata: dimension_names {list(names)} must be strings or null")
            put(self, "dimension_names", names)
        if not isinstance(self.attributes, Mapping):
            raise MetadataError(
                f"array metadata: attributes must be a mapping, got {type(self.attributes).__name__}"
            )
        put(self, "storage_transformers", tuple(self.storage_transformers))

    def _add_object_codec(self, dtype: np.dtype) -> None:
        """Variable-length dtypes need their object codec: v2 as the first filter, v3 as the array->bytes
        codec (a plain ``bytes`` serializer is replaced). Added as zarr-python writes them."""
        name = VLEN_CODEC_OF_DTYPE[dtype.kind]
        if self.zarr_format == 2:
            filters = tuple(self.filters or ())
            if not filters or not isinstance(filters[0], Mapping) or filters[0].get("id") not in V2_OBJECT_CODEC_IDS:
                object.__setattr__(self, "filters", ({"id": name}, *filters))
        elif self.codecs:
            object.__setattr__(self, "codecs", tuple(_with_vlen_serializer(self.codecs, name)))

    def _v2_dimension_names(self, shape: tuple[int, ...], put: Any) -> None:
        """v2: ``dimension_names`` given -> written to ``_ARRAY_DIMENSIONS``; else read from it when well-formed."""
        attrs = self.attributes if isinstance(self.attributes, Mapping) else {}
        if self.dimension_names is not None:
            names = tuple(self.dimension_names)
            if len(names) != len(shape) or any(not isinstance(n, str) for n in names):
                raise MetadataError(f"array metadata: dimension_names {list(names)} must be one string per "
                                    f"dimension ({len(shape)}) in zarr v2 (stored as _ARRAY_DIMENSIONS)")
            put(self, "attributes", {**attrs, "_ARRAY_DIMENSIONS": list(names)})
            put(self, "dimension_names", names)
            return
        stored = attrs.get("_ARRAY_DIMENSIONS")
        if isinstance(stored, list) and len(stored) == len(shape) and all(isinstance(n, str) for n in stored):
            put(self, "dimension_names", tuple(stored))

    def _consistent_data_type(self, dtype: np.dtype) -> str | dict:
        """``self.data_type`` if it names ``dtype``, else the name derived from ``dtype``."""
        written = self.data_type
        if written not in ("", None):
            try:
                if self.zarr_format == 3:
                    if parse_v3_data_type(written) == dtype:
                        return written
                elif parse_v2_dtype(written) == dtype and parse_v2_dtype(written).str == dtype.str:
                    return written
            except MetadataError:
                pass
        return v3_data_type_json(dtype) if self.zarr_format == 3 else v2_dtype_str(dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadata):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "fill_value":
                if not fill_values_equal(a, b):
                    return False
            elif f.name == "dtype":
                if a != b or a.str != b.str:
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class GroupMetadata:
    """Metadata of one Zarr group.

    ``consolidated_metadata`` is the raw consolidated document: the v3 inline object
    (``{"kind": "inline", "must_understand": false, "metadata": {...}}``) or the v2 ``.zmetadata`` content.
    """

    zarr_format: int
    attributes: dict = field(default_factory=dict)
    consolidated_metadata: dict | None = None
    extra_fields: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.zarr_format not in (2, 3) or isinstance(self.zarr_format, bool):
            raise MetadataError(f"group metadata: zarr_format must be 2 or 3, got {self.zarr_format!r}")
        if not isinstance(self.attributes, Mapping):
            raise MetadataError(
                f"group metadata: attributes must be a mapping, got {type(self.attributes).__name__}"
            )

    __hash__ = None  # type: ignore[assignment]


# --- JSON documents ------------------------------------------------------------------------------
def document_name(path: str, name: str) -> str:
    """The store key of document ``name`` (``".zarray"``, ``"zarr.json"``) for the node at ``path``."""
    path = path.strip("/")
    return f"{path}/{name}" if path else name


def load_json(data: bytes | str | Mapping | None, where: str) -> dict:
    """Parse one JSON document that must be an object; ``where`` names it in errors.

    Accepts bytes, str, or an already-parsed mapping. Bare ``NaN``/``Infinity`` tokens are accepted.
    """
    if isinstance(data, Mapping):
        return dict(data)
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MetadataError(f"{where}: not UTF-8 text ({exc})") from None
    if not isinstance(data, str):
        raise MetadataError(f"{where}: expected a JSON document, got {type(data).__name__}")
    try:
        obj = json.loads(data)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{where}: invalid JSON ({exc})") from None
    except RecursionError:
        raise MetadataError(f"{where}: invalid JSON (nested too deeply)") from None
    if not isinstance(obj, dict):
        raise MetadataError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    return obj


def to_json_value(obj: Any, where: str = "metadata") -> Any:
    """A strict-JSON copy of ``obj``: numpy scalars/arrays become Python values, tuples lists,
    and non-finite floats the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, str):
                raise MetadataError(f"{where}: JSON object keys must be strings, got {k!r}")
            out[k] = to_json_value(v, where)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_json_value(v, where) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_json_value(obj.tolist(), where)
    if isinstance(obj, np.generic):
        return to_json_value(obj.item(), where)
    raise MetadataError(f"{where}: value {obj!r} of type {type(obj).__name__} is not JSON serialisable")


def dump_json(obj: Any, where: str = "metadata") -> bytes:
    """Serialise like zarr-python: 2-space indent, ASCII escapes, no trailing newline, no bare NaN."""
    return json.dumps(to_json_value(obj, where), indent=2, ensure_ascii=True, allow_nan=False).encode("ascii")


# --- field checks shared by the v2 and v3 parsers (errors name the document and the field) ----------
def check_zarr_format(doc: dict, expected: int, where: str) -> None:
    """Raise unless ``doc["zarr_format"]`` is ``expected``."""
    if "zarr_format" not in doc:
        raise MetadataError(f"{where}: missing required field 'zarr_format'")
    value = doc["zarr_format"]
    if isinstance(value, bool) or value != expected:
        raise MetadataError(f"{where}: field 'zarr_format' must be {expected}, got {value!r}")


def check_required(doc: dict, keys: tuple[str, ...], where: str) -> None:
    """Raise naming every key of ``keys`` missing from ``doc``."""
    missing = [k for k in keys if k not in doc]
    if missing:
        names = ", ".join(repr(k) for k in missing)
        raise MetadataError(f"{where}: missing required field{'s' if len(missing) > 1 else ''} {names}")


def int_list(value: Any, field: str, where: str, *, positive: bool) -> tuple[int, ...]:
    """A JSON array of integers (``>= 0``, or ``> 0`` when ``positive``) as a tuple."""
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise MetadataError(f"{where}: field {field!r} must be an array of integers, got {value!r}")
    if positive and any(v <= 0 for v in value):
        raise MetadataError(f"{where}: field {field!r} must contain only positive integers, got {value!r}")
    if any(v < 0 for v in value):
        raise MetadataError(f"{where}: field {field!r} must not contain negative integers, got {value!r}")
    return tuple(value)


def check_rank(shape: tuple[int, ...], chunk_shape: tuple[int, ...], chunk_field: str, where: str) -> None:
    """Raise if the chunk shape's rank differs from the array's."""
    if len(shape) != len(chunk_shape):
        raise MetadataError(
            f"{where}: field {chunk_field!r} {list(chunk_shape)} has {len(chunk_shape)} dimensions "
            f"but the shape {list(shape)} has {len(shape)}"
        )


def codec_metadata_error(exc: CodecError, where: str) -> CodecMetadataError:
    """A codec configuration error found while opening or creating an array, as a :class:`MetadataError` that is
    still a :class:`CodecError` (and an :class:`UnknownCodecError` for unknown codecs); ``where`` names the
    document."""
    cls = UnknownCodecMetadataError if isinstance(exc, UnknownCodecError) else CodecMetadataError
    message = str(exc)
    return cls(message if message.startswith(where) else f"{where}: {message}")


def with_context(exc: MetadataError, where: str, field: str) -> MetadataError:
    """The same error class with ``where`` and ``field`` prefixed to the message."""
    return type(exc)(f"{where}: field {field!r}: {exc}")
