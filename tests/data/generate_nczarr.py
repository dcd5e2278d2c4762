"""Generate the NCZarr fixtures in tests/data/nczarr/ (run from anywhere: ``python tests/data/generate_nczarr.py``).

* ``nczarr.zarr``   -- written by netCDF-C (through the netCDF4 package) in ``mode=nczarr,file``:
                       ``_nczarr_*`` attributes plus xarray's ``_ARRAY_DIMENSIONS``;
* ``purezarr.zarr`` -- the same data in ``mode=zarr,file`` (pure Zarr v2 with ``_ARRAY_DIMENSIONS``);
* ``legacy_nczarr.zarr`` -- hand-written in the NCZarr 2.0 layout of netCDF-C 4.8.1: ``_NCZARR_SUPERBLOCK`` /
  ``_NCZARR_GROUP`` keys in ``.zgroup``, ``_NCZARR_ARRAY`` (``dimrefs``) in ``.zarray``, ``_NCZARR_ATTR`` in
  ``.zattrs`` and *no* ``_ARRAY_DIMENSIONS``: dimension names come only from the NCZarr metadata;
* ``nczarr1.zarr``  -- hand-written in the NCZarr 1.0 layout of netCDF-C 4.8.0: separate ``.nczarr``,
  ``.nczgroup``, ``.nczarray`` and ``.nczattr`` documents, no ``_ARRAY_DIMENSIONS``.

The hand-written layouts follow Unidata's NCZarr documentation and netCDF-C's sources (libnczarr/zinternal.h).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "nczarr"

# the data every fixture holds: root dims x=4, y=3, time=3; group "sub" with dim z=2
V = np.arange(12, dtype="<f4").reshape(4, 3)
V[1, 1] = -999.0  # the fill value: masked when decoded
TIME = np.array([0.0, 1.0, 2.5])
PACKED_RAW = np.array([0, 2, -1, 5], dtype="<i2")  # -1 is the fill value
W = np.array([7, 8], dtype="<i4")


def write_netcdf(url: str) -> None:
    """Write the fixture data with netCDF-C to ``url`` (a ``file://...#mode=...`` URL)."""
    import netCDF4

    with netCDF4.Dataset(url, "w") as ds:
        ds.title = "nczarr fixture"
        ds.setncattr("ints", np.array([1, 2, 3], dtype="i4"))
        ds.createDimension("x", 4)
        ds.createDimension("y", 3)
        ds.createDimension("time", 3)
        v = ds.createVariable("v", "f4", ("x", "y"), fill_value=-999.0)
        v.units = "K"
        v.set_auto_maskandscale(False)
        v[:] = V
        t = ds.createVariable("time", "f8", ("time",))
        t.units = "days since 2000-01-01"
        t.calendar = "standard"
        t[:] = TIME
        p = ds.createVariable("packed", "i2", ("x",), fill_value=-1)
        p.scale_factor = 0.5
        p.add_offset = 10.0
        p.set_auto_maskandscale(False)
        p[:] = PACKED_RAW
        sub = ds.createGroup("sub")
        sub.createDimension("z", 2)
        w = sub.createVariable("w", "i4", ("z",))
        w.long_name = "in a group"
        w[:] = W


def netcdf_url(path: Path, mode: str) -> str:
    return f"file://{path}#mode={mode},file"


def _put(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))


def _zarray(shape: list[int], dtype: str, fill: object) -> dict:
    return {"zarr_format": 2, "shape": shape, "dtype": dtype, "chunks": shape, "fill_value": fill, "order": "C",
            "compressor": None, "filters": None}


def write_legacy(root: Path) -> None:
    """NCZarr 2.0 as netCDF-C 4.8.1 wrote it (upper-case keys inside .zgroup/.zarray, no _ARRAY_DIMENSIONS)."""
    _put(root / ".zgroup", {"zarr_format": 2, "_NCZARR_SUPERBLOCK": {"version": "2.0.0"},
                            "_NCZARR_GROUP": {"dims": {"x": 4, "y": 3, "time": 3}, "vars": ["v", "time", "packed"],
                                              "groups": ["sub"]}})
    _put(root / ".zattrs", {"title": "nczarr fixture", "ints": [1, 2, 3],
                            "_NCZARR_ATTR": {"types": {"title": ">S1", "ints": "<i4"}}})
    arrays = {
        "v": (V, ["/x", "/y"], -999.0, {"_FillValue": -999.0, "units": "K"},
              {"_FillValue": "<f4", "units": ">S1"}),
        "time": (TIME, ["/time"], 9.969209968386869e36, {"units": "days since 2000-01-01", "calendar": "standard"},
                 {"units": ">S1", "calendar": ">S1"}),
        "packed": (PACKED_RAW, ["/x"], -1, {"_FillValue": -1, "scale_factor": 0.5, "add_offset": 10.0},
                   {"_FillValue": "<i2", "scale_factor": "<f8", "add_offset": "<f8"}),
    }
    for name, (data, dimrefs, fill, attrs, types) in arrays.items():
        doc = _zarray(list(data.shape), data.dtype.str, fill)
        doc["_NCZARR_ARRAY"] = {"dimrefs": dimrefs, "storage": "chunked"}
        _put(root / name / ".zarray", doc)
        _put(root / name / ".zattrs", {**attrs, "_NCZARR_ATTR": {"types": types}})
        (root / name / ".".join("0" * data.ndim)).write_bytes(np.ascontiguousarray(data).tobytes())
    _put(root / "sub" / ".zgroup", {"zarr_format": 2, "_NCZARR_GROUP": {"dims": {"z": 2}, "vars": ["w"],
                                                                        "groups": []}})
    _put(root / "sub" / ".zattrs", {})
    doc = _zarray([2], "<i4", -2147483647)
    doc["_NCZARR_ARRAY"] = {"dimrefs": ["/sub/z"], "storage": "chunked"}
    _put(root / "sub" / "w" / ".zarray", doc)
    _put(root / "sub" / "w" / ".zattrs", {"long_name": "in a group", "_NCZARR_ATTR": {"types": {"long_name": ">S1"}}})
    (root / "sub" / "w" / "0").write_bytes(W.tobytes())


def write_nczarr1(root: Path) -> None:
    """NCZarr 1.0 as netCDF-C 4.8.0 wrote it: NCZarr metadata in separate .ncz* documents."""
    _put(root / ".zgroup", {"zarr_format": 2})
    _put(root / ".nczarr", {"zarr_format": 2, "nczarr_version": "1.0.0"})
    _put(root / ".nczgroup", {"dims": {"x": 4, "y": 3}, "vars": ["v"], "groups": []})
    _put(root / ".zattrs", {"title": "nczarr fixture"})
    _put(root / ".nczattr", {"types": {"title": ">S1"}})
    _put(root / "v" / ".zarray", _zarray([4, 3], "<f4", -999.0))
    _put(root / "v" / ".nczarray", {"dimrefs": ["/x", "/y"]})
    _put(root / "v" / ".zattrs", {"_FillValue": -999.0, "units": "K"})
    _put(root / "v" / ".nczattr", {"types": {"_FillValue": "<f4", "units": ">S1"}})
    (root / "v" / "0.0").write_bytes(V.tobytes())


def generate(out: Path = HERE, *, netcdf: bool = True) -> list[Path]:
    """(Re)write the fixtures under ``out``; the netCDF-written ones only when ``netcdf`` (needs NCZarr support)."""
    out.mkdir(parents=True, exist_ok=True)
    made = []
    jobs = [("legacy_nczarr.zarr", write_legacy), ("nczarr1.zarr", write_nczarr1)]
    if netcdf:
        jobs += [("nczarr.zarr", lambda p: write_netcdf(netcdf_url(p, "nczarr"))),
                 ("purezarr.zarr", lambda p: write_netcdf(netcdf_url(p, "zarr")))]
    for name, job in jobs:
        path = out / name
        shutil.rmtree(path, ignore_errors=True)
        job(path)
        made.append(path)
    return made


if __name__ == "__main__":
    for p in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print("wrote", p)
