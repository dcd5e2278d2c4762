"""A throwaway ``redis-server`` for tests: ``from redis_server import redis_url``.

The session fixture ``redis_url`` starts ``redis-server`` on a free 127.0.0.1 port with
persistence off, waits until it answers PING, yields ``redis://127.0.0.1:<port>/0`` and stops
the server at the end of the session. Tests using it are skipped (with the reason) when
``redis-server`` or redis-py is not installed.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

__all__ = ["free_port", "redis_url"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    redis = pytest.importorskip("redis", reason="RedisStore needs redis-py (pip install zarrfast[redis])")
    exe = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if shutil.which("/usr/bin/redis-server") else None
    )
    if exe is None:
        pytest.skip("redis-server is not installed (the project's test command installs it)")
    workdir = tmp_path_factory.mktemp("redis")
    last_error: Exception | None = None
    for _ in range(3):  # another process may grab the port between free_port() and bind
        port = free_port()
        proc = subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(workdir), "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if client.ping():
                    break
            except redis.RedisError as exc:
                last_error = exc
                time.sleep(0.05)
        else:
            client.close()
            proc.kill()
            _, err = proc.communicate()
            last_error = RuntimeError(f"redis-server did not start: {err.decode(errors='replace')}")
            continue
        client.close()
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()
        return
    raise RuntimeError(f"could not start redis-server: {last_error}")
