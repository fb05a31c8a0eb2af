"""Fixtures for the MLflow plugin's tests: small bundles and decisions made with the real
``decide()``, an embedded registry, a real ``mlflow server`` process and a real TCP proxy that
can cut connections or drop responses in front of it.

Helpers live here (as fixtures) rather than in an importable module, so the tests work with any
``--import-mode``.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.gate import Baseline, Decision, decide
from mlgate.policy import parse_policy
from mlgate.record import Metric, TestRecord

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
POLICY = parse_policy({
    "max_age": "unlimited",
    "rule": [
        {"kind": "bound", "metric": "accuracy", "min": 0.8},
        {"kind": "champion", "metric": "accuracy", "margin": 0.02},
    ],
})
SERVER_START_TIMEOUT = 180.0
_names = itertools.count()


class Maker:
    """Builds bundles, decisions and bare model versions for the tests."""

    policy = POLICY

    def name(self, hint: str = "m") -> str:
        return f"{re.sub(r'[^A-Za-z0-9]+', '-', hint)[:40]}-{os.getpid()}-{next(_names)}"

    def bundle(self, model: str, version: str, accuracy: float, *, nodes: int = 1) -> Bundle:
        tests = [TestRecord("tests/test_model.py::test_accuracy", "passed", ("model",),
                            (Metric("accuracy", accuracy, 0.8),))]
        tests += [TestRecord(f"tests/test_data.py::test_col[{i}]", "passed", ("data",))
                  for i in range(nodes - 1)]
        return Bundle(created_at="2026-11-27T11:00:00Z", model=ModelRef(model, str(version)),
                      commit="0123456789abcdef", tests=tuple(tests)).sealed()

    def decision(self, bundle: Bundle, baseline: Baseline | None = None, **actor) -> Decision:
        decision = decide(bundle, POLICY, baseline, now=NOW)
        return decision.with_context(actor=actor) if actor else decision

    def gate(self, registry, model: str, version: str, accuracy: float,
             alias: str = "champion", **actor) -> tuple[Decision, Bundle]:
        """Decide on a version against the registry's champion, as the CLI will."""
        bundle = self.bundle(model, version, accuracy)
        return self.decision(bundle, registry.champion(model, alias), **actor), bundle

    def version(self, registry, model: str) -> str:
        """A bare model version (with a run, no model files): fast, for registry tests."""
        client = registry.client
        try:
            client.create_registered_model(model)
        except Exception as exc:  # noqa: BLE001
            if getattr(exc, "error_code", None) != "RESOURCE_ALREADY_EXISTS":
                raise
        run = client.create_run(registry._experiment_id())
        mv = client.create_model_version(model, source=f"{run.info.artifact_uri}/model",
                                         run_id=run.info.run_id)
        return str(mv.version)


@pytest.fixture(scope="session")
def mk() -> Maker:
    return Maker()


def record_tags(client, model: str, version: str) -> dict[str, str]:
    tags = client.get_model_version(model, version).tags
    return {k: v for k, v in tags.items() if k.startswith("mlgate.")}


@pytest.fixture(scope="session")
def tags_of() -> Callable[..., dict[str, str]]:
    return record_tags


# -- a real MLflow server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.log = root / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        (self.root / "artifacts").mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1",
               "--port", str(self.port), "--workers", "1",
               "--backend-store-uri", f"sqlite:///{self.root / 'mlflow.db'}",
               "--artifacts-destination", str(self.root / "artifacts")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
        env["PYTHONWARNINGS"] = "ignore"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited with {self.proc.returncode}:\n"
                                   + self.log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"{self.uri}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"mlflow server did not answer /health in {SERVER_START_TIMEOUT}s:\n"
                           + self.log.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        """Stop the server and its uvicorn worker (its own process group)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory) -> Iterator[Server]:
    """A real ``mlflow server`` on 127.0.0.1 for the module, always stopped afterwards.

    The server tests live in one file and the suite runs with ``--dist loadfile``, so one
    xdist worker runs them all and starts one server (``--dist loadgroup`` with
    ``xdist_group`` marks would be the finer tool, but it does not group with pytest 9.2 and
    xdist 3.8: pytest-dev/pytest-xdist#1386)."""
    server = Server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- a real TCP proxy for fault injection ------------------------------------------------------


class Proxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 in front of ``upstream`` (host, port).

    It reads each request whole (headers and ``Content-Length`` body), sends it on a fresh
    upstream connection, reads the whole answer and passes it back with ``Connection: close``.
    Faults:

    * ``cut_after(n)``: after ``n`` forwarded requests, every new connection is closed at once
      (the network went away part-way through);
    * ``drop_response(predicate)``: the first request for which ``predicate(method, path, body)``
      holds is forwarded and done upstream, but its answer is dropped and the connection closed
      (a write that succeeded and timed out; the client retries it).
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.seen: list[tuple[str, str]] = []  # (method, path) of each forwarded request
        self.dropped: list[tuple[str, str]] = []
        self._cut_after: int | None = None
        self._drops: list[Callable[[str, str, bytes], bool]] = []
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.uri = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    # faults
    def cut_after(self, n: int | None) -> None:
        with self._lock:
            self._cut_after = None if n is None else len(self.seen) + n

    def drop_response(self, predicate: Callable[[str, str, bytes], bool]) -> None:
        with self._lock:
            self._drops.append(predicate)

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    # serving
    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(30)
                head, body = _read_message(conn, request=True)
                if head is None:
                    return
                method, path = head.split(b" ", 2)[:2]
                method_s, path_s = method.decode(), path.decode()
                with self._lock:
                    if self._cut_after is not None and len(self.seen) >= self._cut_after:
                        return  # cut: close without forwarding
                    self.seen.append((method_s, path_s))
                    drop = next((p for p in self._drops if p(method_s, path_s, body)), None)
                    if drop is not None:
                        self._drops.remove(drop)
                        self.dropped.append((method_s, path_s))
                answer = self._forward(_close_header(head), body)
                if drop is None:
                    conn.sendall(answer)
            except OSError:
                return

    def _forward(self, head: bytes, body: bytes) -> bytes:
        with socket.create_connection(self.upstream, timeout=60) as up:
            up.sendall(head + body)
            rhead, rbody = _read_message(up, request=False)
            return _close_header(rhead or b"") + rbody


def _read_message(sock: socket.socket, *, request: bool) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return (None, b"") if not data else (data, b"")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    head += b"\r\n\r\n"
    length = None
    for line in head.split(b"\r\n")[1:]:
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    if request and length is None:
        return head, rest
    while length is None or len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break  # the answer ends when upstream closes (we asked for Connection: close)
        rest += chunk
    return head, rest


def _close_header(head: bytes) -> bytes:
    lines = [ln for ln in head.rstrip(b"\r\n").split(b"\r\n")
             if not ln.lower().startswith((b"connection:", b"keep-alive:"))]
    return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n"


@pytest.fixture
def proxy(mlflow_server) -> Iterator[Proxy]:
    p = Proxy(mlflow_server.port)
    try:
        yield p
    finally:
        p.close()
