"""The pieces of ``generate_fixtures.py`` (run that script; see ``tests/data/README.md``).

- ``model``: dtypes, deterministic values, ``Spec`` (one fixture) and codec/attribute constants
- ``specs``: every fixture, per writer (zarr-python, zarrs, tensorstore, zstd without content size)
- ``writers``: how each writer writes a ``Spec``, and the gzip-MTIME normalisation
- ``check``: the zarr-python self-check and the byte-for-byte tree comparison
"""
