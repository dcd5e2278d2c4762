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

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from zarrfast.errors import UnknownDataTypeError

__all__ = [
    "CORE_V3_DATA_TYPES",
    "V2_KINDS",
    "V3_NAMES",
    "V3_WRITERS",
    "native_dtype",
    "parse_v2_dtype",
    "parse_v3_data_type",
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
    """``dtype`` in native byte order (unchanged for byte-order-free types)."""
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


V2_KINDS: dict[str, Callable[[str, str, str], np.dtype]] = {
    "b": _parse_v2_numeric,
    "i": _parse_v2_numeric,
    "u": _parse_v2_numeric,
    "f": _parse_v2_numeric,
    "c": _parse_v2_numeric,
}


def parse_v2_dtype(typestr: Any) -> np.dtype:
    """Parse a ``.zarray`` ``dtype`` typestr (``"<f8"``, ``">u2"``, ``"|b1"``) into a numpy dtype.

    The byte order of the typestr is kept (``">u2"`` -> ``dtype('>u2')``).
    Raises UnknownDataTypeError naming the type for anything not registered in ``V2_KINDS``.
    """
    if not isinstance(typestr, str):
        raise UnknownDataTypeError(
            f"unsupported zarr v2 data type {typestr!r} (structured types not supported yet)"
        )
    if len(typestr) < 3 or typestr[0] not in _BYTEORDERS:
        raise UnknownDataTypeError(
            f"unknown zarr v2 data type {typestr!r} (expected a typestr with byte order, e.g. '<f8' or '|b1')"
        )
    parser = V2_KINDS.get(typestr[1])
    if parser is None:
        raise UnknownDataTypeError(f"unknown zarr v2 data type {typestr!r}")
    return parser(typestr[0], typestr[1:], typestr)


def v2_dtype_str(dtype: np.dtype | str) -> str:
    """The ``.zarray`` typestr of ``dtype`` (``dtype('>u2')`` -> ``">u2"``, bool -> ``"|b1"``)."""
    dtype = np.dtype(dtype)
    if dtype.kind not in V2_KINDS or (dtype.kind, dtype.itemsize) not in _CORE_BY_KIND_SIZE:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v2 encoding in zarrfast")
    return dtype.str


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


V3_NAMES: dict[str, Callable[[Mapping[str, Any]], np.dtype]] = {
    name: _core_parser(name) for name in CORE_V3_DATA_TYPES
}


def _core_writer(dtype: np.dtype) -> str:
    name = _CORE_BY_KIND_SIZE.get((dtype.kind, dtype.itemsize))
    if name is None:
        raise UnknownDataTypeError(f"data type {dtype!s} has no zarr v3 name in zarrfast")
    return name


V3_WRITERS: dict[str, Callable[[np.dtype], str | dict]] = {k: _core_writer for k in "biufc"}


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
