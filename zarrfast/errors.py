"""Every exception zarrfast raises on purpose derives from :class:`ZarrfastError`.

Subclasses also derive from the builtin a zarr-python user would catch
(``ValueError``, ``KeyError``, ``FileNotFoundError`` ...), so ``except ValueError`` keeps working.
Messages name the array path and, for chunk problems, the chunk key.
"""
from __future__ import annotations


class ZarrfastError(Exception):
    """Base class of all zarrfast errors."""


# --- metadata -------------------------------------------------------------------------------
class MetadataError(ZarrfastError, ValueError):
    """Array or group metadata is missing a field, malformed, or not supported."""


class UnknownDataTypeError(MetadataError):
    """A data type this implementation does not know."""


class FillValueError(MetadataError):
    """A fill value that does not fit the data type."""


class MustUnderstandError(MetadataError):
    """A v3 metadata extension marked ``must_understand`` that zarrfast does not support."""


# --- nodes ----------------------------------------------------------------------------------
class NodeNotFoundError(ZarrfastError, FileNotFoundError, ValueError):
    """No array or group at the given path."""


class ArrayNotFoundError(NodeNotFoundError):
    """No array at the given path."""


class GroupNotFoundError(NodeNotFoundError):
    """No group at the given path."""


class ContainsNodeError(ZarrfastError, FileExistsError, ValueError):
    """An array or group already exists where one is to be created."""


class ContainsArrayError(ContainsNodeError):
    """An array already exists at the path."""


class ContainsGroupError(ContainsNodeError):
    """A group already exists at the path."""


# --- codecs and chunks ------------------------------------------------------------------------
class CodecError(ZarrfastError, ValueError):
    """A codec is unknown, misconfigured, or failed."""


class UnknownCodecError(CodecError):
    """A codec name or id that zarrfast (and numcodecs, if installed) does not know."""


class CodecMetadataError(MetadataError, CodecError):
    """Array metadata whose codec configuration is invalid (raised when the array is opened or created)."""


class UnknownCodecMetadataError(CodecMetadataError, UnknownCodecError):
    """Array metadata naming a codec that zarrfast (and numcodecs, if installed) does not know."""


class ChunkDecodeError(CodecError):
    """A stored chunk could not be decoded (corrupt, truncated, or of the wrong size)."""

    def __init__(self, message: str, *, path: str | None = None, chunk_key: str | None = None):
        self.path = path
        self.chunk_key = chunk_key
        where = []
        if path is not None:
            where.append(f"array {path!r}")
        if chunk_key is not None:
            where.append(f"chunk {chunk_key!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class ChunkEncodeError(CodecError):
    """A chunk could not be encoded."""


# --- selections and values ------------------------------------------------------------------
class SelectionError(ZarrfastError, IndexError, ValueError):
    """A selection is malformed or out of bounds."""


class BoundsCheckError(SelectionError):
    """An index falls outside the array."""


class ShapeMismatchError(ZarrfastError, ValueError):
    """A value's shape can't be broadcast to the selection."""


class DataTypeMismatchError(ZarrfastError, TypeError, ValueError):
    """A value can't be converted safely to the array's data type."""


# --- stores ---------------------------------------------------------------------------------
class StoreError(ZarrfastError, OSError):
    """A store operation failed; the message names the store and the key."""


class InvalidKeyError(StoreError, ValueError):
    """A store key that is malformed or would escape the store's root."""


class InvalidNodePathError(InvalidKeyError, MetadataError):
    """An array or group path (``name=``, ``path=``, ``group[...]``) that is malformed or would escape the store."""


class ReadOnlyError(StoreError, PermissionError, ValueError):
    """A write to a store (or array) opened read-only."""


class StorePermissionError(StoreError, PermissionError):
    """The backend refused the operation (access denied, bad credentials)."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """The store itself does not exist (missing bucket, database file, server path)."""


class StoreConnectionError(StoreError, ConnectionError):
    """The backend could not be reached, or the connection failed mid-request."""


class StoreTimeoutError(StoreConnectionError, TimeoutError):
    """A request to the backend timed out."""


__all__ = [name for name in dir() if name.endswith("Error")]
