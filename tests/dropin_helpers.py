"""The machinery of the drop-in tests (``test_dropin*.py``): result helpers, the exact comparison, the
scenario registry and the ``zm`` fixture. The approach is described in ``test_dropin.py``.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
import zarrfast  # noqa: E402

MODULES = {"zarr": zarr, "zarrfast": zarrfast}

_BUILTINS = (FileNotFoundError, FileExistsError, PermissionError, IndexError, KeyError, ValueError, TypeError,
             NotImplementedError, AttributeError)


def is_zarrfast(zm: Any) -> bool:
    return zm is zarrfast


# ---- result helpers ------------------------------------------------------------------------------------------
class Err:
    """What a call raised, reduced to the builtin exception types it derives from."""

    def __init__(self, exc: BaseException | None) -> None:
        self.builtins = frozenset(b.__name__ for b in _BUILTINS if isinstance(exc, b)) if exc else None
        self.text = f"{type(exc).__name__}: {exc}" if exc else "no exception"

    def __repr__(self) -> str:
        return f"Err({sorted(self.builtins) if self.builtins is not None else None}; {self.text})"


def err(fn: Callable[[], Any]) -> Err:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except Exception as e:  # noqa: BLE001 - that is the point
        return Err(e)
    return Err(None)


def keys(root: Path, sub: str = "a") -> list[str]:
    """Every file under ``root/sub`` (relative, '/'-separated), sorted."""
    base = root / sub
    out = []
    for dirpath, _, files in os.walk(base):
        for f in files:
            out.append(os.path.relpath(os.path.join(dirpath, f), base).replace(os.sep, "/"))
    return sorted(out)


def chunk_keys(root: Path, sub: str = "a") -> list[str]:
    return [k for k in keys(root, sub) if k not in ("zarr.json", ".zarray", ".zattrs", ".zgroup")]


def doc(root: Path, name: str, sub: str = "a") -> Any:
    """A metadata document as stored, parsed (None when absent)."""
    p = root / sub / name
    return json.loads(p.read_text()) if p.exists() else None


def scalar(zm: Any, v: Any, zarr_type: type, zarrfast_type: type) -> np.ndarray:
    """A scalar-ish read whose Python type legitimately differs: assert each module's type, compare as 0-d."""
    expected = zarrfast_type if is_zarrfast(zm) else zarr_type
    assert isinstance(v, expected) and np.ndim(v) == 0, (type(v), v)
    return np.asarray(v)


def props(a: Any) -> dict:
    return {"shape": a.shape, "dtype": a.dtype, "chunks": a.chunks, "fill_value": a.fill_value, "ndim": a.ndim,
            "size": a.size, "nbytes": a.nbytes, "zarr_format": a.metadata.zarr_format}


def same(ref: Any, got: Any, where: str = "result") -> None:
    """Assert ``got`` (zarrfast) equals ``ref`` (zarr-python) exactly, including types of numpy values."""
    if isinstance(ref, Err):
        assert isinstance(got, Err), f"{where}: zarr raised {ref!r}, got {got!r}"
        if ref.builtins is None:
            assert got.builtins is None, f"{where}: zarr raised nothing, got {got!r}"
        else:
            assert got.builtins is not None and ref.builtins <= got.builtins, f"{where}: zarr {ref!r}, got {got!r}"
        return
    if isinstance(ref, dict):
        assert isinstance(got, dict), f"{where}: {type(got)}"
        assert sorted(map(str, ref)) == sorted(map(str, got)), f"{where}: keys {sorted(ref)} != {sorted(got)}"
        for k in ref:
            same(ref[k], got[k], f"{where}[{k!r}]")
        return
    if isinstance(ref, (list, tuple)):
        assert isinstance(got, (list, tuple)) and type(ref) is type(got), f"{where}: {ref!r} != {got!r}"
        assert len(ref) == len(got), f"{where}: {ref!r} != {got!r}"
        for i, (r, g) in enumerate(zip(ref, got)):
            same(r, g, f"{where}[{i}]")
        return
    if isinstance(ref, np.ndarray):
        assert isinstance(got, np.ndarray), f"{where}: expected ndarray, got {type(got)} {got!r}"
        assert ref.dtype == got.dtype, f"{where}: dtype {ref.dtype} != {got.dtype}"
        assert ref.shape == got.shape, f"{where}: shape {ref.shape} != {got.shape}"
        if ref.dtype.kind in "fc":
            np.testing.assert_array_equal(got, ref, err_msg=where)  # treats NaN == NaN
        elif ref.dtype.names is not None:
            assert ref.tobytes() == got.tobytes(), f"{where}: {ref!r} != {got!r}"
        elif ref.dtype.kind in "mM":
            assert np.array_equal(ref.view("i8"), got.view("i8")), f"{where}: {ref!r} != {got!r}"
        else:
            assert np.array_equal(ref, got), f"{where}: {ref!r} != {got!r}"
        return
    if isinstance(ref, np.generic):
        assert type(ref) is type(got), f"{where}: scalar type {type(ref)} != {type(got)} ({got!r})"
        same(np.asarray(ref), np.asarray(got), where)
        return
    if isinstance(ref, float) and isinstance(got, float) and math.isnan(ref):
        assert math.isnan(got), f"{where}: {ref!r} != {got!r}"
        return
    if isinstance(ref, float) and isinstance(got, (float, np.floating)) and math.isnan(ref):
        assert math.isnan(got), f"{where}: {ref!r} != {got!r}"
        return
    assert ref == got, f"{where}: {ref!r} != {got!r}"
    assert type(ref) is type(got) or isinstance(ref, np.dtype), f"{where}: type {type(ref)} != {type(got)}"


# ---- registry and the test driver ----------------------------------------------------------------------------
class Scenarios(dict):
    """One test module's scenarios: name -> (function, bug); each module does
    ``SCENARIOS = Scenarios()`` and ``scenario = SCENARIOS.register``."""

    def __init__(self) -> None:
        super().__init__()
        self._ref: dict[str, Any] = {}  # zarr-python's result per scenario, computed once per test process

    def register(self, fn: Callable | None = None, *, bug: str | None = None) -> Any:
        """Register a scenario; ``bug=`` marks a real zarrfast bug (strict xfail on the zarrfast run only)."""
        def deco(f: Callable) -> Callable:
            self[f.__name__] = (f, bug)
            return f
        return deco(fn) if fn is not None else deco

    def _run(self, name: str, zm: Any, root: Path) -> Any:
        fn, _ = self[name]
        root.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(zm, root)

    def check(self, name: str, zm: Any, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        """The body of each module's ``test_dropin``: run ``name`` with ``zm``, compare with zarr-python."""
        bug = self[name][1]
        if bug and is_zarrfast(zm):
            request.applymarker(pytest.mark.xfail(strict=True, reason=f"BUG: {bug}"))
        if name not in self._ref:
            self._ref[name] = self._run(name, zarr, tmp_path / "ref")
        got = self._run(name, zm, tmp_path / "got")
        same(self._ref[name], got, name)


# fixture: test modules import it by name (``from dropin_helpers import zm``)
@pytest.fixture(params=list(MODULES), ids=list(MODULES))
def zm(request: pytest.FixtureRequest) -> Any:
    return MODULES[request.param]


# ---- shared scenario pieces ----------------------------------------------------------------------------------
def grid(zm: Any, root: Path, zarr_format: int = 3) -> Any:
    """A (10, 12) int32 array in (3, 5) chunks holding 0..119 (indexing, resize and protocol scenarios)."""
    a = zm.create_array(store=str(root / "a"), shape=(10, 12), chunks=(3, 5), dtype="i4", fill_value=-7,
                        zarr_format=zarr_format)
    a[...] = np.arange(120, dtype="i4").reshape(10, 12)
    return a
