"""ReferenceStore: kerchunk reference sets (versions 0 and 1) read through zarrfast, checked against h5py."""
from __future__ import annotations

import base64
import json
import os
import pickle
import random
import threading

import numpy as np
import pytest

import zarrfast
from zarrfast.errors import ReadOnlyError, StoreError, StoreNotFoundError
from zarrfast.storage import ReferenceStore, make_store
from zarrfast.storage import reference as reference_mod
from zarrfast.storage.reference_gen import ReferenceFormatError, expand_gen, make_templates, render

h5py = pytest.importorskip("h5py")
kerchunk_hdf = pytest.importorskip("kerchunk.hdf")

DATASETS = ["chunked2d", "contig", "partial3d", "be_u2", "scalar", "small", "grp/sub/i1", "big1d", "fixed_bytes",
            "c16", "flags", "half"]


def _write_h5(path: str) -> None:
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["title"] = "reference test"
        f.attrs["version"] = 3
        f.create_dataset("chunked2d", data=rng.integers(-1000, 1000, (200, 300), dtype="i4"),
                         chunks=(20, 30), compression="gzip", shuffle=True)
        f.create_dataset("contig", data=np.linspace(-1, 1, 1000))
        d = f.create_dataset("partial3d", shape=(6, 8, 10), dtype="f4", chunks=(2, 4, 5),
                             compression="gzip", fillvalue=-9.5)
        d[0:2, :, 0:5] = rng.random((2, 8, 5), dtype="f4")
        d.attrs["units"] = "K"
        d.attrs["scale"] = [1.5, 2.5]
        f.create_dataset("be_u2", data=np.arange(5000, dtype=">u2").reshape(50, 100), chunks=(10, 100),
                         compression="gzip", compression_opts=9)
        f.create_dataset("scalar", data=np.int16(-7))
        f.create_dataset("small", data=np.arange(4, dtype="u1"))
        g = f.create_group("grp/sub")
        g.attrs["note"] = "nested"
        g.create_dataset("i1", data=rng.integers(-100, 100, (30, 4, 5), dtype="i1"), chunks=(10, 2, 5))
        f.create_dataset("big1d", data=np.arange(50_000, dtype="<i8"), chunks=(1000,))
        f.create_dataset("fixed_bytes", data=np.array([b"abc", b"hello", b""], dtype="S5"))
        f.create_dataset("c16", data=(np.arange(20) - 1j * np.arange(20)).reshape(4, 5), chunks=(2, 5))
        f.create_dataset("flags", data=np.arange(30) % 3 == 0, chunks=(10,), compression="gzip")
        f.create_dataset("half", data=np.linspace(0, 4, 50, dtype="f2"), chunks=(16,), shuffle=True,
                         compression="gzip")
        f.create_dataset("vstr", data=np.array(["a", "bb", "ccc", "é"], dtype=object), dtype=h5py.string_dtype())


@pytest.fixture(scope="module")
def h5path(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("h5") / "data.h5")
    _write_h5(path)
    return path


@pytest.fixture(scope="module")
def refs(h5path: str) -> dict:
    return kerchunk_hdf.SingleHdf5ToZarr(h5path, inline_threshold=50).translate()


def _h5_read(h5path: str, name: str) -> np.ndarray:
    with h5py.File(h5path, "r") as f:
        return f[name][()]


def _check_all(store: ReferenceStore, h5path: str) -> None:
    group = zarrfast.open_group(store, mode="r")
    for name in DATASETS:
        expected = _h5_read(h5path, name)
        got = group[name][...]
        assert got.dtype == expected.dtype, name
        assert got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected, err_msg=name)
    with h5py.File(h5path, "r") as f:  # variable-length strings (kerchunk inlines them, vlen-utf8)
        assert group["vstr"][...].tolist() == f["vstr"].asstr()[()].tolist() == ["a", "bb", "ccc", "é"]


# ------------------------------------------------------------------------ kerchunk + h5py round trips
def test_version1_reads_equal_h5py(refs: dict, h5path: str) -> None:
    assert refs["version"] == 1
    _check_all(ReferenceStore(refs), h5path)


def test_version0_reads_equal_h5py(refs: dict, h5path: str) -> None:
    v0 = dict(refs["refs"])
    v0[".zgroup"] = json.loads(v0[".zgroup"])  # some writers inline metadata as JSON objects
    _check_all(ReferenceStore(v0), h5path)


@pytest.mark.parametrize("form", ["path", "pathlike", "file_url", "text", "bytes"])
def test_refs_from_json_file_text_and_bytes(refs: dict, h5path: str, tmp_path, form: str) -> None:
    text = json.dumps(refs)
    path = tmp_path / "refs.json"
    path.write_text(text)
    arg = {"path": str(path), "pathlike": path, "file_url": path.as_uri(), "text": text,
           "bytes": text.encode()}[form]
    store = ReferenceStore(arg)
    np.testing.assert_array_equal(zarrfast.open_array(store, path="chunked2d", mode="r")[5:55, 7:130],
                                  _h5_read(h5path, "chunked2d")[5:55, 7:130])


def test_attributes_fill_values_and_groups(refs: dict, h5path: str) -> None:
    group = zarrfast.open_group(ReferenceStore(refs), mode="r")
    assert group.attrs["title"] == "reference test"
    assert group.attrs["version"] == 3
    assert group["partial3d"].attrs["units"] == "K"
    assert list(group["partial3d"].attrs["scale"]) == [1.5, 2.5]
    assert group["grp/sub"].attrs["note"] == "nested"
    partial = group["partial3d"]
    assert partial.fill_value == -9.5
    assert np.all(partial[2:, :, :] == -9.5)  # chunks never written are absent: the fill value
    assert partial[:2, :, 5:].tolist() == np.full((2, 8, 5), -9.5, "f4").tolist()
    assert sorted(group["grp"].array_keys()) == [] and "sub" in group["grp"]


def test_relative_urls_and_base_dir(refs: dict, h5path: str) -> None:
    folder, name = os.path.split(h5path)
    rel = {"version": 1, "refs": {
        k: ([name, *v[1:]] if isinstance(v, list) else v) for k, v in refs["refs"].items()}}
    _check_all(ReferenceStore(rel, base_dir=folder), h5path)
    with pytest.raises(StoreNotFoundError):
        ReferenceStore(rel, base_dir=os.path.dirname(folder)).get("big1d/0")


# ------------------------------------------------------------------------ coalescing
def test_get_many_coalesces_reads(refs: dict, h5path: str, monkeypatch) -> None:
    calls = []
    real_pread = reference_mod._pread
    monkeypatch.setattr(reference_mod, "_pread", lambda fd, n, off: calls.append((off, n)) or real_pread(fd, n, off))
    store = ReferenceStore(refs)
    chunk_keys = [k for k in store.list_prefix("big1d/") if not k.rsplit("/", 1)[1].startswith(".")]
    assert len(chunk_keys) == 50
    np.testing.assert_array_equal(zarrfast.open_array(store, path="big1d", mode="r")[...], np.arange(50_000))
    assert 1 <= len(calls) < 50
    assert store.read_count == len(calls)

    calls.clear()
    separate = ReferenceStore(refs, max_request=0)  # no merged request may exceed 0 bytes: no merging
    assert separate.get_many(chunk_keys) == store.get_many(chunk_keys)
    assert separate.read_count == 50
    assert store.read_count < 10


def test_coalescing_respects_gap(tmp_path) -> None:
    blob = os.urandom(1 << 20)
    (tmp_path / "b.bin").write_bytes(blob)
    url = str(tmp_path / "b.bin")
    # ranges 1 KiB apart, and one 200 KiB further away
    offsets = [0, 2048, 4096, 300_000]
    store = ReferenceStore({f"k{i}": [url, o, 1024] for i, o in enumerate(offsets)})
    values = store.get_many([f"k{i}" for i in (3, 0, 2, 1)])
    assert values == [blob[o:o + 1024] for o in (offsets[3], offsets[0], offsets[2], offsets[1])]
    assert store.read_count == 2
    tight = ReferenceStore({f"k{i}": [url, o, 1024] for i, o in enumerate(offsets)}, max_gap=100)
    tight.get_many(["k0", "k1", "k2", "k3"])
    assert tight.read_count == 4


def test_remote_targets_through_fsspec_are_batched(refs: dict, h5path: str, monkeypatch) -> None:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    with open(h5path, "rb") as f:
        fs.pipe("/reftest/data.h5", f.read())
    remote = {"version": 1, "refs": {
        k: (["reftest/data.h5", *v[1:]] if isinstance(v, list) else v) for k, v in refs["refs"].items()}}
    batches = []
    real = type(fs).cat_ranges
    monkeypatch.setattr(type(fs), "cat_ranges",
                        lambda self, paths, starts, ends, **kw: batches.append(len(paths)) or real(
                            self, paths, starts, ends, **kw))
    store = ReferenceStore(remote, remote_protocol="memory")
    _check_all(store, h5path)
    assert batches and max(batches) < 50
    full_urls = {"version": 1, "refs": {
        k: (["memory://reftest/data.h5", *v[1:]] if isinstance(v, list) else v) for k, v in refs["refs"].items()}}
    np.testing.assert_array_equal(zarrfast.open_array(ReferenceStore(full_urls), path="be_u2", mode="r")[...],
                                  _h5_read(h5path, "be_u2"))
    fs.pipe("/reftest/refs.json", json.dumps(full_urls).encode())
    from_url = ReferenceStore("memory://reftest/refs.json", storage_options={})
    assert from_url.get("big1d/3") == ReferenceStore(refs).get("big1d/3")
    assert pickle.loads(pickle.dumps(from_url)) == from_url
    with pytest.raises(StoreNotFoundError, match="nope.json"):
        ReferenceStore("memory://reftest/nope.json")
    missing = ReferenceStore({"k": ["memory://reftest/nope.h5", 0, 10]})
    with pytest.raises(StoreNotFoundError, match="'k'.*nope.h5"):
        missing.get_many(["k"])
    fs.rm("/reftest", recursive=True)


# ------------------------------------------------------------------------ hand-built version 1 sets
@pytest.fixture()
def blob_dir(tmp_path):
    data = bytes(random.Random(1).randrange(256) for _ in range(4096))
    (tmp_path / "part_0.bin").write_bytes(data)
    (tmp_path / "part_1.bin").write_bytes(data[::-1])
    return tmp_path, data


def _hand_refs(folder) -> dict:
    return {
        "version": 1,
        "templates": {"d": str(folder), "f": "part_{{n}}.bin"},
        "gen": [
            {"key": "arr/{{i}}.{{j}}", "url": "{{d}}/{{ f(n=0) }}",
             "offset": "{{ 100 + (i * 3 + j) * 64 }}", "length": "64",
             "dimensions": {"i": {"stop": 4}, "j": [0, 1, 2]}},
            {"key": "whole/{{ n }}", "url": "{{d}}/part_{{n}}.bin", "dimensions": {"n": {"start": 0, "stop": 2}}},
            {"key": "stepped/{{ k // 2 }}", "url": "file://{{d}}/part_1.bin", "offset": "{{ k * 10 }}",
             "length": 7, "dimensions": {"k": {"start": 2, "stop": 9, "step": 2}}},
        ],
        "refs": {
            ".zgroup": '{"zarr_format": 2}',
            "arr/.zarray": {"shape": [4, 24], "chunks": [1, 8], "dtype": "<u8", "compressor": None,
                            "fill_value": 0, "filters": None, "order": "C", "zarr_format": 2},
            "arr/.zattrs": {"made": "by hand"},
            "direct": ["{{d}}/{{ f(n=1) }}", 5, 10],
            "text": "plain text",
            "b64": "base64:" + base64.b64encode(b"\x00\xff\xfe binary").decode(),
        },
    }


def test_templates_and_gen_values_exact(blob_dir) -> None:
    folder, data = blob_dir
    store = ReferenceStore(_hand_refs(folder))
    for i in range(4):
        for j in range(3):
            off = 100 + (i * 3 + j) * 64
            assert store.get(f"arr/{i}.{j}") == data[off:off + 64]
    assert store.get("whole/0") == data and store.get("whole/1") == data[::-1]
    assert store.get("direct") == data[::-1][5:15]
    assert [store.get(f"stepped/{k // 2}") for k in (2, 4, 6, 8)] == [data[::-1][k * 10:k * 10 + 7] for k in (2, 4, 6, 8)]
    assert store.get("text") == b"plain text"
    assert store.get("b64") == b"\x00\xff\xfe binary"
    assert json.loads(store.get("arr/.zattrs")) == {"made": "by hand"}
    arr = zarrfast.open_array(store, path="arr", mode="r")
    expected = np.concatenate([np.frombuffer(data[100 + r * 192:100 + (r + 1) * 192], "<u8")[None] for r in range(4)])
    np.testing.assert_array_equal(arr[...], expected)
    assert arr.attrs["made"] == "by hand"


def test_gen_matches_fsspec_reference_filesystem(blob_dir) -> None:
    pytest.importorskip("jinja2")
    from fsspec.implementations.reference import ReferenceFileSystem

    folder, _ = blob_dir
    refs = _hand_refs(folder)
    refs["refs"].pop("b64")  # fsspec's version-1 parser keeps base64 values undecoded
    ours = ReferenceStore(refs)
    for gen in refs["gen"]:  # fsspec wants offsets/lengths as strings and one protocol per set
        gen.update({k: str(gen[k]) for k in ("offset", "length") if k in gen})
        gen["url"] = gen["url"].removeprefix("file://")
    theirs = ReferenceFileSystem(json.loads(json.dumps(refs)), simple_templates=False)
    keys = sorted(ours.list())
    assert keys == sorted(theirs.references)
    for key in keys:
        if key.endswith((".zarray", ".zattrs")):  # JSON objects: the same document, spacing may differ
            assert json.loads(ours.get(key)) == json.loads(theirs.cat_file(key)), key
        else:
            assert ours.get(key) == theirs.cat_file(key), key


def test_template_evaluator() -> None:
    templates = make_templates({"u": "host/path", "f": "{{c}}-{{ c2 }}"})
    ctx = dict(templates, i=7)
    assert render("{{u}}/{{ f(c='a', c2=i * 2) }}", ctx) == "host/path/a-14"
    assert render("{{ 1000 + i*10 }} {{ (i + 1) ** 2 // 3 }} {{ -i % 5 }} {{ 7 / 2 }}", ctx) == "1070 21 3 3.5"
    assert render("{{ '%05d' % i }} {{ i|string ~ 'x' }} {{ '%d-%d'|format(i, 2) }}", ctx) == "00007 7x 7-2"
    for bad in ["{{ __import__('os') }}", "{{ i.__class__ }}", "{{ undefined_name }}", "{{ 1 +", "{{ 1/0 }}",
                "{{ 2 ** 100000 }}", "{{ u(c=1) }}"]:
        with pytest.raises(ReferenceFormatError):
            render(bad, ctx)
    out = list(expand_gen([{"key": "k{{i}}", "url": "u", "offset": "{{i*2}}", "length": "{{ 1.0 * 3 }}",
                            "dimensions": {"i": [5, 6]}}], {}))
    assert out == [("k5", "u", 10, 3), ("k6", "u", 12, 3)]


def test_inline_and_base64_values() -> None:
    raw = bytes(range(256))
    store = ReferenceStore({"a": "base64:" + base64.b64encode(raw).decode(), "b": "héllo",
                            "c/.zattrs": {"x": [1, 2]}, "d": raw})
    assert store.get("a") == raw and store.get("d") == raw
    assert store.get("b") == "héllo".encode()
    assert json.loads(store.get("c/.zattrs")) == {"x": [1, 2]}
    assert store.get("missing") is None
    assert store.get_many(["a", "missing", "b"]) == [raw, None, "héllo".encode()]


# ------------------------------------------------------------------------ store interface
def test_ranges_within_references(blob_dir) -> None:
    folder, data = blob_dir
    store = ReferenceStore(_hand_refs(folder))
    ref = data[100:164]  # arr/0.0
    assert store.get_range("arr/0.0", 10, 5) == ref[10:15]
    assert store.get_range("arr/0.0", -4) == ref[-4:]
    assert store.get_range("arr/0.0", 60, 100) == ref[60:]  # clipped to the referenced range
    assert store.get_range("arr/0.0", 70) == b""
    assert store.get_ranges("arr/0.0", [(0, 3), (-2, None), (64, 1), (30, 4)]) == [ref[:3], ref[-2:], b"", ref[30:34]]
    assert store.get_range("whole/1", -10) == data[::-1][-10:]
    assert store.get_range("text", 6) == b"text"
    assert store.get_range("nope", 0, 1) is None and store.get_ranges("nope", [(0, 1)]) is None


def test_listing_includes_gen_keys(blob_dir) -> None:
    folder, _ = blob_dir
    store = ReferenceStore(_hand_refs(folder))
    keys = set(store.list())
    assert {f"arr/{i}.{j}" for i in range(4) for j in range(3)} <= keys
    assert {"whole/0", "whole/1", "stepped/1", "stepped/4", ".zgroup", "direct"} <= keys
    assert len(keys) == 12 + 2 + 4 + 6
    assert sorted(store.list_prefix("whole/")) == ["whole/0", "whole/1"]
    assert set(store.list_dir("")) == {".zgroup", "arr", "whole", "stepped", "direct", "text", "b64"}
    assert len(set(store.list_dir("arr"))) == 14
    assert store.exists("arr/3.2") and not store.exists("arr/4.0")


def test_read_only(blob_dir) -> None:
    folder, _ = blob_dir
    store = ReferenceStore(_hand_refs(folder))
    assert store.read_only
    with pytest.raises(ReadOnlyError):
        store.set("x", b"1")
    with pytest.raises(ReadOnlyError):
        store.delete("text")
    with pytest.raises(ReadOnlyError):
        store.set_many({"x": b"1"})
    with pytest.raises(ReadOnlyError):
        ReferenceStore({}, read_only=False)
    with pytest.raises(ReadOnlyError):
        store.with_read_only(False)
    with pytest.raises(ReadOnlyError):
        zarrfast.open_group(store, mode="w")
    assert make_store(store, mode="r") is store


def test_pickle_by_refs_and_options(blob_dir, refs: dict, tmp_path) -> None:
    folder, _ = blob_dir
    store = ReferenceStore(_hand_refs(folder), max_gap=123)
    clone = pickle.loads(pickle.dumps(store))
    assert clone == store and clone.max_gap == 123 and clone.get("arr/1.1") == store.get("arr/1.1")
    path = tmp_path / "r.json"
    path.write_text(json.dumps(refs))
    by_path = ReferenceStore(str(path))
    state = by_path.__reduce__()[1][1]
    assert state["refs"] == str(path)
    assert pickle.loads(pickle.dumps(by_path)) == by_path
    assert by_path != ReferenceStore(refs)
    assert "r.json" in repr(by_path) and "references" in repr(store)


# ------------------------------------------------------------------------ errors
def test_missing_target_file_names_key_and_url(tmp_path) -> None:
    url = str(tmp_path / "gone.h5")
    store = ReferenceStore({"a/0": [url, 0, 10], "a/1": [url]})
    for read in (lambda: store.get("a/0"), lambda: store.get_many(["a/0"]), lambda: store.get("a/1"),
                 lambda: store.get_range("a/1", 0, 1)):
        with pytest.raises(StoreNotFoundError, match=r"'a/[01]'.*gone\.h5") as info:
            read()
        assert isinstance(info.value, FileNotFoundError)
    with pytest.raises(StoreNotFoundError, match="missing.json"):
        ReferenceStore(str(tmp_path / "missing.json"))


def test_short_file_names_key(tmp_path) -> None:
    (tmp_path / "short.bin").write_bytes(b"x" * 100)
    url = str(tmp_path / "short.bin")
    store = ReferenceStore({"ok": [url, 0, 50], "short": [url, 90, 20], "past": [url, 500, 4]})
    assert store.get("ok") == b"x" * 50
    for key in ("short", "past"):
        with pytest.raises(StoreError, match=f"'{key}'.*short read"):
            store.get(key)
    with pytest.raises(StoreError, match="'short'"):
        store.get_many(["ok", "short"])


def test_array_reads_surface_target_errors(tmp_path) -> None:
    (tmp_path / "t.bin").write_bytes(np.arange(4, dtype="<i4").tobytes())
    meta = {"shape": [6], "chunks": [2], "dtype": "<i4", "compressor": None, "fill_value": -1, "filters": None,
            "order": "C", "zarr_format": 2}
    store = ReferenceStore({"a/.zarray": meta, "a/0": [str(tmp_path / "t.bin"), 0, 8],
                            "a/1": [str(tmp_path / "gone.bin"), 0, 8], "a/2": [str(tmp_path / "t.bin"), 8, 16]})
    arr = zarrfast.open_array(store, path="a", mode="r")
    assert arr[:2].tolist() == [0, 1]
    with pytest.raises(StoreNotFoundError, match=r"'a/1'.*gone\.bin"):
        arr[2:4]
    with pytest.raises(StoreError, match="'a/2'.*short read"):
        arr[4:]


@pytest.mark.parametrize(("refs", "match"), [
    ("{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    ({"k": 5}, "'k'.*unknown reference form"),
    ({"k": ["a.bin", "x", 3]}, "'k'.*offset and length"),
    ({"k": ["a.bin", 0]}, "'k'.*unknown reference form"),
    ({"k": None}, "'k'"),
    ({"k": "base64:@@@"}, "'k'.*base64"),
    ({"version": 2, "refs": {}}, "version 2"),
    ({"version": 1, "gen": [{"key": "g{{i}}", "url": "u", "offset": "1", "dimensions": {"i": [1]}}]},
     "offset' and 'length"),
    ({"version": 1, "gen": [{"key": "g{{i}}", "url": "u", "dimensions": {"i": 3}}]}, "dimension 'i'"),
])
def test_bad_reference_sets(refs, match: str) -> None:
    with pytest.raises(ReferenceFormatError, match=match) as info:
        ReferenceStore(refs)
    assert isinstance(info.value, StoreError) and isinstance(info.value, ValueError)


def test_bad_json_file(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"a": ')
    with pytest.raises(ReferenceFormatError, match="bad.json"):
        ReferenceStore(path)


# ------------------------------------------------------------------------ threads
def test_many_threads_with_tiny_file_cache(refs: dict, h5path: str, blob_dir) -> None:
    folder, data = blob_dir
    combined = dict(refs["refs"])
    hand = ReferenceStore(_hand_refs(folder))
    hand_refs = _hand_refs(folder)
    store = ReferenceStore({"version": 1, "refs": combined, "gen": hand_refs["gen"],
                            "templates": hand_refs["templates"]}, max_open_files=1)
    expected_big = np.arange(50_000)
    expected_hand = {k: hand.get(k) for k in hand.list() 
                     if k.startswith(("arr/", "whole/", "stepped/")) and "/." not in k}
    hand_keys = sorted(expected_hand)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(15):
                if rng.random() < 0.3:
                    a = rng.randrange(0, 49_000)
                    got = zarrfast.open_array(store, path="big1d", mode="r")[a:a + 1000]
                    assert np.array_equal(got, expected_big[a:a + 1000])
                else:
                    keys = rng.sample(hand_keys, 5)
                    assert store.get_many(keys) == [expected_hand[k] for k in keys]
        except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    store.close()
    assert store.get("whole/0") == data  # reopens after close
