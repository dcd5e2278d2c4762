"""Cross-implementation tests: zarrfast against zarr-python, tensorstore and zarrs."""
