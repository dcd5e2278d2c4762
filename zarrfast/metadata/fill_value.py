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

import base64
import binascii
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


_NAT_INT = -(2**63)


def _decode_time(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    """datetime64 / timedelta64: the int64 count of units (zarr-python), or ``"NaT"``."""
    if value == "NaT":
        number = _NAT_INT
    elif isinstance(value, bool):
        raise _fail(value, dtype, zarr_format, "expected an integer or 'NaT'")
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    else:
        raise _fail(value, dtype, zarr_format, "expected an integer or 'NaT'")
    if not _NAT_INT <= number < 2**63:
        raise _fail(value, dtype, zarr_format, "out of the int64 range")
    return np.array(number, dtype=np.int64).view(_native(dtype))[()]


def _b64decode(value: Any, dtype: np.dtype, zarr_format: int) -> bytes:
    if isinstance(value, list) and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        return bytes(value)  # zarrs / tensorstore-style byte arrays
    if not isinstance(value, str):
        raise _fail(value, dtype, zarr_format, "expected a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise _fail(value, dtype, zarr_format, "not valid base64") from None


def _decode_fixed_bytes(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    """``S<n>``: base64 of at most ``n`` bytes (tensorstore writes all ``n``, zero padded)."""
    raw = _b64decode(value, dtype, zarr_format)
    if len(raw) > dtype.itemsize:
        raise _fail(value, dtype, zarr_format, f"{len(raw)} bytes do not fit in {dtype.itemsize}")
    return np.array(raw, dtype=dtype)[()]


def _decode_unicode(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    """``U<n>``: a JSON string of at most ``n`` code points."""
    if not isinstance(value, str):
        raise _fail(value, dtype, zarr_format, "expected a string")
    if len(value) > dtype.itemsize // 4:
        raise _fail(value, dtype, zarr_format, f"longer than {dtype.itemsize // 4} characters")
    return np.array(value, dtype=_native(dtype))[()]


def _decode_void(value: Any, dtype: np.dtype, zarr_format: int) -> np.generic:
    """Raw bytes and structured types: base64 of the element's bytes (shorter input is zero padded)."""
    raw = _b64decode(value, dtype, zarr_format)
    if len(raw) > dtype.itemsize:
        raise _fail(value, dtype, zarr_format, f"{len(raw)} bytes, the element has {dtype.itemsize}")
    raw = raw.ljust(dtype.itemsize, b"\0")
    return np.frombuffer(raw, dtype=dtype)[0].copy()


def _decode_string(value: Any, dtype: np.dtype, zarr_format: int) -> str:
    """Variable-length strings: a JSON string (numbers are read as their text, leniently)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise _fail(value, dtype, zarr_format, "expected a string")


def _decode_object(value: Any, dtype: np.dtype, zarr_format: int) -> Any:
    """Variable-length bytes: zarr-python writes ``""`` / base64, zarrs ``[]`` (a byte array)."""
    if value == "" or value == []:
        return b""
    try:
        return _b64decode(value, dtype, zarr_format)
    except FillValueError:
        if zarr_format == 2:  # other v2 object codecs (vlen-array, json2, pickle ...) store any JSON
            return value
        raise


DECODERS: dict[str, Callable[[Any, np.dtype, int], Any]] = {
    "b": _decode_bool,
    "i": _decode_int,
    "u": _decode_int,
    "f": _decode_float,
    "c": _decode_complex,
    "M": _decode_time,
    "m": _decode_time,
    "S": _decode_fixed_bytes,
    "U": _decode_unicode,
    "V": _decode_void,
    "T": _decode_string,
    "O": _decode_object,
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


def _encode_time(value: Any, dtype: np.dtype, zarr_format: int) -> int:
    return int(np.array(value, dtype=_native(dtype)).view(np.int64)[()])  # NaT -> -2**63, as zarr-python


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _encode_fixed_bytes(value: Any, dtype: np.dtype, zarr_format: int) -> str:
    """``S<n>``: v3 as zarr-python writes it (base64 without trailing NULs: ``b"ab"`` -> ``"YWI="``, ``b""`` ->
    ``""``); v2 full width (``"YWIAAAA="`` for ``|S5``), which tensorstore requires and zarr-python reads."""
    raw = np.array(value, dtype=dtype).tobytes()
    return _b64(raw if zarr_format == 2 else raw.rstrip(b"\0"))


def _encode_object(value: Any, dtype: np.dtype, zarr_format: int) -> str:
    if isinstance(value, str):
        return value
    return _b64(bytes(value))


ENCODERS: dict[str, Callable[[Any, np.dtype, int], Any]] = {
    "b": lambda value, dtype, zarr_format: bool(value),
    "i": lambda value, dtype, zarr_format: int(value),
    "u": lambda value, dtype, zarr_format: int(value),
    "f": _encode_float,
    "c": _encode_complex,
    "M": _encode_time,
    "m": _encode_time,
    # S: base64 of the value without trailing NULs (zarr-python: b"ab" -> "YWI=", b"" -> "")
    "S": _encode_fixed_bytes,
    "U": lambda value, dtype, zarr_format: str(np.array(value, dtype=dtype)[()]),
    "V": lambda value, dtype, zarr_format: _b64(np.array(value, dtype=dtype).tobytes()),
    "T": lambda value, dtype, zarr_format: str(value),
    "O": _encode_object,
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
    coercer = COERCERS.get(dtype.kind)
    if coercer is not None:
        return coercer(value, dtype)
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


def _coerce_time(value: Any, dtype: np.dtype) -> np.generic:
    dtype = _native(dtype)
    if isinstance(value, (np.datetime64, np.timedelta64)):
        if np.isnat(value):
            return _decode_time("NaT", dtype, 3)
        if value.dtype.kind != dtype.kind:
            raise FillValueError(f"fill_value {value!r} is not valid for data type {dtype!s}")
        return np.array(value).astype(dtype)[()]
    if isinstance(value, (int, np.integer, float)) and not isinstance(value, (bool, np.bool_)):
        return _decode_time(int(value) if isinstance(value, np.integer) else value, dtype, 3)
    if isinstance(value, str):
        if value == "NaT":
            return _decode_time(value, dtype, 3)
        try:
            return np.array(value, dtype=dtype)[()]  # "2020-01-01" for datetime64
        except ValueError:
            raise FillValueError(f"fill_value {value!r} is not valid for data type {dtype!s}") from None
    raise FillValueError(f"fill_value {value!r} is not valid for data type {dtype!s}")


def _coerce_fixed(value: Any, dtype: np.dtype) -> np.generic:
    """S / U / V (raw and structured): numpy does the conversion; too-long values are errors, not truncated."""
    dtype = _native(dtype) if dtype.kind == "U" else dtype
    if dtype.kind == "S" and isinstance(value, str):
        try:
            value = value.encode("ascii")
        except UnicodeEncodeError:
            raise FillValueError(f"fill_value {value!r} is not valid for data type {dtype!s}: not ASCII") from None
    if dtype.kind == "V" and isinstance(value, (bytes, bytearray, np.bytes_)) and not dtype.fields:
        raw = bytes(value)
        if len(raw) > dtype.itemsize:
            raise FillValueError(f"fill_value {value!r} is longer than data type {dtype!s}")
        return np.frombuffer(raw.ljust(dtype.itemsize, b"\0"), dtype=dtype)[0].copy()
    too_long = isinstance(value, (str, bytes)) and len(value) > dtype.itemsize // (4 if dtype.kind == "U" else 1)
    if dtype.kind in "SU" and too_long:
        raise FillValueError(f"fill_value {value!r} is longer than data type {dtype!s} allows")
    try:
        return np.array(value, dtype=dtype)[()]
    except (TypeError, ValueError) as exc:
        raise FillValueError(f"fill_value {value!r} is not valid for data type {dtype!s}: {exc}") from None


def _coerce_string(value: Any, dtype: np.dtype) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8")
    return str(value)


def _coerce_object(value: Any, dtype: np.dtype) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview, np.bytes_)):
        return bytes(value)
    if isinstance(value, (int, np.integer)) and value == 0:
        return b""  # ``fill_value=0`` from zarr v2-era defaults
    return value


COERCERS: dict[str, Callable[[Any, np.dtype], Any]] = {
    "M": _coerce_time,
    "m": _coerce_time,
    "S": _coerce_fixed,
    "U": _coerce_fixed,
    "V": _coerce_fixed,
    "T": _coerce_string,
    "O": _coerce_object,
}


def default_fill_value(dtype: np.dtype) -> Any:
    """The default fill value of ``dtype``, as zarr-python 3 picks it: zero (``False`` for bool), NaT for
    datetime64 / timedelta64, empty strings / bytes, all-zero bytes for raw and structured types."""
    dtype = _native(np.dtype(dtype))
    if dtype.kind in "mM":
        return _decode_time("NaT", dtype, 3)
    if dtype.kind in "SUV":
        return np.zeros((), dtype=dtype)[()]
    if dtype.kind == "T":
        return ""
    if dtype.kind == "O":
        return b""
    return dtype.type(0)
