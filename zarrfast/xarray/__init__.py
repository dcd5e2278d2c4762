"""xarray integration: the ``engine="zarrfast"`` backend and a dataset writer.

* ``xr.open_dataset(path, engine="zarrfast")`` / ``xr.open_datatree(path, engine="zarrfast")`` read Zarr v2 and v3
  (and NCZarr) data the way xarray's own ``"zarr"`` engine does; see :mod:`zarrfast.xarray.backend`.
* :func:`to_zarr` writes a Dataset that xarray's ``"zarr"`` engine (and this one) opens identically;
  see :mod:`zarrfast.xarray.writer`.

Importing this package imports xarray; ``import zarrfast`` does not.
"""
from .backend import ZarrfastBackendArray, ZarrfastBackendEntrypoint, ZarrfastDataStore
from .writer import to_zarr

__all__ = ["ZarrfastBackendArray", "ZarrfastBackendEntrypoint", "ZarrfastDataStore", "to_zarr"]
