"""Compressor SPEC strings for the command line: ``zstd:3``, ``blosc:lz4:5:shuffle``, ``gzip:6``, ``none`` ...

:func:`parse_codec_spec` turns one spec into the value :func:`zarrfast.create_array` takes as ``compressors=``:
a list of zarrfast codec objects (which write their v3 JSON form or their numcodecs-style v2 ``{"id": ...}`` form
depending on the array's format), ``[]`` for no compressor, or ``None`` for ``default`` (keep the default).

Forms (names are case-insensitive; ``:`` separates the fields; trailing fields may be left out)::

    none                              no compressor
    default                           the library / converter default (returns None)
    zstd[:LEVEL]                      LEVEL -131072..22, default 0 (zstd's own default level)
    blosc[:CNAME[:CLEVEL[:SHUFFLE]]]  CNAME lz4|lz4hc|zstd|zlib (blosclz with numcodecs), CLEVEL 0..9,
                                      SHUFFLE noshuffle|shuffle|bitshuffle; default blosc:zstd:5:shuffle
    gzip[:LEVEL]                      LEVEL 0..9, default 5
    zlib[:LEVEL]                      LEVEL -1..9, default 1 (v3 name ``numcodecs.zlib``)
    lz4[:ACCELERATION]                ACCELERATION >= 1, default 1 (numcodecs framing; v3 ``numcodecs.lz4``)
"""
from __future__ import annotations

from typing import Any

__all__ = ["SPEC_FORMS", "parse_codec_spec", "parse_int_tuple"]

SPEC_FORMS = ("none", "default", "zstd[:LEVEL]", "blosc[:CNAME[:CLEVEL[:SHUFFLE]]]", "gzip[:LEVEL]",
              "zlib[:LEVEL]", "lz4[:ACCELERATION]")

_SHUFFLES = ("noshuffle", "shuffle", "bitshuffle")


def _blosc_cnames() -> tuple[str, ...]:
    from .codecs.blosc import WRITABLE_CNAMES, _numcodecs_blosc

    return WRITABLE_CNAMES + (("blosclz",) if _numcodecs_blosc() is not None else ())


def _fail(spec: str, why: str) -> ValueError:
    return ValueError(f"invalid compressor spec {spec!r}: {why}; valid forms: {', '.join(SPEC_FORMS)}")


def _int_field(spec: str, text: str, what: str, lo: int, hi: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise _fail(spec, f"{what} must be an integer, not {text!r}") from None
    if value < lo or (hi is not None and value > hi):
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise _fail(spec, f"{what} must be {rng}, not {value}")
    return value


def parse_codec_spec(spec: str, zarr_format: int = 3) -> list | None:
    """The ``compressors=`` value for ``spec`` (see the module docstring); raises ValueError on a bad spec.

    The codec objects returned work for both formats; ``zarr_format`` is checked and kept for callers that
    want the v2 vs v3 JSON form (``codec.to_v2()`` / ``codec.to_v3()``).
    """
    from .codecs import BloscCodec, GzipCodec, LZ4Codec, ZlibCodec, ZstdCodec

    if zarr_format not in (2, 3):
        raise ValueError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    if not isinstance(spec, str):
        raise TypeError(f"compressor spec must be a string, not {type(spec).__name__}")
    fields = [f.strip() for f in spec.strip().split(":")]
    name, args = fields[0].lower(), fields[1:]
    if any(a == "" for a in args):
        raise _fail(spec, "empty field")

    def at_most(n: int) -> None:
        if len(args) > n:
            raise _fail(spec, f"{name!r} takes at most {n} option{'s' if n != 1 else ''}")

    if name in ("none", "null", "raw"):
        at_most(0)
        return []
    if name in ("default", "auto"):
        at_most(0)
        return None
    if name == "zstd":
        at_most(1)
        return [ZstdCodec(level=_int_field(spec, args[0], "level", -131072, 22))] if args else [ZstdCodec()]
    if name in ("gzip", "gz"):
        at_most(1)
        return [GzipCodec(level=_int_field(spec, args[0], "level", 0, 9))] if args else [GzipCodec()]
    if name == "zlib":
        at_most(1)
        return [ZlibCodec(level=_int_field(spec, args[0], "level", -1, 9))] if args else [ZlibCodec()]
    if name == "lz4":
        at_most(1)
        if args:
            return [LZ4Codec(acceleration=_int_field(spec, args[0], "acceleration", 1, None))]
        return [LZ4Codec()]
    if name == "blosc":
        at_most(3)
        cnames = _blosc_cnames()
        cname = args[0].lower() if args else "zstd"
        if cname not in cnames:
            raise _fail(spec, f"blosc compressor must be one of {'|'.join(cnames)}, not {args[0]!r}")
        clevel = _int_field(spec, args[1], "clevel", 0, 9) if len(args) > 1 else 5
        shuffle = args[2].lower() if len(args) > 2 else "shuffle"
        if shuffle not in _SHUFFLES:
            raise _fail(spec, f"blosc shuffle must be one of {'|'.join(_SHUFFLES)}, not {args[2]!r}")
        return [BloscCodec(cname=cname, clevel=clevel, shuffle=shuffle)]
    raise _fail(spec, f"unknown compressor {fields[0]!r}")


def parse_int_tuple(text: Any, what: str = "value") -> tuple[int, ...]:
    """``"64,64,64"`` -> ``(64, 64, 64)``; every entry must be a positive integer (ValueError otherwise)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"invalid {what} {text!r}: expected comma-separated positive integers such as 64,64,64")
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            value = int(part)
        except ValueError:
            raise ValueError(f"invalid {what} {text!r}: {part!r} is not an integer "
                             f"(expected comma-separated positive integers such as 64,64,64)") from None
        if value <= 0:
            raise ValueError(f"invalid {what} {text!r}: {value} is not positive")
        out.append(value)
    return tuple(out)
