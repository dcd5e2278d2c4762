"""A small progress bar for long batch work: units done / total, bytes, rate and ETA on one redrawn line."""
from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any, Callable


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def format_seconds(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


class Progress:
    """Thread-safe progress reporting; ``enabled=False`` (or ``quiet``) makes every call a no-op.

    ``start(total, total_bytes, label)`` begins a phase, ``update(n, nbytes)`` advances it, ``close()`` ends it
    with a final line. Redraws at most ``interval`` seconds apart (always on the last unit).
    """

    def __init__(self, stream: IO[str] | None = None, *, enabled: bool = True, interval: float = 0.2,
                 width: int = 24, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interval = interval
        self.width = width
        self._clock = clock
        self._lock = threading.Lock()
        self.label = ""
        self.total = 0
        self.total_bytes = 0
        self.done = 0
        self.done_bytes = 0
        self._t0 = clock()
        self._last = -1e9
        self._open = False

    def start(self, total: int, total_bytes: int = 0, label: str = "") -> None:
        with self._lock:
            self.label, self.total, self.total_bytes = label, int(total), int(total_bytes)
            self.done = self.done_bytes = 0
            self._t0 = self._clock()
            self._last = -1e9
            self._open = True
            self._draw(force=True)

    def update(self, n: int = 1, nbytes: int = 0) -> None:
        with self._lock:
            self.done += n
            self.done_bytes += nbytes
            self._draw(force=self.done >= self.total)

    def line(self) -> str:
        """The current status line (without redraw control characters)."""
        elapsed = max(self._clock() - self._t0, 1e-9)
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        parts = [f"{self.label} " if self.label else "", f"[{bar}] {self.done}/{self.total}"]
        if self.total_bytes or self.done_bytes:
            parts.append(f"  {format_bytes(self.done_bytes)}")
            if self.total_bytes:
                parts.append(f"/{format_bytes(self.total_bytes)}")
            parts.append(f"  {format_bytes(self.done_bytes / elapsed)}/s")
        if 0 < self.done < self.total:
            parts.append(f"  ETA {format_seconds(elapsed * (self.total - self.done) / self.done)}")
        else:
            parts.append(f"  {format_seconds(elapsed)}")
        return "".join(parts)

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        end = "\n" if self.done >= self.total else ""
        self.stream.write("\r" + self.line() + end)
        self.stream.flush()
        if end:
            self._open = False

    def close(self) -> None:
        with self._lock:
            if self.enabled and self._open:
                self.stream.write("\r" + self.line() + "\n")
                self.stream.flush()
            self._open = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


NULL_PROGRESS = Progress(enabled=False)
