"""Batch whole-file reads without the GIL (Cython). See _ext/fileio.pyx."""
STATUS_OK: int
STATUS_MISSING: int
STATUS_RETRY: int

def read_files(paths: list[bytes]) -> tuple[list[bytes | None], list[int]]: ...
