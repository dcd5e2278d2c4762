"""Any numcodecs codec, run through the Python path (v2 ids, and ``numcodecs.<id>`` names in v3)."""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ..errors import ChunkDecodeError, UnknownCodecError
from .base import ArrayArrayCodec, ChunkSpec


def get_numcodecs_codec(config: dict[str, Any]) -> Any:
    try:
        import numcodecs
    except ImportError:
        raise UnknownCodecError(f"codec {config.get('id')!r} is not built in and numcodecs is not installed") from None
    try:
        return numcodecs.get_codec(dict(config))
    except (ValueError, KeyError, TypeError) as e:
        raise UnknownCodecError(f"unknown codec {config.get('id')!r}: {e}") from None


class NumcodecsCodec(ArrayArrayCodec):
    """Wraps a numcodecs codec. As a v3 codec it is named ``numcodecs.<codec_id>``.

    Used as a v2 filter or v3 array->array codec it works on arrays; as a compressor on bytes.
    """

    name: ClassVar[str] = "numcodecs"

    def __init__(self, codec: Any, kind: str = "bytes_to_bytes", config: dict[str, Any] | None = None) -> None:
        self.codec = codec
        self.kind = kind  # type: ignore[misc]
        self._config = config  # the v3 configuration as given (written back as is, like zarr-python)

    @property
    def codec_id(self) -> str:  # type: ignore[override]
        return self.codec.codec_id

    def get_config(self) -> dict[str, Any]:
        if self._config is not None:
            return dict(self._config)
        config = dict(self.codec.get_config())
        config.pop("id", None)
        return config

    def resolve(self, spec: ChunkSpec) -> ChunkSpec:
        astype = getattr(self.codec, "astype", None)  # delta, fixedscaleoffset, quantize ... may change the dtype
        if self.kind == "array_to_array" and astype is not None:
            return ChunkSpec(spec.shape, np.dtype(astype))
        return spec

    def to_v3(self) -> dict[str, Any]:
        config = self.get_config()
        out: dict[str, Any] = {"name": f"numcodecs.{self.codec.codec_id}"}
        if config or self._config is not None:  # a v3 configuration as given is written even when empty
            out["configuration"] = config
        return out

    def to_v2(self) -> dict[str, Any]:
        return dict(self.codec.get_config())

    def __repr__(self) -> str:
        return f"NumcodecsCodec({self.codec!r})"

    # bytes -> bytes
    def encode_bytes(self, data: bytes) -> bytes:
        return bytes(np.asarray(self.codec.encode(data)).tobytes() if not isinstance(data, bytes) else
                     _as_bytes(self.codec.encode(data)))

    def decode_bytes(self, data: bytes, expected_size: int | None = None) -> bytes:
        try:
            out = _as_bytes(self.codec.decode(data))
        except Exception as e:  # numcodecs raises many types
            raise ChunkDecodeError(f"{self.codec.codec_id}: {e}") from None
        if expected_size is not None and len(out) != expected_size:
            raise ChunkDecodeError(f"{self.codec.codec_id}: decoded {len(out)} bytes, expected {expected_size}")
        return out

    # array -> array (filters)
    def encode(self, chunk):  # type: ignore[override]
        if self.kind == "bytes_to_bytes":
            return self.encode_bytes(chunk)
        return np.asarray(self.codec.encode(chunk))

    def decode(self, chunk, spec=None):  # type: ignore[override]
        if self.kind == "bytes_to_bytes":
            return self.decode_bytes(chunk, spec)
        out = np.asarray(self.codec.decode(chunk))
        if isinstance(spec, ChunkSpec):
            if out.dtype != spec.dtype:
                out = out.view(spec.dtype) if out.dtype == np.uint8 else out.astype(spec.dtype)
            out = out.reshape(spec.shape)
        return out


def _as_bytes(buf: Any) -> bytes:
    if isinstance(buf, bytes):
        return buf
    return np.ascontiguousarray(buf).view(np.uint8).tobytes() if isinstance(buf, np.ndarray) else bytes(buf)
