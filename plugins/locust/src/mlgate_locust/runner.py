"""Run locust headless in processes of its own, bounded in users, rate and time, and read back
what it measured.

Locust is never imported here: ``import locust`` monkey-patches the network stack through gevent
(after ``requests`` or ``mlflow`` were imported it crashed with a RecursionError in ``ssl``), so
it runs as ``python -m locust`` in a subprocess with a clean environment, in a process group of
its own that is killed on timeout.

Scale-out is locust's master/worker mode:

* ``worker_mode="fork"`` (default, POSIX): ``--processes N`` forks N workers under one master;
* ``worker_mode="spawn"``: a ``--master --expect-workers N`` process and N ``--worker``
  processes, as on many machines (``README.md`` shows the multi-machine commands).

What it measured is read from the ``requests-<pid>.json`` files the shipped locustfile writes
from every locust process as it quits (per request name: counts, failures, first and last
request times, the response-time histogram bucketed as locust buckets it, failure messages),
merged here; percentiles are computed as locust computes them. Not from ``--csv``: locust
rewrites ``_stats.csv`` once a second on a timer and not at exit, so it misses up to the last
second of the run (those files are still written, for people). Not from ``--json``: it has no
percentiles. Not from the master's aggregate alone: a quitting master waits a fixed 0.5 s for
the workers' last reports (it is kept as ``mlgate-stats.json``, and its request count is in the
evidence as a cross-check). The exit code is 1 whenever any request failed: that is a result,
not a crash.
"""

from __future__ import annotations

import glob
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mlgate.security.redact import redact_url as strip_credentials

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
#: seconds allowed beyond the run time for locust to start, spawn, stop and write its files
STARTUP_ALLOWANCE_S = 90.0
#: environment variables a locust process keeps from ours (the rest is dropped: LOCUST_* options,
#: proxies, tracking URIs…)
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT",
            "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE")
LOG_TAIL = 3000
#: what the locustfile writes as locust quits (see mlgate_locust.locustfile)
STATS_FILE = "mlgate-stats.json"


def log_tail(path: Path, limit: int = LOG_TAIL) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-limit:] if text.strip() else "(empty log)"


@dataclass(frozen=True)
class LoadSpec:
    """What to run: bounded in users, spawn rate, time and processes."""

    url: str
    bodies: Path  # a JSON-lines file of request bodies (mlgate_locust.bodies)
    out_dir: Path
    users: int = 4
    spawn_rate: float = 4.0
    duration_s: float = 5.0
    workers: int = 0  # 0: one process; N: a master and N workers
    worker_mode: str = "fork"  # "fork" (--processes N) or "spawn" (--master + N --worker)
    max_rps: float | None = None  # the most requests per second in all (None: as fast as it can)
    shadow_url: str | None = None
    path: str = "/invocations"
    seed: int = 0
    rows_per_request: int = 1  # for the evidence (cost per prediction: requests x rows)
    request_timeout_s: float = 30.0  # a request slower than this counts as failed
    timeout_s: float | None = None  # None: duration_s + STARTUP_ALLOWANCE_S

    def validate(self) -> None:
        from mlgate.errors import InputError

        problems = []
        if not 1 <= self.users <= 10_000:
            problems.append(f"users={self.users}: use 1 to 10000")
        if not self.spawn_rate > 0:
            problems.append(f"spawn_rate={self.spawn_rate}: must be above 0")
        if not 0 < self.duration_s <= 3600:
            problems.append(f"duration_s={self.duration_s}: use more than 0 and at most 3600")
        if not 0 <= self.workers <= 256:
            problems.append(f"workers={self.workers}: use 0 (one process) to 256")
        if self.worker_mode not in ("fork", "spawn"):
            problems.append(f"worker_mode={self.worker_mode!r}: use 'fork' or 'spawn'")
        if not self.request_timeout_s > 0:
            problems.append(f"request_timeout_s={self.request_timeout_s}: must be above 0")
        if self.max_rps is not None and not self.max_rps > 0:
            problems.append(f"max_rps={self.max_rps}: must be above 0, or None for no limit")
        for name, url in (("url", self.url), ("shadow_url", self.shadow_url)):
            if url is not None and urlsplit(url).scheme not in ("http", "https"):
                problems.append(f"{name}={strip_credentials(url)!r}: must be an http(s) URL")
        if problems:
            raise InputError("; ".join(problems), key="mlgate_load")

    @property
    def timeout(self) -> float:
        return self.timeout_s if self.timeout_s is not None else self.duration_s + STARTUP_ALLOWANCE_S


@dataclass(frozen=True)
class RowStats:
    """One row of locust's ``_stats.csv``: a request name, or ``Aggregated``."""

    name: str
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @classmethod
    def empty(cls, name: str) -> RowStats:
        nan = math.nan
        return cls(name, 0, 0, nan, nan, nan, nan, nan, nan)


@dataclass(frozen=True)
class LoadRun:
    """What one locust run measured (or why it measured nothing)."""

    spec: LoadSpec
    exit_code: int | None  # None: killed on timeout
    wall_s: float
    rows: dict[str, RowStats] = field(default_factory=dict)
    failure_samples: tuple[str, ...] = ()
    error: str | None = None  # why the run gave no usable numbers (with the log tail)
    shadow: dict[str, Any] | None = None  # merged per-process shadow files
    master_requests: int | None = None  # locust's own aggregate count (a cross-check)

    def row(self, name: str = "candidate") -> RowStats:
        return self.rows.get(name) or RowStats.empty(name)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def percentile(histogram: dict[int, int], n: int, q: float) -> float:
    """The response time that a share ``q`` of the ``n`` requests finished within, from a
    bucketed histogram, as locust computes it (``calculate_response_time_percentile``)."""
    if n == 0:
        return math.nan
    target = int(n * q)
    done = 0
    for ms in sorted(histogram, reverse=True):
        done += histogram[ms]
        if n - done <= target:
            return float(ms)
    return 0.0


def _row(name: str, parts: list[dict[str, Any]]) -> RowStats:
    n = sum(int(p["requests"]) for p in parts)
    if n == 0:
        return RowStats.empty(name)
    hist: dict[int, int] = {}
    for p in parts:
        for ms, count in p["histogram"].items():
            hist[int(ms)] = hist.get(int(ms), 0) + int(count)
    span = max(p["last"] for p in parts) - min(p["first"] for p in parts)
    return RowStats(
        name=name, requests=n, failures=sum(int(p["failures"]) for p in parts),
        rps=n / span if span > 0 else math.nan,
        p50_ms=percentile(hist, n, 0.50), p95_ms=percentile(hist, n, 0.95),
        p99_ms=percentile(hist, n, 0.99),
        mean_ms=sum(float(p["total_ms"]) for p in parts) / n,
        max_ms=max(float(p["max_ms"]) for p in parts))


def read_stats(out_dir: Path) -> tuple[dict[str, RowStats], tuple[str, ...]]:
    """Every locust process's ``requests-<pid>.json`` (written by the locustfile as the process
    quits) merged: rows by request name plus ``Aggregated``, and the most frequent failure
    messages with their counts. ``requests_per_second`` is the requests over the time from the
    first request's start to the last one's end, over all processes."""
    files = sorted(out_dir.glob("requests-*.json"))
    if not files:
        raise FileNotFoundError(f"no requests-*.json in {out_dir}: no locust process finished")
    by_name: dict[str, list[dict[str, Any]]] = {}
    errors: dict[tuple[str, str], int] = {}
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        for name, part in data["rows"].items():
            by_name.setdefault(name, []).append(part)
        for e in data.get("errors", []):
            key = (e["name"], e["error"])
            errors[key] = errors.get(key, 0) + int(e["occurrences"])
    rows = {name: _row(name, parts) for name, parts in by_name.items()}
    rows["Aggregated"] = _row("Aggregated", [p for parts in by_name.values() for p in parts])
    samples = tuple(f"{n}: {e} (x{c})" for (n, e), c in
                    sorted(errors.items(), key=lambda kv: -kv[1])[:5])
    return rows, samples


def read_master_stats(out_dir: Path) -> tuple[dict[str, RowStats], tuple[str, ...]]:
    """The master's ``mlgate-stats.json`` (locust's own aggregate, written as the master
    quits): what a multi-machine run has, where the workers' files stay on their machines."""
    with open(out_dir / STATS_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    rows = {}
    for rec in data["rows"]:
        rows[rec["name"]] = RowStats(
            name=rec["name"], requests=int(rec["requests"]), failures=int(rec["failures"]),
            rps=_num(rec["rps"]), p50_ms=_num(rec["p50_ms"]), p95_ms=_num(rec["p95_ms"]),
            p99_ms=_num(rec["p99_ms"]), mean_ms=_num(rec["mean_ms"]), max_ms=_num(rec["max_ms"]))
    samples = tuple(f"{e['name']}: {e['error']} (x{e['occurrences']})"
                    for e in data.get("errors", [])[:5])
    return rows, samples


def read_shadow(out_dir: Path) -> dict[str, Any] | None:
    """The per-process shadow files merged: counts summed, latency pairs concatenated."""
    files = sorted(glob.glob(str(out_dir / "shadow-*.json")))
    if not files:
        return None
    merged: dict[str, Any] = {"processes": 0, "compared": 0, "rows": 0, "agree": 0,
                              "mismatched_shape": 0, "pairs_seen": 0, "examples": [], "pairs": []}
    for name in files:
        with open(name, encoding="utf-8") as fh:
            part = json.load(fh)
        merged["processes"] += 1
        for key in ("compared", "rows", "agree", "mismatched_shape", "pairs_seen"):
            merged[key] += int(part.get(key, 0))
        merged["examples"].extend(part.get("examples", [])[: max(0, 5 - len(merged["examples"]))])
        merged["pairs"].extend(part.get("pairs", []))
    return merged


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(spec: LoadSpec) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in KEPT_ENV}
    env.update({
        "PYTHONUNBUFFERED": "1",
        "PYTHONWARNINGS": "ignore",
        "MLGATE_LOCUST_BODIES": str(spec.bodies),
        "MLGATE_LOCUST_PATH": spec.path,
        "MLGATE_LOCUST_SEED": str(spec.seed),
        "MLGATE_LOCUST_OUT": str(spec.out_dir),
        "MLGATE_LOCUST_REQUEST_TIMEOUT": repr(float(spec.request_timeout_s)),
    })
    if spec.max_rps is not None:
        env["MLGATE_LOCUST_RPS_PER_USER"] = repr(spec.max_rps / spec.users)
    if spec.shadow_url:
        env["MLGATE_LOCUST_SHADOW_URL"] = spec.shadow_url
    return env


def _common_args(spec: LoadSpec) -> list[str]:
    return ["-f", str(LOCUSTFILE), "--loglevel", "INFO"]


def commands(spec: LoadSpec, prefix: Path, master_port: int | None = None) -> list[list[str]]:
    """The locust command lines of a run: the master (or only) process first."""
    py = [sys.executable, "-m", "locust"]
    master = py + _common_args(spec) + [
        "--headless", "-u", str(spec.users), "-r", f"{spec.spawn_rate:g}",
        "-t", f"{max(1, math.ceil(spec.duration_s))}s", "--host", spec.url,
        "--csv", str(prefix), "--only-summary", "--stop-timeout", "5",
    ]
    if spec.workers == 0:
        return [master]
    if spec.worker_mode == "fork":
        return [master + ["--processes", str(spec.workers)]]
    port = master_port or free_port()
    master += ["--master", "--expect-workers", str(spec.workers),
               "--expect-workers-max-wait", str(int(STARTUP_ALLOWANCE_S // 2)),
               "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    worker = py + _common_args(spec) + ["--worker", "--master-host", "127.0.0.1",
                                        "--master-port", str(port)]
    return [master] + [worker] * spec.workers


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


def run_locust(spec: LoadSpec) -> LoadRun:
    """Run locust for ``spec`` and read back its numbers. Never raises for a failed run: the
    :class:`LoadRun` then has no rows and says why in ``error`` (with locust's log tail)."""
    spec.validate()
    import importlib.util

    if importlib.util.find_spec("locust") is None:  # found, not imported
        from mlgate.errors import MissingExtraError

        raise MissingExtraError("locust", "locust")
    spec.out_dir.mkdir(parents=True, exist_ok=True)
    for old in [*spec.out_dir.glob("shadow-*.json"), *spec.out_dir.glob("requests-*.json"),
                spec.out_dir / STATS_FILE]:
        old.unlink(missing_ok=True)
    prefix = spec.out_dir / "locust"
    env = clean_env(spec)
    procs: list[tuple[subprocess.Popen, Path]] = []
    start = time.monotonic()
    exit_code: int | None = None
    try:
        for i, cmd in enumerate(commands(spec, prefix)):
            log = spec.out_dir / ("locust.log" if i == 0 else f"locust-worker-{i}.log")
            with open(log, "wb") as fh:
                proc = subprocess.Popen(cmd, cwd=spec.out_dir, env=env, stdin=subprocess.DEVNULL,
                                        stdout=fh, stderr=subprocess.STDOUT,
                                        start_new_session=True)
            procs.append((proc, log))
        master = procs[0][0]
        try:
            exit_code = master.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            exit_code = None
        for proc, _ in procs[1:]:  # workers quit when the master does
            try:
                proc.wait(timeout=15 if exit_code is not None else 0.1)
            except subprocess.TimeoutExpired:
                pass
    finally:
        for proc, _ in procs:
            _kill(proc)
    wall = time.monotonic() - start
    tail = log_tail(spec.out_dir / "locust.log")
    if exit_code not in (0, 1):
        for _proc, log in procs[1:]:
            tail += f"\n--- {log.name}\n{log_tail(log, 1000)}"
    if exit_code is None:
        return LoadRun(spec, None, wall, error=(
            f"locust did not finish within {spec.timeout:.0f} s and was killed; its log:\n{tail}"))
    try:
        rows, samples = read_stats(spec.out_dir)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        return LoadRun(spec, exit_code, wall, error=(
            f"locust exited with {exit_code} and left no readable statistics ({exc}); its "
            f"log:\n{tail}"))
    error = None
    if exit_code not in (0, 1):  # 1: some requests failed, which the stats show
        error = f"locust exited with {exit_code}; its log:\n{tail}"
    elif rows.get("Aggregated", RowStats.empty("")).requests == 0:
        error = ("locust made no requests (is the endpoint up, the data non-empty?); its log:\n"
                 + tail)
    try:
        master = read_master_stats(spec.out_dir)[0].get("Aggregated")
    except (OSError, KeyError, TypeError, ValueError):
        master = None
    return LoadRun(spec, exit_code, wall, rows, samples, error, read_shadow(spec.out_dir),
                   master_requests=None if master is None else master.requests)
