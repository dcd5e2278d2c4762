"""Helpers of ``zarrfast info`` / ``zarrfast tree``: node summaries as JSON-ready dicts and as text.

Only the public Array / Group API is used. The key names below are the documented ``info --json`` schema.
"""
from __future__ import annotations

import json
from typing import Any

ARRAY_KEYS = ("type", "path", "zarr_format", "shape", "dtype", "data_type", "chunks", "shards", "order", "codecs",
              "compressor", "filters", "fill_value", "dimension_names", "attributes_count", "nbytes", "nbytes_stored",
              "compression_ratio", "nchunks", "nchunks_initialized", "nshards", "nshards_initialized")
GROUP_KEYS = ("type", "path", "zarr_format", "attributes_count", "members_count", "arrays_count", "groups_count",
              "nbytes", "nbytes_stored", "arrays")

JSON_HELP = """\
--json prints one JSON object. For an array:
  type ("array"), path (node path inside the store, "" for the root), zarr_format,
  shape, dtype (numpy's name), data_type (as written in the metadata: the v3 data_type or the v2
  dtype string), chunks (the inner chunk shape when sharded), shards (shard shape or null), order,
  codecs (v3 codec chain as in zarr.json, null for v2), compressor and filters (v2 numcodecs-style
  JSON, null for v3), fill_value (as written in the metadata), dimension_names (list or null),
  attributes_count, nbytes (logical bytes: prod(shape) * itemsize), nbytes_stored (bytes under the
  array's prefix, metadata documents included), compression_ratio (nbytes / nbytes_stored, null if
  nothing is stored), nchunks / nchunks_initialized (chunks in the grid / stored; for sharded
  arrays inner chunks, counted as zarr-python does), nshards / nshards_initialized (null unless sharded).
For a group:
  type ("group"), path, zarr_format, attributes_count, members_count (direct children),
  arrays_count and groups_count (whole subtree), nbytes and nbytes_stored (sums over the arrays),
  arrays (one object per array in the subtree, with the array keys above; path relative to the group).
"""


def _json_value(value: Any) -> Any:
    from .metadata.model import to_json_value

    try:
        return to_json_value(value)
    except Exception:  # noqa: BLE001  (anything not JSON-able is shown as text)
        return repr(value)


def _fill_value_json(arr: Any) -> Any:
    from .metadata.fill_value import encode_fill_value

    try:
        return _json_value(encode_fill_value(arr.fill_value, arr.dtype, arr.zarr_format))
    except Exception:  # noqa: BLE001
        return _json_value(arr.fill_value)


def array_summary(arr: Any, path: str | None = None) -> dict[str, Any]:
    """The ``info --json`` object of one array."""
    meta = arr.metadata
    v3 = arr.zarr_format == 3
    nbytes = int(arr.nbytes)
    stored = int(arr.nbytes_stored())
    sharded = arr.shards is not None
    out: dict[str, Any] = {
        "type": "array",
        "path": arr.path if path is None else path,
        "zarr_format": arr.zarr_format,
        "shape": list(arr.shape),
        "dtype": str(arr.dtype),
        "data_type": _json_value(meta.data_type),
        "chunks": list(arr.chunks),
        "shards": list(arr.shards) if sharded else None,
        "order": arr.order,
        "codecs": _json_value(list(meta.codecs)) if v3 else None,
        "compressor": None if v3 else _json_value(meta.compressor),
        "filters": None if v3 or meta.filters is None else _json_value(list(meta.filters)),
        "fill_value": _fill_value_json(arr),
        "dimension_names": list(meta.dimension_names) if meta.dimension_names is not None else None,
        "attributes_count": len(dict(arr.attrs)),
        "nbytes": nbytes,
        "nbytes_stored": stored,
        "compression_ratio": round(nbytes / stored, 4) if stored else None,
        "nchunks": int(arr.nchunks),
        "nchunks_initialized": int(arr.nchunks_initialized),
        "nshards": None,
        "nshards_initialized": None,
    }
    if sharded:
        out["nshards"] = 1
        for s, c in zip(arr.shape, arr.shards):
            out["nshards"] *= -(-s // c)
        out["nshards_initialized"] = int(arr.nshards_initialized)
    return out


def group_summary(grp: Any) -> dict[str, Any]:
    """The ``info --json`` object of a group (arrays of the whole subtree summarised)."""
    from .array import Array

    members = grp.members(max_depth=None)
    arrays = [array_summary(node, rel) for rel, node in members if isinstance(node, Array)]
    return {
        "type": "group",
        "path": grp.path,
        "zarr_format": grp.zarr_format,
        "attributes_count": len(dict(grp.attrs)),
        "members_count": sum(1 for rel, _ in members if "/" not in rel),
        "arrays_count": len(arrays),
        "groups_count": len(members) - len(arrays),
        "nbytes": sum(a["nbytes"] for a in arrays),
        "nbytes_stored": sum(a["nbytes_stored"] for a in arrays),
        "arrays": arrays,
    }


def node_summary(node: Any) -> dict[str, Any]:
    from .array import Array

    return array_summary(node) if isinstance(node, Array) else group_summary(node)


# ---- text ------------------------------------------------------------------------------------------------
def _size(n: int) -> str:
    from .progress import format_bytes

    return f"{n} ({format_bytes(n)})" if n >= 1024 else f"{n} B"


def _tuple(values: Any) -> str:
    return "None" if values is None else str(tuple(values))


def codec_names(info: dict[str, Any]) -> str:
    """Short compressor names of an array summary, e.g. ``zstd`` or ``blosc`` (``none`` when uncompressed)."""
    if info["zarr_format"] == 2:
        names = [f.get("id", "?") for f in info["filters"] or ()]
        if info["compressor"]:
            names.append(info["compressor"].get("id", "?"))
        return ",".join(names) or "none"
    chain = info["codecs"] or []
    if len(chain) == 1 and isinstance(chain[0], dict) and chain[0].get("name") == "sharding_indexed":
        chain = (chain[0].get("configuration") or {}).get("codecs") or []
    names = [c.get("name", "?") if isinstance(c, dict) else str(c) for c in chain]
    names = [n for n in names if n not in ("bytes", "vlen-utf8", "vlen-bytes")]
    return ",".join(names) or "none"


def array_line(info: dict[str, Any], name: str | None = None) -> str:
    """One line: name, shape, dtype, chunks/shards, codecs, bytes, ratio and initialised chunks."""
    ratio = f"{info['compression_ratio']:.2f}x" if info["compression_ratio"] else "-"
    parts = [name if name is not None else (info["path"] or "/"), _tuple(info["shape"]), info["dtype"],
             f"chunks={_tuple(info['chunks'])}"]
    if info["shards"] is not None:
        parts.append(f"shards={_tuple(info['shards'])}")
    parts += [f"codecs={codec_names(info)}", f"v{info['zarr_format']}",
              f"{info['nbytes']}B->{info['nbytes_stored']}B ({ratio})",
              f"{info['nchunks_initialized']}/{info['nchunks']} chunks"]
    return "  ".join(parts)


def format_array(info: dict[str, Any]) -> str:
    if info["zarr_format"] == 3:
        codecs = json.dumps(info["codecs"])
    else:
        codecs = f"compressor={json.dumps(info['compressor'])} filters={json.dumps(info['filters'])}"
    rows = [
        ("Type", "array"), ("Path", info["path"] or "/"), ("Zarr format", info["zarr_format"]),
        ("Shape", _tuple(info["shape"])), ("Data type", info["dtype"]),
        ("Metadata data type", json.dumps(info["data_type"])), ("Chunk shape", _tuple(info["chunks"])),
        ("Shard shape", _tuple(info["shards"])), ("Order", info["order"]), ("Codecs", codecs),
        ("Fill value", json.dumps(info["fill_value"])),
        ("Dimension names", json.dumps(info["dimension_names"])), ("Attributes", info["attributes_count"]),
        ("Logical bytes", _size(info["nbytes"])), ("Stored bytes", _size(info["nbytes_stored"])),
        ("Compression ratio", f"{info['compression_ratio']:.2f}" if info["compression_ratio"] else "-"),
        ("Chunks initialised", f"{info['nchunks_initialized']} / {info['nchunks']}"),
    ]
    if info["nshards"] is not None:
        rows.append(("Shards initialised", f"{info['nshards_initialized']} / {info['nshards']}"))
    return "\n".join(f"{k:<19}: {v}" for k, v in rows)


def format_group(info: dict[str, Any]) -> str:
    rows = [
        ("Type", "group"), ("Path", info["path"] or "/"), ("Zarr format", info["zarr_format"]),
        ("Attributes", info["attributes_count"]), ("Members", info["members_count"]),
        ("Arrays (subtree)", info["arrays_count"]), ("Groups (subtree)", info["groups_count"]),
        ("Logical bytes", _size(info["nbytes"])), ("Stored bytes", _size(info["nbytes_stored"])),
    ]
    lines = [f"{k:<19}: {v}" for k, v in rows]
    if info["arrays"]:
        lines.append("Arrays:")
        lines += ["  " + array_line(a) for a in info["arrays"]]
    return "\n".join(lines)


def format_info(info: dict[str, Any]) -> str:
    return format_array(info) if info["type"] == "array" else format_group(info)
