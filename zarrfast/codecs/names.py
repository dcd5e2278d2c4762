"""zarr-python's codec names that zarrfast serves through other classes: the numcodecs wrappers
(``zarrfast.codecs.Delta(dtype="<i4")`` ... run on the Python path, named ``numcodecs.<id>`` in v3) and the enums."""
from __future__ import annotations

from enum import Enum
from typing import Any

from .numcodecs_adapter import NumcodecsCodec, get_numcodecs_codec


class BloscCname(str, Enum):
    lz4 = "lz4"
    lz4hc = "lz4hc"
    blosclz = "blosclz"
    zstd = "zstd"
    snappy = "snappy"
    zlib = "zlib"


class BloscShuffle(str, Enum):
    noshuffle = "noshuffle"
    shuffle = "shuffle"
    bitshuffle = "bitshuffle"


class Endian(str, Enum):
    big = "big"
    little = "little"


class ShardingCodecIndexLocation(str, Enum):
    start = "start"
    end = "end"


def _numcodecs_class(class_name: str, codec_id: str) -> type[NumcodecsCodec]:
    def __init__(self: NumcodecsCodec, **config: Any) -> None:
        NumcodecsCodec.__init__(self, get_numcodecs_codec({"id": codec_id, **config}), config=config)

    doc = f"numcodecs' {codec_id!r} codec (``numcodecs.{codec_id}`` in v3 metadata; runs on the Python path)."
    return type(class_name, (NumcodecsCodec,), {"__init__": __init__, "__doc__": doc})


NUMCODECS_NAMES = {
    "Adler32": "adler32", "AsType": "astype", "BZ2": "bz2", "BitRound": "bitround", "Blosc": "blosc",
    "CRC32": "crc32", "CRC32C": "crc32c", "Delta": "delta", "FixedScaleOffset": "fixedscaleoffset",
    "Fletcher32": "fletcher32", "GZip": "gzip", "JenkinsLookup3": "jenkins_lookup3", "LZ4": "lz4", "LZMA": "lzma",
    "PCodec": "pcodec", "PackBits": "packbits", "Quantize": "quantize", "Shuffle": "shuffle", "ZFPY": "zfpy",
    "Zlib": "zlib", "Zstd": "zstd",
}
globals().update({cls: _numcodecs_class(cls, cid) for cls, cid in NUMCODECS_NAMES.items()})

__all__ = ["BloscCname", "BloscShuffle", "Endian", "ShardingCodecIndexLocation", *NUMCODECS_NAMES]
