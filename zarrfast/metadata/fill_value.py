"""Fill values: JSON <-> numpy scalars, per data type kind and zarr format.

Written forms (strict):

* bool: ``true`` / ``false``; integers: JSON integers in range.
* floats: JSON numbers, ``"NaN"``, ``"Infinity"``, ``"-Infinity"``. In v3 a NaN whose bits differ from the
  spec's canonical NaN (sign 0, only the top mantissa bit set) is written as a hex string of its bit
  pattern (``"0x7fc00001"``), so payloads and signs survive a round trip. v2 has no such form: every NaN
  is written ``"NaN"``.
* complex: ``[re, im]``, each part written like a float of half the width.
* v2 ``null``: no fill value (``None``).

Read leniently: bare ``NaN``/``Infinity`` JSON tokens (Python's parser yields floats), integers for
float types, integral floats for integer types, ``0``/``1`` for bool, a plain number for complex
(imaginary part 0). Out-of-range values, and finite numbers that overflow a float type, raise
FillValueError.

Handlers are registered per numpy kind in ``DECODERS`` / ``ENCODERS`` so later data types add entries.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable
from typing import Any

import numpy as np

from zarrfast.errors import FillValueError

__all__ = [
    "DECODERS",
    "ENCODERS",
    "canonical_nan",
    "coerce_fill_value",
    "decode_fill_value",
    "default_fill_value",
    "encode_fill_value",
    "fill_value_bits",
    "fill_values_equal",
]

_UINT_OF_SIZE: dict[int, np.dtype[Any]] = {2: np.dtype("u2"), 4: np.dtype("u4"), 8: np.dtype("u8")}
# The spec's NaN: sign 0, exponent all ones, only the most significant mantissa bit set.
_CANONICAL_NAN_BITS = {2: 0x7E00, 4: 0x7FC00000, 8: 0x7FF8000000000000}
_SPECIAL_FLOATS = {"NaN": None, "Infinity": math.inf, "-Infinity": -math.inf}


def _native(dtype: np.dtype) -> np.dtype:
    return dtype if dtype.byteorder in ("=", "|") else dtype.newbyteorder("=")


def _fail(value: Any, dtype: np.dtype, zarr_format: int, why: str) -> FillValueError:
    return FillValueError(
        f"fill_value {value!r} is not valid for data type {dtype!s} (zarr v{zarr_format}): {why}"
    )


def _from_bits(bits: int, dtype: np.dtype) -> np.generic:
    """The float scalar of ``dtype`` whose bit pattern is ``bits`` (exact, NaN payloads included)."""
    scalar: np.generic = np.array(bits, dtype=_UINT_OF_SIZE[dtype.itemsize]).view(dtype)[()]  # type: ignore[assignment]
    return scalar


def canonical_nan(dtype: np.dtype) -> np.generic:
    """The spec's NaN (``"NaN"``) as a scalar of float ``dtype``."""
    dtype = _native(np.dtype(dtype))
    return _from_bits(_CANONICAL_NAN_BITS[dtype.itemsize], dtype)


def fill_value_bits(value: np.generic) -> bytes:
    """The raw native-order bytes of a numpy scalar (for bit-exact comparison)."""
    return np.asarray(value).tobytes()


def fill_values_equal(a: Any, b: Any) -> bool:
    """True when two fill values are the same value (bit-exact for numpy scalars, so NaN == NaN)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.generic) and isinstance(b, np.generic):
        return a.dtype == b.dtype and fill_value_bits(a) == fill_value_bits(b)
    return bool(a == b)


# --- decoding (JSON -> scalar) ---------------------------------------------------------------------
def _decode_bool(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return np.bool_(bool(value))
    raise _fail(value, dtype, zarr_format, "expected true or false")


def _decode_int(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    if isinstance(value, bool):
        number = int(value)
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    else:
        raise _fail(value, dtype, zarr_format, "expected an integer")
    info = np.iinfo(dtype)
    if not info.min <= number <= info.max:
        raise _fail(value, dtype, zarr_format, f"out of range [{info.min}, {info.max}]")
    return _native(dtype).type(number)


def _decode_float(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    dtype = _native(dtype)
    if isinstance(value, str):
        if value in _SPECIAL_FLOATS:
            special = _SPECIAL_FLOATS[value]
            return canonical_nan(dtype) if special is None else dtype.type(special)
        if zarr_format == 3 and value[:2] in ("0x", "0X"):
            digits = value[2:]
            if not digits or digits.strip(string.hexdigits):
                raise _fail(value, dtype, zarr_format, "malformed hex bit pattern")
            bits = int(digits, 16)
            if bits >> (8 * dtype.itemsize):
                raise _fail(
                    value, dtype, zarr_format, f"hex bit pattern wider than {8 * dtype.itemsize} bits"
                )
            return _from_bits(bits, dtype)
        raise _fail(
            value,
            dtype,
            zarr_format,
            "expected a number, 'NaN', 'Infinity', '-Infinity'"
            + (" or a hex bit pattern" if zarr_format == 3 else ""),
        )
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(value, dtype, zarr_format, "expected a number")
    if isinstance(value, float) and math.isnan(value):  # bare NaN token
        return canonical_nan(dtype)
    try:
        number = float(value)
    except OverflowError:
        raise _fail(value, dtype, zarr_format, "number too large") from None
    with np.errstate(over="ignore"):
        result = dtype.type(number)
    if math.isfinite(number) and not np.isfinite(result):
        raise _fail(value, dtype, zarr_format, "number overflows the data type")
    return result


def _decode_complex(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    dtype = _native(dtype)
    part_dtype = np.dtype(f"f{dtype.itemsize // 2}")
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise _fail(value, dtype, zarr_format, "expected [real, imag]")
        real, imag = value
    elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
        real, imag = value, 0
    else:
        raise _fail(value, dtype, zarr_format, "expected [real, imag]")
    try:
        parts = np.array(
            [_decode_float(real, part_dtype, zarr_format), _decode_float(imag, part_dtype, zarr_format)],
            dtype=part_dtype,
        )
    except FillValueError as exc:
        raise _fail(value, dtype, zarr_format, str(exc)) from None
    return parts.view(dtype)[0]


DECODERS: dict[str, Callable[[Any, np.dtype, int], np.generic]] = {
    "b": _decode_bool,
    "i": _decode_int,
    "u": _decode_int,
    "f": _decode_float,
    "c": _decode_complex,
}


def decode_fill_value(json_value: Any, dtype: np.dtype, zarr_format: int) -> np.generic | None:
    """Decode a JSON ``fill_value`` into a numpy scalar of ``dtype`` (``None`` for a v2 ``null``)."""
    dtype = np.dtype(dtype)
    if json_value is None:
        if zarr_format == 2:
            return None
        raise _fail(json_value, dtype, zarr_format, "null is not a valid v3 fill value for this type")
    decoder = DECODERS.get(dtype.kind)
    if decoder is None:
        raise FillValueError(f"no fill value rules for data type {dtype!s}")
    return decoder(json_value, dtype, zarr_format)


# --- encoding (scalar -> JSON) ---------------------------------------------------------------------
def _encode_float(value: Any, dtype: np.dtype, zarr_format: int) -> float | str:
    dtype = _native(dtype)
    scalar = value if isinstance(value, np.generic) and value.dtype == dtype else dtype.type(value)
    if np.isnan(scalar):
        bits = int(np.asarray(scalar).view(_UINT_OF_SIZE[dtype.itemsize])[()])
        if zarr_format == 3 and bits != _CANONICAL_NAN_BITS[dtype.itemsize]:
            return f"0x{bits:0{2 * dtype.itemsize}x}"
        return "NaN"
    if np.isinf(scalar):
        return "Infinity" if float(scalar) > 0 else "-Infinity"
    return float(scalar)


def _encode_complex(value: Any, dtype: np.dtype, zarr_format: int) -> list:
    dtype = _native(dtype)
    part_dtype = np.dtype(f"f{dtype.itemsize // 2}")
    scalar = value if isinstance(value, np.generic) and value.dtype == dtype else dtype.type(value)
    real, imag = np.asarray(scalar).reshape(1).view(part_dtype)
    return [_encode_float(real, part_dtype, zarr_format), _encode_float(imag, part_dtype, zarr_format)]


ENCODERS: dict[str, Callable[[Any, np.dtype, int], Any]] = {
    "b": lambda value, dtype, zarr_format: bool(value),
    "i": lambda value, dtype, zarr_format: int(value),
    "u": lambda value, dtype, zarr_format: int(value),
    "f": _encode_float,
    "c": _encode_complex,
}


def encode_fill_value(value: Any, dtype: np.dtype, zarr_format: int) -> Any:
    """Encode a fill value (numpy scalar, or ``None`` for v2) as the JSON the spec asks for."""
    dtype = np.dtype(dtype)
    if value is None:
        if zarr_format == 2:
            return None
        raise FillValueError(f"fill_value None cannot be written for data type {dtype!s} in zarr v3")
    encoder = ENCODERS.get(dtype.kind)
    if encoder is None:
        raise FillValueError(f"no fill value rules for data type {dtype!s}")
    return encoder(value, dtype, zarr_format)


# --- Python values -> scalar ---------------------------------------------------------------------
def coerce_fill_value(value: Any, dtype: np.dtype) -> np.generic | None:
    """Turn a user-supplied fill value (Python or numpy scalar, or a JSON form) into a scalar of ``dtype``.

    A numpy scalar already of ``dtype``'s type is returned as is (NaN payloads preserved); ``None`` stays
    ``None``. Everything else goes through the (lenient) v3 JSON rules.
    """
    if value is None:
        return None
    dtype = np.dtype(dtype)
    native = _native(dtype)
    if isinstance(value, np.generic):
        if value.dtype == native:
            return value
        value = value.item()
    if isinstance(value, complex):
        if dtype.kind != "c":
            if value.imag != 0:
                raise FillValueError(
                    f"fill_value {value!r} is not valid for data type {dtype!s}: complex value"
                )
            value = value.real
        else:
            value = [value.real, value.imag]
    return decode_fill_value(value, native, 3)


def default_fill_value(dtype: np.dtype) -> np.generic:
    """The zero value of ``dtype`` (``False`` for bool), the default v3 fill value."""
    return _native(np.dtype(dtype)).type(0)
