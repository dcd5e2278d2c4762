"""Batch whole-file reads and atomic writes without the GIL (Cython). See _ext/fileio.pyx."""
STATUS_OK: int
STATUS_MISSING: int
STATUS_RETRY: int

def read_files(paths: list[bytes], arena: bytearray | None = None) -> tuple[list[bytes | memoryview | None], list[int], int]: ...
def write_files(tmp_paths: list[bytes], final_paths: list[bytes], values: list[object], fsync: bool = False) -> list[int]: ...
