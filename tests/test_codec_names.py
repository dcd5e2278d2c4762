"""zarr-python's codec names exist in zarrfast.codecs and write the same metadata."""
import json

import numpy as np
import pytest

import zarrfast

zarr = pytest.importorskip("zarr")


def test_every_public_zarr_codec_name_exists():
    ours = set(dir(zarrfast.codecs))
    theirs = {n for n in dir(zarr.codecs) if not n.startswith("_") and n[0].isupper()}
    assert theirs <= ours, sorted(theirs - ours)


@pytest.mark.parametrize(("name", "kwargs", "role"), [
    ("Delta", {"dtype": "<i4"}, "filters"), ("FixedScaleOffset", {"offset": 0, "scale": 10, "dtype": "<i4"}, "filters"),
    ("BZ2", {"level": 3}, "compressors"), ("Zlib", {"level": 2}, "compressors"), ("Shuffle", {"elementsize": 4},
                                                                                    "compressors"),
])
def test_numcodecs_wrappers_like_zarr_python(tmp_path, name, kwargs, role):
    x = np.arange(40, dtype="<i4")
    out = {}
    for mod, tag in ((zarrfast, "zf"), (zarr, "zp")):
        codec = getattr(mod.codecs, name)(**kwargs)
        a = mod.create_array(store=str(tmp_path / tag), shape=x.shape, chunks=(16,), dtype=x.dtype, **{role: [codec]})
        a[...] = x
        out[tag] = json.loads((tmp_path / tag / "zarr.json").read_text())["codecs"]
    assert out["zf"] == out["zp"]
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "zf"))[...], x)
    np.testing.assert_array_equal(zarrfast.open_array(str(tmp_path / "zp"))[...], x)


def test_enums_are_accepted():
    c = zarrfast.codecs.BloscCodec(cname=zarrfast.codecs.BloscCname.zstd, shuffle=zarrfast.codecs.BloscShuffle.shuffle)
    assert c.to_v3()["configuration"]["cname"] == "zstd"
    assert zarrfast.codecs.BytesCodec(endian=zarrfast.codecs.Endian.big).to_v3() == {
        "name": "bytes", "configuration": {"endian": "big"}}
