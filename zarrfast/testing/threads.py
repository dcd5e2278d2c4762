"""Run a function on several threads at once and report what they raised (for concurrency tests)."""
from __future__ import annotations

import threading
from collections.abc import Callable


def run_threads(work: Callable[[int], None], n: int) -> None:
    """Call ``work(0)`` ... ``work(n - 1)`` on ``n`` threads that start together (a barrier); wait for all of them,
    then raise the first exception any of them raised."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(t: int) -> None:
        try:
            barrier.wait()
            work(t)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the caller's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
