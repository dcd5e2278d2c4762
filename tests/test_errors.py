"""Errors: every one is a ``zarrfast.errors.ZarrfastError`` and also the builtin a zarr-python user would catch;
messages name the array path and, for chunk problems, the chunk key. No crash, no hang, on either engine.
Hostile input has its own files: ``test_hostile_chunks.py``, ``test_hostile_shards.py``, ``test_hostile_metadata.py``
and ``test_hostile_paths.py``.

The builtins come from two places: the documented mapping (``docs/user-guide.md``) and, as an oracle, what
zarr-python 3 raises for the very same call (``test_builtin_like_zarr_python``).
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr
from hostile_helpers import FORMATS, NAME, ckey, doc_name

import zarrfast
from zarrfast import errors as E
from zarrfast.storage import MemoryStore

BUILTINS = (ValueError, TypeError, IndexError, KeyError, LookupError, FileNotFoundError, FileExistsError,
            PermissionError, OSError, RuntimeError, NotImplementedError)



# ------------------------------------------------------------------------------------------------------------------
# the hierarchy


def test_every_error_derives_from_zarrfast_error():
    for name in E.__all__:
        cls = getattr(E, name)
        assert issubclass(cls, E.ZarrfastError), name
        assert issubclass(cls, Exception)


@pytest.mark.parametrize("cls,builtin", [
    (E.MetadataError, ValueError), (E.UnknownDataTypeError, ValueError), (E.FillValueError, ValueError),
    (E.MustUnderstandError, ValueError), (E.NodeNotFoundError, FileNotFoundError),
    (E.ArrayNotFoundError, FileNotFoundError), (E.ContainsArrayError, FileExistsError),
    (E.CodecError, ValueError), (E.UnknownCodecError, ValueError), (E.ChunkDecodeError, ValueError),
    (E.SelectionError, IndexError), (E.BoundsCheckError, IndexError), (E.ShapeMismatchError, ValueError),
    (E.DataTypeMismatchError, TypeError), (E.StoreError, OSError), (E.ReadOnlyError, PermissionError),
])
def test_documented_builtins(cls, builtin):
    assert issubclass(cls, builtin)
    assert issubclass(cls, E.ZarrfastError)


def test_chunk_decode_error_fields():
    e = E.ChunkDecodeError("boom", path="grp/arr", chunk_key="grp/arr/c/0/1")
    assert e.path == "grp/arr" and e.chunk_key == "grp/arr/c/0/1"
    assert "grp/arr" in str(e) and "grp/arr/c/0/1" in str(e) and "boom" in str(e)


# ------------------------------------------------------------------------------------------------------------------
# the builtin a zarr-python user would catch: the same call on zarr-python is the oracle


def _zp_store():
    return zarr.storage.MemoryStore()


def _setup(mod, fmt):
    store = {} if mod is zarrfast else _zp_store()
    a = mod.create_array(store=store, name="arr", shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt,
                         compressors=None)
    a[...] = 1
    return store, a


def _raw_set(mod, store, key, value):
    if mod is zarrfast:
        store[key] = value
    else:
        from zarr.core.buffer.cpu import Buffer

        store._store_dict[key] = Buffer.from_bytes(value)


def _raw_get(mod, store, key):
    return store[key] if mod is zarrfast else store._store_dict[key].to_bytes()


def _scenario(name, mod, fmt):
    store, a = _setup(mod, fmt)
    meta = "arr/" + doc_name(fmt)
    if name == "missing array":
        return lambda: mod.open_array(store, path="nope", mode="r")
    if name == "invalid json":
        _raw_set(mod, store, meta, b"{nope")
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "negative shape":
        doc = json.loads(_raw_get(mod, store, meta))
        doc["shape"] = [-1]
        _raw_set(mod, store, meta, json.dumps(doc).encode())
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "unknown codec":
        doc = json.loads(_raw_get(mod, store, meta))
        if fmt == 3:
            doc["codecs"].append({"name": "no-such-codec"})
        else:
            doc["compressor"] = {"id": "no-such-codec"}
        _raw_set(mod, store, meta, json.dumps(doc).encode())
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "short chunk":
        _raw_set(mod, store, "arr/" + ckey(fmt, 0), b"abc")
        return lambda: mod.open_array(store, path="arr", mode="r")[...]
    if name == "bounds":
        return lambda: a[10]
    if name == "bounds set":
        return lambda: a.__setitem__(-11, 1)
    if name == "string into int":
        return lambda: a.__setitem__(0, "abc")
    if name == "read-only write":
        return lambda: mod.open_array(store, path="arr", mode="r").__setitem__(0, 1)
    if name == "read-only attrs":
        return lambda: mod.open_array(store, path="arr", mode="r").attrs.__setitem__("x", 1)
    if name == "contains array":
        return lambda: mod.create_array(store=store, name="arr", shape=(1,), dtype="i4", zarr_format=fmt)
    raise AssertionError(name)


def _xf(reason):
    """Formerly an xfail for a bug now fixed; kept so the table still records what was wrong."""
    return ()


PARITY = [
    pytest.param("missing array", marks=_xf(
        "BUG: ArrayNotFoundError is not a ValueError; zarr-python's ArrayNotFoundError is ValueError and "
        "FileNotFoundError")),
    "invalid json", "negative shape", "unknown codec", "short chunk", "bounds", "bounds set",
    pytest.param("string into int", marks=_xf(
        "BUG: DataTypeMismatchError is a TypeError only; zarr-python raises ValueError for a[0] = 'abc'")),
    pytest.param("read-only write", marks=_xf(
        "BUG: ReadOnlyError is PermissionError/OSError, not ValueError; zarr-python raises ValueError")),
    pytest.param("read-only attrs", marks=_xf(
        "BUG: ReadOnlyError is PermissionError/OSError, not ValueError; zarr-python raises ValueError")),
    pytest.param("contains array", marks=_xf(
        "BUG: ContainsArrayError is FileExistsError only; zarr-python's ContainsArrayError is a ValueError")),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", PARITY)
def test_builtin_like_zarr_python(name, fmt):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as zp:
            _scenario(name, zarr, fmt)()
    with pytest.raises(E.ZarrfastError) as zf:
        _scenario(name, zarrfast, fmt)()
    wanted = [b.__name__ for b in BUILTINS if isinstance(zp.value, b)]
    missing = [b for b in wanted if not isinstance(zf.value, getattr(__import__("builtins"), b))]
    assert not missing, f"zarr-python raised {type(zp.value).__name__} ({wanted}); zarrfast " \
                        f"{type(zf.value).__name__} is not {missing}"


# ------------------------------------------------------------------------------------------------------------------
# opening a missing array


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("mode", "func"), [("r", "open_array"), ("r+", "open_array"), ("a", "open_array"),
                                            ("r", "open"), ("r+", "open")])
def test_open_missing_array(tmp_path, fmt, mode, func):
    """(zarrfast.open in mode 'a' creates a group where nothing is, like zarr-python: see test_open_a_creates_group.)"""
    store = str(tmp_path / "store")
    zarrfast.create_array(store=store, name="present", shape=(2,), dtype="i4", zarr_format=fmt)
    with pytest.raises(E.NodeNotFoundError) as info:
        getattr(zarrfast, func)(store, path="grp/absent", mode=mode, zarr_format=fmt)
    assert isinstance(info.value, FileNotFoundError)
    if func == "open_array":
        assert isinstance(info.value, E.ArrayNotFoundError)
    assert "grp/absent" in str(info.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_open_a_creates_group(tmp_path, fmt):
    zarr = pytest.importorskip("zarr")
    for mod, name in ((zarrfast, "zf"), (zarr, "zp")):
        node = mod.open(str(tmp_path / name), path="grp/new", mode="a", zarr_format=fmt)
        assert type(node).__name__ == "Group"


@pytest.mark.parametrize("store_kind", ["dict", "memory", "dir"])
def test_open_missing_array_each_store(tmp_path, store_kind):
    store = {"dict": {}, "memory": MemoryStore(), "dir": str(tmp_path / "nothing")}[store_kind]
    with pytest.raises(E.ArrayNotFoundError):
        zarrfast.open_array(store, mode="r")


@pytest.mark.parametrize("doc", [{"zarr_format": 3, "node_type": "group", "attributes": {}}, "v2group"])
def test_open_array_on_a_group(doc):
    store = {}
    if doc == "v2group":
        store[".zgroup"] = json.dumps({"zarr_format": 2}).encode()
    else:
        store["zarr.json"] = json.dumps(doc).encode()
    with pytest.raises(E.ArrayNotFoundError) as info:
        zarrfast.open_array(store, mode="r")
    assert isinstance(info.value, FileNotFoundError)


# ------------------------------------------------------------------------------------------------------------------
# values: wrong shape, wrong dtype


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sel,value", [
    ((slice(0, 3), 0), np.arange(4)),
    (Ellipsis, np.ones((10, 9))),
    ((0,), np.ones((2, 10))),
    ((slice(None, None, -2), slice(1, 4)), np.ones((4, 3))),
    ((3, 4), np.ones(2)),
    ((slice(5, 5),), np.ones(3)),
])
def test_shape_mismatch(fmt, sel, value):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 10), chunks=(4, 4), dtype="f8", zarr_format=fmt)
    with pytest.raises(E.ShapeMismatchError) as info:
        a[sel] = value
    assert isinstance(info.value, ValueError) and isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)
    with pytest.raises(E.ShapeMismatchError):
        a.set_basic_selection(sel, value)
    assert not [k for k in a.store.list() if "/c/" in k or k[-1].isdigit()]  # nothing written


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype,value", [
    ("i4", "abc"), ("i4", ["a", "b"]), ("f8", object()), ("u1", b"xyz"), ("f4", {"a": 1}),
    ("i8", [[1, 2], [3]]),
])
def test_dtype_mismatch(fmt, dtype, value):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 2), chunks=(4, 4), dtype=dtype, zarr_format=fmt)
    with pytest.raises(E.DataTypeMismatchError) as info:
        a[0] = value
    assert isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)


@pytest.mark.parametrize("dtype,value", [("u1", 300), ("u1", -1), ("i4", np.nan), ("i4", np.inf),
                                         ("f4", 1 + 1j), ("i2", 2**20)])
def test_unrepresentable_value_rejected(dtype, value):
    x = np.zeros(2, dtype)
    with pytest.raises((ValueError, TypeError, OverflowError)), warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's own complex->real warning counts as a refusal
        x[0] = value
    a = zarrfast.create_array(store={}, shape=(2,), dtype=dtype)
    with pytest.raises(E.DataTypeMismatchError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a[0] = value


# ------------------------------------------------------------------------------------------------------------------
# bounds


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sel", [10, -11, (0, 10), (0, -11), (10, slice(None)), (Ellipsis, 100), 2**40,
                                 np.int64(10), np.array(-11)])
def test_bounds(fmt, sel):
    a = zarrfast.create_array(store={}, name=NAME, shape=(10, 10), chunks=(4, 4), dtype="i4", zarr_format=fmt)
    with pytest.raises(E.BoundsCheckError) as info:
        a[sel]
    assert isinstance(info.value, IndexError) and isinstance(info.value, E.ZarrfastError)
    with pytest.raises(E.BoundsCheckError):
        a[sel] = 1
    with pytest.raises(IndexError):
        a.get_basic_selection(sel)


def test_bounds_message_names_array():
    a = zarrfast.create_array(store={}, name=NAME, shape=(10,), chunks=(4,), dtype="i4")
    with pytest.raises(E.BoundsCheckError) as info:
        a[10]
    assert NAME in str(info.value)


@pytest.mark.parametrize("sel", [(0, 0, 0), (Ellipsis, Ellipsis), None, (None, 0), 1.5, "a", True])
def test_bad_selection_is_index_error(sel):
    a = zarrfast.create_array(store={}, shape=(10, 10), chunks=(4, 4), dtype="i4")
    with pytest.raises(E.ZarrfastError) as info:
        a[sel]
    assert isinstance(info.value, IndexError)


def test_zero_step_is_index_error():
    a = zarrfast.create_array(store={}, shape=(10,), chunks=(4,), dtype="i4")
    with pytest.raises(E.SelectionError):
        a[::0]


# ------------------------------------------------------------------------------------------------------------------
# read-only


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["mode r", "read-only store", "read-only dir"])
def test_read_only(tmp_path, fmt, how):
    if how == "read-only dir":
        store = str(tmp_path / "ro")
        zarrfast.create_array(store=store, name=NAME, shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt)
        a = zarrfast.open_array(store, path=NAME, mode="r")
    else:
        d = {}
        zarrfast.create_array(store=d, name=NAME, shape=(10,), chunks=(4,), dtype="i4", zarr_format=fmt)
        if how == "mode r":
            a = zarrfast.open_array(d, path=NAME, mode="r")
        else:
            a = zarrfast.open_array(MemoryStore(d, read_only=True), path=NAME)
    assert a.read_only
    for op in (lambda: a.__setitem__(0, 1), lambda: a.set_basic_selection(Ellipsis, 2),
               lambda: a.__setitem__(slice(0, 4), np.arange(4))):
        with pytest.raises(E.ReadOnlyError) as info:
            op()
        assert isinstance(info.value, PermissionError) and isinstance(info.value, E.ZarrfastError)
        assert NAME in str(info.value)
    with pytest.raises(E.ReadOnlyError):
        a.attrs["x"] = 1
    with pytest.raises(E.ReadOnlyError):
        a.attrs.update({"x": 1})


def test_read_only_attrs_message_names_array():
    d = {}
    zarrfast.create_array(store=d, name=NAME, shape=(10,), dtype="i4")
    with pytest.raises(E.ReadOnlyError) as info:
        zarrfast.open_array(d, path=NAME, mode="r").attrs["x"] = 1
    assert NAME in str(info.value)


def test_mode_w_on_read_only_store():
    d = {}
    zarrfast.create_array(store=d, shape=(3,), dtype="i4")
    with pytest.raises(E.ReadOnlyError):
        zarrfast.open_array(MemoryStore(d, read_only=True), mode="w", shape=(3,), dtype="i4")


# ------------------------------------------------------------------------------------------------------------------
# creating over an existing array


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("other_fmt", FORMATS)
def test_contains_array(tmp_path, fmt, other_fmt):
    store = str(tmp_path / "s")
    a = zarrfast.create_array(store=store, name=NAME, shape=(4,), chunks=(2,), dtype="i4", zarr_format=fmt)
    a[...] = 1
    with pytest.raises(E.ContainsArrayError) as info:
        zarrfast.create_array(store=store, name=NAME, shape=(4,), dtype="i4", zarr_format=other_fmt)
    assert isinstance(info.value, FileExistsError) and isinstance(info.value, E.ZarrfastError)
    assert NAME in str(info.value)
    with pytest.raises(E.ContainsArrayError):
        zarrfast.open_array(store, path=NAME, mode="w-", shape=(4,), dtype="i4", zarr_format=other_fmt)
    np.testing.assert_array_equal(zarrfast.open_array(store, path=NAME, mode="r")[...], 1)


# ------------------------------------------------------------------------------------------------------------------
# invalid creation arguments


@pytest.mark.parametrize("kwargs", [
    dict(shape=(4,), dtype="i4", zarr_format=4),
    dict(shape=(8,), chunks=(2,), dtype="i4", shards=(3,)),
    dict(shape=(4, 4), chunks=(2,), dtype="i4"),
    dict(shape=(4,), dtype="i4", zarr_format=2, compressors=[{"id": "zstd"}, {"id": "zlib"}]),
    dict(shape=(4,), dtype="i4", chunk_key_encoding={"name": "fancy"}),
    dict(shape=(4,), dtype="i4", compressors={"name": "zstd", "configuration": {"level": 99}}),
    dict(shape=(4,), dtype="i4", compressors={"name": "blosc", "configuration": {"cname": "nope"}}),
    dict(shape=(4,), dtype="i4", filters=[{"name": "transpose", "configuration": {"order": [1, 0]}}]),
])
def test_invalid_create_arguments(kwargs):
    with pytest.raises(E.ZarrfastError) as info:
        zarrfast.create_array(store={}, **kwargs)
    assert isinstance(info.value, ValueError)


def test_invalid_mode():
    with pytest.raises(ValueError):
        zarrfast.open_array({}, mode="q")
