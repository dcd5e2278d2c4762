"""Write the cross-implementation fixtures under ``tests/data/fixtures/``.

Each fixture is a small Zarr array written by a peer implementation (zarr-python 3 with its
default codec pipeline, zarr-python 3 with the zarrs pipeline, tensorstore), plus the values it
must hold as a ``.npy`` file.  ``manifest.json`` lists one entry per fixture and the versions of
the writers.  The fixtures are committed so zarrfast's interop tests run without any peer
installed; re-run this script only when a fixture is added or a writer is upgraded on purpose.

Usage::

    python tests/data/generate_fixtures.py            # regenerate tests/data/fixtures/
    python tests/data/generate_fixtures.py --check    # regenerate into a temp dir, compare bytes
    python tests/data/generate_fixtures.py --verify   # only re-run the zarr-python self-check

Determinism: values come from a generator seeded by a CRC of the fixture's name, every writer is
told exactly which codecs to use, and nothing depends on the clock.  Running twice with the
pinned versions below gives byte-identical trees (``--check`` proves it).

The work is done by the ``fixturegen`` package next to this script (fixture specs, writers,
self-check); this file holds the pinned versions, the manifest and the command line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "fixtures"

if str(HERE) not in sys.path:  # fixturegen/ sits next to this file (also under ``python -m``)
    sys.path.insert(0, str(HERE))

from fixturegen.check import compare_trees, self_check, zarr_python_dtype  # noqa: E402
from fixturegen.model import Spec  # noqa: E402
from fixturegen.specs import all_specs  # noqa: E402
from fixturegen.writers import WRITERS, chunk_files, written_values, zero_gzip_mtime  # noqa: E402

# The versions the committed fixtures were written with.  Another version may write other bytes
# (a different blosc block size, JSON key order ...), so the script refuses to run with a
# different version unless --allow-version-mismatch is given.
PINNED = {
    "zarr": "3.1.6",
    "numcodecs": "0.16.6",
    "tensorstore": "0.1.86",
    "zarrs": "0.2.3",
    "numpy": "2.4.6",
    "zstandard": "0.25.0",
}


# ------------------------------------------------------------------------------------------------
# manifest


def chunk_key(coords, zarr_format: int, encoding: str, separator: str) -> str:
    if zarr_format == 3 and encoding == "default":
        return separator.join(["c", *map(str, coords)])
    return separator.join(map(str, coords)) if coords else "0"


def describe(spec: Spec, dest: Path, rel: str, expected_name: str) -> dict:
    """One manifest entry, taken from the metadata the writer actually stored."""
    if spec.zarr_format == 2:
        zarray = json.loads((dest / ".zarray").read_text())
        attrs_file = dest / ".zattrs"
        attributes = json.loads(attrs_file.read_text()) if attrs_file.exists() else {}
        separator = zarray.get("dimension_separator", ".")
        entry = {
            "dtype": zarray["dtype"],
            "shape": zarray["shape"],
            "chunks": zarray["chunks"],
            "codecs": {"compressor": zarray["compressor"], "filters": zarray["filters"]},
            "order": zarray["order"],
            "separator": separator,
            "chunk_key_encoding": {"name": "v2", "separator": separator},
            "fill_value": zarray["fill_value"],
            "attributes": attributes,
            "dimension_names": None,
        }
        encoding = "v2"
    else:
        meta = json.loads((dest / "zarr.json").read_text())
        cke = meta["chunk_key_encoding"]
        encoding = cke["name"]
        separator = cke.get("configuration", {}).get("separator", "/" if encoding == "default" else ".")
        entry = {
            "dtype": meta["data_type"],
            "shape": meta["shape"],
            "chunks": meta["chunk_grid"]["configuration"]["chunk_shape"],
            "codecs": meta["codecs"],
            "order": None,
            "separator": separator,
            "chunk_key_encoding": {"name": encoding, "separator": separator},
            "fill_value": meta["fill_value"],
            "attributes": meta.get("attributes", {}),
            "dimension_names": meta.get("dimension_names"),
        }
    missing = [chunk_key(c, spec.zarr_format, encoding, separator) for c in spec.missing_chunks()]
    return dict(
        name=spec.key,
        path=rel,
        writer=spec.writer,
        zarr_format=spec.zarr_format,
        **entry,
        numpy_dtype=None,  # filled in by the self-check: what zarr-python reports as arr.dtype
        expected=expected_name,
        missing_chunks=sorted(missing),
        n_stored_chunks=len(chunk_files(dest, spec.zarr_format)),
        note=spec.note,
    )


def versions() -> dict[str, str]:
    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    for pkg in PINNED:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = None
    for pkg in ["blosc2", "crc32c"]:
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def generate(out: Path) -> dict:
    if out.exists():
        shutil.rmtree(out)
    (out / "expected").mkdir(parents=True)
    entries = []
    for spec in all_specs():
        dest = out / spec.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        values, to_write = written_values(spec)
        WRITERS[spec.writer](spec, dest, values, to_write)
        if zero_gzip_mtime(dest, spec.zarr_format):
            spec.note = "; ".join(filter(None, [spec.note, "gzip header MTIME zeroed by the generator"]))
        expected_name = f"expected/{spec.key}.npy"
        entries.append((spec, describe(spec, dest, spec.path, expected_name), values))
    manifest_entries = []
    for _spec, entry, values in entries:
        entry["numpy_dtype"] = zarr_python_dtype(out / entry["path"])
        np.save(out / entry["expected"], values.astype(np.dtype(entry["numpy_dtype"])), allow_pickle=False)
        manifest_entries.append(entry)
    manifest = {
        "format_version": 1,
        "generator": "tests/data/generate_fixtures.py",
        "description": "Small Zarr arrays written by peer implementations; see tests/data/README.md.",
        "versions": versions(),
        "fixtures": manifest_entries,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=True) + "\n")
    return manifest

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary directory and compare with --out byte for byte",
    )
    parser.add_argument("--verify", action="store_true", help="only run the zarr-python self-check on --out")
    parser.add_argument("--allow-version-mismatch", action="store_true")
    args = parser.parse_args(argv)

    if not args.verify:
        have = versions()
        wrong = {k: (have.get(k), v) for k, v in PINNED.items() if have.get(k) != v}
        if wrong and not args.allow_version_mismatch:
            print(
                "installed versions differ from the pinned ones (installed, pinned):", wrong, file=sys.stderr
            )
            print("install the pinned versions or pass --allow-version-mismatch", file=sys.stderr)
            return 2

    if args.verify:
        problems = self_check(args.out)
    elif args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fixtures"
            generate(fresh)
            problems = self_check(fresh) + [f"differs: {d}" for d in compare_trees(args.out, fresh)]
    else:
        manifest = generate(args.out)
        problems = self_check(args.out)
        total = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
        n_files = sum(1 for p in args.out.rglob("*") if p.is_file())
        print(f"wrote {len(manifest['fixtures'])} fixtures, {n_files} files, {total} bytes to {args.out}")
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    if not problems:
        print("self-check with zarr-python: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
