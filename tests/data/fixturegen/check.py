"""The zarr-python self-check of a fixture tree; the byte-for-byte tree comparison of ``--check``."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path
from typing import Any

import numpy as np

from .writers import chunk_files

MAX_TREE_BYTES = 2_000_000

# ------------------------------------------------------------------------------------------------
# self-check with zarr-python


def zarr_python_dtype(path: Path) -> str:
    import zarr

    return zarr.open_array(str(path), mode="r").dtype.str


def decode_fill(fill: Any) -> Any:
    special = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}
    if isinstance(fill, list):
        return complex(decode_fill(fill[0]), decode_fill(fill[1]))
    if isinstance(fill, str):
        return special[fill]
    return fill


def same_values(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "c":
        return same_values(a.real, b.real) and same_values(a.imag, b.imag)
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))
    return bool(np.array_equal(a, b))


def outer_codec_name(entry: dict) -> str | None:
    """The codec that produced the stored bytes (v2 compressor id or last v3 codec name)."""
    if entry["zarr_format"] == 2:
        return (entry["codecs"]["compressor"] or {}).get("id")
    return entry["codecs"][-1]["name"]


def self_check(out: Path) -> list[str]:
    """Every fixture opened by zarr-python (default pipeline) matches its manifest entry."""
    import zarr
    import zstandard

    problems = []
    manifest = json.loads((out / "manifest.json").read_text())
    for e in manifest["fixtures"]:
        where = e["name"]
        arr = zarr.open_array(str(out / e["path"]), mode="r")
        expected = np.load(out / e["expected"], allow_pickle=False)
        got = arr[...]
        if not same_values(np.asarray(got), expected):
            problems.append(f"{where}: zarr-python reads other values")
        if arr.dtype.str != e["numpy_dtype"] or expected.dtype.str != e["numpy_dtype"]:
            problems.append(f"{where}: dtype {arr.dtype.str} / {expected.dtype.str} != {e['numpy_dtype']}")
        if list(arr.shape) != e["shape"] or list(arr.chunks) != e["chunks"]:
            problems.append(f"{where}: shape/chunks")
        if dict(arr.attrs) != e["attributes"]:
            problems.append(f"{where}: attributes")
        fill = decode_fill(e["fill_value"])
        if fill is None:
            if arr.fill_value is not None:
                problems.append(f"{where}: fill_value {arr.fill_value!r} != None")
        elif not same_values(np.asarray(arr.fill_value), np.asarray(fill, dtype=arr.dtype)):
            problems.append(f"{where}: fill_value {arr.fill_value!r} != {fill!r}")
        if e["zarr_format"] == 3:
            names = arr.metadata.dimension_names
            if (list(names) if names is not None else None) != e["dimension_names"]:
                problems.append(f"{where}: dimension_names")
        root = out / e["path"]
        for key in e["missing_chunks"]:
            if (root / key).exists():
                problems.append(f"{where}: chunk {key} should be missing")
        if e["missing_chunks"] and not got.size:
            problems.append(f"{where}: empty")
        stored = chunk_files(root, e["zarr_format"])
        if len(stored) != e["n_stored_chunks"]:
            problems.append(f"{where}: stored chunk count")
        if e["writer"] == "zstandard-no-content-size":
            for p in stored:
                if (
                    zstandard.get_frame_parameters(p.read_bytes()).content_size
                    != zstandard.CONTENTSIZE_UNKNOWN
                ):
                    problems.append(f"{where}: {p.name} has a content size")
        if e["writer"] == "tensorstore" and outer_codec_name(e) == "zstd":
            # record (in the README) whether tensorstore writes the content size: it does in 0.1.86
            for p in stored:
                if (
                    zstandard.get_frame_parameters(p.read_bytes()).content_size
                    == zstandard.CONTENTSIZE_UNKNOWN
                ):
                    print(f"note: {where}/{p.name}: tensorstore wrote a zstd frame without content size")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if total > MAX_TREE_BYTES:
        problems.append(f"fixture tree is {total} bytes (limit {MAX_TREE_BYTES})")
    return problems


def compare_trees(a: Path, b: Path) -> list[str]:
    diffs = []
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    if files_a != files_b:
        diffs.append(f"file lists differ: {sorted(set(map(str, files_a)) ^ set(map(str, files_b)))[:10]}")
    for rel in set(files_a) & set(files_b):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            diffs.append(str(rel))
    return sorted(diffs)
