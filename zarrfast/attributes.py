"""``Array.attrs`` / ``Group.attrs``: a dict view whose writes go straight to the node's metadata."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Callable, Iterator


class Attributes(MutableMapping):
    """User attributes of a node. Every change is written to the store at once."""

    def __init__(self, get: Callable[[], dict], put: Callable[[dict], None], read_only: bool = False,
                 name: str = "") -> None:
        self._get = get
        self._put = put
        self._read_only = read_only
        self._name = name

    def _update(self, new: dict) -> None:
        if self._read_only:
            from .errors import ReadOnlyError

            raise ReadOnlyError(f"attributes of read-only node {self._name!r} can't be changed")
        self._put(new)

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._update({**self._get(), key: value})

    def __delitem__(self, key: str) -> None:
        d = dict(self._get())
        del d[key]
        self._update(d)

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._get()))

    def __len__(self) -> int:
        return len(self._get())

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Change several attributes with one metadata write."""
        self._update({**self._get(), **dict(*args, **kwargs)})

    def put(self, d: dict) -> None:
        """Replace all attributes."""
        self._update(dict(d))

    def asdict(self) -> dict:
        return dict(self._get())

    def __repr__(self) -> str:
        return repr(self._get())
