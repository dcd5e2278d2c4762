"""Names shared by the hostile-input tests (``test_errors.py``, ``test_hostile_*.py``)."""
from __future__ import annotations

NAME = "grp/arr"  # the array path every hostile test uses: error messages must name it
FORMATS = [2, 3]
ENGINES = ["auto", "python"]  # "auto": native kernels where the chain allows; "python": the reference decoders


def doc_name(fmt: int) -> str:
    """The metadata document of an array in format ``fmt``."""
    return "zarr.json" if fmt == 3 else ".zarray"


def ckey(fmt: int, *coords: int, prefix: str = "") -> str:
    """The default chunk key of ``coords`` (v3 ``c/i/j``, v2 ``i.j``)."""
    return prefix + ("c/" + "/".join(map(str, coords)) if fmt == 3 else ".".join(map(str, coords)))
