"""Fixtures for the locust plugin's tests: real model endpoints on 127.0.0.1.

``model_endpoint(model, fail_ratio=0.0)`` serves a fitted scikit-learn model with MLflow's
``/invocations`` protocol (``dataframe_split``, ``dataframe_records``, ``inputs``) from a
threaded standard-library HTTP server, and counts what it answered. With ``fail_ratio`` it
answers HTTP 500 to that share of requests, deterministically (by request number).

Locust is not imported here, nor anywhere in this process: the tests run it as a subprocess
through the plugin. They are skipped when locust or the plugin is not installed (found with
``importlib.util.find_spec``, which does not import them).
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

if importlib.util.find_spec("locust") is None or importlib.util.find_spec("mlgate_locust") is None:
    collect_ignore_glob = ["test_*.py"]


@pytest.fixture(scope="session")
def iris() -> Any:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame.drop(columns="target")


@pytest.fixture(scope="session")
def models(iris) -> dict[str, Any]:
    """``good``: logistic regression; ``same``: the same fit again; ``other``: a shallow tree
    on one feature (disagrees with ``good`` on part of the rows)."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    return {
        "good": LogisticRegression(max_iter=500).fit(x, y),
        "same": LogisticRegression(max_iter=500).fit(x, y),
        "other": DecisionTreeClassifier(max_depth=1, random_state=0).fit(x[:, :1], y),
    }


class Endpoint:
    def __init__(self, model: Any, fail_ratio: float, n_features: int | None,
                 delay_s: float = 0.0) -> None:
        self.model = model
        self.delay_s = delay_s
        self.fail_ratio = fail_ratio
        self.n_features = n_features
        self.lock = threading.Lock()
        self.requests = 0  # POSTs to /invocations
        self.failed = 0
        self.url = ""

    def predict(self, body: dict[str, Any]) -> list:
        import numpy as np

        if "dataframe_split" in body:
            rows = body["dataframe_split"]["data"]
        elif "dataframe_records" in body:
            rows = [list(r.values()) for r in body["dataframe_records"]]
        else:
            rows = body["inputs"]
        x = np.asarray(rows, dtype=float)
        if self.n_features is not None:
            x = x[:, : self.n_features]
        return self.model.predict(x).tolist()


@pytest.fixture
def model_endpoint() -> Iterator[Callable[..., Endpoint]]:
    started: list[tuple[ThreadingHTTPServer, threading.Thread]] = []
    stop = threading.Event()

    def start(model: Any, *, fail_ratio: float = 0.0, n_features: int | None = None,
              delay_s: float = 0.0) -> Endpoint:
        state = Endpoint(model, fail_ratio, n_features, delay_s)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _send(self, status: int, payload: Any) -> None:
                data = json.dumps(payload).encode()
                head = (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(data)}\r\n\r\n").encode()
                self.wfile.write(head + data)  # one write: no Nagle/delayed-ACK stall

            def do_GET(self) -> None:  # noqa: N802
                self._send(200 if self.path in ("/ping", "/health") else 404, {})

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/invocations":
                    self._send(404, {"error": "not found"})
                    return
                with state.lock:
                    state.requests += 1
                    k = state.requests
                    fail = int(k * state.fail_ratio) != int((k - 1) * state.fail_ratio)
                    state.failed += fail
                if state.delay_s:
                    stop.wait(state.delay_s)  # a slow model (ends early when the test is over)
                if fail:
                    self._send(500, {"error_code": "INTERNAL_ERROR", "message": "injected failure"})
                    return
                try:
                    self._send(200, {"predictions": state.predict(json.loads(raw))})
                except Exception as exc:  # noqa: BLE001 - a bad body is the client's failure
                    self._send(400, {"error_code": "BAD_REQUEST", "message": repr(exc)})

            def log_message(self, format, *args):  # noqa: A002 - quiet
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        started.append((httpd, thread))
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        return state

    try:
        yield start
    finally:
        stop.set()
        for httpd, thread in started:
            httpd.shutdown()
            httpd.server_close()
            thread.join(5)
