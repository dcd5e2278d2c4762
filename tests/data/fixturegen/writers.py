"""Writing a ``Spec`` with its writer (``WRITERS``), and making reruns byte-identical (gzip MTIME)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .model import Spec, full_of, make_values

# ------------------------------------------------------------------------------------------------
# writing


def grid_shape(shape, chunks):
    return tuple(-(-s // c) for s, c in zip(shape, chunks, strict=False))


def chunk_region(coords, shape, chunks):
    return tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(coords, chunks, shape, strict=False))


def written_values(spec: Spec) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """(expected values, chunk coordinates to write)."""
    values = make_values(spec.key, spec.value_dtype, spec.shape)
    expected = values.copy()
    missing = set(spec.missing_chunks())
    to_write = []
    for coords in np.ndindex(*grid_shape(spec.shape, spec.chunks)):
        if coords in missing:
            expected[chunk_region(coords, spec.shape, spec.chunks)] = full_of(
                spec.fill_value, spec.value_dtype, ()
            )
        else:
            to_write.append(coords)
    return expected, to_write


def write_zarr_python(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zarr

    kwargs = dict(spec.zarr_kwargs)
    arr = zarr.create_array(
        store=str(dest),
        shape=spec.shape,
        chunks=spec.chunks,
        dtype=spec.dtype,
        fill_value=spec.fill_value,
        zarr_format=spec.zarr_format,
        **kwargs,
    )
    for coords in to_write:
        region = chunk_region(coords, spec.shape, spec.chunks)
        arr[region] = values[region]


def write_zarrs(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zarr

    with zarr.config.set({"codec_pipeline.path": "zarrs.ZarrsCodecPipeline", "codec_pipeline.strict": True}):
        write_zarr_python(spec, dest, values, to_write)


def fill_json(fill: Any) -> Any:
    if fill is None or isinstance(fill, bool):
        return fill
    if isinstance(fill, complex):
        return [fill_json(fill.real), fill_json(fill.imag)]
    if isinstance(fill, float):
        if math.isnan(fill):
            return "NaN"
        if math.isinf(fill):
            return "Infinity" if fill > 0 else "-Infinity"
    return fill


def write_tensorstore(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import tensorstore as ts

    meta: dict[str, Any] = {"shape": list(spec.shape)}
    if spec.zarr_format == 2:
        driver = "zarr"
        meta["chunks"] = list(spec.chunks)
        meta["dtype"] = spec.dtype
    else:
        driver = "zarr3"
        meta["chunk_grid"] = {"name": "regular", "configuration": {"chunk_shape": list(spec.chunks)}}
        meta["data_type"] = spec.dtype
    if spec.fill_value is not None:
        fill = complex(spec.fill_value) if spec.value_dtype.kind == "c" else spec.fill_value
        meta["fill_value"] = fill_json(fill)
    meta.update(spec.ts_metadata)
    store = ts.open(
        {"driver": driver, "kvstore": {"driver": "file", "path": str(dest)}, "metadata": meta}, create=True
    ).result()
    native = store.dtype.numpy_dtype
    for coords in to_write:
        region = chunk_region(coords, spec.shape, spec.chunks)
        store[region].write(np.ascontiguousarray(values[region], dtype=native)).result()


def write_no_content_size(spec: Spec, dest: Path, values: np.ndarray, to_write) -> None:
    import zstandard

    write_zarr_python(spec, dest, values, to_write)
    if spec.zarr_format == 3:
        cfg = spec.zarr_kwargs["compressors"][0]["configuration"]
        level, checksum = cfg["level"], cfg["checksum"]
    else:
        level, checksum = (
            spec.zarr_kwargs["compressors"]["level"],
            spec.zarr_kwargs["compressors"].get("checksum", False),
        )
    for path in sorted(chunk_files(dest, spec.zarr_format)):
        raw = zstandard.ZstdDecompressor().decompress(path.read_bytes())
        cctx = zstandard.ZstdCompressor(level=level, write_content_size=False, write_checksum=checksum)
        if spec.zarr_format == 3:
            half = len(raw) // 2
            cobj = cctx.compressobj()
            frame = (
                cobj.compress(raw[:half])
                + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                + cobj.compress(raw[half:])
                + cobj.flush()
            )
        else:
            frame = cctx.compress(raw)
        path.write_bytes(frame)


WRITERS = {
    "zarr-python": write_zarr_python,
    "zarrs": write_zarrs,
    "tensorstore": write_tensorstore,
    "zstandard-no-content-size": write_no_content_size,
}

METADATA_FILES = {".zarray", ".zattrs", ".zgroup", "zarr.json"}


def chunk_files(root: Path, zarr_format: int) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and p.name not in METADATA_FILES]


def zero_gzip_mtime(root: Path, zarr_format: int) -> bool:
    """numcodecs' GZip writes the current time into the gzip header; zero it so reruns match.

    The header has no CRC of its own (FHCRC is not set), so the stream stays valid.
    """
    changed = False
    for path in chunk_files(root, zarr_format):
        data = bytearray(path.read_bytes())
        if data[:3] == b"\x1f\x8b\x08" and not data[3] & 0x02 and data[4:8] != b"\0\0\0\0":
            data[4:8] = b"\0\0\0\0"
            path.write_bytes(bytes(data))
            changed = True
    return changed
