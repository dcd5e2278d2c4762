"""Codecs, named as in zarr-python (``zarrfast.codecs.ZstdCodec(level=3)`` ...)."""
from .base import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, ChunkSpec, Codec
from .blosc import BloscCodec
from .bytes import BytesCodec
from .crc32c import Crc32cCodec
from .gzip import GzipCodec
from .lz4 import LZ4Codec
from .names import *  # noqa: F403  (zarr-python's numcodecs wrapper names and enums)
from .names import __all__ as _names_all
from .numcodecs_adapter import NumcodecsCodec
from .registry import as_codec, codec_from_v2, codec_from_v3, register_codec
from .sharding import ShardingCodec
from .transpose import TransposeCodec
from .vlen import VLenBytesCodec, VLenUTF8Codec
from .zlib import ZlibCodec
from .zstd import ZstdCodec

__all__ = [
    "ArrayArrayCodec", "ArrayBytesCodec", "BloscCodec", "BytesBytesCodec", "BytesCodec", "ChunkSpec", "Codec",
    "Crc32cCodec", "GzipCodec", "LZ4Codec", "NumcodecsCodec", "TransposeCodec", "VLenBytesCodec", "VLenUTF8Codec", "ZlibCodec", "ZstdCodec",
    "as_codec", "codec_from_v2", "codec_from_v3", "register_codec", "ShardingCodec", "VLenBytesCodec",
    "VLenUTF8Codec", *_names_all,
]
