"""Where zarrfast's time goes, per workload and operation: ``python -m benchmarks.profile``.

Two views of the same runs (one thread, so that every call is on the profiled thread):

* **Python level** (``cProfile``): the time of each zarrfast function itself (the store's own thread pool is off
  too). The Cython kernels do not appear as
  functions of their own; their time is the ``tottime`` of the Python function that calls them, so the rows are
  grouped into *decode/encode kernels* (``_read_native``, ``_encode_native``), *file I/O* (the store's batch
  functions, which call ``_ext.fileio``), *Python orchestration* (everything else zarrfast runs) and *numpy /
  builtins*.
* **Native** (``--perf``, needs ``perf``): ``perf record -e cpu-clock`` over a subprocess repeating the operation
  (the array it reads was written by an earlier, unsampled process; the samples include imports and opening);
  the report lists the hottest shared objects and symbols (libzstd, lz4, our kernels, memcpy, the kernel's page
  faults, the interpreter).

The markdown report (``--markdown``) is what docs/performance.md quotes.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.data import DEFAULT_DATA_DIR, load
from benchmarks.impls import zarrfast_impl
from benchmarks.workloads import OPS, get_workloads, selections_for

GROUPS = (
    ("decode/encode kernels", ("_read_native", "_encode_native", "_read_python", "_encode_python")),
    ("file I/O", ("storage/local.py",)),
)


def _group(filename: str, name: str) -> str:
    for group, needles in GROUPS:
        if any(n in name or n in filename for n in needles):
            return group
    if "/zarrfast/" in filename:
        return "Python orchestration"
    return "numpy / builtins"


def _store(path: str) -> Any:
    """A LocalStore without its own thread pool, so that file I/O runs on the profiled thread."""
    from zarrfast.storage import LocalStore

    return LocalStore(path, parallel_threshold=None)


def _create(path: str, w: Any) -> Any:
    import zarrfast
    from benchmarks.impls._zarr_api import create_kwargs

    return zarrfast.create_array(store=_store(path), **create_kwargs(w))


def _operation(arr: Any, src: Any, op: str, sels: list) -> Any:
    if op == "write_all":
        return lambda: zarrfast_impl.write_all(arr, src)
    if op == "read_all":
        return lambda: zarrfast_impl.read_all(arr)
    return lambda: [zarrfast_impl.read_region(arr, s) for s in sels]


def python_profile(w: Any, op: str, root: Path, src: Any, top: int) -> dict[str, Any]:
    """cProfile of one run of ``op`` (after one warm-up run); totals per group and the top functions."""
    import zarrfast

    path = str(root / f"{w.name}.zarr")
    zarrfast.config.set({"threads": 1})
    arr = _create(path, w)
    zarrfast_impl.write_all(arr, src)
    if op != "write_all":
        arr = zarrfast.open_array(_store(path), mode="r")
    run = _operation(arr, src, op, selections_for(w, op))
    run()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(run)
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    groups: dict[str, float] = {}
    rows = []
    for (filename, _line, name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        g = _group(filename, name)
        groups[g] = groups.get(g, 0.0) + tottime
        short = filename.split("/zarrfast/")[-1] if "/zarrfast/" in filename else Path(filename).name
        rows.append((tottime, f"{short}:{name}", g))
    rows.sort(reverse=True)
    shutil.rmtree(path, ignore_errors=True)
    return {"wall": wall, "groups": groups, "top": rows[:top]}


_PERF_CHILD = """
import sys, time, zarrfast
sys.path.insert(0, {repo!r})
from pathlib import Path
from benchmarks.data import load
from benchmarks.impls import zarrfast_impl
from benchmarks.profile import _create, _store
from benchmarks.workloads import get_workloads, selections_for
w = get_workloads([{name!r}], {quick!r})[0]
src = load(w, Path({data!r}))
zarrfast.config.set({{"threads": 1}})
if sys.argv[1] == "setup":  # run without perf: the array the sampled child reads
    zarrfast_impl.write_all(_create({path!r}, w), src)
    sys.exit(0)
arr = _create({path!r}, w) if {op!r} == "write_all" else zarrfast.open_array(_store({path!r}), mode="r")
sels = selections_for(w, {op!r})
end = time.perf_counter() + {seconds!r}
while time.perf_counter() < end:
    if {op!r} == "write_all":
        zarrfast_impl.write_all(arr, src)
    elif {op!r} == "read_all":
        zarrfast_impl.read_all(arr)
    else:
        for s in sels:
            zarrfast_impl.read_region(arr, s)
"""


def native_profile(w: Any, op: str, root: Path, data_dir: Path, quick: bool, seconds: float,
                   top: int) -> list[tuple[float, str, str]] | str:
    """``perf`` samples of a child repeating ``op``: (percent, shared object, symbol), or why there are none."""
    if shutil.which("perf") is None:
        return "perf is not installed"
    path = str(root / f"{w.name}-perf.zarr")
    script = root / "perf_child.py"
    script.write_text(_PERF_CHILD.format(repo=str(Path(__file__).resolve().parents[1]), name=w.name, quick=quick,
                                         data=str(data_dir), path=path, op=op, seconds=seconds))
    data = root / "perf.data"
    if op != "write_all":
        subprocess.run([sys.executable, str(script), "setup"], check=True)
    rec = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "999", "-o", str(data), "--",
                          sys.executable, str(script), "run"], capture_output=True, text=True)
    shutil.rmtree(path, ignore_errors=True)
    if rec.returncode != 0:
        return f"perf record failed: {rec.stderr.strip()[-200:]}"
    rep = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "--sort", "dso,sym",
                          "--percent-limit", "0.5"], capture_output=True, text=True)
    rows = []
    for line in rep.stdout.splitlines():
        parts = line.split()
        if not parts or not parts[0].endswith("%") or line.lstrip().startswith("#"):
            continue
        try:
            pct = float(parts[0].rstrip("%"))
        except ValueError:
            continue
        dso = parts[1]
        sym = " ".join(parts[3:]) if len(parts) > 3 else "?"
        rows.append((pct, dso, sym))
    return rows[:top]


def _markdown(results: list[dict[str, Any]]) -> str:
    out = ["# Where the time goes (zarrfast, 1 thread)", "",
           f"Command: `python -m benchmarks.profile {' '.join(sys.argv[1:])}`", ""]
    for r in results:
        py = r["python"]
        total = sum(py["groups"].values()) or 1.0
        out.append(f"## {r['workload']} / {r['op']} ({py['wall'] * 1e3:.1f} ms under cProfile)")
        out.append("")
        out.append("| group | share |")
        out.append("|---|---:|")
        for g, t in sorted(py["groups"].items(), key=lambda kv: -kv[1]):
            out.append(f"| {g} | {100 * t / total:.0f}% |")
        out.append("")
        out.append("| Python-level function (self time) | ms | group |")
        out.append("|---|---:|---|")
        for t, name, g in py["top"]:
            out.append(f"| `{name}` | {t * 1e3:.2f} | {g} |")
        native = r.get("native")
        if native is not None:
            out.append("")
            if isinstance(native, str):
                out.append(f"Native profile: {native}.")
            else:
                out.append("| native samples | shared object | symbol |")
                out.append("|---:|---|---|")
                for pct, dso, sym in native:
                    out.append(f"| {pct:.1f}% | {dso} | `{sym}` |")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="", help="comma-separated (default: all)")
    p.add_argument("--ops", default="write_all,read_all,read_chunk_by_chunk", help=f"any of {', '.join(OPS)}")
    p.add_argument("--quick", action="store_true", help="the small shapes of `python -m benchmarks --quick`")
    p.add_argument("--perf", action="store_true", help="also sample native code with perf")
    p.add_argument("--perf-seconds", type=float, default=3.0)
    p.add_argument("--top", type=int, default=8)
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--markdown", help="write the report here")
    args = p.parse_args(argv)
    workloads = get_workloads([n for n in args.workloads.split(",") if n], args.quick)
    ops = [o for o in args.ops.split(",") if o]
    results = []
    with tempfile.TemporaryDirectory(prefix="zarrfast-profile-") as tmp:
        root = Path(tmp)
        for w in workloads:
            src = load(w, Path(args.data_dir))
            for op in ops:
                r: dict[str, Any] = {"workload": w.name, "op": op,
                                     "python": python_profile(w, op, root, src, args.top)}
                if args.perf:
                    r["native"] = native_profile(w, op, root, Path(args.data_dir), args.quick, args.perf_seconds,
                                                 args.top)
                results.append(r)
                print(f"{w.name} {op}: {r['python']['wall'] * 1e3:.1f} ms", file=sys.stderr)
    text = _markdown(results)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
