"""Chunk key encodings against the v3 spec's examples and zarr-python's encoders."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from zarrfast.chunk_key import ChunkKeyEncoder, decode_chunk_key, encode_chunk_key, get_chunk_key_encoder
from zarrfast.errors import InvalidKeyError, MetadataError

ALL = [("default", "/"), ("default", "."), ("v2", "/"), ("v2", ".")]


@pytest.mark.parametrize(
    "coords, encoding, separator, key",
    [
        ((1, 0), "default", "/", "c/1/0"),  # spec: data key foo/baz/c/1/0
        ((1, 23, 45), "default", ".", "c.1.23.45"),
        ((1, 23, 45), "v2", ".", "1.23.45"),  # spec examples for the v2 encoding
        ((1, 23, 45), "v2", "/", "1/23/45"),
        ((), "default", "/", "c"),  # 0-d arrays
        ((), "default", ".", "c"),
        ((), "v2", ".", "0"),
        ((), "v2", "/", "0"),
        ((7,), "default", "/", "c/7"),
        ((7,), "v2", ".", "7"),
    ],
)
def test_spec_examples(coords: tuple, encoding: str, separator: str, key: str) -> None:
    assert encode_chunk_key(coords, encoding, separator) == key
    assert decode_chunk_key(key, encoding, separator, len(coords)) == coords
    assert get_chunk_key_encoder(encoding, separator).encode_many(np.array([coords], dtype=np.int64)) == [key]


def test_encoder_is_shared_and_accepts_numpy_ints() -> None:
    assert get_chunk_key_encoder("default", "/") is get_chunk_key_encoder("default", "/")
    assert encode_chunk_key(np.array([3, 4]), "default", "/") == "c/3/4"
    assert repr(get_chunk_key_encoder("v2", ".")) == "ChunkKeyEncoder('v2', '.')"


@pytest.mark.parametrize(
    "key, encoding, separator, ndim",
    [
        ("c/1", "default", "/", 2),  # wrong rank
        ("1/2", "default", "/", 2),  # missing prefix
        ("c.1.2", "default", "/", 2),  # wrong separator
        ("c/-1/2", "default", "/", 2),
        ("c/01/2", "default", "/", 2),  # leading zero: not a key any writer produces
        ("c/1/", "default", "/", 2),
        ("c/1/x", "default", "/", 2),
        ("c/1/\u00b2", "default", "/", 2),  # a non-ASCII digit
        ("c/0", "default", "/", 0),
        ("c", "v2", ".", 0),
        ("zarr.json", "v2", ".", 1),
        (".zarray", "v2", ".", 1),
        ("1.2.3", "v2", ".", 2),
    ],
)
def test_invalid_keys(key: str, encoding: str, separator: str, ndim: int) -> None:
    with pytest.raises(InvalidKeyError, match=repr(key).replace("\\", "\\\\")):
        decode_chunk_key(key, encoding, separator, ndim)
    assert get_chunk_key_encoder(encoding, separator).try_decode(key, ndim) is None


def test_unknown_encoding_or_separator() -> None:
    with pytest.raises(MetadataError, match="'rectilinear'"):
        ChunkKeyEncoder("rectilinear", "/")
    with pytest.raises(MetadataError, match="'-'"):
        encode_chunk_key((1,), "default", "-")


def test_encode_many_edge_cases() -> None:
    enc = get_chunk_key_encoder("default", "/")
    assert enc.encode_many(np.zeros((0, 3), dtype=np.int64)) == []
    assert enc.encode_many(np.zeros((3, 0), dtype=np.int64)) == ["c", "c", "c"]
    assert enc.encode_many([[1, 2], [3, 4]]) == ["c/1/2", "c/3/4"]
    big = np.array([[2**40, 0], [1, 2**33]], dtype=np.uint64)  # beyond the cached string table
    assert enc.encode_many(big) == [f"c/{2**40}/0", f"c/1/{2**33}"]
    with pytest.raises(ValueError, match="negative"):
        enc.encode_many(np.array([[0, -1]]))
    with pytest.raises(ValueError, match="shape"):
        enc.encode_many(np.array([1, 2]))
    with pytest.raises(ValueError, match="integers"):
        enc.encode_many(np.array([[1.0, 2.0]]))


@pytest.mark.parametrize("encoding, separator", ALL)
@given(
    coords=hnp.arrays(
        np.int64,
        st.tuples(st.integers(0, 30), st.integers(1, 5)),
        elements=st.one_of(st.integers(0, 100), st.integers(0, 2**40)),
    )
)
def test_encode_many_matches_single_and_decodes(encoding: str, separator: str, coords: np.ndarray) -> None:
    enc = get_chunk_key_encoder(encoding, separator)
    keys = enc.encode_many(coords)
    assert keys == [enc(tuple(row)) for row in coords.tolist()]
    assert [enc.decode(k, coords.shape[1]) for k in keys] == [tuple(row) for row in coords.tolist()]


@pytest.mark.interop
@pytest.mark.parametrize("encoding, separator", ALL)
def test_matches_zarr_python(encoding: str, separator: str) -> None:
    pytest.importorskip("zarr")
    from zarr.core.chunk_key_encodings import DefaultChunkKeyEncoding, V2ChunkKeyEncoding

    theirs = (DefaultChunkKeyEncoding if encoding == "default" else V2ChunkKeyEncoding)(separator=separator)
    rng = np.random.default_rng(0)
    for ndim in range(4):
        coords = rng.integers(0, 5000, size=(50, ndim))
        expected = [theirs.encode_chunk_key(tuple(row)) for row in coords.tolist()]
        assert get_chunk_key_encoder(encoding, separator).encode_many(coords) == expected
        assert [encode_chunk_key(tuple(row), encoding, separator) for row in coords.tolist()] == expected
