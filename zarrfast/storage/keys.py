"""Store key rules, shared by every store.

A key is a non-empty ``"/"``-separated string relative to the store's root, such as
``"zarr.json"``, ``"a/b/c/0/1"`` or ``"a/.zarray"``. Segments are never empty, ``"."`` or
``".."``; keys never start or end with ``"/"`` and never hold a backslash or a NUL byte.
Those rules keep a key inside its store on every backend (a directory, a zip archive, a dict).

A *prefix* (as taken by ``list_prefix``, ``list_dir`` and ``delete_prefix``) is either ``""``
(the whole store) or a key, optionally followed by one ``"/"``.
"""
from __future__ import annotations

from typing import Any

from zarrfast.errors import InvalidKeyError

__all__ = ["child_name", "parent_key", "validate_key", "validate_prefix"]


def _fail(key: Any, store: object, why: str) -> InvalidKeyError:
    return InvalidKeyError(f"invalid key {key!r} for store {store!r}: {why}")


def validate_key(key: str, store: object = None) -> str:
    """Return ``key`` unchanged if it is a valid store key, else raise :class:`InvalidKeyError`.

    ``store`` is only used to name the store in the error message.
    """
    # The checks are ordered so that a typical key ("c/0/1", "zarr.json") costs ~200 ns.
    if type(key) is not str and not isinstance(key, str):
        raise _fail(key, store, f"keys are str, not {type(key).__name__}")
    if not key:
        raise _fail(key, store, "the key is empty")
    if key[0] == "/":
        raise _fail(key, store, "absolute paths are not keys")
    if key[-1] == "/":
        raise _fail(key, store, "a key does not end with '/'")
    if "//" in key:
        raise _fail(key, store, "empty path segment")
    if "\\" in key:
        raise _fail(key, store, "backslashes are not allowed (use '/')")
    if "\x00" in key:
        raise _fail(key, store, "NUL bytes are not allowed")
    if key[0] == "." or "/." in key:
        for segment in key.split("/"):
            if segment == "." or segment == "..":
                raise _fail(key, store, f"{segment!r} segments are not allowed")
    return key


def validate_prefix(prefix: str, store: object = None) -> str:
    """Validate a listing/deletion prefix and return it unchanged.

    ``""`` means the whole store; otherwise the prefix must be a valid key, optionally ending
    in a single ``"/"``.
    """
    if prefix == "":
        return prefix
    if not isinstance(prefix, str):
        raise _fail(prefix, store, f"prefixes are str, not {type(prefix).__name__}")
    validate_key(prefix.removesuffix("/"), store)
    return prefix


def parent_key(key: str) -> str:
    """The part of ``key`` before its last ``"/"`` (``""`` for a top-level key)."""
    return key.rpartition("/")[0]


def child_name(key: str, dir_prefix: str) -> str | None:
    """The immediate child of ``dir_prefix`` (``""`` or ending in ``"/"``) that leads to ``key``.

    Returns ``None`` when ``key`` is not below ``dir_prefix``.
    """
    if not key.startswith(dir_prefix):
        return None
    rest = key[len(dir_prefix):]
    if not rest:
        return None
    return rest.split("/", 1)[0]
