"""Test helpers shipped with zarrfast, for zarrfast's own tests and for third-party stores.

``StoreTests`` needs pytest (and numpy); it is imported lazily so ``import zarrfast.testing``
works without pytest installed.
"""
from __future__ import annotations

from typing import Any

__all__ = ["StoreTests"]


def __getattr__(name: str) -> Any:
    if name == "StoreTests":
        from zarrfast.testing.store_tests import StoreTests

        return StoreTests
    raise AttributeError(f"module 'zarrfast.testing' has no attribute {name!r}")
