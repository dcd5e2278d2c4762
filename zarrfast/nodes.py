"""Finding, reading and writing node metadata documents in a store."""
from __future__ import annotations

import json
from typing import Any

from .errors import (
    ArrayNotFoundError,
    ContainsArrayError,
    ContainsGroupError,
    InvalidNodePathError,
    NodeNotFoundError,
)
from .metadata import (
    ArrayMetadata,
    GroupMetadata,
    array_metadata_to_json,
    group_metadata_to_json,
    parse_array_v2,
    parse_group_v2,
    parse_node_v3,
)


def normalize_path(path: str | None) -> str:
    """'' for the root; no leading/trailing slashes; :class:`InvalidNodePathError` for '.', '..' or empty segments,
    backslashes and NUL bytes (such a path could name something outside the store's root)."""
    if path is None:
        return ""
    given = path
    path = str(path).strip("/")
    if not path:
        return ""
    parts = path.split("/")
    for p in parts:
        if p in ("", ".", "..") or "\x00" in p or "\\" in p:
            raise InvalidNodePathError(f"invalid node path {given!r}: segments may not be empty, '.' or '..', "
                                       "nor hold a backslash or a NUL byte")
    return "/".join(parts)


def doc_key(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def read_node(store: Any, path: str, zarr_format: int | None = None) -> ArrayMetadata | GroupMetadata:
    """Metadata of the array or group at ``path`` (v3 first unless ``zarr_format`` says otherwise)."""
    where = path or "/"
    if zarr_format in (None, 3):
        raw = store.get(doc_key(path, "zarr.json"))
        if raw is not None:
            return parse_node_v3(raw, path=where)
    if zarr_format in (None, 2):
        zarray, zgroup, zattrs = store.get_many([doc_key(path, ".zarray"), doc_key(path, ".zgroup"),
                                                 doc_key(path, ".zattrs")])
        if zarray is not None:
            return parse_array_v2(zarray, zattrs, path=where)
        if zgroup is not None:
            return parse_group_v2(zgroup, zattrs, path=where)
    raise NodeNotFoundError(f"no array or group at path {where!r} in {store!r}")


def read_array_metadata(store: Any, path: str, zarr_format: int | None = None) -> ArrayMetadata:
    try:
        meta = read_node(store, path, zarr_format)
    except NodeNotFoundError:
        raise ArrayNotFoundError(f"no array at path {path or '/'!r} in {store!r}") from None
    if not isinstance(meta, ArrayMetadata):
        raise ArrayNotFoundError(f"path {path or '/'!r} in {store!r} holds a group, not an array")
    return meta


def node_exists(store: Any, path: str) -> str | None:
    """'array', 'group' or None."""
    try:
        meta = read_node(store, path)
    except NodeNotFoundError:
        return None
    return "array" if isinstance(meta, ArrayMetadata) else "group"


def write_metadata(store: Any, path: str, meta: ArrayMetadata | GroupMetadata) -> None:
    docs = array_metadata_to_json(meta) if isinstance(meta, ArrayMetadata) else group_metadata_to_json(meta)
    store.set_many([(doc_key(path, name), data) for name, data in docs.items()])
    if meta.zarr_format == 2 and ".zattrs" not in docs:
        store.delete(doc_key(path, ".zattrs"))


def clear_node(store: Any, path: str) -> None:
    """Delete everything stored under ``path`` (the whole store for the root)."""
    if path:
        store.delete_prefix(path + "/")
    else:
        store.delete_prefix("")


def check_can_create(store: Any, path: str, overwrite: bool) -> None:
    kind = node_exists(store, path)
    if kind is None:
        return
    if overwrite:
        clear_node(store, path)
        return
    err = ContainsArrayError if kind == "array" else ContainsGroupError
    raise err(f"an {kind} already exists at path {path or '/'!r} in {store!r} (pass overwrite=True)")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, indent=2).encode()
