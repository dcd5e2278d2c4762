"""The ``zarrfast`` command line (zarrfast.cli): info, tree, convert, rechunk, errors and the entry points."""
import json
import math
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import zarrfast
from zarrfast.cli import main, parse_size
from zarrfast.progress import Progress


def _api_available(name):
    from zarrfast.cli import _api

    try:
        _api(name)
    except Exception:  # noqa: BLE001  (missing, or mid-edit)
        return False
    return True


needs_convert = pytest.mark.skipif(not _api_available("convert"), reason="zarrfast.convert is not available yet")
needs_rechunk = pytest.mark.skipif(not _api_available("rechunk"), reason="zarrfast.rechunk is not available yet")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def hierarchy(tmp_path):
    """A v3 group: attrs, a partly written array, a subgroup with a sharded array."""
    root = str(tmp_path / "h.zarr")
    g = zarrfast.open_group(root, mode="w", attributes={"title": "t", "n": 1})
    a = g.create_array("a", shape=(10, 20), dtype="i4", chunks=(5, 5), dimension_names=["y", "x"],
                       fill_value=-1)
    a[:5] = np.arange(100, dtype="i4").reshape(5, 20)
    sub = g.create_group("sub", attributes={"k": "v"})
    b = sub.create_array("b", shape=(100,), dtype="f8", chunks=(10,), shards=(50,))
    b[:60] = 1.5
    return root


@pytest.fixture
def v2_array(tmp_path):
    root = str(tmp_path / "v2.zarr")
    arr = zarrfast.create_array(root, shape=(30, 7), dtype=">u2", chunks=(8, 7), zarr_format=2,
                                compressors={"id": "zlib", "level": 3}, dimension_names=["t", "c"],
                                fill_value=7)
    arr[...] = np.arange(210, dtype=">u2").reshape(30, 7)
    return root


# ---- help, version, usage ---------------------------------------------------------------------------------
def test_top_level_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for word in ("info", "tree", "convert", "rechunk", "--version", "Exit status"):
        assert word in out


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"zarrfast {zarrfast.__version__}"


@pytest.mark.parametrize("command, options", [
    ("info", ["PATH", "--json", "--path", "NODE", "nbytes_stored", "compression_ratio", "nchunks_initialized",
              "dimension_names", "members_count"]),
    ("tree", ["PATH", "--path", "--level"]),
    ("convert", ["SRC", "DST", "--zarr-format", "--chunks", "--shards", "--compressor", "--workers", "--overwrite",
                 "--dask-scheduler", "--path", "--quiet", "--max-mem", "blosc[:CNAME[:CLEVEL[:SHUFFLE]]]",
                 "64,64,64"]),
    ("rechunk", ["SRC", "DST", "--chunks", "--shards", "--max-mem", "--temp", "--workers", "--dask-scheduler",
                 "--overwrite", "--quiet", "512MB", "KiB"]),
])
def test_subcommand_help(capsys, command, options):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for opt in options:
        assert opt in out, opt


def test_no_command_is_a_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2 and "usage:" in err


def test_unknown_option_is_a_usage_error(capsys, hierarchy):
    code, _, err = run(capsys, "info", hierarchy, "--bogus")
    assert code == 2 and "unrecognized arguments: --bogus" in err


# ---- info -------------------------------------------------------------------------------------------------
def test_info_json_array_matches_api(capsys, hierarchy):
    code, out, err = run(capsys, "info", hierarchy, "--path", "a", "--json")
    assert code == 0 and err == ""
    info = json.loads(out)
    arr = zarrfast.open_array(hierarchy, path="a", mode="r")
    assert info["type"] == "array" and info["path"] == "a" and info["zarr_format"] == 3
    assert info["shape"] == [10, 20] and info["dtype"] == "int32" and info["data_type"] == "int32"
    assert info["chunks"] == [5, 5] and info["shards"] is None and info["order"] == "C"
    assert info["codecs"] == [dict(c) for c in arr.metadata.codecs]
    assert info["compressor"] is None and info["filters"] is None
    assert info["fill_value"] == -1
    assert info["dimension_names"] == ["y", "x"]
    assert info["nbytes"] == math.prod(arr.shape) * np.dtype("i4").itemsize == arr.nbytes == 800
    assert info["nbytes_stored"] == arr.nbytes_stored()
    assert info["compression_ratio"] == pytest.approx(800 / arr.nbytes_stored(), rel=1e-3)
    assert info["nchunks"] == arr.nchunks == 8
    assert info["nchunks_initialized"] == arr.nchunks_initialized == 4
    assert info["nshards"] is None and info["nshards_initialized"] is None


def test_info_json_keys_are_stable_and_documented(capsys, hierarchy):
    from zarrfast.cli_info import ARRAY_KEYS, GROUP_KEYS

    _, help_text, _ = run(capsys, "info", "--help")
    help_text = " ".join(help_text.split())
    for key in ARRAY_KEYS + GROUP_KEYS:
        assert key in help_text, key
    group = json.loads(run(capsys, "info", hierarchy, "--json")[1])
    assert tuple(group) == GROUP_KEYS
    assert all(tuple(a) == ARRAY_KEYS for a in group["arrays"])
    assert tuple(json.loads(run(capsys, "info", hierarchy, "--path", "a", "--json")[1])) == ARRAY_KEYS


def test_info_odd_dtypes(capsys, tmp_path):
    g = zarrfast.open_group(str(tmp_path / "o.zarr"), mode="w")
    g.create_array("c", shape=(4,), dtype="c16", fill_value=1 + 2j)
    g.create_array("f", shape=(4,), dtype="f4", fill_value=np.nan)
    g.create_array("t", shape=(4,), dtype="M8[s]")
    g.create_array("e", shape=(0, 5), dtype="u1")
    g.create_array("s", shape=(2,), dtype=str)[:] = np.array(["a", "bb"])
    code, out, err = run(capsys, "info", str(tmp_path / "o.zarr"), "--json")
    assert code == 0, err
    arrays = {a["path"]: a for a in json.loads(out)["arrays"]}
    assert arrays["c"]["fill_value"] == [1.0, 2.0]
    assert arrays["f"]["fill_value"] == "NaN"
    assert arrays["e"]["nbytes"] == 0 and arrays["e"]["nchunks"] == 0
    assert arrays["s"]["data_type"] == "string" and arrays["s"]["nchunks_initialized"] == 1
    assert arrays["t"]["data_type"]["name"] == "numpy.datetime64"
    assert run(capsys, "info", str(tmp_path / "o.zarr"))[0] == 0


def test_info_json_sharded(capsys, hierarchy):
    code, out, _ = run(capsys, "info", hierarchy, "--path", "sub/b", "--json")
    info = json.loads(out)
    arr = zarrfast.open_array(hierarchy, path="sub/b", mode="r")
    assert code == 0
    assert info["chunks"] == [10] and info["shards"] == [50]
    assert info["codecs"][0]["name"] == "sharding_indexed"
    assert info["nbytes"] == 100 * 8
    assert info["nchunks"] == 10 and info["nshards"] == 2
    assert info["nshards_initialized"] == arr.nshards_initialized == 2
    assert info["nchunks_initialized"] == arr.nchunks_initialized


def test_info_text_array(capsys, hierarchy):
    code, out, _ = run(capsys, "info", hierarchy, "--path", "a")
    arr = zarrfast.open_array(hierarchy, path="a", mode="r")
    assert code == 0
    lines = dict(line.split(":", 1) for line in out.splitlines())
    lines = {k.strip(): v.strip() for k, v in lines.items()}
    assert lines["Zarr format"] == "3"
    assert lines["Shape"] == "(10, 20)" and lines["Data type"] == "int32" and lines["Chunk shape"] == "(5, 5)"
    assert lines["Shard shape"] == "None"
    assert '"name": "zstd"' in lines["Codecs"]
    assert lines["Fill value"] == "-1"
    assert lines["Dimension names"] == '["y", "x"]'
    assert lines["Logical bytes"] == "800 B"
    assert lines["Stored bytes"].split()[0] == str(arr.nbytes_stored())
    assert lines["Compression ratio"] == f"{800 / arr.nbytes_stored():.2f}"
    assert lines["Chunks initialised"] == "4 / 8"


def test_info_v2_array(capsys, v2_array):
    code, out, _ = run(capsys, "info", v2_array, "--json")
    info = json.loads(out)
    assert code == 0
    assert info["zarr_format"] == 2 and info["codecs"] is None
    assert info["compressor"] == {"id": "zlib", "level": 3}
    assert info["filters"] is None
    assert np.dtype(info["dtype"]) == np.dtype(">u2") and info["data_type"] == ">u2"
    assert info["fill_value"] == 7 and info["dimension_names"] == ["t", "c"]
    assert info["nbytes"] == 30 * 7 * 2
    assert info["nchunks"] == 4 and info["nchunks_initialized"] == 4
    code, out, _ = run(capsys, "info", v2_array)
    assert code == 0 and 'compressor={"id": "zlib", "level": 3}' in out and "Chunks initialised : 4 / 4" in out


def test_info_group(capsys, hierarchy):
    code, out, _ = run(capsys, "info", hierarchy, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["type"] == "group" and info["zarr_format"] == 3 and info["path"] == ""
    assert info["attributes_count"] == 2
    assert info["members_count"] == 2  # a, sub
    assert info["arrays_count"] == 2 and info["groups_count"] == 1
    assert [a["path"] for a in info["arrays"]] == ["a", "sub/b"]
    assert info["nbytes"] == 800 + 800
    assert info["nbytes_stored"] == sum(a["nbytes_stored"] for a in info["arrays"])
    code, text, _ = run(capsys, "info", hierarchy)
    assert code == 0
    assert "Type               : group" in text and "Members            : 2" in text
    array_lines = [line.strip() for line in text.splitlines() if line.startswith("  ")]
    assert array_lines[0].startswith("a  (10, 20)  int32  chunks=(5, 5)")
    assert "4/8 chunks" in array_lines[0]
    assert array_lines[1].startswith("sub/b  (100,)  float64  chunks=(10,)  shards=(50,)")


def test_info_subgroup(capsys, hierarchy):
    code, out, _ = run(capsys, "info", hierarchy, "--path", "sub", "--json")
    info = json.loads(out)
    assert code == 0 and info["type"] == "group" and info["attributes_count"] == 1
    assert [a["path"] for a in info["arrays"]] == ["b"]


# ---- tree -------------------------------------------------------------------------------------------------
def test_tree_group(capsys, hierarchy):
    code, out, _ = run(capsys, "tree", hierarchy)
    assert code == 0
    assert out.rstrip("\n") == str(zarrfast.open_group(hierarchy, mode="r").tree()).rstrip("\n")
    assert "└── b (100,) float64" in out


def test_tree_level(capsys, hierarchy):
    code, out, _ = run(capsys, "tree", hierarchy, "--level", "0")
    assert code == 0
    assert out.rstrip("\n") == str(zarrfast.open_group(hierarchy, mode="r").tree(level=0)).rstrip("\n")
    assert "sub" in out and "b (100,)" not in out


def test_tree_array_is_one_line(capsys, hierarchy):
    code, out, _ = run(capsys, "tree", hierarchy, "--path", "sub/b")
    assert code == 0
    assert out.count("\n") == 1 and out.startswith("b  (100,)  float64")


def test_tree_bad_level(capsys, hierarchy):
    code, _, err = run(capsys, "tree", hierarchy, "--level", "-1")
    assert code == 2 and "must be >= 0" in err


# ---- errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["info", "tree"])
def test_missing_path(capsys, tmp_path, command):
    missing = str(tmp_path / "does-not-exist.zarr")
    code, out, err = run(capsys, command, missing)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("zarrfast: error: ") and missing in err
    assert "Traceback" not in err


def test_missing_node(capsys, hierarchy):
    code, _, err = run(capsys, "info", hierarchy, "--path", "nope")
    assert code == 1 and err.startswith("zarrfast: error: ") and "'nope'" in err and err.count("\n") == 1


def test_not_zarr_file(capsys, tmp_path):
    bad = tmp_path / "bad.zarr"
    bad.mkdir()
    (bad / "zarr.json").write_text("{not json")
    code, _, err = run(capsys, "info", str(bad))
    assert code == 1 and err.startswith("zarrfast: error: ") and err.count("\n") == 1


@pytest.mark.parametrize("argv, fragment", [
    (["convert", "a", "b", "--compressor", "zstd:99"], "invalid compressor spec 'zstd:99'"),
    (["convert", "a", "b", "--compressor", "brotli"], "unknown compressor 'brotli'"),
    (["convert", "a", "b", "--chunks", "64,x"], "invalid chunks '64,x'"),
    (["convert", "a", "b", "--shards", "0"], "invalid shards '0'"),
    (["convert", "a", "b", "--zarr-format", "4"], "invalid choice"),
    (["convert", "a", "b", "--workers", "0"], "must be at least 1"),
    (["rechunk", "a", "b", "--chunks", "4"], "--max-mem"),
    (["rechunk", "a", "b", "--max-mem", "1G"], "--chunks"),
    (["rechunk", "a", "b", "--chunks", "4", "--max-mem", "lots"], "invalid size 'lots'"),
    (["rechunk", "a", "b", "--chunks", "4", "--max-mem", "1XB"], "invalid size '1XB'"),
])
def test_bad_arguments_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert fragment in err and "Traceback" not in err


@pytest.mark.parametrize("text, expected", [
    ("512MB", 512 * 10**6), ("1GiB", 2**30), ("100M", 100 * 2**20), ("2e9", 2 * 10**9), ("1000", 1000),
    ("1G", 2**30), ("64k", 64 * 1024), ("1.5KiB", 1536), ("3KB", 3000), ("10 MiB", 10 * 2**20), ("7b", 7),
    ("2TB", 2 * 10**12), ("1T", 2**40),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MB", "-1MB", "0", "1XB", "1..2", "nan"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError, match="invalid size"):
        parse_size(text)


# ---- convert / rechunk wiring (fake library functions) ------------------------------------------------------
class FakeApi:
    def __init__(self, summary=None, error=None):
        self.calls = []
        self.summary = summary if summary is not None else {"arrays": 1, "groups": 0, "bytes_read": 2048,
                                                            "bytes_written": 1024, "seconds": 0.5}
        self.error = error

    def __call__(self, src, dst, **kwargs):
        self.calls.append((src, dst, kwargs))
        progress = kwargs["progress"]
        progress.start(2, 2048, "/a")
        progress.update(1, 1024)
        if self.error is not None:
            raise self.error
        progress.update(1, 1024)
        progress.close()
        return self.summary


@pytest.fixture
def fake_convert(monkeypatch):
    fake = FakeApi()
    monkeypatch.setattr(zarrfast, "convert", fake, raising=False)
    return fake


@pytest.fixture
def fake_rechunk(monkeypatch):
    fake = FakeApi({"passes": 2, "peak_estimate_bytes": 3 * 2**20, "seconds": 1.25})
    monkeypatch.setattr(zarrfast, "rechunk", fake, raising=False)
    return fake


def test_convert_arguments(capsys, fake_convert):
    code, out, err = run(capsys, "convert", "in.zarr", "out.zarr", "--zarr-format", "2", "--chunks", "64,32",
                         "--shards", "128,64", "--compressor", "blosc:lz4:5:shuffle", "--workers", "3",
                         "--overwrite", "--path", "grp/x", "--max-mem", "1GiB")
    assert code == 0
    (src, dst, kw), = fake_convert.calls
    assert (src, dst) == ("in.zarr", "out.zarr")
    assert kw["zarr_format"] == 2 and kw["chunks"] == (64, 32) and kw["shards"] == (128, 64)
    assert kw["workers"] == 3 and kw["overwrite"] is True and kw["path"] == "grp/x" and kw["max_mem"] == 2**30
    assert kw["executor"] is None
    assert isinstance(kw["progress"], Progress) and kw["progress"].enabled
    (codec,) = kw["compressor"]
    assert codec.to_v2() == {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
    assert out == "convert: arrays=1 groups=0 bytes_read=2.0 KiB bytes_written=1.0 KiB seconds=0.50\n"
    assert "/a [" in err and "2/2" in err and "2.0 KiB/2.0 KiB" in err


def test_convert_defaults(capsys, fake_convert):
    code, _, _ = run(capsys, "convert", "in.zarr", "out.zarr")
    assert code == 0
    (_, _, kw), = fake_convert.calls
    assert kw["zarr_format"] is None and kw["chunks"] is None and kw["shards"] is None
    assert kw["compressor"] is None and kw["workers"] is None and kw["overwrite"] is False and kw["path"] is None
    assert "max_mem" not in kw


def test_convert_compressor_none(capsys, fake_convert):
    assert run(capsys, "convert", "a", "b", "--compressor", "none")[0] == 0
    assert fake_convert.calls[0][2]["compressor"] == []


def test_convert_quiet_prints_nothing(capsys, fake_convert):
    code, out, err = run(capsys, "convert", "in.zarr", "out.zarr", "--quiet")
    assert code == 0 and out == "" and err == ""
    assert fake_convert.calls[0][2]["progress"].enabled is False


def test_rechunk_arguments(capsys, fake_rechunk):
    code, out, err = run(capsys, "rechunk", "in.zarr", "out.zarr", "--chunks", "10,10,10", "--max-mem", "512MB",
                         "--temp", "tmp.zarr", "--workers", "2", "--path", "arr")
    assert code == 0
    (_, _, kw), = fake_rechunk.calls
    assert kw["chunks"] == (10, 10, 10) and kw["shards"] is None and kw["max_mem"] == 512 * 10**6
    assert kw["temp"] == "tmp.zarr" and kw["workers"] == 2 and kw["overwrite"] is False and kw["path"] == "arr"
    assert out == "rechunk: passes=2 peak_estimate_bytes=3.0 MiB seconds=1.25\n"
    assert "2/2" in err


def test_rechunk_quiet(capsys, fake_rechunk):
    code, out, err = run(capsys, "rechunk", "a", "b", "--chunks", "5", "--max-mem", "1M", "-q", "--shards", "10")
    assert code == 0 and out == "" and err == ""
    kw = fake_rechunk.calls[0][2]
    assert kw["shards"] == (10,) and kw["max_mem"] == 2**20 and "path" not in kw


@pytest.mark.parametrize("error", [ValueError("max_mem 10 bytes is too small"), OSError("disk full"),
                                   zarrfast.errors.CodecError("bad codec\nsecond line")])
def test_library_errors_are_one_line(capsys, monkeypatch, error):
    fake = FakeApi(error=error)
    monkeypatch.setattr(zarrfast, "convert", fake, raising=False)
    code, out, err = run(capsys, "convert", "a", "b", "--quiet")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("zarrfast: error: ")
    assert " ".join(str(error).split()) in err


def test_dask_scheduler_client_is_created_and_closed(capsys, monkeypatch, fake_convert):
    distributed = pytest.importorskip("distributed")
    made = []

    class FakeClient:
        def __init__(self, address):
            self.address, self.closed = address, False
            made.append(self)

        def close(self):
            self.closed = True

    monkeypatch.setattr(distributed, "Client", FakeClient)
    code, _, _ = run(capsys, "convert", "a", "b", "--dask-scheduler", "tcp://10.0.0.1:8786", "-q")
    assert code == 0
    (client,) = made
    assert client.address == "tcp://10.0.0.1:8786" and client.closed
    assert fake_convert.calls[0][2]["executor"] is client
    # closed on errors too
    fake_convert.error = ValueError("boom")
    code, _, err = run(capsys, "convert", "a", "b", "--dask-scheduler", "tcp://h:1", "-q")
    assert code == 1 and "boom" in err and made[-1].closed


# ---- convert / rechunk end to end ---------------------------------------------------------------------------
@needs_convert
def test_convert_v3_group_to_v2(capsys, hierarchy, tmp_path):
    dst = str(tmp_path / "out.zarr")
    code, out, err = run(capsys, "convert", hierarchy, dst, "--zarr-format", "2", "--compressor", "gzip:6")
    assert code == 0, err
    assert out.startswith("convert: ") and "arrays=2" in out
    assert "[" in err and "/a" in err  # progress bars on stderr
    g = zarrfast.open_group(dst, mode="r")
    assert g.zarr_format == 2 and dict(g.attrs) == {"title": "t", "n": 1}
    a = g["a"]
    assert a.metadata.compressor == {"id": "gzip", "level": 6}
    src = zarrfast.open_group(hierarchy, mode="r")
    np.testing.assert_array_equal(a[...], src["a"][...])
    np.testing.assert_array_equal(g["sub/b"][...], src["sub/b"][...])
    code, out, _ = run(capsys, "info", dst, "--path", "a", "--json")
    assert code == 0 and json.loads(out)["compressor"] == {"id": "gzip", "level": 6}


@needs_convert
def test_convert_quiet_real(capsys, v2_array, tmp_path):
    dst = str(tmp_path / "q.zarr")
    code, out, err = run(capsys, "convert", v2_array, dst, "--zarr-format", "3", "--chunks", "10,7",
                         "--shards", "30,7", "--compressor", "zstd:3", "--quiet")
    assert (code, out, err) == (0, "", "")
    arr = zarrfast.open_array(dst, mode="r")
    assert arr.zarr_format == 3 and arr.chunks == (10, 7) and arr.shards == (30, 7)
    inner = arr.metadata.codecs[0]["configuration"]["codecs"]
    assert inner[-1] == {"name": "zstd", "configuration": {"level": 3, "checksum": False}}
    np.testing.assert_array_equal(arr[...], zarrfast.open_array(v2_array, mode="r")[...])
    # the destination exists now: an error naming the option, exit 1
    code, _, err = run(capsys, "convert", v2_array, dst, "-q")
    assert code == 1 and err.startswith("zarrfast: error: ") and err.count("\n") == 1
    assert run(capsys, "convert", v2_array, dst, "-q", "--overwrite")[0] == 0


@needs_rechunk
def test_rechunk_real(capsys, tmp_path):
    src = str(tmp_path / "src.zarr")
    data = np.arange(120 * 80, dtype="f4").reshape(120, 80)
    zarrfast.create_array(src, data=data, chunks=(4, 80))
    dst = str(tmp_path / "dst.zarr")
    code, out, err = run(capsys, "rechunk", src, dst, "--chunks", "120,4", "--max-mem", "4MiB")
    assert code == 0, err
    assert out.startswith("rechunk: ") and "passes=" in out and "rechunk [" in err
    arr = zarrfast.open_array(dst, mode="r")
    assert arr.chunks == (120, 4)
    np.testing.assert_array_equal(arr[...], data)
    code, out, err = run(capsys, "rechunk", src, str(tmp_path / "d2.zarr"), "--chunks", "120,4", "--max-mem", "1K",
                         "--quiet")
    assert code == 1 and out == "" and err.startswith("zarrfast: error: ") and err.count("\n") == 1


@needs_convert
def test_convert_on_local_dask_cluster(capsys, hierarchy, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) \
            as cluster:
        dst = str(tmp_path / "dask.zarr")
        code, _, err = run(capsys, "convert", hierarchy, dst, "--dask-scheduler", cluster.scheduler_address, "-q")
    assert code == 0, err
    src = zarrfast.open_group(hierarchy, mode="r")
    np.testing.assert_array_equal(zarrfast.open_group(dst, mode="r")["a"][...], src["a"][...])


# ---- real entry points ------------------------------------------------------------------------------------
def _script():
    path = Path(sysconfig.get_path("scripts")) / "zarrfast"
    if not path.exists():
        pytest.skip("the zarrfast console script is not installed (pip install -e . --no-build-isolation)")
    return str(path)


def _env():
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def test_console_script(hierarchy):
    proc = subprocess.run([_script(), "info", hierarchy, "--json"], capture_output=True, text=True, env=_env(),
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["arrays_count"] == 2
    proc = subprocess.run([_script(), "info", hierarchy + "-missing"], capture_output=True, text=True, env=_env(),
                          timeout=120, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("zarrfast: error: ") and proc.stderr.count("\n") == 1
    proc = subprocess.run([_script(), "convert", "a", "b", "--chunks", "0"], capture_output=True, text=True,
                          env=_env(), timeout=120, check=False)
    assert proc.returncode == 2 and "invalid chunks" in proc.stderr


def test_python_dash_m(hierarchy):
    proc = subprocess.run([sys.executable, "-m", "zarrfast", "tree", hierarchy], capture_output=True, text=True,
                          env=_env(), timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip("\n") == str(zarrfast.open_group(hierarchy, mode="r").tree()).rstrip("\n")
    proc = subprocess.run([sys.executable, "-m", "zarrfast", "--version"], capture_output=True, text=True,
                          env=_env(), timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == f"zarrfast {zarrfast.__version__}"
