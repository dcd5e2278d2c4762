"""Stores, fixtures and names shared by test_array_basic/_modes/_indexing/_metadata_json.py.

Tests are parametrised over the Zarr format (2 and 3) and, where it makes sense, over the kinds of store a
user passes (a plain ``dict``, ``zarrfast.storage.MemoryStore()``, a local directory path, a ``.zip``
through ``zarrfast.storage.ZipStore(path, mode="w")``). Zip archives can't delete members and warn when a
member is rewritten, so tests that rewrite or delete chunks leave the zip store out (``REWRITABLE``).
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from zarrfast.storage import MemoryStore, ZipStore

FORMATS = [2, 3]
STORE_KINDS = ["dict", "memory", "dir", "zip"]
REWRITABLE = ["dict", "memory", "dir"]

HELPERS_V3_BUG = None  # fixed: create/zeros/... on Zarr v3 (their default format)


def fmt_params(v3_mark=None):
    return [2, pytest.param(3, marks=v3_mark) if v3_mark is not None else 3]


# ------------------------------------------------------------------------------------------------------------------
# store helpers


class StoreCase:
    """One store of a given kind, what to pass as ``store=``, and an independent view of its keys."""

    def __init__(self, kind: str, tmp_path) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        if kind == "dict":
            self.obj = {}
        elif kind == "memory":
            self.obj = MemoryStore()
        elif kind == "dir":
            self.obj = str(tmp_path / "data.zarr")
        elif kind == "zip":
            self.path = str(tmp_path / "data.zip")
            self.obj = ZipStore(self.path, mode="w")
        else:  # pragma: no cover
            raise ValueError(kind)

    def keys(self) -> set[str]:
        if self.kind == "dict":
            return set(self.obj)
        if self.kind == "memory":
            return set(self.obj.store_dict)
        if self.kind == "dir":
            out = set()
            for root, _dirs, files in os.walk(self.obj):
                for f in files:
                    out.add(os.path.relpath(os.path.join(root, f), self.obj).replace(os.sep, "/"))
            return out
        return set(self.obj.list())

    def raw(self, key: str) -> bytes:
        if self.kind == "dict":
            return self.obj[key]
        if self.kind == "memory":
            return bytes(self.obj.store_dict[key])
        if self.kind == "dir":
            with open(os.path.join(self.obj, *key.split("/")), "rb") as f:
                return f.read()
        return self.obj.get(key)

    def for_reading(self):
        """What to pass to ``open_array`` to read what was written (zip: finish the archive, reopen by path)."""
        if self.kind == "zip":
            self.obj.close()
            return self.path
        return self.obj

    def close(self) -> None:
        if self.kind == "zip":
            self.obj.close()


# fixtures: test modules import them by name (``from array_helpers import rw_store, store``)
@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    case = StoreCase(request.param, tmp_path)
    yield case
    case.close()


@pytest.fixture(params=REWRITABLE)
def rw_store(request, tmp_path):
    case = StoreCase(request.param, tmp_path)
    yield case
    case.close()


def ckey(fmt: int, *coords: int, prefix: str = "") -> str:
    """The default chunk key of each format."""
    key = ("c/" + "/".join(map(str, coords)) if coords else "c") if fmt == 3 else (".".join(map(str, coords)) or "0")
    return prefix + key


def chunk_keys(keys: set[str]) -> set[str]:
    return {k for k in keys if k.rsplit("/", 1)[-1] not in ("zarr.json", ".zarray", ".zattrs", ".zgroup")}


def meta_doc(fmt: int, raw_get) -> dict:
    return json.loads(raw_get("zarr.json" if fmt == 3 else ".zarray"))


# the 2-D reference values of the creation, indexing and protocol tests
REF2D = np.arange(13 * 17, dtype="i4").reshape(13, 17) * 3 - 100
