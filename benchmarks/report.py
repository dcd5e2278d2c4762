"""Summaries of a run: derived ratios, the plain-text table, the markdown tables, machine info."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from benchmarks.impls import REFERENCE_IMPL, SUBJECT_IMPL

LIBRARIES = ("zarrfast", "numpy", "zarr", "zarrs", "tensorstore", "numcodecs", "zstandard", "blosc2",
             "lz4", "crc32c", "matplotlib")


def machine_info() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem = int(next(ln.split()[1] for ln in f if ln.startswith("MemTotal"))) * 1024
    except (OSError, StopIteration):
        pass
    return {"platform": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cpu_count": os.cpu_count(), "affinity": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity") else None, "mem_total_bytes": mem}


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = None
    return out


def summarize(results: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per op: median/min ms per impl, the best peer, zarrfast / best peer and zarrfast / zarr."""
    out: dict[str, dict[str, Any]] = {}
    for op, cells in results.items():
        med = {n: c["median_s"] * 1e3 for n, c in cells.items() if c.get("median_s") is not None}
        mins = {n: c["min_s"] * 1e3 for n, c in cells.items() if c.get("min_s") is not None}
        peers = {n: v for n, v in med.items() if n != SUBJECT_IMPL}
        best = min(peers, key=peers.__getitem__) if peers else None
        row: dict[str, Any] = {"median_ms": med, "min_ms": mins, "best_peer": best,
                               "zarrfast_over_best_peer": None, "zarrfast_over_zarr": None}
        if SUBJECT_IMPL in med:
            if best is not None:
                row["zarrfast_over_best_peer"] = med[SUBJECT_IMPL] / peers[best]
            if REFERENCE_IMPL in med:
                row["zarrfast_over_zarr"] = med[SUBJECT_IMPL] / med[REFERENCE_IMPL]
        out[op] = row
    return out


def derived_limits(
    summary: dict[str, dict[str, Any]], limits: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """read_all % of codec limit, write_all % of encode limit and per-chunk overhead (us) per impl."""
    n = str(limits["threads"])
    dec, enc = limits["decode"][n]["median_s"], limits["encode"][n]["median_s"]
    reads = summary.get("read_all", {}).get("median_ms", {})
    writes = summary.get("write_all", {}).get("median_ms", {})
    return {
        "read_all_pct_of_codec_limit": {k: 100 * dec / (v / 1e3) for k, v in reads.items()},
        "write_all_pct_of_encode_limit": {k: 100 * enc / (v / 1e3) for k, v in writes.items()},
        "per_chunk_overhead_us": {
            k: (v / 1e3 - dec) / limits["n_chunks"] * 1e6 for k, v in reads.items()
        },
    }


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 1 else f"{v:.3f}"


def _ratio(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def _cell_text(cell: dict[str, Any] | None, med: float | None) -> str:
    if cell is None:
        return "-"
    if cell["status"] != "ok" or med is None:
        return cell["status"].upper()
    return _ms(med)


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return lines + ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]

    def fmt(r: list[str]) -> str:
        return "  ".join(c.rjust(wd) if i else c.ljust(wd) for i, (c, wd) in enumerate(zip(r, widths)))

    return [fmt(header), "  ".join("-" * wd for wd in widths)] + [fmt(r) for r in rows]


def timing_table(doc: dict[str, Any], markdown: bool = False) -> list[str]:
    """Median ms per (workload, op, impl) with zarrfast / best peer and zarrfast / zarr."""
    impls = [n for n, i in doc["impls"].items() if i["status"] == "ok"]
    header = ["workload", "op"] + [f"{n} ms" for n in impls] + ["best peer", "zf/best", "zf/zarr"]
    rows = []
    for wname, wd in doc["workloads"].items():
        for op, s in wd["summary"].items():
            cells = wd["results"][op]
            rows.append([wname, op] + [_cell_text(cells.get(n), s["median_ms"].get(n)) for n in impls]
                        + [s["best_peer"] or "-", _ratio(s["zarrfast_over_best_peer"]),
                           _ratio(s["zarrfast_over_zarr"])])
    return _table(header, rows, markdown)


def limits_table(doc: dict[str, Any], markdown: bool = False) -> list[str]:
    """Codec and memcpy throughput, and how close each impl's read_all gets to the codec limit."""
    impls = [n for n, i in doc["impls"].items() if i["status"] == "ok"]
    header = ["workload", "ratio", "dec 1T GB/s", "dec NT GB/s", "enc 1T GB/s", "enc NT GB/s",
              "file rd NT GB/s", "memcpy GB/s"] + [f"{n} read %" for n in impls]
    rows = []
    for wname, wd in doc["workloads"].items():
        lim = wd.get("limits")
        if not lim or "decode" not in lim:
            continue
        n = str(lim["threads"])
        pct = wd.get("read_all_pct_of_codec_limit", {})
        rows.append([wname, f"{lim['compression_ratio']:.2f}", f"{lim['decode']['1']['gbps']:.2f}",
                     f"{lim['decode'][n]['gbps']:.2f}", f"{lim['encode']['1']['gbps']:.2f}",
                     f"{lim['encode'][n]['gbps']:.2f}",
                     f"{lim['file_read'][n]['gbps']:.2f}" if "file_read" in lim else "-",
                     f"{lim['memcpy']['gbps']:.1f}"]
                    + [f"{pct[i]:.0f}%" if i in pct else "-" for i in impls])
    return _table(header, rows, markdown)


def overhead_table(doc: dict[str, Any], markdown: bool = False) -> list[str]:
    impls = [n for n, i in doc["impls"].items() if i["status"] == "ok"]
    rows = []
    for wname, wd in doc["workloads"].items():
        ov = wd.get("per_chunk_overhead_us")
        if ov:
            rows.append([wname, str(wd["limits"]["n_chunks"])]
                        + [f"{ov[i]:.1f}" if i in ov else "-" for i in impls])
    return _table(["workload", "chunks"] + [f"{n} us/chunk" for n in impls], rows, markdown) if rows else []


def memory_table(doc: dict[str, Any], markdown: bool = False) -> list[str]:
    impls = [n for n, i in doc["impls"].items() if i["status"] == "ok"]
    rows = []
    for wname, wd in doc["workloads"].items():
        mem = wd.get("memory")
        if not mem:
            continue
        for op in ("read_all", "write_all"):
            cells = []
            for i in impls:
                r = mem.get(i, {}).get(op)
                cells.append("-" if r is None else f"{r['multiple']:.2f}x" if r["status"] == "ok"
                             else r["status"].upper())
            rows.append([wname, op] + cells)
    return _table(["workload", "op"] + [f"{n} peak/size" for n in impls], rows, markdown) if rows else []


def scaling_table(doc: dict[str, Any], markdown: bool = False) -> list[str]:
    rows = []
    for wname, wd in doc["workloads"].items():
        for impl, sc in (wd.get("scaling") or {}).items():
            if sc.get("status") != "ok":
                rows.append([wname, impl, sc.get("status", "?"), ""])
                continue
            for n, r in sc["threads"].items():
                rows.append([wname, impl, n, f"{r['gbps']:.2f}" if r["status"] == "ok" else r["status"]])
    return _table(["workload", "impl", "threads", "read_all GB/s"], rows, markdown) if rows else []


def text_report(doc: dict[str, Any]) -> str:
    """Everything a terminal reader needs, as plain text."""
    cfg = doc["config"]
    lines = [(f"zarrfast benchmarks  ({'quick' if cfg['quick'] else 'full'}, reps={cfg['reps']}, "
              f"threads={cfg['threads']}, cpu={doc['machine']['cpu_count']})")]
    for name, info in doc["impls"].items():
        lines.append(f"  {name:12s} {info.get('version') or ''}" if info["status"] == "ok"
                     else f"  {name:12s} SKIPPED: {info['reason']}")
    lines += ["", "median time per operation (ms; ratios < 1 mean zarrfast is faster)"]
    lines += timing_table(doc)
    for title, table in (("physical limits (read % = codec decode time at N threads / read_all median)",
                          limits_table(doc)),
                         ("per-chunk overhead: (read_all - N-thread decode) / chunks", overhead_table(doc)),
                         ("peak memory above baseline, as a multiple of the array size", memory_table(doc)),
                         ("scaling of read_all with threads", scaling_table(doc))):
        if table:
            lines += ["", title] + table
    if doc["errors"]:
        lines += ["", "errors (not timed)"] + [f"  {e}" for e in doc["errors"]]
    if doc["wrong_answers"]:
        lines += ["", "!!! WRONG ANSWERS (not timed) !!!"] + [f"  {w}" for w in doc["wrong_answers"]]
    lines.append(f"\ntotal {doc['duration_s']:.0f} s")
    return "\n".join(lines)


def markdown_report(doc: dict[str, Any]) -> str:
    """Markdown tables for docs/performance.md."""
    cfg, mach = doc["config"], doc["machine"]
    vers = ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if v and k != "matplotlib")
    run = (f"Run: `{' '.join(doc['command_line'])}` on {mach['cpu']} ({mach['cpu_count']} cores), "
           f"Python {mach['python']}; {cfg['reps']} reps, {'quick' if cfg['quick'] else 'full'} sizes. "
           f"Versions: {vers}.")
    out = [run, "", "### Median time (ms)", ""]
    out += timing_table(doc, markdown=True)
    for title, table in (("### Physical limits", limits_table(doc, True)),
                         ("### Per-chunk overhead (us)", overhead_table(doc, True)),
                         ("### Peak memory (extra RSS / array size)", memory_table(doc, True)),
                         ("### Thread scaling", scaling_table(doc, True))):
        if table:
            out += ["", title, ""] + table
    skipped = {n: i["reason"] for n, i in doc["impls"].items() if i["status"] != "ok"}
    if skipped:
        out += [""] + [f"- {n} skipped: {r}" for n, r in skipped.items()]
    return "\n".join(out) + "\n"

