"""Data types: Zarr v2 typestrs and Zarr v3 data type names <-> numpy dtypes.

Both directions go through registries keyed by the numpy kind character (v2) or by the v3 name, so
a later data type (datetime, strings, structured) is one more table entry, not another ``if`` branch:

* ``V2_KINDS``: kind char -> parser ``(byteorder, body, typestr) -> np.dtype`` for typestrs like ``"<f8"``.
* ``V3_NAMES``: v3 name -> parser ``(configuration) -> np.dtype`` (native byte order).
* ``V3_WRITERS``: numpy kind char -> ``dtype -> v3 name`` (str, or an extension object for later types).

The v2 spec requires an explicit byte order character (``<``, ``>`` or ``|``); one-byte types are
accepted with any of the three (numpy itself writes ``|i1``), multi-byte types need ``<`` or ``>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from zarrfast.errors import MetadataError, UnknownDataTypeError

__all__ = [
    "CORE_V3_DATA_TYPES",
    "OBJECT_DTYPE",
    "STRING_DTYPE",
    "V2_KINDS",
    "V3_NAMES",
    "V3_WRITERS",
    "VLEN_CODEC_OF_DTYPE",
    "native_dtype",
    "normalize_user_dtype",
    "parse_v2_dtype",
    "parse_v3_data_type",
    "resolve_v2_object_dtype",
    "v2_dtype_str",
    "v3_data_type_name",
]

# v3 core name -> native numpy dtype. The single source of truth for the numeric types.
CORE_V3_DATA_TYPES: dict[str, np.dtype] = {
    name: np.dtype(code).newbyteorder("=")
    for name, code in (
        ("bool", "b1"),
        ("int8", "i1"),
        ("int16", "i2"),
        ("int32", "i4"),
        ("int64", "i8"),
        ("uint8", "u1"),
        ("uint16", "u2"),
        ("uint32", "u4"),
        ("uint64", "u8"),
        ("float16", "f2"),
        ("float32", "f4"),
        ("float64", "f8"),
        ("complex64", "c8"),
        ("complex128", "c16"),
    )
}
# (kind, itemsize) -> v3 name, derived from the table above.
_CORE_BY_KIND_SIZE: dict[tuple[str, int], str] = {
    (dt.kind, dt.itemsize): name for name, dt in CORE_V3_DATA_TYPES.items()
}
_BYTEORDERS = ("<", ">", "|")


def native_dtype(dtype: np.dtype) -> np.dtype:
    """``dtype`` in native byte order (unchanged for byte-order-free types; structured: every field)."""
    if dtype.fields is not None:
        return dtype.newbyteorder("=")
    return dtype if dtype.byteorder in ("=", "|") else dtype.newbyteorder("=")


# --- v2 ------------------------------------------------------------------------------------------
def _parse_v2_numeric(byteorder: str, body: str, typestr: str) -> np.dtype:
    """Parse the body of a numeric typestr (``"f8"``, ``"b1"`` ...) with its byte order char."""
    kind, size_text = body[0], body[1:]
    if not size_text.isdigit() or (kind, int(size_text)) not in _CORE_BY_KIND_SIZE:
        raise UnknownDataTypeError(f"unknown zarr v2 data type {typestr!r}")
    size = int(size_text)
    if size > 1 and byteorder == "|":
        raise UnknownDataTypeError(
            f"zarr v2 data type {typestr!r}: a {size}-byte type needs byte order '<' or '>', not '|'"
        )
    dtype = np.dtype(body)
    return dtype.newbyteorder(byteorder) if size > 1 else dtype  # type: ignore[arg-type]


_TIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as")
_TIME_RE = re.compile(r"^([mM])8\[(\d*)([A-Za-z]+)\]$")


def _parse_v2_time(byteorder: str, body: str, typestr: str) -> np.dtype:
    """``<M8[ns]``, ``>m8[10s]`` (a unit is required: generic ``M8`` has no stored meaning)."""
    match = _TIME_RE.match(body)
    if match is None or match.group(3) not in _TIME_UNITS or byteorder == "|":
        raise UnknownDataTypeError(
            f"unknown zarr v2 data type {typestr!r} (expected e.g. '<M8[ns]' or '<m8[10s]')"
        )
    return np.dtype(typestr)


def _parse_v2_sized(byteorder: str, body: str, typestr: str) -> np.dtype:
    """Fixed-length ``|S5`` (bytes), ``<U7`` (UTF-32), ``|V4`` (raw bytes): positive length required."""
    size_text = body[1:]
    if not size_text.isdigit() or int(size_text) <= 0:
        raise UnknownDataTypeError(f"unknown zarr v2 data type {typestr!r} (expected a positive length)")
    if body[0] == "U":
        return np.dtype(("<" if byteorder == "|" else byteorder) + body)
    return np.dtype(body)


def _parse_v2_object(byteorder: str, body: str, typestr: str) -> np.dtype:
    if body != "O":
        raise UnknownDataTypeError(f"unknown zarr v2 data type {typestr!r}")
    return np.dtype(object)


def _parse_v2_structured(fields: list) -> np.dtype:
    """A v2 structured type: ``[[name, typestr-or-list(, shape)], ...]``, nested to any depth."""
    parsed: list[tuple] = []
    for entry in fields:
        if (
            not isinstance(entry, (list, tuple))
            or len(entry) not in (2, 3)
            or not isinstance(entry[0], str)
        ):
            raise UnknownDataTypeError(
                f"zarr v2 structured data type: each field must be [name, type] or [name, type, shape], "
                f"got {entry!r}"
            )
        field_dtype = parse_v2_dtype(entry[1])
        if field_dtype.kind == "O":
            raise UnknownDataTypeError(f"zarr v2 structured data type: object field {entry!r} is not supported")
        if len(entry) == 3:
            shape = entry[2]
            if not isinstance(shape, list) or any(
                isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in shape
            ):
                raise UnknownDataTypeError(
                    f"zarr v2 structured data type: field shape must be a list of integers, got {entry!r}"
                )
            parsed.append((entry[0], field_dtype, tuple(shape)))
        else:
            parsed.append((entry[0], field_dtype))
    if not parsed:
        raise UnknownDataTypeError("zarr v2 structured data type needs at least one field")
    try:
        return np.dtype(parsed)
    except (TypeError, ValueError) as exc:
        raise UnknownDataTypeError(f"invalid zarr v2 structured data type {fields!r}: {exc}") from None


V2_KINDS: dict[str, Callable[[str, str, str], np.dtype]] = {
    "b": _parse_v2_numeric,
    "i": _parse_v2_numeric,
    "u": _parse_v2_numeric,
    "f": _parse_v2_numeric,
    "c": _parse_v2_numeric,
    "M": _parse_v2_time,
    "m": _parse_v2_time,
    "S": _parse_v2_sized,
    "U": _parse_v2_sized,
    "V": _parse_v2_sized,
    "O": _parse_v2_object,
}


def parse_v2_dtype(typestr: Any) -> np.dtype:
    """Parse a ``.zarray`` ``dtype`` typestr (``"<f8"``, ``">u2"``, ``"|b1"``) into a numpy dtype.

    The byte order of the typestr is kept (``">u2"`` -> ``dtype('>u2')``). A list is a structured type
    (``[["a", "<i4"], ["b", ">f8", [2]], ["c", [["x", "|u1"]]]]``). ``"|O"`` is numpy's object dtype (the
    object codec in ``filters`` decides what it holds; see ``model.ArrayMetadata``).
    Raises UnknownDataTypeError naming the type for anything not registered in ``V2_KINDS``.
    """
    if isinstance(typestr, list):
        return _parse_v2_structured(typestr)
    if not isinstance(typestr, str):
        raise UnknownDataTypeError(f"unsupported zarr v2 data type {typestr!r}")
    if (len(typestr) < 3 and typestr[1:] != "O") or typestr[0] not in _BYTEORDERS:
        raise UnknownDataTypeError(
            f"unknown zarr v2 data type {typestr!r} (expected a typestr with byte order, e.g. '<f8' or '|b1')"
        )
    parser = V2_KINDS.get(typestr[1])
    if parser is None:
        raise UnknownDataTypeError(f"unknown zarr v2 data type {typestr!r}")
    try:
        return parser(typestr[0], typestr[1:], typestr)
    except MetadataError:
        raise
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:  # numpy refusing e.g. '|S99999999999999999999'
        raise UnknownDataTypeError(f"unsupported zarr v2 data type {typestr!r} ({exc})") from None


def _v2_descr_json(descr: list) -> list:
    out = []
    for entry in descr:
        name, typ = entry[0], entry[1]
        item: list = [name, _v2_descr_json(typ) if isinstance(typ, list) else typ]
        if len(entry) == 3:
            item.append(list(entry[2]))
        out.append(item)
    return out


def v2_dtype_str(dtype: np.dtype | str) -> str | list:
    """The ``.zarray`` dtype of ``dtype`` (``dtype('>u2')`` -> ``">u2"``, bool -> ``"|b1"``).

    Structured types give numpy's ``descr`` as nested lists (subarray fields keep their shape, as the v2 spec
    and zarr-python 2 write them); variable-length strings / bytes (StringDType, object) give ``"|O"``.
    """
    dtype = np.dtype(dtype)
    if dtype.kind in ("O", "T"):
        return "|O"
    if dtype.fields is not None:
        return _v2_descr_json(dtype.descr)
    if dtype.kind in "biufc" and (dtype.kind, dtype.itemsize) in _CORE_BY_KIND_SIZE:
        return dtype.str
    if dtype.kind in "mM" and np.datetime_data(dtype)[0] in _TIME_UNITS:
        return dtype.str
    if dtype.kind in "SUV" and dtype.itemsize > 0 and dtype.subdtype is None:
        return dtype.str
    raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v2 encoding in zarrfast")


# --- v3 ------------------------------------------------------------------------------------------
def _core_parser(name: str) -> Callable[[Mapping[str, Any]], np.dtype]:
    dtype = CORE_V3_DATA_TYPES[name]

    def parse(configuration: Mapping[str, Any]) -> np.dtype:
        if configuration:
            raise UnknownDataTypeError(
                f"zarr v3 data type {name!r} takes no configuration, got {dict(configuration)!r}"
            )
        return dtype

    return parse


def _config_keys(name: str, configuration: Mapping[str, Any], allowed: set[str]) -> None:
    extra = set(configuration) - allowed
    if extra:
        raise UnknownDataTypeError(
            f"zarr v3 data type {name!r}: unexpected configuration keys {sorted(extra)}"
        )


def _positive_int(name: str, configuration: Mapping[str, Any], key: str) -> int:
    value = configuration.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UnknownDataTypeError(
            f"zarr v3 data type {name!r}: configuration {key!r} must be a positive integer, got {value!r}"
        )
    return value


def _time_parser(name: str, char: str) -> Callable[[Mapping[str, Any]], np.dtype]:
    def parse(configuration: Mapping[str, Any]) -> np.dtype:
        _config_keys(name, configuration, {"unit", "scale_factor"})
        unit = configuration.get("unit")
        if unit not in _TIME_UNITS:
            raise UnknownDataTypeError(
                f"zarr v3 data type {name!r}: unit must be one of {list(_TIME_UNITS)}, got {unit!r}"
            )
        if "scale_factor" not in configuration and name.startswith("numpy."):
            raise UnknownDataTypeError(f"zarr v3 data type {name!r}: configuration needs 'scale_factor'")
        scale = configuration.get("scale_factor", 1)
        if isinstance(scale, bool) or not isinstance(scale, int) or not 0 < scale < 2**31:
            raise UnknownDataTypeError(
                f"zarr v3 data type {name!r}: scale_factor must be a positive integer, got {scale!r}"
            )
        return np.dtype(f"{char}8[{scale if scale != 1 else ''}{unit}]")

    return parse


def _length_bytes(name: str, configuration: Mapping[str, Any]) -> int:
    """``length_bytes`` (zarr-python), or the older ``length_bits`` (a multiple of 8)."""
    _config_keys(name, configuration, {"length_bytes", "length_bits"})
    if "length_bits" in configuration and "length_bytes" not in configuration:
        bits = _positive_int(name, configuration, "length_bits")
        if bits % 8:
            raise UnknownDataTypeError(f"zarr v3 data type {name!r}: length_bits {bits} is not a multiple of 8")
        return bits // 8
    return _positive_int(name, configuration, "length_bytes")


def _sized_parser(name: str, char: str) -> Callable[[Mapping[str, Any]], np.dtype]:
    def parse(configuration: Mapping[str, Any]) -> np.dtype:
        length = _length_bytes(name, configuration)
        if char == "U":
            if length % 4:
                raise UnknownDataTypeError(
                    f"zarr v3 data type {name!r}: length_bytes {length} is not a multiple of 4"
                )
            return np.dtype(f"U{length // 4}")
        return np.dtype(f"{char}{length}")

    return parse


def _vlen_parser(name: str, dtype: np.dtype) -> Callable[[Mapping[str, Any]], np.dtype]:
    def parse(configuration: Mapping[str, Any]) -> np.dtype:
        if configuration:
            raise UnknownDataTypeError(
                f"zarr v3 data type {name!r} takes no configuration, got {dict(configuration)!r}"
            )
        return dtype

    return parse


def _parse_structured_v3(configuration: Mapping[str, Any]) -> np.dtype:
    _config_keys("structured", configuration, {"fields"})
    fields = configuration.get("fields")
    if not isinstance(fields, list) or not fields:
        raise UnknownDataTypeError("zarr v3 data type 'structured': 'fields' must be a non-empty array")
    parsed = []
    for entry in fields:
        if not isinstance(entry, (list, tuple)) or len(entry) != 2 or not isinstance(entry[0], str):
            raise UnknownDataTypeError(
                f"zarr v3 data type 'structured': each field must be [name, data_type], got {entry!r}"
            )
        field_dtype = parse_v3_data_type(entry[1])
        if field_dtype.kind in ("O", "T"):
            raise UnknownDataTypeError(f"zarr v3 data type 'structured': variable-length field {entry!r}")
        parsed.append((entry[0], field_dtype))
    return np.dtype(parsed)


STRING_DTYPE: np.dtype = np.dtypes.StringDType()  # type: ignore[attr-defined]
"""In-memory dtype of variable-length UTF-8 strings (what zarr-python 3 returns for ``string`` arrays)."""
OBJECT_DTYPE: np.dtype = np.dtype(object)
"""In-memory dtype of variable-length bytes (object arrays of ``bytes``, as zarr-python returns them)."""

V3_NAMES: dict[str, Callable[[Mapping[str, Any]], np.dtype]] = {
    name: _core_parser(name) for name in CORE_V3_DATA_TYPES
}
V3_NAMES.update(
    {
        "numpy.datetime64": _time_parser("numpy.datetime64", "M"),
        "numpy.timedelta64": _time_parser("numpy.timedelta64", "m"),
        "datetime64": _time_parser("datetime64", "M"),  # early zarr-python 3 drafts
        "timedelta64": _time_parser("timedelta64", "m"),
        "null_terminated_bytes": _sized_parser("null_terminated_bytes", "S"),
        "fixed_length_ascii": _sized_parser("fixed_length_ascii", "S"),  # zarr-python 3.0 drafts
        "fixed_length_utf32": _sized_parser("fixed_length_utf32", "U"),
        "fixed_length_ucs4": _sized_parser("fixed_length_ucs4", "U"),  # zarr-python 3.0 drafts
        "raw_bytes": _sized_parser("raw_bytes", "V"),
        "string": _vlen_parser("string", STRING_DTYPE),
        "variable_length_utf8": _vlen_parser("variable_length_utf8", STRING_DTYPE),
        "variable_length_bytes": _vlen_parser("variable_length_bytes", OBJECT_DTYPE),
        "bytes": _vlen_parser("bytes", OBJECT_DTYPE),  # zarr-python accepts this alias
        "structured": _parse_structured_v3,
    }
)
_RAW_BITS_RE = re.compile(r"^r(\d+)$")  # the v3 core spec's r<N> raw-bits types


def _core_writer(dtype: np.dtype) -> str:
    name = _CORE_BY_KIND_SIZE.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name in zarrfast")
    return name


def _time_writer(dtype: np.dtype) -> dict:
    unit, scale = np.datetime_data(dtype)
    if unit not in _TIME_UNITS:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name (generic time unit)")
    name = "numpy.datetime64" if dtype.kind == "M" else "numpy.timedelta64"
    return {"name": name, "configuration": {"unit": unit, "scale_factor": int(scale)}}


def _sized_writer(dtype: np.dtype) -> dict:
    if dtype.itemsize <= 0:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name (zero length)")
    if dtype.kind == "V" and dtype.fields is not None:
        return {
            "name": "structured",
            "configuration": {"fields": [[n, v3_data_type_json(dtype.fields[n][0])] for n in dtype.names]},
        }
    if dtype.kind == "V" and dtype.subdtype is not None:
        raise UnknownDataTypeError(f"data type {dtype!s} (a subarray type) has no zarr v3 name")
    name = {"S": "null_terminated_bytes", "U": "fixed_length_utf32", "V": "raw_bytes"}[dtype.kind]
    return {"name": name, "configuration": {"length_bytes": dtype.itemsize}}


V3_WRITERS: dict[str, Callable[[np.dtype], str | dict]] = {k: _core_writer for k in "biufc"}
V3_WRITERS.update(
    {
        "M": _time_writer,
        "m": _time_writer,
        "S": _sized_writer,
        "U": _sized_writer,
        "V": _sized_writer,
        "T": lambda dtype: "string",
        "O": lambda dtype: "variable_length_bytes",
    }
)


def parse_v3_data_type(name_or_obj: Any) -> np.dtype:
    """Parse a v3 ``data_type`` (``"float32"`` or ``{"name": ..., "configuration": ...}``), native order."""
    if isinstance(name_or_obj, str):
        name = name_or_obj
        configuration: Mapping[str, Any] = {}
    elif isinstance(name_or_obj, Mapping) and isinstance(name_or_obj.get("name"), str):
        name = name_or_obj["name"]
        configuration = name_or_obj.get("configuration") or {}
        if not isinstance(configuration, Mapping):
            raise UnknownDataTypeError(f"zarr v3 data type {name_or_obj!r}: configuration must be an object")
    else:
        raise UnknownDataTypeError(f"unknown zarr v3 data type {name_or_obj!r}")
    parser = V3_NAMES.get(name)
    if parser is None:
        raw = _RAW_BITS_RE.match(name)
        if raw is not None and not configuration and int(raw.group(1)) > 0 and int(raw.group(1)) % 8 == 0:
            return np.dtype(f"V{int(raw.group(1)) // 8}")
        raise UnknownDataTypeError(f"unknown zarr v3 data type {name!r}")
    return parser(configuration)


def v3_data_type_name(dtype: np.dtype | str) -> str:
    """The v3 ``data_type`` name of ``dtype`` (byte order ignored: it lives in the ``bytes`` codec)."""
    dtype = np.dtype(dtype)
    writer = V3_WRITERS.get(dtype.kind)
    if writer is None:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name in zarrfast")
    result = writer(dtype)
    if not isinstance(result, str):  # pragma: no cover - extension types return objects later
        raise UnknownDataTypeError(f"data type {dtype!s} is a v3 extension type, not a plain name")
    return result


def v3_data_type_json(dtype: np.dtype | str) -> str | dict:
    """The v3 ``data_type`` JSON of ``dtype``: a name for core types, an object for extension types."""
    dtype = np.dtype(dtype)
    writer = V3_WRITERS.get(dtype.kind)
    if writer is None:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name in zarrfast")
    return writer(dtype)


# --- variable-length types -----------------------------------------------------------------------
VLEN_CODEC_OF_DTYPE = {"T": "vlen-utf8", "O": "vlen-bytes"}
"""The v2 object codec id / v3 array->bytes codec name zarr-python uses for each variable-length dtype kind."""
V2_OBJECT_CODEC_IDS = frozenset(
    ("vlen-utf8", "vlen-bytes", "vlen-array", "json", "json2", "pickle", "msgpack", "msgpack2")
)


def normalize_user_dtype(dtype: Any) -> np.dtype:
    """The in-memory dtype for a user's dtype: ``str`` / ``U0`` / any StringDType -> ``STRING_DTYPE``,
    ``bytes`` / ``S0`` -> object (variable-length bytes); everything else unchanged."""
    dtype = np.dtype(dtype)
    if dtype.kind == "T" or (dtype.kind == "U" and dtype.itemsize == 0):
        return STRING_DTYPE
    if dtype.kind == "S" and dtype.itemsize == 0:
        return OBJECT_DTYPE
    return dtype


def resolve_v2_object_dtype(dtype: np.dtype, filters: Any) -> np.dtype:
    """A v2 ``"|O"`` array holds strings when its object codec (first filter) is ``vlen-utf8``."""
    if dtype.kind == "O" and filters:
        first = filters[0]
        if isinstance(first, Mapping) and first.get("id") == "vlen-utf8":
            return STRING_DTYPE
    return dtype
