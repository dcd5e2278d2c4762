"""A store inside one zip archive, compatible with zarr-python 3's ``zarr.storage.ZipStore``.

Each key is one archive member named by the key. The archive is written the way zarr-python
writes it (``ZIP_STORED`` members by default, ZIP64 allowed) and zarr-python reads ours.

Rules that follow from the zip format:

* **Deletes are not supported.** ``delete``/``delete_many``/``delete_prefix`` raise
  :class:`UnsupportedOperationError` (also a ``NotImplementedError``) when there is something
  to delete, and do nothing for missing keys (as zarr-python does).
* **Writing a key twice** appends a second member of the same name: Python's ``zipfile`` warns
  (``UserWarning: Duplicate name``), the archive grows, and reads return the newest value
  (zarr-python 3 behaves identically). Avoid rewriting keys in zip archives.
* **Close the store** (or use it as a context manager) after writing: the archive's central
  directory is written on close; until then other readers cannot open the file.

Reads of ``ZIP_STORED`` members skip ``zipfile``'s member objects: the data offset is found once
from the member's local header, then ranges are read straight from the archive (whole-value
reads still verify the member's CRC-32). Compressed members are read through ``zipfile``.
All access goes through one lock, so the store is thread-safe.

Hostile archives: nothing is ever extracted to disk (values are read from the archive into memory). Members whose
names are not valid keys (``../x``, ``/abs``, ``a\\b``, empty segments) are ignored: never listed and, like any
invalid key, refused by ``get``. A stored member whose claimed size or offset lies beyond the end of the archive is
reported as corrupt before anything is allocated for it.
"""
from __future__ import annotations

import os
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, Self

from zarrfast.errors import InvalidKeyError, StoreError
from zarrfast.storage.base import Store, UnsupportedOperationError, normalize_range
from zarrfast.storage.keys import validate_key

__all__ = ["ZipStore"]

ZipMode = Literal["r", "w", "a", "x"]
_LOCAL_HEADER_SIZE = 30
_LOCAL_HEADER_SIGNATURE = b"PK\x03\x04"


class ZipStore(Store):
    """Keys as members of the zip archive at ``path``.

    ``mode`` is the :class:`zipfile.ZipFile` mode: ``"r"`` read, ``"w"`` truncate and write,
    ``"a"`` append (creating the file if needed), ``"x"`` create a new file. ``read_only``
    defaults to ``mode == "r"``. ``compression`` and ``allowZip64`` apply to members written.
    Pickling reopens the archive by path (``"w"``/``"x"`` become ``"a"`` so a copy never
    truncates); pickle a store whose archive has been closed or that is read-only.
    """

    supports_deletes = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: ZipMode = "r",
        read_only: bool | None = None,
        compression: int = zipfile.ZIP_STORED,
        allowZip64: bool = True,
    ) -> None:
        if mode not in ("r", "w", "a", "x"):
            raise ValueError(f"ZipStore mode must be 'r', 'w', 'a' or 'x', not {mode!r}")
        if read_only is None:
            read_only = mode == "r"
        super().__init__(read_only=read_only)
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.mode: ZipMode = mode
        self.compression = compression
        self.allowZip64 = allowZip64
        if mode == "r" and not read_only:
            raise ValueError(f"ZipStore({str(self.path)!r}) opened with mode 'r' must be read-only")
        try:
            self._zf = zipfile.ZipFile(self.path, mode, compression, allowZip64)
        except (OSError, zipfile.BadZipFile) as exc:
            raise StoreError(f"cannot open zip store {str(self.path)!r} (mode {mode!r}): {exc}") from exc
        self._lock = threading.RLock()
        self._owner = True  # views made by with_read_only share the archive but do not close it
        # key -> newest ZipInfo (directory entries skipped); key -> data offset of stored members
        self._index: dict[str, zipfile.ZipInfo] = {}
        for info in self._zf.infolist():
            if not info.filename.endswith("/") and _is_key(info.filename):
                self._index[info.filename] = info
        self._offsets: dict[str, int] = {}

    # ---------------------------------------------------------------- identity and lifecycle
    def _config(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "mode": "a" if self.mode in ("w", "x") else self.mode,
            "read_only": self._read_only,
            "compression": self.compression,
            "allowZip64": self.allowZip64,
        }

    def _location(self) -> Any:
        return str(self.path)

    def _location_str(self) -> str:
        return repr(str(self.path))

    def __repr__(self) -> str:
        ro = ", read_only=True" if self._read_only else ""
        return f"ZipStore({str(self.path)!r}, mode={self.mode!r}{ro})"

    def with_read_only(self, read_only: bool = True) -> Self:
        """A view sharing this store's open archive (closing the view leaves it open)."""
        if not read_only and self.mode == "r":
            raise ValueError(f"{self!r}: a zip archive opened with mode 'r' cannot be written")
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._read_only = bool(read_only)
        view._closed = False
        view._owner = False
        return view

    def close(self) -> None:
        """Finish the archive (writes the central directory). Closing twice is harmless."""
        with self._lock:
            if self._owner and not self._closed:
                self._zf.close()
            self._closed = True

    def _check_open(self, key: str) -> None:
        if self._closed or self._zf.fp is None:
            raise StoreError(f"cannot access key {key!r}: store {self!r} is closed")

    # ---------------------------------------------------------------- reads
    def _fp(self, key: str) -> Any:
        fp = self._zf.fp
        if fp is None:
            raise StoreError(f"cannot access key {key!r}: store {self!r} is closed")
        return fp

    def _read_at(self, key: str, offset: int, size: int) -> bytes:
        """``size`` bytes of the archive at ``offset`` (short at the end of the file)."""
        fp = self._fp(key)
        if self.mode != "r":  # the archive may have buffered writes: go through its file object
            fp.seek(offset)
            return fp.read(size)  # type: ignore[no-any-return]
        fileno = fp.fileno()
        data = os.pread(fileno, size, offset)
        if len(data) < size and data:  # reads over ~2 GiB come back in pieces
            parts = [data]
            got = len(data)
            while got < size:
                chunk = os.pread(fileno, size - got, offset + got)
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
            data = b"".join(parts)
        return data

    def _data_offset(self, key: str, info: zipfile.ZipInfo) -> int:
        offset = self._offsets.get(key)
        if offset is None:
            header = self._read_at(key, info.header_offset, _LOCAL_HEADER_SIZE)
            if len(header) != _LOCAL_HEADER_SIZE or header[:4] != _LOCAL_HEADER_SIGNATURE:
                raise StoreError(f"key {key!r} in store {self!r}: bad zip local header")
            name_len = int.from_bytes(header[26:28], "little")
            extra_len = int.from_bytes(header[28:30], "little")
            offset = info.header_offset + _LOCAL_HEADER_SIZE + name_len + extra_len
            self._offsets[key] = offset
        return offset

    @staticmethod
    def _is_plain(info: zipfile.ZipInfo) -> bool:
        return info.compress_type == zipfile.ZIP_STORED and not info.flag_bits & 0x1

    def _check_extent(self, key: str, begin: int, size: int) -> None:
        """A member claiming bytes past the end of a read-only archive is corrupt (and is not allocated for)."""
        if self.mode == "r" and begin + size > self._archive_size(key):
            raise StoreError(f"key {key!r} in store {self!r} is corrupt: its {size} bytes at offset {begin} lie "
                             "past the end of the archive")

    def _archive_size(self, key: str) -> int:
        size = self.__dict__.get("_size")
        if size is None:
            size = self._size = os.fstat(self._fp(key).fileno()).st_size
        return size

    def _read_locked(self, key: str) -> bytes | None:
        info = self._index.get(key)
        if info is None:
            return None
        try:
            if not self._is_plain(info):
                return self._zf.read(info)
            offset = self._data_offset(key, info)
            self._check_extent(key, offset, info.file_size)
            data = self._read_at(key, offset, info.file_size)
        except (OSError, zipfile.BadZipFile, zlib.error) as exc:
            raise StoreError(f"reading key {key!r} from store {self!r} failed: {exc}") from exc
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise StoreError(f"key {key!r} in store {self!r} is corrupt (size or CRC-32 mismatch)")
        return data

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            self._check_open(key)
            return self._read_locked(key)

    def _get_many(self, keys: list[str]) -> list[bytes | None]:
        with self._lock:
            if keys:
                self._check_open(keys[0])
            return [self._read_locked(key) for key in keys]

    def _get_range(self, key: str, start: int, length: int | None) -> bytes | None:
        result = self._get_ranges(key, [(start, length)])
        return None if result is None else result[0]

    def _get_ranges(self, key: str, ranges: list[tuple[int, int | None]]) -> list[bytes] | None:
        with self._lock:
            self._check_open(key)
            info = self._index.get(key)
            if info is None:
                return None
            size = info.file_size
            spans = [normalize_range(size, start, length) for start, length in ranges]
            try:
                if self._is_plain(info):
                    base = self._data_offset(key, info)
                    self._check_extent(key, base, size)
                    return [
                        self._read_at(key, base + begin, end - begin) if end > begin else b""
                        for begin, end in spans
                    ]
                with self._zf.open(info) as member:
                    out = []
                    for begin, end in spans:
                        member.seek(begin)
                        out.append(member.read(end - begin) if end > begin else b"")
                    return out
            except (OSError, zipfile.BadZipFile, zlib.error) as exc:
                raise StoreError(f"reading key {key!r} from store {self!r} failed: {exc}") from exc

    def _exists(self, key: str) -> bool:
        with self._lock:
            return key in self._index

    # ---------------------------------------------------------------- writes
    def _write_locked(self, key: str, value: bytes | memoryview) -> None:
        self._check_open(key)
        info = zipfile.ZipInfo(key, date_time=time.localtime(time.time())[:6])
        info.compress_type = self.compression
        info.external_attr = 0o644 << 16  # -rw-r--r--, like zarr-python
        try:
            self._zf.writestr(info, value)
        except (OSError, ValueError, zipfile.LargeZipFile) as exc:
            raise StoreError(f"writing key {key!r} to store {self!r} failed: {exc}") from exc
        self._index[key] = info
        self._offsets.pop(key, None)

    def _set(self, key: str, value: bytes | memoryview) -> None:
        with self._lock:
            self._write_locked(key, value)

    def _set_many(self, items: list[tuple[str, bytes | memoryview]]) -> None:
        with self._lock:
            for key, value in items:
                self._write_locked(key, value)

    def _unsupported(self, key: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(
            f"cannot delete key {key!r}: store {self!r} is a zip archive, which does not "
            "support deletes (rewrite the archive instead)"
        )

    def _delete(self, key: str) -> None:
        if self._exists(key):
            raise self._unsupported(key)

    def _delete_many(self, keys: list[str]) -> None:
        for key in keys:
            self._delete(key)

    def _delete_prefix(self, prefix: str) -> None:
        for key in self._list_prefix(prefix):
            raise self._unsupported(key)

    # ---------------------------------------------------------------- listing
    def _list(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._index))

    def _list_prefix(self, prefix: str) -> Iterator[str]:
        with self._lock:
            return iter([key for key in self._index if key.startswith(prefix)])


def _is_key(name: str) -> bool:
    """Whether an archive member's name is a valid store key (hostile archives may hold ``../x`` or ``/x``)."""
    try:
        validate_key(name)
    except InvalidKeyError:
        return False
    return True
