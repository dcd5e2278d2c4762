"""Fuzzing the metadata parsers: hypothesis-made JSON (valid documents with mutated fields, random JSON values,
random bytes) fed to the v2 and v3 parsers and to ``zarrfast.open_array`` on a MemoryStore.

Property (``tools/fuzz_targets.run_metadata``): the parsers raise only ``MetadataError`` subclasses (or succeed);
opening and reading one element raises only ``zarrfast.errors`` exceptions - never KeyError, TypeError ...
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
import fuzz_targets as ft  # noqa: E402

from zarrfast.errors import MetadataError  # noqa: E402
from zarrfast.metadata import parse_array_v2, parse_array_v3, parse_group_v2, parse_node_v3  # noqa: E402

SEED_DOCS = [json.loads(d) for d in ft.metadata_seeds()] + [
    {"zarr_format": 3, "node_type": "group", "attributes": {"a": 1}},
    {"zarr_format": 2, "shape": [4, 4], "chunks": [2, 2], "dtype": [["x", "<i4"], ["y", "<f8", [2]]],
     "compressor": None, "fill_value": None, "order": "C", "filters": None, "dimension_separator": "/"},
    {"zarr_format": 3, "node_type": "array", "shape": [3], "data_type": {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 1}},
     "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}},
     "chunk_key_encoding": {"name": "v2", "configuration": {"separator": "."}}, "fill_value": "NaT",
     "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}], "dimension_names": ["t"],
     "storage_transformers": []},
]
FIELD_NAMES = ("zarr_format", "node_type", "shape", "data_type", "chunk_grid", "chunk_key_encoding", "fill_value",
               "codecs", "attributes", "dimension_names", "storage_transformers", "chunks", "dtype", "compressor",
               "filters", "order", "dimension_separator", "name", "configuration", "chunk_shape", "endian", "id",
               "index_codecs", "index_location", "separator", "level", "cname", "shuffle", "typesize", "unit",
               "scale_factor", "fields", "length_bytes", "must_understand")

scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.sampled_from([0, 1, 2, 3, -1, 2**63, 2**64]),
                    st.floats(allow_nan=True), st.text(max_size=6),
                    st.sampled_from(["NaN", "Infinity", "-Infinity", "<i4", ">f8", "|O", "|S3", "<U2", "|V3",
                                     "int8", "float16", "complex64", "string", "bytes", "r24", "numpy.datetime64",
                                     "bytes", "zstd", "blosc", "crc32c", "transpose", "sharding_indexed",
                                     "vlen-utf8", "regular", "default", "v2", "little", "big", "F", "C", "end",
                                     "AAAA", "0x7fc00000", "array", "group", "ms", "D"]))
json_values = st.recursive(scalars, lambda c: st.one_of(st.lists(c, max_size=4),
                                                        st.dictionaries(st.sampled_from(FIELD_NAMES), c,
                                                                        max_size=4)), max_leaves=10)


@st.composite
def mutated_doc(draw) -> Any:
    doc = json.loads(json.dumps(draw(st.sampled_from(SEED_DOCS))))
    for _ in range(draw(st.integers(1, 3))):
        node = doc
        for _ in range(draw(st.integers(0, 3))):  # walk down to a random container
            children = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) \
                else []
            children = [k for k in children if isinstance(node[k], (dict, list))]
            if not children:
                break
            node = node[draw(st.sampled_from(children))]
        op = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(node, dict):
            keys = list(node)
            if op == "delete" and keys:
                del node[draw(st.sampled_from(keys))]
            elif op == "set" and keys:
                node[draw(st.sampled_from(keys))] = draw(json_values)
            else:
                node[draw(st.sampled_from(FIELD_NAMES))] = draw(json_values)
        elif isinstance(node, list):
            if op == "delete" and node:
                node.pop(draw(st.integers(0, len(node) - 1)))
            elif op == "set" and node:
                node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
            else:
                node.append(draw(json_values))
    return doc


def _dump(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True).encode()


def test_seed_documents_parse():
    for doc in SEED_DOCS:
        sig = ft.run_metadata(_dump(doc))
        assert ("v3=ok" in sig) or ("v2=ok" in sig) or doc.get("node_type") == "group", sig


@settings(max_examples=300)
@given(mutated_doc())
def test_mutated_documents_raise_only_metadata_errors(doc):
    ft.run_metadata(_dump(doc))


@given(json_values)
def test_random_json_values_raise_only_metadata_errors(value):
    sig = ft.run_metadata(_dump(value))
    if not isinstance(value, dict):
        assert "v3=ok" not in sig and "v2=ok" not in sig


@given(st.binary(max_size=60))
def test_random_bytes_raise_only_metadata_errors(blob):
    ft.run_metadata(blob)


@settings(max_examples=100)
@given(mutated_doc())
def test_group_and_node_parsers_raise_only_metadata_errors(doc):
    raw = _dump(doc)
    for parse in (parse_node_v3, parse_group_v2):
        try:
            parse(raw)
        except MetadataError:
            pass


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[]", b"null", b'{"zarr_format": 3}',
                                 b'{"zarr_format": NaN}', b'{"zarr_format": 2, "shape": [1e400]}'])
def test_broken_documents_are_metadata_errors(raw):
    for parse in (parse_array_v3, parse_array_v2):
        with pytest.raises(MetadataError):
            parse(raw)


@pytest.mark.parametrize("field, value", [("shape", [2**64, 3]), ("chunks", [4, 2**64]), ("chunks", [2**62, 4])])
def test_dimensions_beyond_int64_are_metadata_errors(field, value):
    """Found by tools/fuzz.py: such shapes used to pass the parser and overflow in the kernels (OverflowError)."""
    doc = {"zarr_format": 2, "shape": [4, 5], "chunks": [4, 5], "dtype": "<f4", "compressor": None,
           "fill_value": 0, "order": "C", "filters": None, field: value}
    with pytest.raises(MetadataError, match="too large"):
        parse_array_v2(_dump(doc))


def test_json_values_include_non_finite_numbers():
    """The strategy really produces NaN/inf (the documents are dumped with allow_nan=True)."""
    assert math.isnan(json.loads(_dump(float("nan"))))
