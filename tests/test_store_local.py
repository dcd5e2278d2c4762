"""LocalStore: the conformance suite plus atomic writes, containment, directories, temp files."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zarrfast.storage.local as local_mod
from zarrfast.errors import InvalidKeyError, StoreError
from zarrfast.storage import LocalStore, Store
from zarrfast.testing.store_tests import StoreTests


class TestLocalStore(StoreTests):
    store_cls = LocalStore

    def make_store(self, tmp_path: Path) -> Store:
        return LocalStore(tmp_path / "store")

    def set_raw(self, store: Store, key: str, value: bytes) -> None:
        path = Path(store.root, key)  # type: ignore[attr-defined]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(value)

    def get_raw(self, store: Store, key: str) -> bytes | None:
        path = Path(store.root, key)  # type: ignore[attr-defined]
        return path.read_bytes() if path.is_file() else None


class TestLocalStoreThreaded(TestLocalStore):
    """The same suite with the thread pool used for every batch (threshold 1)."""

    def make_store(self, tmp_path: Path) -> Store:
        return LocalStore(tmp_path / "store", parallel_threshold=1)


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "root")


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_root_created_lazily(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "new" / "root")
    assert store.get("k") is None
    assert list(store.list()) == [] and list(store.list_dir("")) == []
    assert not (tmp_path / "new").exists()
    store.set("k", b"v")
    assert (tmp_path / "new" / "root" / "k").read_bytes() == b"v"


def test_accepts_str_and_path(tmp_path: Path) -> None:
    a = LocalStore(str(tmp_path))
    b = LocalStore(tmp_path)
    assert a == b and a.root == tmp_path
    assert repr(a) == f"LocalStore({str(tmp_path)!r})"
    with pytest.raises(TypeError):
        LocalStore(12)  # type: ignore[arg-type]


def test_failed_write_keeps_old_value_and_no_temp(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("a/b", b"old value")
    real_write = os.write
    calls = []

    def failing_write(fd: int, data: bytes) -> int:
        calls.append(fd)
        real_write(fd, bytes(data)[:3])  # part of the data reaches the temp file ...
        raise OSError(28, "No space left on device")  # ... then the disk fills up

    def failing_writev(fd: int, buffers: list) -> int:
        return failing_write(fd, b"".join(bytes(b) for b in buffers))

    monkeypatch.setattr(local_mod.os, "write", failing_write)
    monkeypatch.setattr(local_mod.os, "writev", failing_writev)
    with pytest.raises(StoreError, match="'a/b'") as info:
        store.set("a/b", b"new value that will not fit")
    assert isinstance(info.value, OSError)
    monkeypatch.undo()
    assert calls
    assert store.get("a/b") == b"old value"
    assert _files(store.root) == ["a", "a/b"]


def test_failed_replace_leaves_no_temp(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("k", b"old")

    def failing_replace(src: str, dst: str) -> None:
        raise KeyboardInterrupt  # even a non-OSError interruption cleans up

    monkeypatch.setattr(local_mod.os, "replace", failing_replace)
    with pytest.raises(KeyboardInterrupt):
        store.set("k", b"new")
    monkeypatch.undo()
    assert store.get("k") == b"old"
    assert _files(store.root) == ["k"]


def test_temp_files_not_listed(store: LocalStore) -> None:
    store.set("a/x", b"1")
    temp = store.root / "a" / f".x.{os.getpid():x}-deadbeef-1f.partial"
    temp.write_bytes(b"junk")
    (store.root / ".zattrs").write_bytes(b"{}")  # a real dot-key is listed
    assert sorted(store.list()) == [".zattrs", "a/x"]
    assert list(store.list_dir("a")) == ["x"]
    assert list(store.list_prefix("a/")) == ["a/x"]


def test_fsync_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync
    def spy_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(local_mod.os, "fsync", spy_fsync)
    LocalStore(tmp_path / "s").set("a", b"1")
    assert synced == []
    durable = LocalStore(tmp_path / "d", fsync=True)
    durable.set("a/b", b"1")
    assert len(synced) == 2  # the file, then its directory
    assert durable.fsync and pickle.loads(pickle.dumps(durable)).fsync


def test_empty_directories_removed(store: LocalStore) -> None:
    store.set_many({"g/a/c/0/0": b"1", "g/a/c/0/1": b"2", "g/zarr.json": b"{}"})
    store.delete("g/a/c/0/0")
    assert (store.root / "g/a/c/0").is_dir()
    store.delete("g/a/c/0/1")
    assert _files(store.root) == ["g", "g/zarr.json"]
    store.delete_many(["g/zarr.json"])
    assert store.root.is_dir() and _files(store.root) == []  # the root itself stays
    store.set_many({"h/1/2": b"1", "h/1/3": b"1"})
    store.delete_prefix("h/1/")
    assert _files(store.root) == []


def test_write_after_directory_removed(store: LocalStore) -> None:
    store.set("d/e/f", b"1")
    store.delete("d/e/f")  # removes d/e and d; the store's directory cache must notice
    store.set("d/e/g", b"2")
    assert store.get("d/e/g") == b"2"
    import shutil

    shutil.rmtree(store.root / "d")  # removed behind the store's back
    store.set("d/e/h", b"3")
    assert store.get("d/e/h") == b"3"


def test_directory_is_not_a_value(store: LocalStore) -> None:
    store.set("a/b/c", b"1")
    assert store.get("a/b") is None
    assert store.get_range("a/b", 0, 1) is None
    assert store.get_many(["a/b", "a/b/c/d"]) == [None, None]
    store.delete("a/b")  # not a key: nothing happens
    assert store.get("a/b/c") == b"1"
    with pytest.raises(StoreError, match="'a/b'"):
        store.set("a/b", b"x")  # a directory is in the way
    with pytest.raises(StoreError, match="'a/b/c/d'"):
        store.set("a/b/c/d", b"x")  # a file is in the way


def test_symlink_escape_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "inner").mkdir()
    (root / "inner" / "ok").write_bytes(b"ok")
    os.symlink(outside, root / "linkdir")
    os.symlink(outside / "secret", root / "linkfile")
    os.symlink(root / "inner" / "ok", root / "good")  # a link that stays inside is fine
    store = LocalStore(root)
    assert store.get("good") == b"ok"
    assert store.exists("good")
    for call in [
        lambda: store.get("linkdir/secret"),
        lambda: store.get("linkfile"),
        lambda: store.get_many(["inner/ok", "linkfile"]),
        lambda: store.get_range("linkfile", -2),
        lambda: store.exists("linkfile"),
        lambda: store.set("linkdir/new", b"x"),
        lambda: store.set("linkdir/sub/new", b"x"),
        lambda: store.delete("linkdir/secret"),
        lambda: list(store.list_dir("linkdir")),
    ]:
        with pytest.raises(InvalidKeyError, match="outside the root"):
            call()
    assert sorted(os.listdir(outside)) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_root_through_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "alias")
    store = LocalStore(tmp_path / "alias")
    store.set("a/b", b"1")
    assert (real / "a" / "b").read_bytes() == b"1"
    assert store.get("a/b") == b"1"


def test_get_range_reads_only_the_range(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("shard", bytes(range(256)) * 4096)  # 1 MiB
    sizes: list[int] = []
    real_pread = os.pread
    def spy_pread(fd: int, n: int, offset: int) -> bytes:
        sizes.append(n)
        return real_pread(fd, n, offset)

    monkeypatch.setattr(local_mod.os, "pread", spy_pread)
    monkeypatch.setattr(local_mod.os, "read", lambda *a: pytest.fail("whole-file read"))
    assert store.get_range("shard", -16) == bytes(range(240, 256))
    ranges = [(0, 4), (1000, 2), (-1, None)]
    assert store.get_ranges("shard", ranges) == [b"\x00\x01\x02\x03", b"\xe8\xe9", b"\xff"]
    assert sizes == [16, 4, 2, 1]


def test_get_many_missing_directory_shortcut(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store.set("c/0/0", b"1")
    opened: list[str] = []
    real_open = os.open
    def spy_open(path: str, *args: int) -> int:
        opened.append(path)
        return real_open(path, *args)

    monkeypatch.setattr(local_mod.os, "open", spy_open)
    monkeypatch.setattr(local_mod, "_read_files", None)  # the Python batch path
    keys = ["c/0/0"] + [f"c/5/{i}" for i in range(10)] + ["c/0/1"]
    assert LocalStore(store.root, parallel_threshold=None).get_many(keys) == [b"1"] + [None] * 11
    assert len(opened) == 3  # c/0/0, the first c/5/*, c/0/1


def test_large_value(store: LocalStore) -> None:
    value = os.urandom(3 << 20)
    store.set("big", memoryview(value))
    assert store.get("big") == value
    assert store.get_range("big", (3 << 20) - 5, 10) == value[-5:]


def test_pickle_is_config_only(store: LocalStore) -> None:
    store.set("k", b"distinctive-payload")
    data = pickle.dumps(store)
    assert b"distinctive-payload" not in data
    loaded = pickle.loads(data)
    assert loaded == store and loaded.get("k") == b"distinctive-payload"


def test_keys_with_temp_like_names_are_not_confused(store: LocalStore) -> None:
    store.set("a/.b.partial", b"1")  # a normal key that happens to end in .partial
    assert list(store.list()) == ["a/.b.partial"]


def test_delete_prefix_of_a_key_name(store: LocalStore) -> None:
    store.set_many({"a": b"1", "ab/c": b"2"})
    store.delete_prefix("a/")  # "a" is a key, not a directory: nothing is under "a/"
    assert sorted(store.list()) == ["a", "ab/c"]


def test_set_parts_writes_the_concatenation(store: LocalStore, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [b"ab", memoryview(b"cdef")[1:], bytearray(b""), b"g" * 100_000]
    store.set_parts("x/y", parts)
    assert store.get("x/y") == b"ab" + b"def" + b"g" * 100_000
    # short writes are resumed inside the current buffer
    real_writev = os.writev
    monkeypatch.setattr(local_mod.os, "writev", lambda fd, bufs: real_writev(fd, [bytes(bufs[0])[:1]]))
    store.set_parts("x/z", [b"hello", b"world"])
    assert store.get("x/z") == b"helloworld"


def test_native_batch_reads_match_python_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The GIL-free batch reader and the Python reader agree on files, gaps, dirs, empty files and symlinks."""
    if local_mod._read_files is None:
        pytest.skip("native file reader not built")
    root = tmp_path / "root"
    s = LocalStore(root)
    s.set("a", b"x" * 5000)
    s.set("c/0", b"")
    s.set("c/1", bytes(range(256)))
    (root / "d").mkdir()
    (root / "link").symlink_to(root / "a")          # inside the root: readable
    outside = tmp_path / "secret"
    outside.write_bytes(b"no")
    (root / "out").symlink_to(outside)               # escapes the root: refused
    keys = ["a", "c/0", "c/1", "c/2", "d", "nope/x", "link"]
    native = LocalStore(root, parallel_threshold=None).get_many(keys)
    monkeypatch.setattr(local_mod, "_read_files", None)
    python = LocalStore(root, parallel_threshold=None).get_many(keys)
    assert native == python == [b"x" * 5000, b"", bytes(range(256)), None, None, None, b"x" * 5000]
    monkeypatch.undo()
    with pytest.raises(InvalidKeyError):
        LocalStore(root).get_many(["a", "out"])


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.sampled_from([f"c/{i}/{j}" for i in range(3) for j in range(4)]),
                             st.binary(max_size=3000), max_size=12),
       asked=st.lists(st.sampled_from([f"c/{i}/{j}" for i in range(4) for j in range(5)]), max_size=25))
def test_native_and_python_batch_reads_agree(tmp_path: Path, files: dict, asked: list) -> None:
    """Property: for any files present and any keys asked, both batch readers return the same values."""
    if local_mod._read_files is None:
        pytest.skip("native file reader not built")
    root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    s = LocalStore(root, parallel_threshold=None)
    s.set_many(files)
    native = s.get_many(asked)
    real = local_mod._read_files
    try:
        local_mod._read_files = None
        python = LocalStore(root, parallel_threshold=None).get_many(asked)
    finally:
        local_mod._read_files = real
    assert native == python == [files.get(k) for k in asked]


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.sampled_from([f"c/{i}/{j}" for i in range(3) for j in range(4)]),
                             st.binary(max_size=3000), max_size=12),
       asked=st.lists(st.sampled_from([f"c/{i}/{j}" for i in range(4) for j in range(5)]), max_size=25),
       arena_size=st.integers(0, 20000), fill=st.integers(0, 255))
def test_arena_batch_reads_agree_with_python(tmp_path: Path, files: dict, asked: list, arena_size: int,
                                             fill: int) -> None:
    """Property: reading into a reused arena gives the same values as the Python reader, whatever the arena's size
    and old contents; values that fit are views of the arena, the others bytes; ``needed`` would hold them all."""
    if local_mod._read_files is None:
        pytest.skip("native file reader not built")
    root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    s = LocalStore(root, parallel_threshold=None)
    s.set_many(files)
    arena = bytearray([fill]) * arena_size
    values, needed = s.get_many_into(asked, arena)
    real = local_mod._read_files
    try:
        local_mod._read_files = None
        python = LocalStore(root, parallel_threshold=None).get_many(asked)
    finally:
        local_mod._read_files = real
    assert [None if v is None else bytes(v) for v in values] == python == [files.get(k) for k in asked]
    assert needed == sum(-(-len(files[k]) // 64) * 64 for k in asked if k in files)
    for v in values:
        if isinstance(v, memoryview):
            assert v.obj is arena
    if needed <= arena_size:
        assert all(v is None or isinstance(v, memoryview) for v in values)
    # the arena holds the values one after the other (64-byte slots), never beyond its end
    used = 0
    for k, v in zip(asked, values):
        if isinstance(v, memoryview):
            assert bytes(arena[used:used + len(v)]) == files[k]
            used += -(-len(v) // 64) * 64
    assert len(arena) == arena_size


def test_arena_reads_refuse_what_get_many_refuses(tmp_path: Path) -> None:
    root = tmp_path / "root"
    s = LocalStore(root)
    s.set("a", b"123")
    outside = tmp_path / "secret"
    outside.write_bytes(b"no")
    (root / "out").symlink_to(outside)
    with pytest.raises(InvalidKeyError):
        s.get_many_into(["a", "../x"], bytearray(64))
    with pytest.raises(InvalidKeyError):
        s.get_many_into(["a", "out"], bytearray(64))
    with pytest.raises(TypeError):
        local_mod._read_files([os.fsencode(str(root / "a"))], b"not writable")


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.dictionaries(st.sampled_from([f"c/{i}/{j}" for i in range(3) for j in range(3)]),
                              st.binary(max_size=2000), max_size=9),
       batch=st.lists(st.tuples(st.sampled_from([f"c/{i}/{j}" for i in range(4) for j in range(3)] + ["zarr.json"]),
                                st.binary(max_size=3000), st.booleans()), min_size=2, max_size=20))
def test_native_and_python_batch_writes_agree(tmp_path: Path, before: dict, batch: list) -> None:
    """Property: a set_many batch (bytes, memoryviews, repeated keys, new and existing files) leaves the same files
    through the GIL-free writer and the Python writer, with no temp files left behind."""
    if local_mod._write_files is None:
        pytest.skip("native file writer not built")
    items = [(k, memoryview(v) if as_view else v) for k, v, as_view in batch]
    trees = []
    for native in (True, False):
        root = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
        s = LocalStore(root, parallel_threshold=None)
        s.set_many(before)
        real = local_mod._write_files
        try:
            if not native:
                local_mod._write_files = None
            s.set_many(items)
        finally:
            local_mod._write_files = real
        trees.append(_tree(root))
    expected = dict(before)
    for k, v, _ in batch:
        expected[k] = v
    assert trees[0] == trees[1] == expected  # the last write of a repeated key wins; no ".partial" files remain


def test_native_batch_write_failures_fall_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An item the native writer can't write goes through the Python path, which names the key when it fails too."""
    if local_mod._write_files is None:
        pytest.skip("native file writer not built")
    root = tmp_path / "root"
    s = LocalStore(root, parallel_threshold=None)
    calls = []
    real = local_mod._write_files

    def flaky(tmps, finals, values, fsync):  # the first item fails as if its directory vanished
        calls.append(len(values))
        out = real(tmps[1:], finals[1:], values[1:], fsync)
        return [2] + out

    monkeypatch.setattr(local_mod, "_write_files", flaky)
    s.set_many({"c/0": b"a", "c/1": b"b", "c/2": b"c"})
    assert calls == [3] and _tree(root) == {"c/0": b"a", "c/1": b"b", "c/2": b"c"}
    # a directory in the way of a key: both paths fail, the error names the key
    (root / "d" / "k").mkdir(parents=True)
    monkeypatch.setattr(local_mod, "_write_files", real)
    with pytest.raises(StoreError, match="d/k"):
        s.set_many({"c/3": b"x", "d/k": b"y"})
    assert (root / "c" / "3").read_bytes() == b"x"
    assert not [p for p in root.rglob("*.partial")]


def test_native_batch_write_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With fsync=True the native writer syncs (seen through the directory fsyncs the Python side adds)."""
    if local_mod._write_files is None:
        pytest.skip("native file writer not built")
    s = LocalStore(tmp_path / "root", fsync=True, parallel_threshold=None)
    seen = []
    real = local_mod._write_files
    monkeypatch.setattr(local_mod, "_write_files", lambda t, f, v, fsync: seen.append(fsync) or real(t, f, v, fsync))
    s.set_many({"a/0": b"1", "a/1": b"2", "b": b"3"})
    assert seen == [True] and s.get_many(["a/0", "a/1", "b"]) == [b"1", b"2", b"3"]


def test_native_reader_sees_files_larger_than_fstat_said(tmp_path: Path) -> None:
    """A file that holds more than its ``st_size`` (here a /proc file, size 0; or one that grew after fstat) is
    left to the careful path (status 2), whether the read had a spare byte in the arena or needed the probe."""
    if local_mod._read_files is None:
        pytest.skip("native file reader not built")
    proc = b"/proc/self/status"
    if not os.path.exists(proc):
        pytest.skip("no /proc")
    for arena in (None, bytearray(0), bytearray(64)):
        values, status, _needed = local_mod._read_files([proc], arena)
        assert status == [2] and values == [None]
    s = LocalStore(tmp_path / "r")
    s.set("a", b"abc")
    for arena in (bytearray(3), bytearray(4), bytearray(64)):  # no spare byte / one / plenty
        values, status, _needed = local_mod._read_files([os.fsencode(str(tmp_path / "r" / "a"))], arena)
        assert status == [0] and bytes(values[0]) == b"abc"


@settings(deadline=None)
@given(key=st.text(st.sampled_from("ab./\\\x00\udcff\u00e9"), max_size=8))
def test_native_key_check_agrees_with_validate_key(key: str) -> None:
    """Property: the native reader accepts a key exactly when ``validate_key`` does (keys it can't encode as
    UTF-8 it hands back to the Python checks)."""
    if local_mod._read_keys is None:
        pytest.skip("native file reader not built")
    try:
        local_mod.validate_key(key)
        valid = True
    except InvalidKeyError:
        valid = False
    native = local_mod._read_keys(b"/nonexistent-root", [key], None)
    if native is not None:
        assert valid and native[0] == [None]
    else:
        try:
            key.encode("utf-8")
        except UnicodeEncodeError:
            return
        assert not valid


def test_get_many_names_the_bad_key_on_the_native_path(tmp_path: Path) -> None:
    s = LocalStore(tmp_path / "r", parallel_threshold=None)
    s.set("c/0", b"1")
    with pytest.raises(InvalidKeyError, match=r"'c/\.\./x'"):
        s.get_many(["c/0", "c/../x"])
    with pytest.raises(InvalidKeyError, match="str, not int"):
        s.get_many(["c/0", 3])  # type: ignore[list-item]
    assert s.get_many(["c/0", "c/1", "d/\udcff"]) == [b"1", None, None]  # surrogate-escaped names: Python path
    (tmp_path / "r" / os.fsdecode(b"\xff")).write_bytes(b"raw")
    assert s.get_many([os.fsdecode(b"\xff"), "c/0"]) == [b"raw", b"1"]
