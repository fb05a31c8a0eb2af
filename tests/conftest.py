"""Shared test settings: a deterministic Hypothesis profile, so CI runs are reproducible; a
recording HTTP server on 127.0.0.1 for the publishers' tests."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Loaded before any in-process pytester run: pytester restores sys.modules after each inner run,
# and NumPy imported first inside one cannot be imported again in the same process ("cannot load
# module more than once per process"), which broke later tests depending on their order.
import numpy  # noqa: F401
import pandas  # noqa: F401
import pytest
from hypothesis import HealthCheck, settings

from mlgate.bundle import Bundle, ModelRef
from mlgate.gate import Decision, Reason
from mlgate.record import Metric, TestRecord

settings.register_profile(
    "mlgate",
    derandomize=True,  # the same examples on every run: no flaky gate
    database=None,  # nothing written to .hypothesis/
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("mlgate")


# -- a real HTTP server on 127.0.0.1 for the publishers' tests (GitHub, GitLab) -----------------




@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case
    body: Any  # parsed JSON, or None


@dataclass
class RecordingServer:
    """Records every request; answers from scripts: ``script(method, path, *responses)`` where a
    response is ``(status, json_body)`` or ``(status, json_body, headers)``; the last one repeats.
    Anything unscripted gets 404."""

    url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)
    scripts: dict[tuple[str, str], list[tuple]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, method: str, path: str, *responses: tuple) -> None:
        self.scripts[(method, path)] = list(responses)

    def answer(self, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            queue = self.scripts.get((method, path))
            if not queue:
                return 404, {"message": "Not Found"}, {}
            response = queue.pop(0) if len(queue) > 1 else queue[0]
        status, body, *rest = response
        return status, body, rest[0] if rest else {}

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)]


@pytest.fixture
def recording_server():
    server_state = RecordingServer()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            with server_state.lock:
                server_state.requests.append(RecordedRequest(
                    self.command, parts.path, dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()}, body))
            status, answer, headers = server_state.answer(self.command, parts.path)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, format, *args):  # noqa: A002 - quiet
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield server_state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


#: what switches on the GitHub and GitLab publishers: never from the CI job running this suite
PUBLISHER_ENV = ("GITHUB_TOKEN", "MLGATE_GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL",
                 "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_EVENT_PATH", "MLGATE_PR_NUMBER",
                 "CI_JOB_TOKEN", "MLGATE_GITLAB_TOKEN", "GITLAB_CI", "CI_API_V4_URL", "CI_PROJECT_ID",
                 "CI_MERGE_REQUEST_IID", "CI_PIPELINE_ID")


@pytest.fixture(autouse=True)
def _no_ci_publishing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our own suite, run in GitHub Actions or GitLab CI, must not post statuses or comments."""
    for name in PUBLISHER_ENV:
        monkeypatch.delenv(name, raising=False)


# -- decisions and bundles for the GitHub and GitLab publishers' tests -------------------------

PUBLISH_SHA = "0123456789abcdef0123456789abcdef01234567"


def make_bundle(n_failed: int = 0, n_passed: int = 1, message: str | None = None) -> Bundle:
    tests = [TestRecord(f"tests/test_model.py::test_ok_{i}", "passed", ("model",),
                        (Metric("accuracy", 0.95, 0.9),)) for i in range(n_passed)]
    tests += [TestRecord(f"tests/test_model.py::test_bad_{i}", "failed", ("model",),
                         message=message or f"assert {i} == 0") for i in range(n_failed)]
    return Bundle(created_at="2026-01-01T00:00:00Z", model=ModelRef("iris", "2"), commit=PUBLISH_SHA,
                  tests=tuple(tests))


def make_decision(verdict: str = "reject", message: str = "accuracy = 0.8 is below the minimum 0.9",
                  n_rules: int = 2) -> Decision:
    status = {"promote": "pass", "reject": "fail", "needs-review": "review"}[verdict]
    reasons = [Reason("integrity", "pass", "the digest matches")]
    reasons += [Reason(f"bound:m{i}", status, message, 0.8, 0.9) for i in range(n_rules - 1)]
    return Decision(verdict, tuple(reasons), ModelRef("iris", "2"), None, "sha256:b", "sha256:p",
                    None, "2026-01-01T00:00:00Z")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off sleeps, recorded instead of slept."""
    import mlgate.report._http as http

    slept: list[float] = []
    monkeypatch.setattr(http, "_sleep", slept.append)
    return slept


@pytest.fixture(name="make_bundle")
def _make_bundle():
    return make_bundle


@pytest.fixture(name="make_decision")
def _make_decision():
    return make_decision
