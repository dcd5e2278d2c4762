"""Local servers for testing and benchmarking remote stores: a moto S3 endpoint and an HTTP server.

Both bind ``127.0.0.1`` on a free port and are meant to be used as context managers (or started
and stopped explicitly)::

    with S3Server() as s3:                        # moto's S3 in a subprocess
        s3.create_bucket("data")
        opts = s3.storage_options()               # fake credentials + endpoint for s3fs
        store = FsspecStore.from_url("s3://data/x.zarr", storage_options=opts)

    with RangeHTTPServer(directory) as http:      # serves files, with Range and HEAD support
        url = http.url + "/x.zarr"
        http.latency = 0.05                       # seconds added to every request
        http.log                                  # one RequestRecord per request

moto and boto3 are imported lazily (only when an S3 server is started), so importing this
module needs neither.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import unquote, urlsplit

__all__ = [
    "HTTPServerProcess",
    "RangeHTTPServer",
    "RequestRecord",
    "S3Server",
    "free_port",
    "max_overlap",
    "wait_for_port",
]

FAKE_KEY = "zarrfast-test-key"
FAKE_SECRET = "zarrfast-test-secret"
REGION = "us-east-1"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Block until something accepts TCP connections on ``host:port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server process exited with code {proc.returncode} before listening")
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s") from None
            time.sleep(0.05)


# ------------------------------------------------------------------------------------------ S3
class S3Server:
    """moto's S3 server (``python -m moto.server``) in a subprocess on ``127.0.0.1``."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1", env: dict[str, str] | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.env = dict(env or {})  # extra environment for the server (e.g. INITIAL_NO_AUTH_ACTION_COUNT)
        self._proc: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        import moto.server  # noqa: F401 - fail here with ImportError if moto[server] is missing

        env = dict(os.environ, AWS_ACCESS_KEY_ID=FAKE_KEY, AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
                   AWS_DEFAULT_REGION=REGION, **self.env)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        try:
            wait_for_port(self.host, self.port, proc=self._proc)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def storage_options(self, **extra: Any) -> dict[str, Any]:
        """s3fs options for this endpoint with fake credentials (no environment variables needed)."""
        opts: dict[str, Any] = {
            "key": FAKE_KEY,
            "secret": FAKE_SECRET,
            "endpoint_url": self.endpoint_url,
            "client_kwargs": {"region_name": REGION},
        }
        opts.update(extra)
        return opts

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint (for setting up buckets behind the store's back)."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=FAKE_KEY,
                            aws_secret_access_key=FAKE_SECRET, region_name=REGION)

    def create_bucket(self, name: str) -> None:
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass

    def reset(self) -> None:
        """Drop every bucket (moto's reset endpoint)."""
        import urllib.request

        req = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(req, timeout=10).close()


# ------------------------------------------------------------------------------------------ HTTP
@dataclass(frozen=True)
class RequestRecord:
    """One request the HTTP server handled: method, path, Range header, status and times."""

    method: str
    path: str
    range: str | None
    status: int
    start: float  # time.perf_counter() when the request was read
    end: float  # ... and when the response was sent


def max_overlap(records: list[RequestRecord]) -> int:
    """The largest number of requests that were in progress at the same moment."""
    events = sorted([(r.start, 1) for r in records] + [(r.end, -1) for r in records],
                    key=lambda e: (e[0], e[1]))
    current = best = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(begin, end)`` (end exclusive) for a single ``bytes=`` range; ``None`` if unsatisfiable.

    Raises ValueError for a malformed header.
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise ValueError(header)
    first, dash, last = spec.strip().partition("-")
    if not dash:
        raise ValueError(header)
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n <= 0 or size == 0:
            return None
        return max(size - n, 0), size
    begin = int(first)
    end = size if not last else min(int(last) + 1, size)
    if begin >= size or end <= begin:
        return None
    return begin, end


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _finish(self, status: int, start: float, body: bytes = b"", headers: dict[str, str] | None = None,
                send_body: bool = True, length: int | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        # Recorded before the body goes out, so the log is complete once the client has the data.
        self.server.record(RequestRecord(self.command, self.path, self.headers.get("Range"), status, start,
                                         time.perf_counter()))
        if send_body and body:
            self.wfile.write(body)

    def _serve(self, send_body: bool) -> None:
        start = time.perf_counter()
        srv = self.server
        if self.path == "/__stats__":  # for servers in another process: how many requests so far
            with srv._log_lock:
                body = json.dumps({"requests": len(srv.log)}).encode()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if srv.latency:
            time.sleep(srv.latency)
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        if any(rel.startswith(p) for p in srv.forbidden):
            self._finish(HTTPStatus.FORBIDDEN, start, b"forbidden", send_body=send_body)
            return
        target = (srv.root / rel).resolve()
        if not (target == srv.root or srv.root in target.parents) or not target.is_file():
            self._finish(HTTPStatus.NOT_FOUND, start, b"not found", send_body=send_body)
            return
        data = target.read_bytes()
        size = len(data)
        header = self.headers.get("Range")
        common = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if header is None:
            self._finish(HTTPStatus.OK, start, data if send_body else b"", common, send_body, length=size)
            return
        try:
            span = _parse_range(header, size)
        except ValueError:
            self._finish(HTTPStatus.BAD_REQUEST, start, b"bad range", send_body=send_body)
            return
        if span is None:
            self._finish(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, start, b"",
                         {"Content-Range": f"bytes */{size}"}, send_body)
            return
        begin, end = span
        body = data[begin:end]
        headers = dict(common, **{"Content-Range": f"bytes {begin}-{end - 1}/{size}"})
        self._finish(HTTPStatus.PARTIAL_CONTENT, start, body if send_body else b"", headers, send_body,
                     length=len(body))

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _refuse(self) -> None:
        start = time.perf_counter()
        self._finish(HTTPStatus.METHOD_NOT_ALLOWED, start, b"read-only server")

    do_PUT = do_POST = do_DELETE = _refuse


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many concurrent connections from one client must not be refused
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], root: Path) -> None:
        super().__init__(address, _Handler)
        self.root = root
        self.latency = 0.0
        self.forbidden: set[str] = set()
        self.log: list[RequestRecord] = []
        self._log_lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError)):
            return  # the client gave up (timeouts in tests): nothing to report
        super().handle_error(request, client_address)

    def record(self, rec: RequestRecord) -> None:
        with self._log_lock:
            self.log.append(rec)


class RangeHTTPServer:
    """A threaded HTTP server for the files under ``directory`` (GET with single byte ranges, HEAD).

    ``latency`` (seconds) is slept at the start of every request; paths starting with an entry of
    ``forbidden`` (relative to the directory) answer 403; everything else that is not a file
    answers 404. Writes (PUT/POST/DELETE) answer 405. ``log`` records every request.
    """

    def __init__(self, directory: str | os.PathLike[str], latency: float = 0.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self._server = _Server((host, port), Path(directory).resolve())
        self._server.latency = latency
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def root(self) -> Path:
        return self._server.root

    @property
    def latency(self) -> float:
        return self._server.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._server.latency = float(seconds)

    @property
    def forbidden(self) -> set[str]:
        return self._server.forbidden

    @property
    def log(self) -> list[RequestRecord]:
        return self._server.log

    def clear_log(self) -> None:
        with self._server._log_lock:
            self._server.log.clear()

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="zarrfast-http-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HTTPServerProcess:
    """A :class:`RangeHTTPServer` in a subprocess (so it does not share the client's GIL).

    ``requests()`` asks it how many requests it has handled (``GET /__stats__``).
    """

    def __init__(self, directory: str | os.PathLike[str], latency: float = 0.0, host: str = "127.0.0.1") -> None:
        self.directory = os.fspath(directory)
        self.latency = latency
        self.host = host
        self.port = free_port(host)
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "zarrfast.testing.servers", "http", self.directory, "--host", self.host,
             "--port", str(self.port), "--latency-ms", str(self.latency * 1000)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(self.host, self.port, proc=self._proc)
        except BaseException:
            self.stop()
            raise
        return self

    def requests(self) -> int:
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/__stats__", timeout=10) as resp:
            return int(json.loads(resp.read())["requests"])

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m zarrfast.testing.servers")
    sub = parser.add_subparsers(dest="kind", required=True)
    http = sub.add_parser("http", help="serve a directory over HTTP (Range, HEAD)")
    http.add_argument("directory")
    http.add_argument("--host", default="127.0.0.1")
    http.add_argument("--port", type=int, default=0)
    http.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = RangeHTTPServer(args.directory, latency=args.latency_ms / 1000, host=args.host, port=args.port)
    print(server.url, flush=True)
    try:
        server._server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()


if __name__ == "__main__":
    _main()
