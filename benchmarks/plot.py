"""Grouped bar chart of median time per op per impl, one log-scale panel per workload."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

IMPL_COLORS = {"zarrfast": "#d62728", "zarr": "#1f77b4", "zarrs": "#ff7f0e", "tensorstore": "#2ca02c"}


def plot(doc: dict[str, Any], out: Path | str) -> Path:
    """Write the chart for a run document (as produced by ``python -m benchmarks --json``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    impls = [n for n, i in doc["impls"].items() if i["status"] == "ok"]
    wnames = list(doc["workloads"])
    ncols = min(3, max(1, len(wnames)))
    nrows = math.ceil(len(wnames) / ncols) or 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
    width = 0.8 / max(len(impls), 1)
    for ax, wname in zip(axes.flat, wnames):
        summary = doc["workloads"][wname]["summary"]
        ops = list(summary)
        for k, impl in enumerate(impls):
            xs, ys, lo = [], [], []
            for j, op in enumerate(ops):
                med = summary[op]["median_ms"].get(impl)
                if med is not None:
                    xs.append(j + (k - (len(impls) - 1) / 2) * width)
                    ys.append(med)
                    lo.append(med - summary[op]["min_ms"].get(impl, med))
            ax.bar(xs, ys, width, label=impl, color=IMPL_COLORS.get(impl),
                   yerr=[lo, [0] * len(lo)], capsize=2, error_kw={"elinewidth": 0.6})
        ax.set_yscale("log")
        ax.set_title(wname, fontsize=10)
        ax.set_xticks(range(len(ops)))
        ax.set_xticklabels([op.replace("read_", "r_") for op in ops], rotation=25, ha="right", fontsize=8)
        ax.set_ylabel("median ms (log)", fontsize=8)
        ax.grid(axis="y", which="both", alpha=0.3)
    for ax in list(axes.flat)[len(wnames):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    mode = "quick" if doc["config"]["quick"] else "full"
    fig.suptitle(f"zarrfast vs peers ({mode}, {doc['machine']['cpu_count']} cores; bar = median, "
                 f"whisker down to min)", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=len(impls), frameon=False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
