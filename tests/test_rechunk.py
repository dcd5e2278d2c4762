"""zarrfast.rechunk: one- and two-pass plans, values against numpy (property test), sharded targets, resuming an
interrupted job, errors, executors (thread pool, dask.distributed process cluster) and the peak-memory bound."""
from __future__ import annotations

import functools
import json
import math
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zarrfast
from zarrfast import blockwise, rechunking
from zarrfast.errors import ContainsNodeError
from zarrfast.rechunking import engine_overhead, parse_size

zarr = pytest.importorskip("zarr")

SMALL_BATCH = 2**18  # the store batch rechunk uses for any max_mem below 8 MiB


def _data(shape, dtype="i4", seed=0):
    return np.random.default_rng(seed).integers(-1000, 1000, size=shape).astype(dtype)


def _source(path, ref, chunks, zarr_format=2, **kw):
    arr = zarrfast.create_array(path, shape=ref.shape, dtype=ref.dtype, chunks=chunks, zarr_format=zarr_format, **kw)
    arr[...] = ref
    return arr


def _tight(src_chunks, dst_unit, itemsize, block_bytes):
    """A max_mem that leaves about ``block_bytes`` for the block once the engine's buffers are counted."""
    return engine_overhead(math.prod(src_chunks) * itemsize, math.prod(dst_unit) * itemsize, SMALL_BATCH) \
        + block_bytes


def _check(path, ref, chunks=None, shards=None, fmt=None):
    out = zarrfast.open_array(path, mode="r")
    np.testing.assert_array_equal(out[...], ref)
    if chunks is not None:
        assert out.chunks == tuple(chunks)
    assert out.shards == (tuple(shards) if shards is not None else None)
    z = zarr.open_array(str(path), mode="r")
    np.testing.assert_array_equal(z[...], ref)
    if fmt is not None:
        assert z.metadata.zarr_format == fmt
    assert not os.path.exists(os.path.join(path, blockwise.MARKER_DIR))


# ---- plans ---------------------------------------------------------------------------------------------------------
def test_parse_size():
    assert parse_size("512MB") == 512 * 10**6
    assert parse_size("1GiB") == parse_size("1G") == 2**30
    assert parse_size("100M") == 100 * 2**20
    assert parse_size("2e9") == 2 * 10**9
    assert parse_size(1000) == parse_size("1000") == 1000
    assert parse_size(" 1.5 kb ") == 1500
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")
    with pytest.raises(ValueError, match="not a size"):
        parse_size("12XB")


def test_one_pass_when_blocks_align(tmp_path):
    ref = _data((120, 90))
    _source(tmp_path / "s.zarr", ref, (10, 90))
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(30, 30), max_mem="64MB")
    assert summary["passes"] == 1 and summary["amplification"] <= 2
    assert summary["bytes_read"] == ref.nbytes and summary["blocks"] >= 1
    assert 0 < summary["peak_estimate_bytes"] <= 64 * 10**6
    _check(tmp_path / "d.zarr", ref, (30, 30), fmt=2)


def test_two_passes_for_a_transpose_like_rechunk(tmp_path):
    ref = _data((240, 240), "i4")
    _source(tmp_path / "s.zarr", ref, (240, 2))
    max_mem = _tight((240, 2), (2, 240), 4, 240 * 240 * 4 // 8)  # an eighth of the array per block
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(2, 240), max_mem=max_mem,
                               temp=tmp_path / "tmp")
    assert summary["passes"] == 2
    assert summary["amplification"] <= 2 and summary["bytes_read"] == 2 * ref.nbytes
    assert summary["peak_estimate_bytes"] <= max_mem
    inter = summary["intermediate_chunks"]
    assert len(inter) == 2 and all(c >= 1 for c in inter)
    _check(tmp_path / "d.zarr", ref, (2, 240), fmt=2)
    assert not [k for _, _, files in os.walk(tmp_path / "tmp") for k in files]  # intermediate chunks removed


def test_one_pass_plan_when_it_is_cheap_enough():
    # source chunks fit whole into a block: one pass, each chunk decoded once
    p = rechunking.plan((100, 100), 8, (10, 100), (50, 50), 10**6)
    assert p["passes"] == 1 and p["amplification"] == 1
    # a tiny budget cutting tall source chunks into many pieces: two passes
    p = rechunking.plan((1000, 1000), 1, (1000, 1), (1, 1000), 20_000)
    assert p["passes"] == 2 and p["amplification"] < p["direct_amplification"]
    for key in ("read_block", "write_block", "intermediate_chunks"):
        assert len(p[key]) == 2
    assert math.prod(p["read_block"]) <= 20_000 and math.prod(p["write_block"]) <= 20_000


def test_block_helpers():
    assert blockwise.lcm_shape((4, 6), (6, 4), (100, 10)) == (12, 10)
    assert blockwise.grow_block((100, 100), (10, 10), 1, 1000) == (10, 100)
    assert blockwise.grow_block((100, 100), (10, 10), 1, 1000, axes=[0, 1]) == (100, 10)
    assert blockwise.grow_block((100, 100), (50, 50), 8, 1) == (50, 50)  # never below one unit
    regions = blockwise.grid_regions((5, 7), (2, 3))
    assert len(regions) == 9 and regions[-1] == (slice(4, 5), slice(6, 7))
    assert blockwise.grid_regions((0, 7), (2, 3)) == []
    assert blockwise.decodes_per_source_chunk((10,), (10,), (100,)) == 1
    assert blockwise.decodes_per_source_chunk((10,), (5,), (100,)) == 2
    assert blockwise.decodes_per_source_chunk((10,), (20,), (100,)) == 1


def test_amplification_of_a_whole_axis_block_is_one(tmp_path):
    assert blockwise.decodes_per_source_chunk((7, 5), (30, 17), (30, 17)) == 1
    ref = _data((30, 17))
    _source(tmp_path / "s.zarr", ref, (7, 5))
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(30, 1), max_mem="16MB")
    assert summary["blocks"] == 1 and summary["amplification"] == 1


# ---- values against numpy --------------------------------------------------------------------------------------
@st.composite
def _cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 14)) for _ in range(ndim))
    src_chunks = tuple(draw(st.integers(1, n + 2)) for n in shape)
    dst_chunks = tuple(draw(st.integers(1, n + 2)) for n in shape)
    shards = None
    if draw(st.booleans()):
        shards = tuple(c * draw(st.integers(1, 3)) for c in dst_chunks)
    dtype = draw(st.sampled_from(["u1", "i4", "f8"]))
    src_fmt = draw(st.sampled_from([2, 3]))
    dst_fmt = 3 if shards is not None else draw(st.sampled_from([None, 2, 3]))
    # the bytes left for a block beyond the engine's buffers: from one write unit up to the whole array
    unit = shards or dst_chunks
    unit_bytes = math.prod(min(u, n) for u, n in zip(unit, shape)) * np.dtype(dtype).itemsize
    extra = draw(st.integers(unit_bytes, max(unit_bytes, math.prod(shape) * np.dtype(dtype).itemsize * 2)))
    workers = draw(st.sampled_from([1, 1, 2]))
    return shape, src_chunks, dst_chunks, shards, dtype, src_fmt, dst_fmt, extra, workers


@settings(max_examples=40, deadline=None)
@given(case=_cases(), seed=st.integers(0, 2**16))
def test_rechunk_matches_numpy(tmp_path_factory, case, seed):
    shape, src_chunks, dst_chunks, shards, dtype, src_fmt, dst_fmt, extra, workers = case
    base = tmp_path_factory.mktemp("prop")
    ref = _data(shape, dtype, seed)
    _source(base / "s.zarr", ref, src_chunks, zarr_format=src_fmt, fill_value=3)
    unit = shards or dst_chunks
    itemsize = np.dtype(dtype).itemsize
    max_mem = workers * _tight(src_chunks, unit, itemsize, extra)
    summary = zarrfast.rechunk(base / "s.zarr", base / "d.zarr", chunks=dst_chunks, shards=shards,
                               max_mem=max_mem, zarr_format=dst_fmt, temp=base / "tmp", workers=workers)
    assert summary["passes"] in (1, 2)
    assert summary["bytes_read"] == summary["passes"] * ref.nbytes
    out = zarrfast.open_array(base / "d.zarr", mode="r")
    assert out.zarr_format == (dst_fmt or src_fmt)
    assert out.fill_value == 3
    np.testing.assert_array_equal(out[...], ref)
    assert out.chunks == dst_chunks and out.shards == shards
    np.testing.assert_array_equal(zarr.open_array(str(base / "d.zarr"), mode="r")[...], ref)
    assert not (base / "d.zarr" / blockwise.MARKER_DIR).exists()


@pytest.mark.parametrize("src_layout", [{"chunks": (64, 1)}, {"chunks": (8, 2), "shards": (64, 8)}])
@pytest.mark.parametrize("chunks,shards", [((1, 16), (4, 64)), ((2, 8), (64, 64)), ((4, 4), (4, 4))])
def test_sharded_targets(tmp_path, src_layout, chunks, shards):
    ref = _data((64, 64), "f8")
    _source(tmp_path / "s.zarr", ref, zarr_format=3, **src_layout)
    max_mem = _tight((64, 8), shards, 8, 2 * 8 * math.prod(shards))
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=chunks, shards=shards,
                               max_mem=max_mem, temp=tmp_path / "tmp")
    assert summary["passes"] in (1, 2)
    _check(tmp_path / "d.zarr", ref, chunks, shards, fmt=3)
    z = zarr.open_array(str(tmp_path / "d.zarr"), mode="r")
    assert z.chunks == chunks and z.shards == shards


def test_changes_format_and_codecs_and_keeps_metadata(tmp_path):
    ref = _data((40, 30), "i2")
    _source(tmp_path / "s.zarr", ref, (40, 3), fill_value=-7, attributes={"units": "m"},
            dimension_names=("y", "x"), zarr_format=3)
    zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(5, 30), max_mem="8MB", zarr_format=2,
                     compressor=[{"name": "gzip", "configuration": {"level": 1}}])
    _check(tmp_path / "d.zarr", ref, (5, 30), fmt=2)
    with open(tmp_path / "d.zarr" / ".zarray") as f:
        meta = json.load(f)
    assert meta["compressor"]["id"] == "gzip" and meta["fill_value"] == -7
    z = zarr.open_array(str(tmp_path / "d.zarr"), mode="r")
    assert dict(z.attrs) == {"units": "m", "_ARRAY_DIMENSIONS": ["y", "x"]}


def test_array_object_and_group_path_sources(tmp_path):
    ref = _data((30, 30), "f4")
    root = zarrfast.open_group(tmp_path / "g.zarr", mode="w")
    arr = root.create_array("a/b", shape=ref.shape, dtype="f4", chunks=(30, 1))
    arr[...] = ref
    zarrfast.rechunk(arr, tmp_path / "d1.zarr", chunks=(1, 30), max_mem="4MB")
    _check(tmp_path / "d1.zarr", ref, (1, 30))
    zarrfast.rechunk(tmp_path / "g.zarr", tmp_path / "d2.zarr", path="a/b", chunks=(10, 10), max_mem="4MB")
    _check(tmp_path / "d2.zarr", ref, (10, 10))
    with pytest.raises(ValueError, match="group"):
        zarrfast.rechunk(tmp_path / "g.zarr", tmp_path / "d3.zarr", chunks=(10, 10), max_mem="4MB")


def test_edge_cases_empty_and_zero_dimensional(tmp_path):
    zarrfast.create_array(tmp_path / "e.zarr", shape=(0, 5), dtype="f4", chunks=(2, 2))
    summary = zarrfast.rechunk(tmp_path / "e.zarr", tmp_path / "de.zarr", chunks=(3, 3), max_mem="4MB")
    assert summary["blocks"] == 0 and summary["bytes_read"] == 0
    _check(tmp_path / "de.zarr", np.zeros((0, 5), "f4"), (3, 3))
    _source(tmp_path / "z.zarr", np.array(5.5), ())
    zarrfast.rechunk(tmp_path / "z.zarr", tmp_path / "dz.zarr", chunks=(), max_mem="4MB")
    _check(tmp_path / "dz.zarr", np.array(5.5))


def test_progress(tmp_path):
    import io

    from zarrfast.progress import Progress

    ref = _data((200, 200), "u2")
    _source(tmp_path / "s.zarr", ref, (200, 2))
    stream = io.StringIO()
    bar = Progress(stream, interval=0)
    max_mem = _tight((200, 2), (2, 200), 2, 200 * 200 * 2 // 5)
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(2, 200), max_mem=max_mem,
                               progress=bar, temp=tmp_path / "tmp")
    assert summary["passes"] == 2
    text = stream.getvalue()
    assert "rechunk 1/2" in text and "rechunk 2/2" in text
    assert bar.done == bar.total


# ---- resuming ------------------------------------------------------------------------------------------------------
class _Interrupt(RuntimeError):
    pass


@pytest.fixture
def counted(monkeypatch):
    """Block copies go through a counting task that can be made to fail after ``limit`` calls."""
    state = {"calls": 0, "limit": None}

    def task(src, dst, region, settings=None):
        if state["limit"] is not None and state["calls"] >= state["limit"]:
            raise _Interrupt("interrupted on purpose")
        state["calls"] += 1
        return blockwise.copy_block(src, dst, region, settings)

    monkeypatch.setattr(blockwise, "run_blocks", functools.partial(blockwise.run_blocks, task=task))
    return state


def _resumable_job(tmp_path, two_passes):
    ref = _data((60, 80), "i4")
    _source(tmp_path / "s.zarr", ref, (60, 2))
    if two_passes:
        chunks, max_mem = (2, 80), _tight((60, 2), (2, 80), 4, 2000)
    else:
        chunks, max_mem = (60, 8), _tight((60, 2), (60, 8), 4, 60 * 8 * 4 * 2)
    job = functools.partial(zarrfast.rechunk, tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=chunks,
                            max_mem=max_mem, temp=tmp_path / "tmp")
    return ref, chunks, job


@pytest.mark.parametrize("two_passes,stop_after", [(False, 3), (True, 4), (True, 13)],
                         ids=["one-pass", "in-pass-1", "in-pass-2"])
def test_resume_after_interruption(tmp_path, counted, two_passes, stop_after):
    ref, chunks, job = _resumable_job(tmp_path, two_passes)
    counted["limit"] = None
    # how many block copies the whole job takes, measured on a separate destination
    clean = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "clean.zarr", chunks=chunks,
                             max_mem=job.keywords["max_mem"], temp=tmp_path / "tmp-clean")
    total = counted["calls"]
    assert clean["passes"] == (2 if two_passes else 1) and total == clean["blocks"] and total > stop_after
    counted["calls"], counted["limit"] = 0, stop_after
    with pytest.raises(_Interrupt):
        job()
    assert counted["calls"] == stop_after
    assert os.path.isdir(tmp_path / "d.zarr" / blockwise.MARKER_DIR)  # progress was recorded
    counted["calls"], counted["limit"] = 0, None
    summary = job()
    assert counted["calls"] == total - stop_after  # finished blocks were skipped
    assert summary["passes"] == clean["passes"]
    _check(tmp_path / "d.zarr", ref, chunks, fmt=2)
    if two_passes:
        assert not [f for _, _, files in os.walk(tmp_path / "tmp") for f in files]


def test_no_intermediate_directory_left_in_given_temp(tmp_path):
    ref, chunks, job = _resumable_job(tmp_path, True)
    assert job()["passes"] == 2
    _check(tmp_path / "d.zarr", ref, chunks)
    assert os.listdir(tmp_path / "tmp") == []


def test_default_temp_is_removed(tmp_path):
    import tempfile

    ref, chunks, job = _resumable_job(tmp_path, True)
    before = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("zarrfast-rechunk-")}
    summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=chunks,
                               max_mem=job.keywords["max_mem"])
    assert summary["passes"] == 2
    _check(tmp_path / "d.zarr", ref, chunks)
    after = {d for d in os.listdir(tempfile.gettempdir()) if d.startswith("zarrfast-rechunk-")}
    assert after <= before


def test_rerun_with_overwrite_after_interruption_is_correct(tmp_path, counted):
    ref, chunks, job = _resumable_job(tmp_path, True)
    counted["limit"] = 13
    with pytest.raises(_Interrupt):
        job(overwrite=True)
    counted["limit"] = None
    job(overwrite=True)
    _check(tmp_path / "d.zarr", ref, chunks)


# ---- errors --------------------------------------------------------------------------------------------------------
def test_max_mem_too_small_names_the_need(tmp_path):
    _source(tmp_path / "s.zarr", _data((100, 100)), (10, 10))
    with pytest.raises(ValueError, match=r"max_mem 1000 bytes is too small.*needs about \d+ bytes") as info:
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(50, 50), max_mem=1000)
    need = int(str(info.value).rsplit("needs about ", 1)[1].split()[0])
    assert not (tmp_path / "d.zarr").exists()
    zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(50, 50), max_mem=need)  # enough
    with pytest.raises(ValueError, match="per worker"):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d2.zarr", chunks=(50, 50), max_mem=need, workers=2)


def test_existing_destination_needs_overwrite(tmp_path):
    ref = _data((20, 20))
    _source(tmp_path / "s.zarr", ref, (20, 1))
    zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(1, 20), max_mem="4MB")
    with pytest.raises(ContainsNodeError):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(1, 20), max_mem="4MB")
    other = zarrfast.create_array(tmp_path / "o.zarr", shape=(3,), dtype="f8")
    with pytest.raises(ContainsNodeError):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "o.zarr", chunks=(5, 5), max_mem="4MB")
    assert other.shape == (3,) and zarrfast.open_array(tmp_path / "o.zarr").shape == (3,)
    zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "o.zarr", chunks=(5, 5), max_mem="4MB", overwrite=True)
    _check(tmp_path / "o.zarr", ref, (5, 5))


def test_bad_arguments(tmp_path):
    _source(tmp_path / "s.zarr", _data((20, 20)), (5, 5))
    with pytest.raises(ValueError, match="dimensions"):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(5,), max_mem="4MB")
    with pytest.raises(ValueError, match="shards"):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(5, 5), shards=(10, 10), max_mem="4MB",
                         zarr_format=2)
    with pytest.raises(ValueError, match="not a size"):
        zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=(5, 5), max_mem="a lot")


# ---- executors -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("two_passes", [False, True])
def test_thread_pool_executor(tmp_path, two_passes):
    ref = _data((96, 96), "f4")
    _source(tmp_path / "s.zarr", ref, (96, 3))
    chunks = (3, 96) if two_passes else (96, 12)
    max_mem = _tight((96, 3), chunks, 4, 96 * 96 * 4 // 6)
    with ThreadPoolExecutor(3) as pool:
        summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / "d.zarr", chunks=chunks, max_mem=max_mem,
                                   executor=pool, temp=tmp_path / "tmp")
        assert summary["passes"] == (2 if two_passes else 1) and summary["blocks"] > 2
        zarrfast.convert(tmp_path / "s.zarr", tmp_path / "c.zarr", zarr_format=3, chunks=(8, 8), shards=(32, 48),
                         executor=pool, max_mem=2**20)
    _check(tmp_path / "d.zarr", ref, chunks)
    _check(tmp_path / "c.zarr", ref, (8, 8), (32, 48), fmt=3)




def test_distributed_rechunk(tmp_path, cluster_client):
    ref = _data((120, 120), "i4")
    _source(tmp_path / "s.zarr", ref, (120, 2))
    for chunks, shards, passes in [((2, 120), None, 2), ((120, 10), None, 1), ((2, 10), (10, 120), None)]:
        unit = shards or chunks
        max_mem = _tight((120, 2), unit, 4, 120 * 120 * 4 // 4)
        name = f"d-{chunks[0]}-{chunks[1]}.zarr"
        summary = zarrfast.rechunk(tmp_path / "s.zarr", tmp_path / name, chunks=chunks, shards=shards,
                                   max_mem=max_mem, executor=cluster_client, temp=tmp_path / "tmp",
                                   zarr_format=3 if shards else None)
        if passes is not None:
            assert summary["passes"] == passes
        assert summary["blocks"] > 1
        _check(tmp_path / name, ref, chunks, shards)
    pids = set(cluster_client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids


def test_distributed_convert(tmp_path, cluster_client):
    root = zarrfast.open_group(tmp_path / "s.zarr", mode="w", zarr_format=2, attributes={"a": 1})
    ref = {"x": _data((50, 40), "f8", 1), "g/y": _data((33,), "i2", 2)}
    root.create_array("x", shape=(50, 40), dtype="f8", chunks=(7, 40), zarr_format=2)[...] = ref["x"]
    root.create_group("g", attributes={"b": 2}).create_array(
        "y", shape=(33,), dtype="i2", chunks=(4,), fill_value=-1, zarr_format=2)[...] = ref["g/y"]
    summary = zarrfast.convert(tmp_path / "s.zarr", tmp_path / "d.zarr", zarr_format=3, chunks=(5, 5),
                               shards=(10, 20), executor=cluster_client, max_mem=2**20)
    assert summary["arrays"] == 2 and summary["groups"] == 2
    out = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")
    assert dict(out.attrs) == {"a": 1} and dict(out["g"].attrs) == {"b": 2}
    np.testing.assert_array_equal(out["x"][...], ref["x"])
    np.testing.assert_array_equal(out["g/y"][...], ref["g/y"])
    assert out["x"].shards == (10, 20) and out["g/y"].fill_value == -1


def test_distributed_convert_hdf5(tmp_path, cluster_client):
    h5py = pytest.importorskip("h5py")
    ref = _data((64, 48), "f4", 3)
    with h5py.File(tmp_path / "s.h5", "w") as f:
        f.create_dataset("v", data=ref, chunks=(16, 16), compression="gzip")
        f["v"].attrs["units"] = "K"
    zarrfast.convert(tmp_path / "s.h5", tmp_path / "d.zarr", chunks=(8, 48), executor=cluster_client,
                     max_mem=2**20)
    z = zarr.open_array(str(tmp_path / "d.zarr"), path="v", mode="r")
    np.testing.assert_array_equal(z[...], ref)
    assert dict(z.attrs) == {"units": "K"}


# ---- peak memory ---------------------------------------------------------------------------------------------------
# The child measures ru_maxrss after its imports (baseline) and after the rechunk. Linux carries a process's
# ru_maxrss over from its parent across exec, so the child is started by a tiny launcher process (a few MB), not
# straight from pytest (hundreds of MB), which would hide the child's own peak.
_CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy, zarrfast
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    src, dst, chunks, max_mem = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
    summary = zarrfast.rechunk(src, dst, chunks=chunks, max_mem=max_mem, temp=sys.argv[5])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"base": base, "peak": peak, "passes": summary["passes"],
                      "estimate": summary["peak_estimate_bytes"]}))
""")
_LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"
MEM_SHAPE = (8000, 15000)  # uint16: 240 MB
MEM_SRC_CHUNKS = (8000, 100)


@pytest.fixture(scope="module")
def big_source(tmp_path_factory):
    path = tmp_path_factory.mktemp("mem") / "src.zarr"
    arr = zarrfast.create_array(path, shape=MEM_SHAPE, dtype="u2", chunks=MEM_SRC_CHUNKS, zarr_format=2)
    block = np.random.default_rng(0).integers(0, 4000, size=(MEM_SHAPE[0], 1500), dtype="u2")
    for j in range(0, MEM_SHAPE[1], 1500):
        arr[:, j:j + 1500] = block + np.uint16(j // 1500)
    return path


def _measure(tmp_path, src, chunks, max_mem):
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, sys.executable, "-c", _CHILD, str(src),
                          str(tmp_path / "dst.zarr"), json.dumps(chunks), str(max_mem), str(tmp_path / "tmp")],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    dst = zarrfast.open_array(tmp_path / "dst.zarr", mode="r")
    assert dst.chunks == tuple(chunks) and dst.shape == MEM_SHAPE
    src_arr = zarrfast.open_array(src, mode="r")
    for sel in [np.s_[:7, :9], np.s_[3999:4101, 7000:7300], np.s_[-5:, -120:]]:  # spot checks
        np.testing.assert_array_equal(dst[sel], src_arr[sel])
    return result


MEM_MB = 10**6

@pytest.mark.parametrize("chunks,max_mem,passes", [
    pytest.param((8000, 250), 64 * MEM_MB, 1, id="one-pass-64MB"),
    pytest.param((100, 15000), 64 * MEM_MB, 2, id="two-pass-64MB"),
    pytest.param((100, 15000), 80 * MEM_MB, 2, id="two-pass-80MB"),
])
def test_peak_memory_within_max_mem(tmp_path, big_source, chunks, max_mem, passes):
    assert math.prod(MEM_SHAPE) * 2 >= 3 * max_mem  # the array is several times larger than the budget
    r = _measure(tmp_path, big_source, chunks, max_mem)
    assert r["passes"] == passes
    growth = r["peak"] - r["base"]
    assert growth <= 1.3 * max_mem + 30 * MEM_MB, (
        f"peak RSS grew {growth / MEM_MB:.1f} MB for max_mem {max_mem / MEM_MB:.0f} MB "
        f"(plan estimate {r['estimate'] / MEM_MB:.1f} MB)")
