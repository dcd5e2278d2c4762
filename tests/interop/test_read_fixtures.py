"""zarrfast reads the committed fixtures written by zarr-python, zarrs and tensorstore.

Needs only zarrfast and numpy: the expected values are the ``.npy`` files next to the arrays and
the expected metadata is ``manifest.json`` (see ``tests/data/README.md``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import (
    FIXTURES,
    assert_same_fill_value,
    assert_same_values,
    decode_fill_value,
    has_negative_step,
    impl_supports_negative_steps,
    load_manifest,
    manifest_params,
    read_stored_metadata,
    reported_dtype,
)

ENTRIES = manifest_params()

# Basic selections, applied wherever numpy accepts them for the array's ndim.
SELECTIONS = [
    ("a[1:5:2, ::-1]", (slice(1, 5, 2), slice(None, None, -1))),
    ("a[-1]", -1),
    ("a[..., 0]", (Ellipsis, 0)),
    ("a[1:5:2]", slice(1, 5, 2)),
    ("a[::-1]", slice(None, None, -1)),
    ("a[:, 2::3]", (slice(None), slice(2, None, 3))),
    ("a[5:1:-2, 1:10:4]", (slice(5, 1, -2), slice(1, 10, 4))),
    ("a[-3:, :2]", (slice(-3, None), slice(None, 2))),
    ("a[3, 4]", (3, 4)),
    ("a[1, ::-2, 2]", (1, slice(None, None, -2), 2)),
    ("a[..., 1:3]", (Ellipsis, slice(1, 3))),
    ("a[2:2]", slice(2, 2)),
    ("a[()]", ()),
    ("a[...]", Ellipsis),
]


def expected_values(entry: dict) -> np.ndarray:
    return np.load(FIXTURES / entry["expected"], allow_pickle=False)


def open_fixture(zf, entry: dict):
    return zf.open_array(str(FIXTURES / entry["path"]), mode="r")


# ------------------------------------------------------------------------------------------------
# the fixtures themselves (no zarrfast needed)


def test_manifest_is_consistent():
    manifest = load_manifest()
    entries = manifest["fixtures"]
    assert entries, f"no fixtures: run python {FIXTURES.parent / 'generate_fixtures.py'}"
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))
    for key in ["zarr", "numcodecs", "tensorstore", "zarrs"]:
        assert manifest["versions"].get(key), f"writer version of {key} not recorded"
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 2_000_000, f"fixtures take {total} bytes"
    for e in entries:
        root = FIXTURES / e["path"]
        meta = read_stored_metadata(root)
        assert meta["zarr_format"] == e["zarr_format"], e["name"]
        # the rule the helpers use matches what zarr-python reported when the fixture was made
        assert reported_dtype(meta) == np.dtype(e["numpy_dtype"]), e["name"]
        expected = expected_values(e)
        assert expected.dtype == np.dtype(e["numpy_dtype"]), e["name"]
        assert list(expected.shape) == e["shape"], e["name"]
        for key in e["missing_chunks"]:
            assert not (root / key).exists(), f"{e['name']}: chunk {key} should be absent"


# ------------------------------------------------------------------------------------------------
# zarrfast reads them


@pytest.mark.parametrize("entry", ENTRIES)
def test_read_whole_array(zf, entry):
    arr = open_fixture(zf, entry)
    expected = expected_values(entry)
    got = arr[...]
    assert isinstance(got, np.ndarray) or np.ndim(got) == 0
    assert_same_values(got, expected, context=entry["name"])
    # exact dtype, byte order included: what zarr-python reports for the same array
    assert np.dtype(arr.dtype) == np.dtype(entry["numpy_dtype"]), (
        f"arr.dtype {np.dtype(arr.dtype).str} != {entry['numpy_dtype']}"
    )


@pytest.mark.parametrize("entry", ENTRIES)
def test_metadata(zf, entry):
    arr = open_fixture(zf, entry)
    assert tuple(arr.shape) == tuple(entry["shape"])
    assert tuple(arr.chunks) == tuple(entry["chunks"])
    assert arr.ndim == len(entry["shape"])
    assert dict(arr.attrs) == entry["attributes"]
    assert_same_fill_value(
        arr.fill_value, decode_fill_value(entry["fill_value"]), entry["numpy_dtype"], context=entry["name"]
    )


@pytest.mark.parametrize("entry", [p for p in ENTRIES if p.values[0]["dimension_names"] is not None])
def test_dimension_names(zf, entry):
    arr = open_fixture(zf, entry)
    names = arr.metadata.dimension_names
    assert list(names) == entry["dimension_names"]


@pytest.mark.parametrize("entry", ENTRIES)
def test_basic_selections(zf, entry):
    arr = open_fixture(zf, entry)
    expected = expected_values(entry)
    tried = 0
    for label, selection in SELECTIONS:
        try:
            want = expected[selection]
        except IndexError:
            continue  # not valid for this ndim
        if has_negative_step(selection) and not impl_supports_negative_steps():
            continue
        tried += 1
        assert_same_values(arr[selection], want, context=f"{entry['name']}: {label}")
    assert tried >= 2


def test_fixture_writers_cover_the_plan():
    """The committed set still covers what the interop plan promises (guards against a shrunk regenerate)."""
    entries = load_manifest()["fixtures"]
    seen = {(e["writer"], e["zarr_format"]) for e in entries}
    for want in [
        ("zarr-python", 2),
        ("zarr-python", 3),
        ("tensorstore", 2),
        ("tensorstore", 3),
        ("zarrs", 3),
        ("zstandard-no-content-size", 3),
    ]:
        assert want in seen, want
    v2_dtypes = {e["dtype"] for e in entries if e["zarr_format"] == 2}
    assert {">i4", "<f8", ">c16", "|b1", ">f2", "<u8"} <= v2_dtypes
    v3_dtypes = {e["dtype"] for e in entries if e["zarr_format"] == 3}
    assert {"bool", "int8", "uint64", "float16", "complex64", "complex128"} <= v3_dtypes
    codecs = json.dumps([e["codecs"] for e in entries])
    for name in [
        "blosc",
        "zstd",
        "gzip",
        "zlib",
        "lz4",
        "crc32c",
        "transpose",
        '"big"',
        "blosclz",
        "lz4hc",
        "bitshuffle",
        '"checksum": true',
    ]:
        assert name in codecs, name
    assert {"F", "C"} <= {e["order"] for e in entries}
    assert {"default", "v2"} <= {e["chunk_key_encoding"]["name"] for e in entries if e["zarr_format"] == 3}
    assert any(e["missing_chunks"] for e in entries)
