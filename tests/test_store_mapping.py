"""MappingStore: the conformance suite over a non-dict MutableMapping, plus a plain dict."""
from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from pathlib import Path

import pytest

from zarrfast.storage import MappingStore, Store
from zarrfast.testing.store_tests import StoreTests


class UserMapping(MutableMapping[str, bytes]):
    """A minimal user-defined mapping (not thread-safe on its own)."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        return self.data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __reduce__(self) -> tuple:
        return (_rebuild_user_mapping, (self.data,))


def _rebuild_user_mapping(data: dict[str, bytes]) -> UserMapping:
    m = UserMapping()
    m.data.update(data)
    return m


class TestMappingStore(StoreTests):
    store_cls = MappingStore
    pickle_keeps_equality = False

    def make_store(self, tmp_path: Path) -> Store:
        return MappingStore(UserMapping())

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        assert isinstance(store, MappingStore)
        store.mapping[key] = value

    def get_raw(self, store: Store, key: str) -> bytes | None:
        assert isinstance(store, MappingStore)
        return store.mapping.get(key)


def test_plain_dict_like_zarr_python_2() -> None:
    data = {".zgroup": b'{"zarr_format": 2}', "x/.zarray": b"{}", "x/0.0": b"\x01\x02"}
    store = MappingStore(data)
    assert sorted(store.list_dir("")) == [".zgroup", "x"]
    assert sorted(store.list_dir("x")) == [".zarray", "0.0"]
    assert sorted(store.list_prefix("x/")) == ["x/.zarray", "x/0.0"]
    store.set("x/0.1", b"\x03")
    assert data["x/0.1"] == b"\x03"
    store.delete_prefix("x/")
    assert list(data) == [".zgroup"]


def test_rejects_non_mapping() -> None:
    with pytest.raises(TypeError, match="MutableMapping"):
        MappingStore([("a", b"b")])  # type: ignore[arg-type]


def test_partial_reads_flag() -> None:
    assert MappingStore({}).supports_partial_reads is False
