"""zarrfast: a fast Zarr (v2 and v3) implementation. ``import zarrfast as zarr``."""
from . import codecs, errors, storage
from .api import (
    array,
    create,
    create_array,
    empty,
    empty_like,
    from_array,
    full,
    full_like,
    ones,
    ones_like,
    open,
    open_array,
    open_like,
    zeros,
    zeros_like,
)
from .array import Array
from .config import config
from .converting import convert
from .copying import copy, copy_all
from .group import (
    Group,
    consolidate_metadata,
    copy_store,
    create_group,
    group,
    load,
    open_consolidated,
    open_group,
    save,
    save_array,
    save_group,
    tree,
)

__version__ = "0.1.0"

from .rechunking import rechunk

__all__ = [
    "convert",
    "rechunk",
    "Array", "array", "codecs", "config", "create", "create_array", "empty", "empty_like", "errors", "from_array",
    "full", "full_like", "ones", "ones_like", "open", "open_array", "open_like", "storage", "zeros", "zeros_like", "__version__",
    "Group", "consolidate_metadata", "copy_store", "create_group", "group", "load", "open_consolidated",
    "open_group", "save", "save_array", "save_group", "tree", "copy", "copy_all",
]
