"""The locust User that mlgate-locust ships: it posts request bodies sampled from a prepared file
to a model endpoint (MLflow's ``/invocations`` protocol by default).

This module runs **only inside a locust process** (``python -m locust -f <this file>``), never in
the pytest process: importing locust monkey-patches the network stack through gevent. It is
self-contained (standard library and locust only) so it also runs on worker machines that have
just locust and this file.

Configuration, from the environment (set by :mod:`mlgate_locust.runner`, or by hand on other
machines):

``MLGATE_LOCUST_BODIES``
    a JSON-lines file, one request body (a JSON value) per line: see
    ``python -m mlgate_locust.bodies --help``; required.
``MLGATE_LOCUST_PATH``
    the request path, ``/invocations`` by default.
``MLGATE_LOCUST_SEED``
    the sampling seed (default 0). Each simulated user draws its bodies from its own generator,
    seeded with ``(seed, worker index, user number)``, so a run's sample sequences are reproducible.
``MLGATE_LOCUST_RPS_PER_USER``
    the most requests per second one user makes (``constant_throughput``); none: as fast as it can.
``MLGATE_LOCUST_REQUEST_TIMEOUT``
    seconds a request may take (connect, and each read) before it counts as failed; 30 by
    default.
``MLGATE_LOCUST_SHADOW_URL``
    shadow mode: the champion's base URL. Each body goes to the candidate (``--host``, request
    name ``candidate``) and to the champion (name ``champion``), in a random order per body; the
    predictions are compared and the latency pairs kept.
``MLGATE_LOCUST_OUT``
    a directory for the results:

    * ``requests-<pid>.json``, from every process as it quits (after its users stopped): per
      request name the count, failures, first and last request times and the response-time
      histogram (bucketed as locust does), and the failure messages. The runner merges them.
      This is the measurement: locust's ``--csv`` files are rewritten by a timer once a second
      and not at exit, so ``_stats.csv`` missed up to the last second (1075 of 1878 requests in
      a 2-second run here); its ``--json`` has no percentiles; and a master that quits waits a
      fixed 0.5 s for the workers' last reports, which a worker still finishing slow requests
      can miss.
    * ``mlgate-stats.json``, from the master (or only) process as it quits: locust's own
      aggregated numbers (what a multi-machine run has; see the README).
    * ``shadow-<pid>.json`` in shadow mode, from every process when the test stops: agreement
      counts and a seeded reservoir of latency pairs.
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from itertools import count

from locust import FastHttpUser, constant, constant_throughput, events, task

#: latency pairs each process keeps (a seeded reservoir sample of all pairs)
MAX_PAIRS = 20_000
#: failure messages are cut to this length
MAX_MESSAGE = 300

_ENV = os.environ
BODIES_PATH = _ENV.get("MLGATE_LOCUST_BODIES", "")
PATH = _ENV.get("MLGATE_LOCUST_PATH", "/invocations")
SEED = int(_ENV.get("MLGATE_LOCUST_SEED", "0"))
RPS_PER_USER = float(_ENV.get("MLGATE_LOCUST_RPS_PER_USER", "0") or 0)
SHADOW_URL = _ENV.get("MLGATE_LOCUST_SHADOW_URL", "").rstrip("/")
REQUEST_TIMEOUT = float(_ENV.get("MLGATE_LOCUST_REQUEST_TIMEOUT", "30") or 30)
OUT_DIR = _ENV.get("MLGATE_LOCUST_OUT", "")
HEADERS = {"Content-Type": "application/json"}

_bodies: list[str] | None = None
_user_numbers = count()


def bodies() -> list[str]:
    """The request bodies, read once per process (after a fork, too: the file is small)."""
    global _bodies
    if _bodies is None:
        if not BODIES_PATH:
            raise RuntimeError("MLGATE_LOCUST_BODIES is not set: point it at a JSON-lines file of "
                               "request bodies (python -m mlgate_locust.bodies DATA OUT.jsonl)")
        with open(BODIES_PATH, encoding="utf-8") as fh:
            loaded = [line.strip() for line in fh if line.strip()]
        if not loaded:
            raise RuntimeError(f"{BODIES_PATH}: no request bodies in the file")
        for line in loaded[:1]:
            json.loads(line)  # fail at start on a file that is not JSON lines
        _bodies = loaded
    return _bodies


def predictions(text: str) -> list:
    """The predictions in a response: MLflow's ``{"predictions": [...]}``, any other object's
    single list value, or a bare list."""
    data = json.loads(text)
    if isinstance(data, dict):
        if "predictions" in data:
            data = data["predictions"]
        elif len(data) == 1:
            data = next(iter(data.values()))
    if isinstance(data, dict):  # pandas-style {"col": {...}} or {"col": [...]}
        data = [data[k] for k in sorted(data)]
    return data if isinstance(data, list) else [data]


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


class Shadow:
    """What one process saw in shadow mode."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.compared = 0  # bodies both models answered
        self.rows = 0  # predictions compared
        self.agree = 0  # predictions equal
        self.mismatched_shape = 0  # answers of different lengths (each row counts as disagreeing)
        self.examples: list[dict] = []  # a few disagreements
        self.pairs: list[tuple[float, float]] = []  # (candidate_ms, champion_ms)
        self.seen_pairs = 0
        self.rng = random.Random(f"{SEED}:shadow:{os.getpid()}")

    def add(self, cand_ms: float, champ_ms: float, cand: list, champ: list) -> None:
        with self.lock:
            self.compared += 1
            n = max(len(cand), len(champ))
            self.rows += n
            if len(cand) != len(champ):
                self.mismatched_shape += 1
                agree = 0
            else:
                agree = sum(_same(a, b) for a, b in zip(cand, champ, strict=True))
            self.agree += agree
            if agree < n and len(self.examples) < 5:
                self.examples.append({"candidate": cand[:5], "champion": champ[:5]})
            self.seen_pairs += 1
            if len(self.pairs) < MAX_PAIRS:
                self.pairs.append((cand_ms, champ_ms))
            else:
                j = self.rng.randrange(self.seen_pairs)
                if j < MAX_PAIRS:
                    self.pairs[j] = (cand_ms, champ_ms)

    def write(self) -> None:
        if not OUT_DIR or self.compared == 0:
            return
        with self.lock:
            data = {"pid": os.getpid(), "compared": self.compared, "rows": self.rows,
                    "agree": self.agree, "mismatched_shape": self.mismatched_shape,
                    "examples": self.examples, "pairs_seen": self.seen_pairs,
                    "pairs": [[round(a, 4), round(b, 4)] for a, b in self.pairs]}
        _write_json(f"shadow-{os.getpid()}.json", data)


SHADOW = Shadow()
_environment = None


def bucket(ms: float) -> int:
    """A response time rounded as locust's histogram rounds it (``locust.stats.
    bucket_response_time``): to 1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s, 1 s
    beyond."""
    if ms < 100:
        return int(round(ms))
    if ms < 1000:
        return int(round(ms, -1))
    if ms < 10000:
        return int(round(ms, -2))
    return int(round(ms, -3))


class Tally:
    """Every request this process made, by name: the numbers the gate records."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, dict] = {}
        self.errors: dict[tuple[str, str], int] = {}

    def add(self, name: str, ms: float, start: float, failed: str | None) -> None:
        end = start + ms / 1000.0
        with self.lock:
            row = self.rows.get(name)
            if row is None:
                row = self.rows[name] = {"requests": 0, "failures": 0, "total_ms": 0.0,
                                         "max_ms": 0.0, "first": start, "last": end,
                                         "histogram": {}}
            row["requests"] += 1
            row["total_ms"] += ms
            row["max_ms"] = max(row["max_ms"], ms)
            row["first"] = min(row["first"], start)
            row["last"] = max(row["last"], end)
            key = bucket(ms)
            row["histogram"][key] = row["histogram"].get(key, 0) + 1
            if failed is not None:
                row["failures"] += 1
                err = (name, failed[:MAX_MESSAGE])
                if err in self.errors or len(self.errors) < 100:
                    self.errors[err] = self.errors.get(err, 0) + 1

    def write(self) -> None:
        if not OUT_DIR:
            return
        with self.lock:
            data = {"pid": os.getpid(), "rows": self.rows,
                    "errors": [{"name": n, "error": e, "occurrences": c}
                               for (n, e), c in sorted(self.errors.items(), key=lambda kv: -kv[1])]}
            _write_json(f"requests-{os.getpid()}.json", data)


TALLY = Tally()


def _write_json(name: str, data) -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, name)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(path + ".tmp", path)


@events.request.add_listener
def _on_request(name, response_time, exception=None, start_time=None, **_kwargs) -> None:
    if response_time is None:
        return
    start = start_time if start_time is not None else time.time() - response_time / 1000.0
    TALLY.add(name, float(response_time), start, None if exception is None else str(exception))


@events.init.add_listener
def _on_init(environment, **_kwargs) -> None:
    global _environment
    _environment = environment


def final_stats(stats) -> dict:
    """Locust's end-of-run numbers (``RequestStats``) as JSON: every request name and the
    ``Aggregated`` total, with the percentiles locust itself reports (its histogram is
    bucketed: 1 ms below 100 ms, 10 ms to 1 s, 100 ms beyond)."""
    rows = []
    for entry in [*stats.entries.values(), stats.total]:
        n = entry.num_requests
        rows.append({
            "name": "Aggregated" if entry is stats.total else entry.name,
            "method": entry.method or "",
            "requests": n,
            "failures": entry.num_failures,
            "rps": entry.total_rps,
            "p50_ms": entry.get_response_time_percentile(0.5) if n else None,
            "p95_ms": entry.get_response_time_percentile(0.95) if n else None,
            "p99_ms": entry.get_response_time_percentile(0.99) if n else None,
            "mean_ms": entry.avg_response_time if n else None,
            "max_ms": entry.max_response_time if n else None,
        })
    errors = sorted(stats.errors.values(), key=lambda e: -e.occurrences)
    return {"rows": rows, "errors": [{"name": e.name, "error": str(e.error)[:MAX_MESSAGE],
                                      "occurrences": e.occurrences} for e in errors[:20]]}


@events.quit.add_listener
def _on_quit(**_kwargs) -> None:
    """Fired once the runner quit (the master has the workers' final reports by then)."""
    from locust.runners import WorkerRunner

    env = _environment
    if not OUT_DIR or env is None or env.runner is None or isinstance(env.runner, WorkerRunner):
        return
    _write_json("mlgate-stats.json", final_stats(env.runner.stats))


@events.test_stop.add_listener
def _on_test_stop(**_kwargs) -> None:
    SHADOW.write()


@events.quitting.add_listener
def _on_quitting(**_kwargs) -> None:
    SHADOW.write()
    TALLY.write()


class ModelUser(FastHttpUser):
    """Posts sampled bodies to ``PATH`` on the host under test (and the champion in shadow mode)."""

    wait_time = constant_throughput(RPS_PER_USER) if RPS_PER_USER > 0 else constant(0)
    network_timeout = REQUEST_TIMEOUT
    connection_timeout = REQUEST_TIMEOUT

    def on_start(self) -> None:
        worker = getattr(self.environment.runner, "worker_index", 0)
        self.rng = random.Random(f"{SEED}:{worker}:{next(_user_numbers)}")
        self.pool = bodies()

    def _post(self, url: str, name: str, body: str):
        """POST ``body``; returns (milliseconds, predictions) or None when it failed."""
        start = time.perf_counter()
        with self.client.post(url, data=body, headers=HEADERS, name=name,
                              catch_response=True) as resp:
            elapsed = (time.perf_counter() - start) * 1000.0
            if resp.status_code != 200:
                text = (resp.text or "")[:MAX_MESSAGE] if resp.status_code else str(resp.error)
                resp.failure(f"HTTP {resp.status_code}: {text}")
                return None
            try:
                preds = predictions(resp.text or "")
            except ValueError as exc:
                resp.failure(f"the answer is not JSON: {exc}")
                return None
            resp.success()
            return elapsed, preds

    @task
    def predict(self) -> None:
        body = self.pool[self.rng.randrange(len(self.pool))]
        if not SHADOW_URL:
            self._post(PATH, "candidate", body)
            return
        order = ["candidate", "champion"]
        self.rng.shuffle(order)  # neither model always goes first (warm connections, caches)
        got = {}
        for name in order:
            url = PATH if name == "candidate" else SHADOW_URL + PATH
            got[name] = self._post(url, name, body)
        if got["candidate"] is not None and got["champion"] is not None:
            (cand_ms, cand), (champ_ms, champ) = got["candidate"], got["champion"]
            SHADOW.add(cand_ms, champ_ms, cand, champ)
