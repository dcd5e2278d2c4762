"""Blosc (v3 ``blosc``, v2 ``blosc``): written in the Blosc1 frame format every peer reads; decoded by libblosc2."""
from __future__ import annotations

from typing import Any, ClassVar

from ..errors import CodecError
from .base import BytesBytesCodec

CNAMES = ("lz4", "lz4hc", "zstd", "zlib", "blosclz", "snappy")
WRITABLE_CNAMES = ("lz4", "lz4hc", "zstd", "zlib")
# shuffle as numcodecs numbers it (v2) and as v3 names it
SHUFFLE_NAMES = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle"}
SHUFFLE_NUMBERS = {v: k for k, v in SHUFFLE_NAMES.items()}
CNAME_CODES = {"blosclz": 0, "lz4": 1, "lz4hc": 2, "zlib": 4, "zstd": 5}  # c-blosc compressor codes


class BloscCodec(BytesBytesCodec):
    name: ClassVar[str] = "blosc"
    codec_id: ClassVar[str] = "blosc"

    def __init__(self, cname: str = "zstd", clevel: int = 5, shuffle: int | str = "shuffle",
                 typesize: int | None = None, blocksize: int = 0) -> None:
        cname = str(getattr(cname, "value", cname))
        shuffle = getattr(shuffle, "value", shuffle)
        if cname not in CNAMES:
            raise CodecError(f"blosc codec: unknown cname {cname!r} (known: {', '.join(CNAMES)})")
        if not isinstance(clevel, int) or not 0 <= clevel <= 9:
            raise CodecError(f"blosc codec: clevel must be an integer in [0, 9], not {clevel!r}")
        if isinstance(shuffle, str):
            if shuffle not in SHUFFLE_NUMBERS:
                raise CodecError(f"blosc codec: unknown shuffle {shuffle!r}")
            shuffle = SHUFFLE_NUMBERS[shuffle]
        if shuffle not in (-1, 0, 1, 2):
            raise CodecError(f"blosc codec: unknown shuffle {shuffle!r}")
        if blocksize is not None and (isinstance(blocksize, bool) or not isinstance(blocksize, int) or blocksize < 0):
            raise CodecError(f"blosc codec: blocksize must be an integer >= 0, not {blocksize!r}")
        if typesize is not None and (isinstance(typesize, bool) or not isinstance(typesize, int) or typesize < 1):
            raise CodecError(f"blosc codec: typesize must be a positive integer, not {typesize!r}")
        self.cname = cname
        self.clevel = clevel
        self.shuffle = shuffle  # -1 = numcodecs AUTOSHUFFLE (bit-shuffle for 1-byte types, else byte-shuffle)
        self.typesize = typesize
        self.blocksize = int(blocksize or 0)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BloscCodec:
        return cls(**config)

    def with_typesize(self, typesize: int) -> BloscCodec:
        """This codec with its v3 ``typesize`` (and AUTOSHUFFLE) resolved for a data type."""
        shuffle = self.shuffle
        if shuffle == -1:
            shuffle = 2 if typesize == 1 else 1
        return BloscCodec(self.cname, self.clevel, shuffle, self.typesize or typesize, self.blocksize)

    def effective_shuffle(self) -> int:
        if self.shuffle == -1:
            return 2 if (self.typesize or 1) == 1 else 1
        return self.shuffle

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"cname": self.cname, "clevel": self.clevel,
                                  "shuffle": SHUFFLE_NAMES[self.effective_shuffle()]}
        if self.typesize is not None:
            config["typesize"] = self.typesize
        config["blocksize"] = self.blocksize
        return config

    def to_v2(self) -> dict[str, Any]:
        return {"id": "blosc", "cname": self.cname, "clevel": self.clevel, "shuffle": self.shuffle,
                "blocksize": self.blocksize}

    def check_writable(self) -> None:
        if self.cname not in WRITABLE_CNAMES and _numcodecs_blosc() is None:
            raise CodecError(f"blosc codec: writing with cname {self.cname!r} needs numcodecs "
                             f"(reading works without); or use one of {', '.join(WRITABLE_CNAMES)}")

    def encode(self, data: bytes) -> bytes:
        from .._ext import blosc as _blosc

        self.check_writable()
        if self.cname not in WRITABLE_CNAMES:  # blosclz / snappy: numcodecs' c-blosc writes them
            nc = _numcodecs_blosc()
            codec = nc(cname=self.cname, clevel=self.clevel, shuffle=self.effective_shuffle(),
                       blocksize=self.blocksize, typesize=self.typesize or 1)
            return bytes(codec.encode(data))
        return _blosc.compress(data, self.typesize or 1, self.clevel, self.effective_shuffle(), self.cname,
                               self.blocksize)

    def decode(self, data: bytes, expected_size: int | None = None) -> bytes:
        from .._ext import blosc as _blosc

        if expected_size is None:
            expected_size = _blosc.cbuffer_sizes(data)[0]
        return _blosc.decompress(data, expected_size)


def _numcodecs_blosc():
    try:
        from numcodecs import Blosc
    except ImportError:
        return None
    return Blosc
