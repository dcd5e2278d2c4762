"""Arrays in zip archives, which can't delete keys: chunks that become all-fill are rewritten, not deleted."""
import warnings

import numpy as np
import pytest

import zarrfast
from zarrfast.storage import ZipStore


@pytest.mark.parametrize("shards", [None, (10,)])
def test_chunks_back_to_fill_in_a_zip(tmp_path, shards):
    path = tmp_path / "a.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns on rewritten members, as with zarr-python
        with ZipStore(path, mode="w") as store:
            a = zarrfast.create_array(store=store, shape=(10,), chunks=(5,), shards=shards, dtype="u1")
            a[...] = 3
            a[0:5] = 0
        with ZipStore(path, mode="r") as store:
            np.testing.assert_array_equal(zarrfast.open_array(store, mode="r")[...], [0] * 5 + [3] * 5)
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(zarr.storage.ZipStore(path, mode="r"))[...], [0] * 5 + [3] * 5)
