"""Fill value decoding / encoding against the v2 and v3 specs (and zarr-python for what it writes)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zarrfast.errors import FillValueError, MetadataError
from zarrfast.metadata.fill_value import (
    canonical_nan,
    coerce_fill_value,
    decode_fill_value,
    default_fill_value,
    encode_fill_value,
    fill_values_equal,
)

FLOATS = ["f2", "f4", "f8"]
COMPLEX = ["c8", "c16"]
UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}
# The spec's canonical NaN bit patterns ("NaN" == "0x7fc00000" for float32).
SPEC_NAN_BITS = {"f2": 0x7E00, "f4": 0x7FC00000, "f8": 0x7FF8000000000000}


def bits_of(value: np.generic) -> int:
    return int(np.asarray(value).view(UINT[value.dtype.itemsize])[()])


def from_bits(bits: int, code: str) -> np.generic:
    dtype = np.dtype(code)
    return np.array(bits, dtype=UINT[dtype.itemsize]).view(dtype)[()]


# --- spec forms ----------------------------------------------------------------------------------
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("code", FLOATS)
def test_special_float_strings(code: str, zarr_format: int) -> None:
    nan = decode_fill_value("NaN", np.dtype(code), zarr_format)
    assert nan.dtype == np.dtype(code) and bits_of(nan) == SPEC_NAN_BITS[code]
    assert decode_fill_value("Infinity", np.dtype(code), zarr_format) == np.inf
    assert decode_fill_value("-Infinity", np.dtype(code), zarr_format) == -np.inf
    assert encode_fill_value(nan, np.dtype(code), zarr_format) == "NaN"
    assert encode_fill_value(np.dtype(code).type(np.inf), np.dtype(code), zarr_format) == "Infinity"
    assert encode_fill_value(np.dtype(code).type(-np.inf), np.dtype(code), zarr_format) == "-Infinity"


@pytest.mark.parametrize(
    "code, text, bits",
    [
        ("f4", "0x7fc00000", 0x7FC00000),  # the spec's own example
        ("f4", "0x7fc00001", 0x7FC00001),
        ("f4", "0xffc00000", 0xFFC00000),  # negative NaN
        ("f4", "0x7f800001", 0x7F800001),  # signalling NaN
        ("f4", "0x3f800000", 0x3F800000),  # 1.0
        ("f2", "0x7e01", 0x7E01),
        ("f8", "0x7ff8000000000001", 0x7FF8000000000001),
        ("f8", "0x0000000000000001", 1),  # smallest subnormal
    ],
)
def test_v3_hex_bit_patterns(code: str, text: str, bits: int) -> None:
    value = decode_fill_value(text, np.dtype(code), 3)
    assert bits_of(value) == bits
    encoded = encode_fill_value(value, np.dtype(code), 3)
    if math.isnan(value) and bits != SPEC_NAN_BITS[code]:
        assert encoded == text  # non-canonical NaNs keep their bits as hex
    assert bits_of(decode_fill_value(encoded, np.dtype(code), 3)) == bits


def test_v2_writes_every_nan_as_string() -> None:
    payload = from_bits(0x7FC00001, "f4")
    assert encode_fill_value(payload, np.dtype("f4"), 2) == "NaN"


def test_v2_rejects_hex() -> None:
    with pytest.raises(FillValueError, match="0x7fc00000"):
        decode_fill_value("0x7fc00000", np.dtype("f4"), 2)


def test_finite_floats_and_signed_zero() -> None:
    value = decode_fill_value(-0.0, np.dtype("f4"), 3)
    assert value == 0 and np.signbit(value)
    out = encode_fill_value(value, np.dtype("f4"), 3)
    assert out == 0 and math.copysign(1, out) == -1
    # float32(0.1) is written as the double it equals (as zarr-python does) and reads back exactly
    v = np.float32(0.1)
    assert encode_fill_value(v, np.dtype("f4"), 3) == float(v)
    assert decode_fill_value(float(v), np.dtype("f4"), 3) == v


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_complex(zarr_format: int) -> None:
    value = decode_fill_value([1, "NaN"], np.dtype("c8"), zarr_format)
    assert value.dtype == np.complex64 and value.real == 1 and np.isnan(value.imag)
    assert encode_fill_value(value, np.dtype("c8"), zarr_format) == [1.0, "NaN"]
    value = decode_fill_value(["-Infinity", 2.5], np.dtype("c16"), zarr_format)
    assert value == complex(-np.inf, 2.5)


def test_complex_hex_parts_keep_bits() -> None:
    value = decode_fill_value(["0x7fc00001", "0xffc00000"], np.dtype("c8"), 3)
    parts = np.asarray(value).reshape(1).view(np.uint32)
    assert parts.tolist() == [0x7FC00001, 0xFFC00000]
    assert encode_fill_value(value, np.dtype("c8"), 3) == ["0x7fc00001", "0xffc00000"]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_bool_and_ints(zarr_format: int) -> None:
    assert decode_fill_value(True, np.dtype("bool"), zarr_format) is np.True_
    assert encode_fill_value(np.False_, np.dtype("bool"), zarr_format) is False
    v = decode_fill_value(2**64 - 1, np.dtype("u8"), zarr_format)
    assert v.dtype == np.uint64 and int(v) == 2**64 - 1
    assert encode_fill_value(v, np.dtype("u8"), zarr_format) == 2**64 - 1
    assert int(decode_fill_value(-(2**63), np.dtype("i8"), zarr_format)) == -(2**63)
    assert decode_fill_value(-3, np.dtype(">i2"), zarr_format) == -3  # big-endian v2 dtype


def test_v2_null_and_v3_null() -> None:
    assert decode_fill_value(None, np.dtype("f8"), 2) is None
    assert encode_fill_value(None, np.dtype("f8"), 2) is None
    with pytest.raises(FillValueError, match="null"):
        decode_fill_value(None, np.dtype("f8"), 3)
    with pytest.raises(FillValueError):
        encode_fill_value(None, np.dtype("f8"), 3)


# --- lenient reading -----------------------------------------------------------------------------
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_lenient_forms(zarr_format: int) -> None:
    bare = json.loads("[NaN, Infinity, -Infinity]")
    nan = decode_fill_value(bare[0], np.dtype("f4"), zarr_format)
    assert bits_of(nan) == SPEC_NAN_BITS["f4"]
    assert decode_fill_value(bare[1], np.dtype("f8"), zarr_format) == np.inf
    assert decode_fill_value(bare[2], np.dtype("f2"), zarr_format) == -np.inf
    f = decode_fill_value(3, np.dtype("f8"), zarr_format)  # int for a float type
    assert f.dtype == np.float64 and f == 3.0
    i = decode_fill_value(7.0, np.dtype("i4"), zarr_format)  # integral float for an int type
    assert i.dtype == np.int32 and i == 7
    assert decode_fill_value(1, np.dtype("bool"), zarr_format) is np.True_
    assert decode_fill_value(2.5, np.dtype("c8"), zarr_format) == 2.5 + 0j


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, code, zarr_format",
    [
        (256, "u1", 3),
        (-1, "u8", 2),
        (2**64, "u8", 3),
        (-(2**63) - 1, "i8", 3),
        (1.5, "i4", 3),
        ("NaN", "i4", 2),
        (True, "f4", 3),
        (1e39, "f4", 3),  # finite number that overflows float32
        (70000, "f2", 2),
        (10**400, "f8", 3),
        ("0x1ffff", "f2", 3),  # wider than 16 bits
        ("0xzz", "f4", 3),
        ("0x", "f4", 3),
        ("0x_1", "f4", 3),
        ("nan", "f4", 3),
        ([1, 2, 3], "c8", 3),
        ([1, "oops"], "c16", 2),
        ("true", "bool", 3),
        (2, "bool", 2),
        ({"a": 1}, "f8", 3),
    ],
)
def test_invalid_values(value: object, code: str, zarr_format: int) -> None:
    with pytest.raises(FillValueError) as info:
        decode_fill_value(value, np.dtype(code), zarr_format)
    assert isinstance(info.value, MetadataError) and isinstance(info.value, ValueError)
    assert str(np.dtype(code)) in str(info.value)


# --- coercion of Python values --------------------------------------------------------------------
def test_coerce() -> None:
    payload = from_bits(0x7FC00123, "f4")
    assert coerce_fill_value(payload, np.dtype("f4")) is payload  # same type: kept, bits and all
    assert coerce_fill_value(None, np.dtype("f4")) is None
    assert coerce_fill_value(1 + 2j, np.dtype("c16")) == np.complex128(1 + 2j)
    assert coerce_fill_value(np.int64(5), np.dtype("u1")).dtype == np.uint8
    assert bits_of(coerce_fill_value(float("nan"), np.dtype("f2"))) == SPEC_NAN_BITS["f2"]
    assert coerce_fill_value(3.0 + 0j, np.dtype("f8")) == 3.0
    with pytest.raises(FillValueError):
        coerce_fill_value(1 + 1j, np.dtype("f8"))
    with pytest.raises(FillValueError):
        coerce_fill_value(300, np.dtype("i1"))
    assert default_fill_value(np.dtype("bool")) is np.False_
    assert default_fill_value(np.dtype(">f8")) == 0.0


def test_fill_values_equal_is_bitwise() -> None:
    assert fill_values_equal(canonical_nan("f4"), canonical_nan("f4"))
    assert not fill_values_equal(canonical_nan("f4"), from_bits(0x7FC00001, "f4"))
    assert not fill_values_equal(np.float32(0.0), np.float32(-0.0))
    assert not fill_values_equal(np.float32(1), np.float64(1))
    assert fill_values_equal(None, None) and not fill_values_equal(None, np.float32(0))


# --- property tests ------------------------------------------------------------------------------
@pytest.mark.parametrize("code", FLOATS)
@given(data=st.data())
def test_v3_float_round_trip_is_bit_exact(code: str, data: st.DataObject) -> None:
    size = np.dtype(code).itemsize
    bits = data.draw(st.integers(0, 2 ** (8 * size) - 1))
    value = from_bits(bits, code)
    encoded = encode_fill_value(value, np.dtype(code), 3)
    text = json.dumps(encoded, allow_nan=False)  # always strict JSON
    assert bits_of(decode_fill_value(json.loads(text), np.dtype(code), 3)) == bits


@pytest.mark.parametrize("code", FLOATS)
@given(data=st.data())
def test_v2_float_round_trip(code: str, data: st.DataObject) -> None:
    size = np.dtype(code).itemsize
    value = from_bits(data.draw(st.integers(0, 2 ** (8 * size) - 1)), code)
    text = json.dumps(encode_fill_value(value, np.dtype(code), 2), allow_nan=False)
    back = decode_fill_value(json.loads(text), np.dtype(code), 2)
    if np.isnan(value):
        assert bits_of(back) == SPEC_NAN_BITS[code]
    else:
        assert bits_of(back) == bits_of(value)


@pytest.mark.parametrize("code", COMPLEX)
@given(data=st.data())
def test_v3_complex_round_trip_is_bit_exact(code: str, data: st.DataObject) -> None:
    part = np.dtype(f"u{np.dtype(code).itemsize // 2}")
    bits = [data.draw(st.integers(0, 2 ** (8 * part.itemsize) - 1)) for _ in range(2)]
    value = np.array(bits, dtype=part).view(np.dtype(code))[0]
    text = json.dumps(encode_fill_value(value, np.dtype(code), 3), allow_nan=False)
    back = decode_fill_value(json.loads(text), np.dtype(code), 3)
    assert np.asarray(back).reshape(1).view(part).tolist() == bits


@pytest.mark.parametrize("code", ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"])
@pytest.mark.parametrize("zarr_format", [2, 3])
@given(data=st.data())
def test_int_round_trip(code: str, zarr_format: int, data: st.DataObject) -> None:
    info = np.iinfo(code)
    number = data.draw(st.integers(int(info.min), int(info.max)))
    value = decode_fill_value(number, np.dtype(code), zarr_format)
    assert value.dtype == np.dtype(code) and int(value) == number
    assert encode_fill_value(value, np.dtype(code), zarr_format) == number
    with pytest.raises(FillValueError):
        decode_fill_value(int(info.max) + 1 + data.draw(st.integers(0, 2**70)), np.dtype(code), zarr_format)


# --- zarr-python as the oracle for what writers produce --------------------------------------------
@pytest.mark.interop
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(
    "code, value",
    [
        ("f4", np.nan),
        ("f8", -np.inf),
        ("f2", 0.5),
        ("f4", np.float32(0.1)),
        ("f8", -0.0),
        ("c8", 1 + 2j),
        ("c16", complex(np.nan, np.inf)),
        ("bool", True),
        ("u8", 2**64 - 1),
        ("i8", -(2**63)),
        (">u2", 3),
    ],
)
def test_matches_zarr_python(tmp_path, code: str, value: object, zarr_format: int) -> None:
    zarr = pytest.importorskip("zarr")
    arr = zarr.create_array(tmp_path / "a", shape=(2,), dtype=code, fill_value=value, zarr_format=zarr_format)
    doc = ".zarray" if zarr_format == 2 else "zarr.json"
    written = json.loads((tmp_path / "a" / doc).read_text())["fill_value"]
    dtype = np.dtype(code) if zarr_format == 2 else np.dtype(code).newbyteorder("=")
    ours = decode_fill_value(written, dtype, zarr_format)
    assert fill_values_equal(ours, np.asarray(arr.fill_value, dtype=dtype.newbyteorder("="))[()])
    assert json.dumps(encode_fill_value(ours, dtype, zarr_format)) == json.dumps(written)


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_object_fill_value_that_is_a_list_fills_each_element(engine: str) -> None:
    """v2 object arrays (vlen-array, json2 ...) may store any JSON as fill value: a list is one element's value,
    not something to broadcast (found by tools/fuzz.py: reads raised numpy's broadcast ValueError)."""
    import zarrfast

    fill = [[0], "v2", [0]]
    doc = {"zarr_format": 2, "shape": [6], "chunks": [4], "dtype": "|O", "compressor": None,
           "fill_value": fill, "order": "C", "filters": None}
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array({".zarray": json.dumps(doc).encode()}, mode="r")
        got = a[...]
    assert got.shape == (6,) and got.dtype == object
    assert all(v == fill for v in got.tolist())
    assert a[5] == fill
