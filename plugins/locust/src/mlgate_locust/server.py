"""Start and stop a model server for a load test: ``mlflow models serve`` on 127.0.0.1.

The server runs as a subprocess in a process group of its own (MLflow starts uvicorn workers
under it), logs to a file, and is ready when ``GET /ping`` (or ``/health``) answers 200, polled
with a generous timeout: it took 17 to 28 s to start on our CI machines, so never a fixed sleep.
Every error carries the tail of the server's log. ``stop()`` kills the whole group, and is safe
to call twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mlgate.errors import MlgateError

from .runner import free_port, log_tail

START_TIMEOUT_S = 180.0
HEALTH_PATHS = ("/ping", "/health")


class ModelServerError(MlgateError):
    """The model server did not start (or died); the message has its log tail and what to do."""

    def __init__(self, message: str, log: str = "") -> None:
        self.message = message
        self.log = log
        super().__init__(f"{message}\n--- the server's log (last lines):\n{log}" if log else message)

    def __reduce__(self):
        return (ModelServerError, (self.message, self.log))


def wait_healthy(url: str, *, timeout_s: float, proc: subprocess.Popen | None = None,
                 log: Path | None = None, what: str = "the model server") -> str:
    """Poll ``url`` + ``/ping`` (then ``/health``) until one answers 200; returns that path.
    Raises :class:`ModelServerError` when ``proc`` exits or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        if proc is not None and proc.poll() is not None:
            raise ModelServerError(
                f"{what} exited with code {proc.returncode} before it answered {url}/ping; "
                "check the model URI, the tracking URI (MLFLOW_TRACKING_URI) and that the "
                "model's dependencies are installed in this environment (--env-manager local)",
                log_tail(log) if log else "")
        for path in HEALTH_PATHS:
            try:
                with urllib.request.urlopen(url + path, timeout=5) as resp:
                    if resp.status == 200:
                        return path
            except (urllib.error.URLError, OSError):
                continue
        if time.monotonic() >= deadline:
            raise ModelServerError(
                f"{what} did not answer {url}/ping or /health within {timeout_s:.0f} s; raise "
                "start_timeout_s if the machine is slow, or look for the reason below",
                log_tail(log) if log else "")
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


class ModelServer:
    """``mlflow models serve -m MODEL_URI --env-manager local -h 127.0.0.1 -p PORT``.

    ``with ModelServer("models:/iris@champion", log_dir=tmp) as server: server.url``. The
    server uses ``tracking_uri`` (else ``$MLFLOW_TRACKING_URI``) to resolve ``models:/`` URIs.
    """

    def __init__(self, model_uri: str, *, log_dir: str | os.PathLike[str],
                 tracking_uri: str | None = None, port: int | None = None, workers: int = 1,
                 start_timeout_s: float = START_TIMEOUT_S, cwd: str | os.PathLike[str] | None = None,
                 ) -> None:
        self.model_uri = model_uri
        self.tracking_uri = tracking_uri
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.start_timeout_s = start_timeout_s
        self.log = Path(log_dir) / f"model-server-{self.port}.log"
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mlflow", "models", "serve", "-m", self.model_uri,
                "--env-manager", "local", "-h", "127.0.0.1", "-p", str(self.port),
                "-w", str(self.workers)]

    def start(self) -> ModelServer:
        import importlib.util

        if importlib.util.find_spec("mlflow") is None:
            from mlgate.errors import MissingExtraError

            raise MissingExtraError("mlflow", "mlflow")
        env = dict(os.environ)
        if self.tracking_uri:
            env["MLFLOW_TRACKING_URI"] = self.tracking_uri
        env.setdefault("PYTHONWARNINGS", "ignore")
        # MLflow runs `bash -c "exec uvicorn …"`: this interpreter's scripts must be on PATH even
        # when the virtual environment is not activated (else: exit code 127)
        bindir = os.path.dirname(sys.executable)
        env["PATH"] = os.pathsep.join([bindir, env.get("PATH", "")])
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as fh:
            self.proc = subprocess.Popen(self.command(), cwd=self.cwd, env=env,
                                         stdin=subprocess.DEVNULL, stdout=fh,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_healthy(self.url, timeout_s=self.start_timeout_s, proc=self.proc, log=self.log,
                         what=f"`mlflow models serve -m {self.model_uri}`")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Kill the server's process group (SIGTERM, then SIGKILL after 15 s)."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=15)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # uvicorn workers left in the group after the parent went
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.poll()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def log_tail(self) -> str:
        return log_tail(self.log)
