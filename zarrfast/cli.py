"""The ``zarrfast`` command: ``info``, ``tree``, ``convert`` and ``rechunk`` (also ``python -m zarrfast``).

Errors from bad input (zarrfast errors, OSError, ValueError) print one line ``zarrfast: error: <message>`` on
stderr and exit with status 1; command-line usage errors exit with status 2. Heavy modules (the converter,
dask.distributed) are imported only by the subcommands that need them.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

PROG = "zarrfast"

SIZE_HELP = ("SIZE is a number of bytes with an optional unit: 512MB, 1GiB, 100M, 2e9, 1000000. "
             "KB/MB/GB/TB are powers of 1000, KiB/MiB/GiB/TiB powers of 1024, and the single letters K/M/G/T "
             "are also binary (K=1024); units are case-insensitive.")
SPEC_HELP = ("SPEC is one of: none, zstd[:LEVEL], blosc[:CNAME[:CLEVEL[:SHUFFLE]]] (CNAME lz4|lz4hc|zstd|zlib, "
             "SHUFFLE noshuffle|shuffle|bitshuffle), gzip[:LEVEL], zlib[:LEVEL], lz4[:ACCELERATION]; "
             "default (the source's codecs, as if omitted); e.g. zstd:3, blosc:lz4:5:shuffle, gzip:6. zlib and lz4 "
             "are written as numcodecs.zlib / numcodecs.lz4 in Zarr v3 metadata.")
SHAPE_HELP = "C and S are comma-separated positive integers, one per dimension, e.g. 64,64,64."

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40, "pib": 1 << 50}
_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str) -> int:
    """``"512MB"`` -> ``512_000_000``, ``"1GiB"`` / ``"1G"`` -> ``2**30``, ``"2e9"`` -> ``2_000_000_000``."""
    m = _SIZE_RE.match(str(text))
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _UNITS:
        raise ValueError(f"invalid size {text!r}: expected a number with an optional unit "
                         f"(B, KB, MB, GB, TB, KiB, MiB, GiB, TiB, K, M, G, T), e.g. 512MB or 1GiB")
    value = float(m.group(1)) * _UNITS[unit]
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"invalid size {text!r}: must be at least 1 byte")
    return int(value)


def _argtype(fn: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """An argparse ``type=`` that reports our ValueError message (argparse would hide it)."""
    def convert(text: str) -> Any:
        try:
            return fn(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = name
    return convert


def _shape_arg(what: str) -> Callable[[str], Any]:
    from .codec_spec import parse_int_tuple

    return _argtype(lambda s: parse_int_tuple(s, what), what)


def _spec_arg(text: str) -> str:
    from .codec_spec import parse_codec_spec

    parse_codec_spec(text, 3)  # validated here, parsed again for the real target format
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"invalid count {text!r}: not an integer") from None
    if value < 1:
        raise ValueError(f"invalid count {text!r}: must be at least 1")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"invalid level {text!r}: not an integer") from None
    if value < 0:
        raise ValueError(f"invalid level {text!r}: must be >= 0")
    return value


# ---- parser ------------------------------------------------------------------------------------------------
class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .cli_info import JSON_HELP

    parser = argparse.ArgumentParser(
        prog=PROG, formatter_class=_Formatter,
        description="Inspect, convert and rechunk Zarr (v2 and v3) arrays and groups.",
        epilog="Run 'zarrfast COMMAND --help' for the options of one command. Exit status: 0 on success, "
               "1 on an error (one line on stderr), 2 on a command-line usage error.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("info", help="describe an array or group", formatter_class=_Formatter,
                       description="Describe the array or group at PATH: format, shape, dtype, chunks, shards, "
                                   "codecs, fill value, dimension names, logical vs stored bytes, compression "
                                   "ratio and initialised chunks; for a group, a summary of every array below it.",
                       epilog=JSON_HELP)
    p.add_argument("store", metavar="PATH", help="store path or URL (directory, .zip, ...)")
    p.add_argument("--path", metavar="NODE", default=None, help="node inside the store (default: the root)")
    p.add_argument("--json", action="store_true", help="print one JSON document (keys below)")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("tree", help="print the hierarchy of a group", formatter_class=_Formatter,
                       description="Print the hierarchy below a group (groups by name, arrays with shape and "
                                   "dtype); for an array, print its one-line summary.")
    p.add_argument("store", metavar="PATH", help="store path or URL")
    p.add_argument("--path", metavar="NODE", default=None, help="node inside the store (default: the root)")
    p.add_argument("--level", metavar="N", type=_argtype(_nonneg_int, "level"), default=None,
                   help="descend at most N levels into subgroups; 0 shows only the direct members (default: all)")
    p.set_defaults(func=cmd_tree)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("src", metavar="SRC", help="source store path or URL")
        p.add_argument("dst", metavar="DST", help="destination store path or URL")
        p.add_argument("--workers", metavar="N", type=_argtype(_positive_int, "workers"), default=None,
                       help="number of worker threads (default: the library's choice)")
        p.add_argument("--dask-scheduler", metavar="ADDRESS", default=None,
                       help="run the work on this dask.distributed scheduler (e.g. tcp://host:8786)")
        p.add_argument("--overwrite", action="store_true", help="replace existing data at DST")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")

    p = sub.add_parser("convert", help="copy arrays/groups, changing format, chunks or codecs",
                       formatter_class=_Formatter,
                       description="Copy the array or group at SRC to DST, optionally changing the Zarr format, "
                                   "the chunk and shard shapes and the compressor.",
                       epilog=f"{SPEC_HELP}\n{SHAPE_HELP}\n{SIZE_HELP}")
    common(p)
    p.add_argument("--zarr-format", type=int, choices=(2, 3), default=None,
                   help="format of DST (default: the source's)")
    p.add_argument("--chunks", metavar="C", type=_shape_arg("chunks"), default=None,
                   help="chunk shape of the new arrays (default: the source's)")
    p.add_argument("--shards", metavar="S", type=_shape_arg("shards"), default=None,
                   help="shard shape of the new arrays (v3 only)")
    p.add_argument("--compressor", metavar="SPEC", type=_argtype(_spec_arg, "compressor"), default=None,
                   help="compressor of the new arrays (default: the source's)")
    p.add_argument("--path", metavar="NODE", default=None, help="convert only this node of SRC")
    p.add_argument("--max-mem", metavar="SIZE", type=_argtype(parse_size, "size"), default=None,
                   help="memory budget for decoded blocks (default: the library's, 512 MiB)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("rechunk", help="rewrite an array with new chunks under a memory limit",
                       formatter_class=_Formatter,
                       description="Rewrite the array at SRC to DST with a new chunk (and shard) shape, using at "
                                   "most --max-mem bytes of memory (an intermediate copy in --temp if needed).",
                       epilog=f"{SIZE_HELP}\n{SHAPE_HELP}")
    common(p)
    p.add_argument("--chunks", metavar="C", type=_shape_arg("chunks"), required=True, help="new chunk shape")
    p.add_argument("--shards", metavar="S", type=_shape_arg("shards"), default=None, help="new shard shape")
    p.add_argument("--max-mem", metavar="SIZE", type=_argtype(parse_size, "size"), required=True,
                   help="memory budget, e.g. 512MB or 1GiB")
    p.add_argument("--temp", metavar="PATH", default=None, help="store for the intermediate copy, if one is needed")
    p.add_argument("--path", metavar="NODE", default=None, help="the array inside SRC (default: SRC itself)")
    p.set_defaults(func=cmd_rechunk)
    return parser


# ---- commands ---------------------------------------------------------------------------------------------
def _open(store: str, node: str | None) -> Any:
    import zarrfast

    from .errors import NodeNotFoundError

    try:
        return zarrfast.open(store, mode="r", path=node)
    except NodeNotFoundError:
        where = f"{store!r}" + (f" (node {node!r})" if node else "")
        raise NodeNotFoundError(f"no Zarr array or group at {where}") from None


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from .cli_info import format_info, node_summary

    info = node_summary(_open(args.store, args.path))
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def cmd_tree(args: argparse.Namespace) -> int:
    from .array import Array
    from .cli_info import array_line, array_summary

    node = _open(args.store, args.path)
    if isinstance(node, Array):
        print(array_line(array_summary(node), node.basename or "/"))
    else:
        print(str(node.tree(level=args.level)).rstrip("\n"))
    return 0


def _api(name: str) -> Callable[..., Any]:
    """``zarrfast.convert`` / ``zarrfast.rechunk``, looked up when called (so tests can replace them)."""
    import zarrfast

    obj = getattr(zarrfast, name, None)
    obj = getattr(obj, name, None) if isinstance(obj, ModuleType) else obj
    if callable(obj):
        return obj
    raise RuntimeError(f"zarrfast.{name} is not available in this installation")


def _summary_line(verb: str, summary: Any) -> str:
    from .progress import format_bytes

    if not isinstance(summary, dict):
        return f"{verb}: done"
    parts = []
    for key, value in summary.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and "bytes" in key:
            parts.append(f"{key}={format_bytes(value)}")
        elif isinstance(value, float) and "seconds" in key:
            parts.append(f"{key}={value:.2f}")
        elif isinstance(value, (int, float, str, bool)) or value is None:
            parts.append(f"{key}={value}")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{key}={len(value)}")
    return f"{verb}: " + " ".join(parts)


def _run(verb: str, args: argparse.Namespace, **kwargs: Any) -> int:
    from .progress import Progress

    fn = _api(verb)
    progress = Progress(enabled=not args.quiet)
    client = None
    try:
        if args.dask_scheduler:
            try:
                import distributed
            except ImportError:
                raise RuntimeError("--dask-scheduler needs the 'distributed' package") from None
            client = distributed.Client(args.dask_scheduler)
        summary = fn(args.src, args.dst, workers=args.workers, executor=client, progress=progress,
                     overwrite=args.overwrite, **kwargs)
    finally:
        progress.close()
        if client is not None:
            client.close()
    if not args.quiet:
        print(_summary_line(verb, summary))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .codec_spec import parse_codec_spec

    compressor = None
    if args.compressor is not None:
        compressor = parse_codec_spec(args.compressor, args.zarr_format or 3)
    extra = {"max_mem": args.max_mem} if args.max_mem is not None else {}
    return _run("convert", args, zarr_format=args.zarr_format, chunks=args.chunks, shards=args.shards,
                compressor=compressor, path=args.path, **extra)


def cmd_rechunk(args: argparse.Namespace) -> int:
    extra = {"path": args.path} if args.path is not None else {}
    return _run("rechunk", args, chunks=args.chunks, shards=args.shards, max_mem=args.max_mem, temp=args.temp,
                **extra)


# ---- entry point ------------------------------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    text = exc.args[0] if isinstance(exc, KeyError) and len(exc.args) == 1 else str(exc)
    text = " ".join(str(text).split()) or type(exc).__name__
    return text.replace("(pass overwrite=True)", "(pass --overwrite)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help / --version (0) or a usage error (2)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    from .errors import ZarrfastError

    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"{PROG}: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `zarrfast info ... | head`: stop quietly
        try:
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 1
    except (ZarrfastError, OSError, ValueError, RuntimeError) as e:
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
