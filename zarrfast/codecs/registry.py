"""Codec lookup by v3 name / v2 id, and conversion of every codec form users pass in."""
from __future__ import annotations

from typing import Any

from ..errors import CodecError, UnknownCodecError
from .base import Codec
from .blosc import BloscCodec
from .bytes import BytesCodec
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .lz4 import LZ4Codec
from .numcodecs_adapter import NumcodecsCodec, get_numcodecs_codec
from .transpose import TransposeCodec
from .vlen import VLenBytesCodec, VLenUTF8Codec
from .zlib import ZlibCodec
from .zstd import ZstdCodec

V3_CODECS: dict[str, type[Codec]] = {}
V2_CODECS: dict[str, type[Codec]] = {}


def register_codec(cls: type[Codec]) -> type[Codec]:
    """Make a codec class known under its v3 ``name`` and v2 ``codec_id``."""
    if cls.name:
        V3_CODECS[cls.name] = cls
    if isinstance(cls.codec_id, str):
        V2_CODECS[cls.codec_id] = cls
    return cls


for _cls in (BytesCodec, TransposeCodec, BloscCodec, ZstdCodec, GzipCodec, ZlibCodec, LZ4Codec, Crc32cCodec,
             VLenUTF8Codec, VLenBytesCodec):
    register_codec(_cls)
V3_CODECS["numcodecs.lz4"] = LZ4Codec
V3_CODECS["numcodecs.zlib"] = ZlibCodec


def codec_from_v3(spec: dict[str, Any] | str) -> Codec:
    """Build a codec from its v3 JSON form ``{"name": ..., "configuration": {...}}``."""
    if isinstance(spec, str):
        spec = {"name": spec}
    name = spec.get("name")
    config = spec.get("configuration") or {}
    if not isinstance(config, dict):
        raise CodecError(f"codec {name!r}: configuration must be an object")
    cls = V3_CODECS.get(name)  # type: ignore[arg-type]
    if cls is None and isinstance(name, str) and name == "sharding_indexed":
        from .sharding import ShardingCodec  # noqa: F401  (registers itself)

        cls = V3_CODECS.get(name)
    if cls is not None:
        try:
            codec = cls.from_config(config)
        except TypeError as e:
            raise CodecError(f"codec {name!r}: bad configuration {config!r} ({e})") from None
        if name.startswith("numcodecs."):  # written back as given, defaults not filled in (as zarr-python does)
            codec.v3_given = dict(config)
        return codec
    if isinstance(name, str) and name.startswith("numcodecs."):
        return NumcodecsCodec(get_numcodecs_codec({"id": name[len("numcodecs."):], **config}), config=config)
    raise UnknownCodecError(f"unknown codec {name!r}")


def codec_from_v2(spec: dict[str, Any]) -> Codec:
    """Build a codec from its v2 (numcodecs) JSON form ``{"id": ..., ...}``."""
    config = dict(spec)
    codec_id = config.pop("id", None)
    cls = V2_CODECS.get(codec_id)  # type: ignore[arg-type]
    if cls is not None:
        if cls is BloscCodec:
            config.pop("typesize", None)
        try:
            return cls.from_config(config)
        except TypeError:
            pass  # options we don't model: numcodecs handles them
    return NumcodecsCodec(get_numcodecs_codec(spec))


def _zarr_python_blosc(obj: Any, spec: dict) -> dict:
    """A zarr-python ``BloscCodec``'s spec with what it tunes to the dtype left for the array to resolve:
    ``typesize`` and ``shuffle`` given as ``None`` (zarr-python < 3.1: stored as None; 3.1+: listed in
    ``_tunable_attrs``, with placeholder values typesize=1 / bitshuffle in ``to_dict``)."""
    tunable = getattr(obj, "_tunable_attrs", None)
    tune_typesize = "typesize" in tunable if tunable is not None else getattr(obj, "typesize", 0) is None
    tune_shuffle = "shuffle" in tunable if tunable is not None else getattr(obj, "shuffle", 0) is None
    if not (tune_typesize or tune_shuffle):
        return spec
    config = dict(spec.get("configuration") or {})
    if tune_typesize:
        config.pop("typesize", None)  # resolved from the dtype, as zarr-python does
    if tune_shuffle:
        config["shuffle"] = -1  # bit-shuffle for 1-byte types, else byte-shuffle
    return {"name": "blosc", "configuration": config}


def as_codec(obj: Any) -> Codec:
    """Accept a zarrfast codec, a v3 dict or name, a v2 dict, a numcodecs codec or a zarr-python codec object."""
    if isinstance(obj, Codec):
        return obj
    if isinstance(obj, str):
        return codec_from_v3({"name": obj})
    if isinstance(obj, dict):
        if "name" in obj:
            return codec_from_v3(obj)
        if "id" in obj:
            return codec_from_v2(obj)
        raise CodecError(f"codec dict needs a 'name' (v3) or an 'id' (v2): {obj!r}")
    if hasattr(obj, "codec_id") and hasattr(obj, "get_config"):  # numcodecs codec object
        known = V2_CODECS.get(obj.codec_id)
        if known is not None:
            try:
                return codec_from_v2(obj.get_config())
            except CodecError:
                pass
        return NumcodecsCodec(obj)
    if hasattr(obj, "to_dict"):  # zarr-python v3 codec object
        spec = obj.to_dict()
        if spec.get("name") == "blosc":
            spec = _zarr_python_blosc(obj, spec)
        return codec_from_v3(spec)
    raise CodecError(f"not a codec: {obj!r}")
