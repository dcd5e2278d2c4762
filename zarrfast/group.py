"""``Group``: a Zarr v2/v3 group and the hierarchy functions (open_group, consolidate_metadata, save, load ...).

Semantics follow zarr-python 3. Differences on purpose:

* v2 *implicit* groups: a directory without ``.zgroup`` that holds an array or group further down is
  listed and opened as a group (zarr-python 2 wrote such stores; zarr-python 3 skips them);
* names with empty segments (``"a//b"``) are rejected (zarr-python 3 collapses them);
* ``require_array`` also checks the dtype (zarr-python 3 only checks the shape);
* ``move`` works (zarr-python 3 raises ``NotImplementedError``); ``load`` of a group gives a lazy dict.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .array import Array
from .attributes import Attributes
from .errors import (
    ContainsArrayError,
    ContainsNodeError,
    GroupNotFoundError,
    MetadataError,
    NodeNotFoundError,
    ReadOnlyError,
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
from .metadata.model import load_json, to_json_value
from .node import Node as NodeBase
from .nodes import check_can_create, clear_node, doc_key, normalize_path, read_node, write_metadata
from .storage import make_store

__all__ = [
    "Group", "GroupInfo", "IncompatibleNodeError", "MemberNotFoundError", "TreeRepr", "consolidate_metadata",
    "copy_store", "create_group", "group", "load", "open_consolidated", "open_group", "save", "save_array",
    "save_group", "tree",
]

_DOC_NAMES = frozenset(("zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"))
_ZMETADATA = ".zmetadata"
# key order of a v2 array inside zarr-python 3's .zmetadata
_V2_CONSOLIDATED_ORDER = ("shape", "chunks", "dtype", "fill_value", "order", "filters", "dimension_separator",
                          "compressor", "zarr_format")

Node = ArrayMetadata | GroupMetadata


class MemberNotFoundError(NodeNotFoundError, KeyError):
    """``group[name]`` when there is no such member (a ``KeyError``, as for a dict)."""


class IncompatibleNodeError(ContainsNodeError, TypeError):
    """``require_group`` / ``require_array`` found a node of the other kind or of another shape/dtype."""


class TreeRepr(str):
    """The text of ``Group.tree()``; ``repr`` prints the tree itself, as zarr-python's ``TreeRepr``."""

    def __repr__(self) -> str:
        return str(self)


@dataclasses.dataclass
class GroupInfo:
    _name: str
    _read_only: bool
    _store_type: str
    _zarr_format: int
    _count_members: int | None = None
    _count_arrays: int | None = None
    _count_groups: int | None = None

    def __repr__(self) -> str:
        lines = [f"Name        : {self._name}", "Type        : Group", f"Zarr format : {self._zarr_format}",
                 f"Read-only   : {self._read_only}", f"Store type  : {self._store_type}"]
        if self._count_members is not None:
            lines += [f"No. members : {self._count_members}", f"No. arrays  : {self._count_arrays}",
                      f"No. groups  : {self._count_groups}"]
        return "\n".join(lines)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path and name else (path or name)


def _member_name(name: Any) -> str:
    """A relative member path: leading/trailing '/' dropped; no empty, '.' or '..' segments."""
    if not isinstance(name, str):
        raise TypeError(f"member names are str, not {type(name).__name__}")
    rel = normalize_path(name)
    if not rel:
        raise MetadataError(f"invalid member name {name!r}: it may not be empty")
    return rel


# ---------------------------------------------------------------------------------------------- reading nodes
def _is_implicit_v2(store: Any, path: str) -> bool:
    """Whether ``path`` is a directory with a v2 array or group somewhere below it."""
    prefix = path + "/" if path else ""
    for key in store.list_prefix(prefix):
        if key.rsplit("/", 1)[-1] in (".zarray", ".zgroup"):
            return True
    return False


def _read_group_meta(store: Any, path: str, zarr_format: int | None, use_consolidated: Any) -> Node | None:
    """The node at ``path``, reading consolidated metadata along with it (one key when it is there)."""
    if zarr_format in (None, 3):
        raw = store.get(doc_key(path, "zarr.json"))
        if raw is not None:
            return parse_node_v3(raw, path=path or "/")
    if zarr_format in (None, 2):
        if use_consolidated is not False:
            key = use_consolidated if isinstance(use_consolidated, str) else _ZMETADATA
            raw = store.get(doc_key(path, key))
            if raw is not None:
                zwhere = doc_key(path, key)
                zmeta = load_json(raw, zwhere)  # a corrupt document is a MetadataError naming it
                docs = zmeta.get("metadata")
                if not isinstance(docs, dict):
                    raise MetadataError(f"{zwhere}: field 'metadata' must be an object, got {docs!r:.80}")
                if ".zgroup" in docs:
                    return parse_group_v2(docs[".zgroup"], docs.get(".zattrs"), path=path or "/", zmetadata=zmeta)
        try:
            return read_node(store, path, 2)
        except NodeNotFoundError:
            pass
        if _is_implicit_v2(store, path):
            return GroupMetadata(zarr_format=2)
    return None


def _flatten_consolidated(meta: GroupMetadata, path: str) -> dict[str, Node]:
    """relative path -> metadata of every node in the consolidated document."""
    cm = meta.consolidated_metadata or {}
    docs = cm.get("metadata") or {}
    out: dict[str, Node] = {}
    if meta.zarr_format == 3:
        for rel, doc in docs.items():
            out[rel.strip("/")] = parse_node_v3(doc, path=_join(path, rel))
        return out
    for key, doc in docs.items():
        rel, _, name = key.rpartition("/")
        if not rel:
            continue
        if name == ".zarray":
            out[rel] = parse_array_v2(doc, docs.get(f"{rel}/.zattrs"), path=_join(path, rel))
        elif name == ".zgroup":
            out[rel] = parse_group_v2(doc, docs.get(f"{rel}/.zattrs"), path=_join(path, rel))
    return out


# ---------------------------------------------------------------------------------------------- Group
class Group(NodeBase):
    """A Zarr v2 or v3 group. Create one with :func:`zarrfast.create_group` / open with :func:`zarrfast.open_group`."""

    def __init__(self, store: Any, path: str, metadata: GroupMetadata, *, read_only: bool = False,
                 consolidated: dict[str, Node] | None = None) -> None:
        self._store = store
        self._path = path
        self._metadata = metadata
        self._read_only = read_only or bool(getattr(store, "read_only", False))
        self._consolidated = consolidated

    # ---- description -------------------------------------------------------------------------------------







    @property
    def attrs(self) -> Attributes:
        return Attributes(lambda: self._metadata.attributes, self._put_attributes, self._read_only, self.name)

    @property
    def info(self) -> GroupInfo:
        return GroupInfo(self._path, self._read_only, type(self._store).__name__, self.zarr_format)

    def info_complete(self) -> GroupInfo:
        members = [node for _, node in self.members(max_depth=None)]
        n_arrays = sum(isinstance(m, Array) for m in members)
        return GroupInfo(self._path, self._read_only, type(self._store).__name__, self.zarr_format,
                         len(members), n_arrays, len(members) - n_arrays)

    def __repr__(self) -> str:
        return f"<zarrfast.Group {self._store!r}{self.name}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self._store == other._store and self._path == other._path

    __hash__ = None  # type: ignore[assignment]

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"group {self.name!r} is read-only")

    def _put_attributes(self, attributes: dict) -> None:
        self._check_writable()
        meta = dataclasses.replace(self._metadata, attributes=attributes)
        cm = meta.consolidated_metadata
        if meta.zarr_format == 2 and cm is not None:  # keep the root attributes inside .zmetadata current
            cm = {**cm, "metadata": {**cm.get("metadata", {}), ".zattrs": attributes}}
            meta = dataclasses.replace(meta, consolidated_metadata=None)
            write_metadata(self._store, self._path, meta)
            _write_zmetadata(self._store, self._path, cm)
            meta = dataclasses.replace(meta, consolidated_metadata=cm)
        else:
            write_metadata(self._store, self._path, meta)
        self._metadata = meta

    def update_attributes(self, new_attributes: dict) -> Group:
        self.attrs.update(new_attributes)
        return self

    # ---- members -----------------------------------------------------------------------------------------
    def _lookup(self, rel: str) -> Node | None:
        if self._consolidated is not None:
            meta = self._consolidated.get(rel)
            if meta is not None:
                return meta
        full = _join(self._path, rel)
        try:
            return read_node(self._store, full, self.zarr_format)
        except NodeNotFoundError:
            pass
        if self.zarr_format == 2 and _is_implicit_v2(self._store, full):
            return GroupMetadata(zarr_format=2)
        return None

    def _make(self, rel: str, meta: Node) -> Array | Group:
        full = _join(self._path, rel)
        if isinstance(meta, ArrayMetadata):
            return Array(self._store, full, meta, read_only=self._read_only)
        sub = None
        if self._consolidated is not None:
            pre = rel + "/"
            sub = {k[len(pre):]: v for k, v in self._consolidated.items() if k.startswith(pre)}
        return Group(self._store, full, meta, read_only=self._read_only, consolidated=sub)

    def _children(self) -> list[tuple[str, Node]]:
        """Immediate children, sorted by name."""
        if self._consolidated is not None:
            return sorted((k, v) for k, v in self._consolidated.items() if "/" not in k)
        prefix = self._path + "/" if self._path else ""
        names = sorted(n for n in self._store.list_dir(prefix) if n not in _DOC_NAMES)
        out: list[tuple[str, Node]] = []
        if self.zarr_format == 3:
            docs = self._store.get_many([f"{prefix}{n}/zarr.json" for n in names])
            for n, raw in zip(names, docs):
                if raw is not None:
                    out.append((n, parse_node_v3(raw, path=prefix + n)))
            return out
        docs = self._store.get_many([f"{prefix}{n}/{d}" for n in names for d in (".zarray", ".zgroup", ".zattrs")])
        for i, n in enumerate(names):
            zarray, zgroup, zattrs = docs[3 * i:3 * i + 3]
            if zarray is not None:
                out.append((n, parse_array_v2(zarray, zattrs, path=prefix + n)))
            elif zgroup is not None:
                out.append((n, parse_group_v2(zgroup, zattrs, path=prefix + n)))
            elif _is_implicit_v2(self._store, prefix + n):
                out.append((n, GroupMetadata(zarr_format=2)))
        return out

    def _walk(self, max_depth: int | None, depth: int = 0, prefix: str = "") -> Iterator[tuple[str, Any]]:
        for name, meta in self._children():
            node = self._make(name, meta)
            yield prefix + name, node
            if isinstance(node, Group) and (max_depth is None or depth < max_depth):
                yield from node._walk(max_depth, depth + 1, prefix + name + "/")

    def members(self, max_depth: int | None = 0, *, use_consolidated_for_children: bool = True
                ) -> tuple[tuple[str, Array | Group], ...]:
        """``(relative path, node)`` pairs; ``max_depth=0`` lists the children, ``None`` the whole subtree."""
        if max_depth is not None and max_depth < 0:
            raise ValueError(f"max_depth must be None or >= 0, not {max_depth}")
        return tuple(self._walk(max_depth))

    def keys(self) -> Iterator[str]:
        return iter([name for name, _ in self._children()])

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return len(self._children())

    def __contains__(self, name: object) -> bool:
        try:
            rel = _member_name(name)
        except (TypeError, MetadataError):
            return False
        return self._lookup(rel) is not None

    def __getitem__(self, name: str) -> Array | Group:
        rel = _member_name(name)
        meta = self._lookup(rel)
        if meta is None:
            raise MemberNotFoundError(name)
        return self._make(rel, meta)

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default

    def __setitem__(self, name: str, value: Any) -> None:
        self.create_array(name, data=np.asarray(value), overwrite=True)

    def __delitem__(self, name: str) -> None:
        self._check_writable()
        rel = _member_name(name)
        if self._lookup(rel) is None:
            raise MemberNotFoundError(name)
        clear_node(self._store, _join(self._path, rel))
        self._consolidated = None

    def arrays(self) -> Iterator[tuple[str, Array]]:
        return iter([(n, self._make(n, m)) for n, m in self._children() if isinstance(m, ArrayMetadata)])

    def groups(self) -> Iterator[tuple[str, Group]]:
        return iter([(n, self._make(n, m)) for n, m in self._children() if isinstance(m, GroupMetadata)])

    def array_keys(self) -> Iterator[str]:
        return iter([n for n, m in self._children() if isinstance(m, ArrayMetadata)])

    def group_keys(self) -> Iterator[str]:
        return iter([n for n, m in self._children() if isinstance(m, GroupMetadata)])

    def array_values(self) -> Iterator[Array]:
        return (a for _, a in self.arrays())

    def group_values(self) -> Iterator[Group]:
        return (g for _, g in self.groups())

    # ---- creating ----------------------------------------------------------------------------------------
    def _ensure_parents(self, rel: str) -> None:
        """Write group documents for missing intermediate groups of ``rel`` (as zarr-python does)."""
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            meta = self._lookup(sub)
            if meta is None:
                write_metadata(self._store, _join(self._path, sub), GroupMetadata(zarr_format=self.zarr_format))
            elif isinstance(meta, ArrayMetadata):
                raise ContainsArrayError(f"an array exists at path {_join(self._path, sub)!r} in {self._store!r}")

    def create_group(self, name: str, *, overwrite: bool = False, attributes: dict | None = None,
                     **kwargs: Any) -> Group:
        self._check_writable()
        rel = _member_name(name)
        self._ensure_parents(rel)
        full = _join(self._path, rel)
        check_can_create(self._store, full, overwrite)
        meta = GroupMetadata(zarr_format=self.zarr_format, attributes=dict(attributes or {}))
        write_metadata(self._store, full, meta)
        self._consolidated = None
        return Group(self._store, full, meta, read_only=self._read_only)

    def require_group(self, name: str, *, overwrite: bool = False, **kwargs: Any) -> Group:
        if overwrite:
            return self.create_group(name, overwrite=True, **kwargs)
        rel = _member_name(name)
        meta = self._lookup(rel)
        if meta is None:
            return self.create_group(name, **kwargs)
        if isinstance(meta, ArrayMetadata):
            raise IncompatibleNodeError(f"an array, not a group, exists at {_join(self._path, rel)!r}")
        return self._make(rel, meta)  # type: ignore[return-value]

    def require_groups(self, *names: str) -> tuple[Group, ...]:
        return tuple(self.require_group(n) for n in names)

    def create_array(self, name: str, **kwargs: Any) -> Array:
        from .api import create_array

        self._check_writable()
        rel = _member_name(name)
        fmt = kwargs.pop("zarr_format", None)
        if fmt is not None and int(fmt) != self.zarr_format:
            raise MetadataError(f"a zarr_format {self.zarr_format} group can't hold a zarr_format {fmt} array")
        kwargs.pop("path", None)
        self._ensure_parents(rel)
        arr = create_array(self._store, name=_join(self._path, rel), zarr_format=self.zarr_format, **kwargs)
        self._consolidated = None
        return arr

    create_dataset = create_array

    def require_array(self, name: str, *, shape: Any, dtype: Any = None, exact: bool = False,
                      **kwargs: Any) -> Array:
        rel = _member_name(name)
        meta = self._lookup(rel)
        if meta is None:
            return self.create_array(name, shape=shape, dtype=dtype, **kwargs)
        if isinstance(meta, GroupMetadata):
            raise IncompatibleNodeError(f"a group, not an array, exists at {_join(self._path, rel)!r}")
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        if shape != tuple(meta.shape):
            raise IncompatibleNodeError(f"incompatible shape ({meta.shape} vs {shape})")
        if dtype is not None:
            want = np.dtype(dtype)
            if (want != meta.dtype) if exact else not np.can_cast(want, meta.dtype):
                raise IncompatibleNodeError(f"incompatible dtype ({meta.dtype} vs {want})")
        return self._make(rel, meta)  # type: ignore[return-value]

    def zeros(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=0, **kwargs)

    def ones(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=1, **kwargs)

    def full(self, name: str, *, shape: Any, fill_value: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, fill_value=fill_value, **kwargs)

    def empty(self, name: str, *, shape: Any, **kwargs: Any) -> Array:
        return self.create_array(name, shape=shape, **kwargs)

    def move(self, source: str, dest: str) -> None:
        """Move the member ``source`` to ``dest`` (paths relative to this group); ``dest`` must not exist."""
        self._check_writable()
        src, dst = _member_name(source), _member_name(dest)
        if self._lookup(src) is None:
            raise MemberNotFoundError(source)
        if dst == src or dst.startswith(src + "/"):
            raise ValueError(f"can't move {source!r} into itself ({dest!r})")
        if self._lookup(dst) is not None:
            raise ContainsNodeError(f"a node already exists at {_join(self._path, dst)!r}")
        self._ensure_parents(dst)
        src_full, dst_full = _join(self._path, src), _join(self._path, dst)
        keys = list(self._store.list_prefix(src_full + "/"))
        for i in range(0, len(keys), 256):
            batch = keys[i:i + 256]
            values = self._store.get_many(batch)
            self._store.set_many([(dst_full + k[len(src_full):], v) for k, v in zip(batch, values) if v is not None])
        self._store.delete_prefix(src_full + "/")
        self._consolidated = None

    # ---- display -----------------------------------------------------------------------------------------
    def tree(self, expand: bool | None = None, level: int | None = None, *, max_nodes: int = 500,
             plain: bool = False) -> TreeRepr:
        """The hierarchy as text: groups by name, arrays with shape and dtype (zarr-python's layout)."""
        members: list[tuple[str, Any]] = []
        truncated = False
        for item in self._walk(level):
            if len(members) == max_nodes:
                truncated = True
                break
            members.append(item)
        members.sort(key=lambda kv: kv[0])
        children: dict[str, list[tuple[str, Any]]] = {}
        for key, node in members:
            children.setdefault(key.rsplit("/", 1)[0] if "/" in key else "", []).append((key, node))
        lines = [self.name]

        def render(parent: str, prefix: str) -> None:
            kids = children.get(parent, [])
            for i, (key, node) in enumerate(kids):
                last = i == len(kids) - 1
                label = key.rsplit("/", 1)[-1]
                if isinstance(node, Array):
                    label += f" {node.shape} {node.dtype}"
                lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
                render(key, prefix + ("    " if last else "│   "))

        render("", "")
        note = f"Truncated at max_nodes={max_nodes}, some nodes and their children may be missing\n" if truncated \
            else ""
        return TreeRepr(note + "\n".join(lines) + "\n")


# ---------------------------------------------------------------------------------------------- top-level API
def _check_mode(mode: str | None) -> str:
    mode = mode or "a"
    if mode not in ("r", "r+", "a", "w", "w-", "x"):
        raise ValueError(f"invalid mode {mode!r}")
    return mode


def _new_group(st: Any, path: str, zarr_format: int | None, attributes: dict | None, overwrite: bool) -> Group:
    fmt = 3 if zarr_format is None else int(zarr_format)
    if fmt not in (2, 3):
        raise MetadataError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    check_can_create(st, path, overwrite)
    meta = GroupMetadata(zarr_format=fmt, attributes=dict(attributes or {}))
    write_metadata(st, path, meta)
    return Group(st, path, meta)


def _group_from_meta(st: Any, path: str, meta: Node, use_consolidated: Any, read_only: bool = False) -> Group:
    if isinstance(meta, ArrayMetadata):
        raise ContainsArrayError(f"path {path or '/'!r} in {st!r} holds an array, not a group")
    consolidated = None
    if meta.consolidated_metadata is not None and use_consolidated is not False:
        consolidated = _flatten_consolidated(meta, path)
    elif use_consolidated is True:
        raise MetadataError(f"consolidated metadata requested with use_consolidated=True but not found at "
                            f"path {path or '/'!r} in {st!r}")
    return Group(st, path, meta, read_only=read_only, consolidated=consolidated)


def open_group(store: Any = None, *, mode: str = "a", path: str | None = None, zarr_format: int | None = None,
               attributes: dict | None = None, storage_options: dict | None = None,
               use_consolidated: bool | str | None = None, zarr_version: int | None = None,
               cache_attrs: Any = None, synchronizer: Any = None, chunk_store: Any = None,
               meta_array: Any = None) -> Group:
    """Open a group; mode 'a' creates it if missing, 'w' overwrites, 'w-'/'x' fail if something exists."""
    mode = _check_mode(mode)
    zarr_format = zarr_format or zarr_version
    st = make_store(store, mode=mode, storage_options=storage_options)
    node_path = normalize_path(path)
    if mode in ("w", "w-", "x"):
        return _new_group(st, node_path, zarr_format, attributes, overwrite=mode == "w")
    meta = _read_group_meta(st, node_path, zarr_format, use_consolidated)
    if meta is None:
        if mode == "a":
            return _new_group(st, node_path, zarr_format, attributes, overwrite=False)
        raise GroupNotFoundError(f"no group at path {node_path or '/'!r} in {st!r}")
    if isinstance(meta, ArrayMetadata):
        if mode in ("r", "r+"):
            raise GroupNotFoundError(f"path {node_path or '/'!r} in {st!r} holds an array, not a group")
        raise ContainsArrayError(f"path {node_path or '/'!r} in {st!r} holds an array, not a group")
    return _group_from_meta(st, node_path, meta, use_consolidated, read_only=mode == "r")


def group(store: Any = None, *, overwrite: bool = False, path: str | None = None, zarr_format: int | None = None,
          attributes: dict | None = None, storage_options: dict | None = None, zarr_version: int | None = None,
          **kwargs: Any) -> Group:
    """Create a group or open the existing one (``overwrite=True`` replaces it)."""
    return open_group(store, mode="w" if overwrite else "a", path=path, zarr_format=zarr_format or zarr_version,
                      attributes=attributes, storage_options=storage_options)


def create_group(store: Any, *, path: str | None = None, zarr_format: int | None = None, overwrite: bool = False,
                 attributes: dict | None = None, storage_options: dict | None = None) -> Group:
    """Create a new group; raises ContainsGroupError / ContainsArrayError if a node exists (unless overwrite)."""
    st = make_store(store, mode="w" if overwrite else "a", storage_options=storage_options)
    return _new_group(st, normalize_path(path), zarr_format, attributes, overwrite)


def _write_zmetadata(store: Any, path: str, cm: dict) -> None:
    data = json.dumps(to_json_value(cm, _ZMETADATA), allow_nan=True).encode()
    store.set(doc_key(path, _ZMETADATA), data)


def _v2_group_doc() -> dict:
    return {"zarr_format": 2, "consolidated_metadata": {"metadata": {}, "must_understand": False, "kind": "inline"}}


def consolidate_metadata(store: Any, path: str | None = None, zarr_format: int | None = None) -> Group:
    """Gather the metadata of every node below the group at ``path`` into that group (as zarr-python 3 does):
    v3 -> ``consolidated_metadata`` in its ``zarr.json``; v2 -> a ``.zmetadata`` document. Returns the group."""
    st = make_store(store, mode="a")
    node_path = normalize_path(path)
    meta = _read_group_meta(st, node_path, zarr_format, use_consolidated=False)
    if meta is None or isinstance(meta, ArrayMetadata):
        raise GroupNotFoundError(f"no group at path {node_path or '/'!r} in {st!r}")
    plain = dataclasses.replace(meta, consolidated_metadata=None)
    grp = Group(st, node_path, plain)
    members = sorted(grp.members(max_depth=None), key=lambda kv: kv[0])
    if meta.zarr_format == 3:
        docs: dict[str, Any] = {}
        for rel, node in members:
            if isinstance(node, Array):
                docs[rel] = json.loads(array_metadata_to_json(node.metadata)["zarr.json"])
            else:
                sub = dataclasses.replace(node.metadata, consolidated_metadata={
                    "kind": "inline", "must_understand": False, "metadata": {}})
                docs[rel] = json.loads(group_metadata_to_json(sub)["zarr.json"])
        cm = {"kind": "inline", "must_understand": False, "metadata": docs}
        new = dataclasses.replace(plain, consolidated_metadata=cm)
        write_metadata(st, node_path, new)
    else:
        d: dict[str, Any] = {".zgroup": {"zarr_format": 2}, ".zattrs": plain.attributes}
        for rel, node in members:
            d[f"{rel}/.zattrs"] = node.metadata.attributes
            if isinstance(node, Array):
                zarray = json.loads(array_metadata_to_json(node.metadata)[".zarray"])
                d[f"{rel}/.zarray"] = {k: zarray[k] for k in _V2_CONSOLIDATED_ORDER if k in zarray} | zarray
            else:
                d[f"{rel}/.zgroup"] = _v2_group_doc()
        cm = {"metadata": d, "zarr_consolidated_format": 1}
        write_metadata(st, node_path, plain)
        _write_zmetadata(st, node_path, cm)
        new = dataclasses.replace(plain, consolidated_metadata=cm)
    return _group_from_meta(st, node_path, new, True)


def open_consolidated(store: Any = None, *, metadata_key: str | None = None, use_consolidated: bool | str = True,
                      **kwargs: Any) -> Group:
    """Open a group with its consolidated metadata (an error if there is none)."""
    if metadata_key is not None:
        use_consolidated = metadata_key
    return open_group(store, use_consolidated=use_consolidated, **kwargs)


def tree(grp: Group, expand: bool | None = None, level: int | None = None) -> TreeRepr:
    return grp.tree(expand=expand, level=level)


def save_array(store: Any, arr: Any, *, zarr_format: int | None = None, path: str | None = None,
               storage_options: dict | None = None, zarr_version: int | None = None, **kwargs: Any) -> None:
    """Write one numpy array to ``store`` (at ``path``), replacing what was there."""
    from .api import create_array

    data = np.asarray(arr)
    kwargs.pop("mode", None)
    create_array(store, name=path, data=data, zarr_format=zarr_format or zarr_version or 3, overwrite=True,
                 storage_options=storage_options, **kwargs)


def save_group(store: Any, *args: Any, zarr_format: int | None = None, path: str | None = None,
               storage_options: dict | None = None, zarr_version: int | None = None, **kwargs: Any) -> None:
    """Write arrays into a group: positional ones as ``arr_0``, ``arr_1`` ..., keyword ones by name."""
    if not args and not kwargs:
        raise ValueError("at least one array must be provided")
    fmt = zarr_format or zarr_version or 3
    st = make_store(store, mode="a", storage_options=storage_options)
    root = normalize_path(path)
    grp = open_group(st, mode="w", path=root, zarr_format=fmt)
    items = [(f"arr_{i}", a) for i, a in enumerate(args)] + list(kwargs.items())
    for name, a in items:
        grp.create_array(name, data=np.asarray(a), overwrite=True)


def save(store: Any, *args: Any, zarr_format: int | None = None, path: str | None = None,
         storage_options: dict | None = None, zarr_version: int | None = None, **kwargs: Any) -> None:
    """One positional array and no keywords: :func:`save_array`; otherwise :func:`save_group`."""
    if len(args) == 0 and len(kwargs) == 0:
        raise ValueError("at least one array must be provided")
    if len(args) == 1 and not kwargs:
        save_array(store, args[0], zarr_format=zarr_format or zarr_version, path=path,
                   storage_options=storage_options)
    else:
        save_group(store, *args, zarr_format=zarr_format or zarr_version, path=path,
                   storage_options=storage_options, **kwargs)


class LazyLoader(Mapping):
    """``load`` of a group: name -> numpy array, each read when first asked for."""

    def __init__(self, grp: Group) -> None:
        self._group = grp
        self._names = list(grp.array_keys())
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._cache:
            self._cache[name] = self._group[name][...]
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<LazyLoader: {', '.join(self._names)}>"


def load(store: Any, path: str | None = None, zarr_format: int | None = None, zarr_version: int | None = None
         ) -> Any:
    """An array's data as numpy, or for a group a lazy mapping of its arrays' names to numpy arrays."""
    from .api import open as _open

    obj = _open(store, mode="r", path=path, zarr_format=zarr_format or zarr_version)
    if isinstance(obj, Array):
        return obj[...]
    return LazyLoader(obj)


def copy_store(source: Any, dest: Any, source_path: str = "", dest_path: str = "", excluded: Any = None,
               if_exists: str = "raise") -> tuple[int, int, int]:
    """Copy every key under ``source_path`` to ``dest_path``; returns (copied, skipped, bytes copied)."""
    src = make_store(source, mode="r")
    dst = make_store(dest, mode="a")
    sp, dp = normalize_path(source_path), normalize_path(dest_path)
    if if_exists not in ("raise", "replace", "skip"):
        raise ValueError(f"if_exists must be 'raise', 'replace' or 'skip', not {if_exists!r}")
    excluded = [excluded] if isinstance(excluded, str) else list(excluded or [])
    keys = sorted(src.list_prefix(sp + "/" if sp else ""))
    n_copied = n_skipped = n_bytes = 0
    for i in range(0, len(keys), 256):
        batch = [k for k in keys[i:i + 256] if not any(k.startswith(e) for e in excluded)]
        n_skipped += min(256, len(keys) - i) - len(batch)
        values = src.get_many(batch)
        targets = [dp + k[len(sp):] if sp else (_join(dp, k)) for k in batch]
        targets = [t.lstrip("/") for t in targets]
        out = []
        for t, v in zip(targets, values):
            if v is None:
                continue
            if if_exists != "replace" and dst.exists(t):
                if if_exists == "raise":
                    raise ContainsNodeError(f"key {t!r} already exists in {dst!r}")
                n_skipped += 1
                continue
            out.append((t, v))
            n_bytes += len(v)
        dst.set_many(out)
        n_copied += len(out)
    return n_copied, n_skipped, n_bytes
