"""Hostile paths: store keys, array and group names, chunk keys and archive member names never reach outside a
``LocalStore`` or ``ZipStore`` root - not with ``..`` segments, absolute paths, backslashes, empty segments, NUL
bytes, nor symlinks pointing out (files, directories, chunk directories) or zip members named ``../x``.

Every test snapshots the directory *around* the root (names, sizes and contents of everything under ``tmp_path``
except the root itself) before and after, and asserts nothing changed; errors are ``InvalidKeyError`` (a
``StoreError``) naming the offending key or path. ``ZipStore`` never extracts anything to disk.
"""
from __future__ import annotations

import hashlib
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import zarrfast
from zarrfast import errors as E
from zarrfast.storage import LocalStore, ZipStore

BAD_KEYS = ["../x", "../../x", "a/../../x", "a/..", "..", ".", "./a", "a/./b", "/abs", "/etc/passwd", "a/",
            "a\\b", "..\\x", "a\\..\\..\\x", "a//b", "", "a\x00b", "\x00", "../" * 8 + "tmp/x"]
# node names: leading/trailing "/" are dropped (zarr-python's convention), so "/abs" and "a/" are valid names
BAD_NAMES = ["../x", "../../x", "a/../../x", "a/..", "..", ".", "./a", "a/./b", "a\\b", "..\\x", "a//b", "a\x00b",
             "../" * 8 + "tmp/x"]
ENGINES = ["auto", "python"]


def snapshot(top: Path, skip: Path | None = None) -> dict[str, str]:
    """Every entry under ``top`` (but not under ``skip``): relative name -> kind and content hash."""
    out = {}
    for dirpath, dirs, files in os.walk(top, followlinks=False):
        d = Path(dirpath)
        if skip is not None and (d == skip or skip in d.parents):
            dirs[:] = []
            continue
        for name in dirs + files:
            p = d / name
            if skip is not None and p == skip:
                continue
            rel = str(p.relative_to(top))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = "file:" + hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the root with a secret file and a valid chunk-like file, which must never change."""
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret").write_bytes(b"secret")
    (d / "x").write_bytes(b"do not touch")
    return d


def check_invalid(exc: BaseException, key: str) -> None:
    assert isinstance(exc, E.InvalidKeyError), (type(exc), exc)
    assert isinstance(exc, E.StoreError) and isinstance(exc, ValueError)
    assert repr(key) in str(exc) or repr(key.strip("/")) in str(exc), str(exc)


# ---- the store API ----------------------------------------------------------------------------------------------

STORE_OPS = {
    "get": lambda s, k: s.get(k),
    "get_many": lambda s, k: s.get_many(["ok", k]),
    "get_range": lambda s, k: s.get_range(k, 0, 4),
    "get_range suffix": lambda s, k: s.get_range(k, -4),
    "get_ranges": lambda s, k: s.get_ranges(k, [(0, 2), (-2, None)]),
    "exists": lambda s, k: s.exists(k),
    "set": lambda s, k: s.set(k, b"evil"),
    "set_parts": lambda s, k: s.set_parts(k, [b"ev", b"il"]),
    "set_many": lambda s, k: s.set_many([("fine", b"1"), (k, b"evil")]),
    "delete": lambda s, k: s.delete(k),
    "delete_many": lambda s, k: s.delete_many(["ok", k]),
}
PREFIX_OPS = {
    "list_prefix": lambda s, p: list(s.list_prefix(p)),
    "list_dir": lambda s, p: list(s.list_dir(p)),
    "delete_prefix": lambda s, p: s.delete_prefix(p),
}
BAD_PREFIXES = ["..", "../", "../outside/", "a/../../", "/", "//", "/etc/", "a//", "a\\..\\", "a\x00/", "./"]


def open_store(kind: str, tmp_path: Path):
    if kind == "local":
        root = tmp_path / "root"
        store = LocalStore(root)
        store.set("ok", b"fine")
        return store, root
    path = tmp_path / "root.zip"
    store = ZipStore(path, mode="w")
    store.set("ok", b"fine")
    return store, path


@pytest.mark.parametrize("kind", ["local", "zip"])
@pytest.mark.parametrize("op", list(STORE_OPS))
def test_store_api_refuses_bad_keys(tmp_path, outside, kind, op):
    store, root = open_store(kind, tmp_path)
    before = snapshot(tmp_path, skip=root)
    for key in BAD_KEYS:
        with pytest.raises(E.ZarrfastError) as info:
            STORE_OPS[op](store, key)
        check_invalid(info.value, key)
    assert snapshot(tmp_path, skip=root) == before
    assert store.get("ok") == b"fine"
    if kind == "local":  # nothing was created inside the root either
        assert sorted(store.list()) == ["ok"]
    store.close()


@pytest.mark.parametrize("kind", ["local", "zip"])
@pytest.mark.parametrize("op", list(PREFIX_OPS))
def test_store_api_refuses_bad_prefixes(tmp_path, outside, kind, op):
    store, root = open_store(kind, tmp_path)
    before = snapshot(tmp_path, skip=root)
    for prefix in BAD_PREFIXES:
        with pytest.raises(E.ZarrfastError) as info:
            PREFIX_OPS[op](store, prefix)
        assert isinstance(info.value, E.InvalidKeyError), (prefix, info.value)
    assert snapshot(tmp_path, skip=root) == before
    assert store.get("ok") == b"fine"
    store.close()


def test_local_store_key_with_trailing_spaces_and_dots_stays_inside(tmp_path, outside):
    """Segments that only look like '..' (' ..', '.. ', '...') are ordinary names: they stay inside the root."""
    root = tmp_path / "root"
    store = LocalStore(root)
    before = snapshot(tmp_path, skip=root)
    for key in [" ../x", ".. /x", ".../x", "a/.../b", "..a", "a.."]:
        store.set(key, b"v")
        assert store.get(key) == b"v"
        assert (root / key).resolve().is_relative_to(root.resolve())
    assert snapshot(tmp_path, skip=root) == before


# ---- the array and group API ------------------------------------------------------------------------------------

def _node_ops(store):
    g = zarrfast.open_group(store, mode="a")
    return {
        "create_array(name=)": lambda n: zarrfast.create_array(store=store, name=n, shape=(2,), dtype="i4"),
        "create_array(path=)": lambda n: zarrfast.create_array(store=store, path=n, shape=(2,), dtype="i4"),
        "create_group(path=)": lambda n: zarrfast.create_group(store, path=n),
        "open_array(path=)": lambda n: zarrfast.open_array(store, path=n, mode="r"),
        "open_array(path=, mode=w)": lambda n: zarrfast.open_array(store, path=n, mode="w", shape=(2,), dtype="i4"),
        "open_group(path=)": lambda n: zarrfast.open_group(store, path=n, mode="a"),
        "open(path=)": lambda n: zarrfast.open(store, path=n, mode="a"),
        "group[name]": lambda n: g[n],
        "group.get": lambda n: g.get(n),
        "group.create_group": lambda n: g.create_group(n),
        "group.require_group": lambda n: g.require_group(n),
        "group.create_array": lambda n: g.create_array(n, shape=(2,), dtype="i4"),
        "group.zeros": lambda n: g.zeros(n, shape=(2,)),
    }


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("kind", ["local", "zip"])
def test_node_api_refuses_bad_names(tmp_path, outside, kind, fmt):
    store, root = open_store(kind, tmp_path)
    zarrfast.create_group(store, zarr_format=fmt)
    before = snapshot(tmp_path, skip=root)
    listed = sorted(store.list())
    for op, fn in _node_ops(store).items():
        for name in BAD_NAMES:
            with pytest.raises(E.ZarrfastError) as info:
                fn(name)
            check_invalid(info.value, name)
            assert isinstance(info.value, E.MetadataError)  # an invalid node path is also bad metadata input
    assert snapshot(tmp_path, skip=root) == before
    assert sorted(store.list()) == listed  # nothing was written inside the root either
    store.close()


@pytest.mark.parametrize("kind", ["local", "zip"])
def test_leading_slash_names_are_relative_to_the_root(tmp_path, outside, kind):
    """'/abs' and 'a/' name nodes inside the store ('abs', 'a'), as in zarr-python: never the filesystem root."""
    store, root = open_store(kind, tmp_path)
    before = snapshot(tmp_path, skip=root)
    a = zarrfast.create_array(store=store, name="/abs/arr", shape=(3,), dtype="i4")
    a[...] = [1, 2, 3]
    g = zarrfast.create_group(store, path="grp/")
    assert a.path == "abs/arr" and g.path == "grp"
    assert "abs/arr/zarr.json" in set(store.list())
    np.testing.assert_array_equal(zarrfast.open_array(store, path="/abs/arr", mode="r")[...], [1, 2, 3])
    assert snapshot(tmp_path, skip=root) == before
    assert not Path("/abs").exists()
    store.close()


# ---- symlinks (LocalStore) --------------------------------------------------------------------------------------

def _array(root: Path, name: str = "arr", **kw):
    kw = {"chunks": (4,), **kw}
    a = zarrfast.create_array(store=LocalStore(root), name=name, shape=(8,), dtype="i4", **kw)
    a[...] = np.arange(8)
    return a


@pytest.mark.parametrize("engine", ENGINES)
def test_chunk_directory_symlinked_out(tmp_path, outside, engine):
    """arr/c -> a directory outside holding chunk files: reads and writes refuse the keys; nothing outside moves."""
    root = tmp_path / "root"
    _array(root)
    _array(outside, name="donor")  # valid chunks to tempt the reader
    os.rename(root / "arr" / "c", tmp_path / "moved")
    os.symlink(outside / "donor" / "c", root / "arr" / "c")
    before = snapshot(tmp_path, skip=root)
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(LocalStore(root), path="arr", mode="r+")
        for op in (lambda: a[...], lambda: a[5], lambda: a.oindex[[1, 6]], lambda: a.__setitem__(0, 9),
                   lambda: a.__setitem__(slice(None), 9), lambda: a.__setitem__(slice(4, 8), 9)):
            with pytest.raises(E.InvalidKeyError) as info:
                op()
            assert "arr/c/" in str(info.value) and "outside the root" in str(info.value)
    assert snapshot(tmp_path, skip=root) == before


@pytest.mark.parametrize("engine", ENGINES)
def test_chunk_file_symlinked_out(tmp_path, outside, engine):
    """arr/c/1 -> a file outside: a read refuses it; a complete overwrite replaces the link, never its target."""
    root = tmp_path / "root"
    _array(root)
    _array(outside, name="donor")
    os.unlink(root / "arr" / "c" / "1")
    os.symlink(outside / "donor" / "c" / "1", root / "arr" / "c" / "1")
    before = snapshot(tmp_path, skip=root)
    with zarrfast.config.set(engine=engine):
        a = zarrfast.open_array(LocalStore(root), path="arr", mode="r+")
        np.testing.assert_array_equal(a[0:4], np.arange(4))
        for op in (lambda: a[...], lambda: a[6], lambda: a.vindex[[0, 7]], lambda: a.__setitem__(5, 1)):
            with pytest.raises(E.InvalidKeyError) as info:
                op()
            assert "'arr/c/1'" in str(info.value)
        assert snapshot(tmp_path, skip=root) == before
        a[4:8] = -1  # a complete chunk: written to a temp file and renamed over the link itself
        np.testing.assert_array_equal(a[...], [0, 1, 2, 3, -1, -1, -1, -1])
    assert not (root / "arr" / "c" / "1").is_symlink()
    assert snapshot(tmp_path, skip=root) == before


def test_metadata_and_node_directories_symlinked_out(tmp_path, outside):
    root = tmp_path / "root"
    g = zarrfast.create_group(LocalStore(root))
    g.create_group("inner")
    _array(outside, name="victim")
    os.symlink(outside / "victim", root / "linked")                      # a node directory pointing out
    os.symlink(outside / "victim" / "zarr.json", root / "inner" / "zarr.json.tmp")
    os.replace(root / "inner" / "zarr.json.tmp", root / "inner" / "zarr.json")  # a metadata file pointing out
    before = snapshot(tmp_path, skip=root)
    store = LocalStore(root)
    for op, key in [(lambda: zarrfast.open_array(store, path="linked", mode="r"), "linked/zarr.json"),
                    (lambda: zarrfast.open(store, path="inner", mode="r"), "inner/zarr.json"),
                    (lambda: zarrfast.open_group(store, mode="r")["linked"], "linked/zarr.json"),
                    (lambda: zarrfast.create_array(store=store, name="linked/new", shape=(1,), dtype="i1"),
                     "linked/new/zarr.json"),
                    (lambda: list(zarrfast.open_group(store, mode="r").members()), None)]:
        with pytest.raises(E.InvalidKeyError) as info:
            op()
        assert "outside the root" in str(info.value)
        if key is not None:
            assert repr(key) in str(info.value)
    assert snapshot(tmp_path, skip=root) == before


def test_listing_does_not_follow_links_out(tmp_path, outside):
    root = tmp_path / "root"
    store = LocalStore(root)
    store.set("a/b", b"1")
    os.symlink(outside, root / "a" / "out")
    keys = set(store.list())
    assert "a/b" in keys and not any("secret" in k for k in keys)
    assert not any("secret" in k for k in store.list_prefix("a/"))
    with pytest.raises(E.InvalidKeyError):
        list(store.list_prefix("a/out/"))


def test_sharded_shard_symlinked_out(tmp_path, outside):
    """Partial shard reads use get_range / get_ranges: those refuse a shard file pointing out too."""
    root = tmp_path / "root"
    _array(root, shards=(8,), chunks=(2,))
    _array(outside, name="donor", shards=(8,), chunks=(2,))
    os.unlink(root / "arr" / "c" / "0")
    os.symlink(outside / "donor" / "c" / "0", root / "arr" / "c" / "0")
    before = snapshot(tmp_path, skip=root)
    for engine in ENGINES:
        with zarrfast.config.set(engine=engine):
            a = zarrfast.open_array(LocalStore(root), path="arr", mode="r+")
            for op in (lambda: a[...], lambda: a[3], lambda: a[2:4], lambda: a.__setitem__(1, 5)):
                with pytest.raises(E.InvalidKeyError) as info:
                    op()
                assert "'arr/c/0'" in str(info.value)
    assert snapshot(tmp_path, skip=root) == before


# ---- crafted zip archives ---------------------------------------------------------------------------------------

EVIL_MEMBERS = ["../evil", "../../evil", "/abs/evil", "arr/../../evil", "a\\..\\..\\evil", "arr//c/0", "./x",
                "arr/./zarr.json"]


def _crafted_zip(tmp_path: Path) -> Path:
    src = tmp_path / "src.zip"
    with ZipStore(src, mode="w") as st:
        zarrfast.create_group(st)
        a = zarrfast.create_array(store=st, name="arr", shape=(8,), chunks=(4,), dtype="i4", compressors=None)
        a[...] = np.arange(8)
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        for name in EVIL_MEMBERS:
            zout.writestr(name, b"evil")
    assert set(EVIL_MEMBERS) <= set(zipfile.ZipFile(path).namelist())
    return path


def test_crafted_zip_member_names(tmp_path, outside):
    path = _crafted_zip(tmp_path)
    before = snapshot(tmp_path)
    with ZipStore(path, mode="r") as st:
        keys = sorted(st.list())
        assert keys == ["arr/c/0", "arr/c/1", "arr/zarr.json", "zarr.json"]  # the hostile names are not keys: never listed
        assert sorted(st.list_prefix("")) == keys and sorted(st.list_dir("")) == ["arr", "zarr.json"]
        for name in EVIL_MEMBERS:
            with pytest.raises(E.InvalidKeyError):
                st.get(name)
        np.testing.assert_array_equal(zarrfast.open_array(st, path="arr", mode="r")[...], np.arange(8))
        g = zarrfast.open_group(st, mode="r")
        assert sorted(g.keys()) == ["arr"]
    with ZipStore(path, mode="a") as st:  # appending to it writes into the archive only
        st.set("new", b"1")
        assert "../evil" not in set(st.list())
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "evil.zip"} == {k: v for k, v in before.items() if k != "evil.zip"}
    assert not (tmp_path.parent / "evil").exists() and not Path("/abs").exists()


def test_zip_member_claiming_more_bytes_than_the_archive(tmp_path):
    """A stored member whose size fields claim 2 GiB in a small archive is reported corrupt, without allocating."""
    import resource

    src = tmp_path / "z.zip"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("arr/c/0", b"x" * 100)
    raw = bytearray(src.read_bytes())
    claim = 2**31 - 16
    lh = raw.index(b"PK\x03\x04")
    struct.pack_into("<II", raw, lh + 18, claim, claim)
    ch = raw.index(b"PK\x01\x02")
    struct.pack_into("<II", raw, ch + 20, claim, claim)
    src.write_bytes(bytes(raw))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with ZipStore(src, mode="r") as st:
        for op in (lambda: st.get("arr/c/0"), lambda: st.get_range("arr/c/0", -10),
                   lambda: st.get_ranges("arr/c/0", [(0, 10), (claim - 10, 10)])):
            with pytest.raises(E.StoreError) as info:
                op()
            assert "'arr/c/0'" in str(info.value)
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 64 * 1024
