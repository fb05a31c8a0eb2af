"""What the pytest fixtures do, usable without pytest: :func:`run_load` (prepare the bodies, run
locust, build the check result) and :class:`ModelServers` (start model servers once, stop them
all at the end)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .check import LoadResult, ShadowResult, Slo


@dataclass(frozen=True)
class Endpoint:
    """A model endpoint given by URL: nothing to start or stop."""

    url: str

    def stop(self) -> None:
        pass


def _url(target: Any) -> str:
    url = getattr(target, "url", target)
    if not isinstance(url, str):
        raise TypeError(f"expected a URL or a model server (with .url), got {type(target).__name__}")
    return url.rstrip("/")


def run_load(url: Any, data: Any, out_dir: str | os.PathLike[str], *, users: int = 4,
             spawn_rate: float | None = None, duration_s: float = 5.0, workers: int = 0,
             worker_mode: str = "fork", max_rps: float | None = None,
             max_p50_ms: float | None = None, max_p95_ms: float | None = None,
             max_p99_ms: float | None = None, min_rps: float | None = None,
             max_error_ratio: float | None = None, shadow_url: Any = None,
             min_agreement: float | None = None, max_latency_diff_ms: float | None = None,
             max_latency_diff_p95_ms: float | None = None, path: str = "/invocations",
             batch_size: int = 1, body_format: str = "dataframe_split", seed: int = 0,
             timeout_s: float | None = None, request_timeout_s: float = 30.0,
             prefix: str | None = None, price_per_hour: float | None = None,
             ) -> LoadResult | ShadowResult:
    """Load-test ``url`` (a URL or a model server) with bodies sampled from ``data``.

    Bounded: ``users`` simulated users started at ``spawn_rate`` per second (default: all in
    the first second), for ``duration_s`` seconds, in one process or a master and ``workers``
    worker processes, at most ``max_rps`` requests per second in all (default: as fast as they
    can). With ``shadow_url`` (the champion) every body also goes there, and the result is a
    :class:`ShadowResult` (``shadow.*`` metrics; latency and throughput SLOs belong to a plain
    run, since each user waits for both models). ``prefix`` names the metrics (default
    ``load`` / ``shadow``): give each load test in a run its own."""
    from mlgate.errors import InputError

    from .bodies import write_bodies
    from .runner import LoadSpec, run_locust

    if shadow_url is not None:
        plain_only = {"max_p50_ms": max_p50_ms, "max_p95_ms": max_p95_ms,
                      "max_p99_ms": max_p99_ms, "min_rps": min_rps}
        given = [k for k, v in plain_only.items() if v is not None]
        if given:
            raise InputError(f"{', '.join(given)} with shadow_url: in shadow mode each user waits "
                             "for both models, so latency and throughput are not a plain run's",
                             key="mlgate_load",
                             fix="hold the latency and throughput SLO in a run without "
                                 "shadow_url; bound the difference with max_latency_diff_ms")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bodies = out / "bodies.jsonl"
    write_bodies(data, bodies, batch_size=batch_size, fmt=body_format, seed=seed)
    spec = LoadSpec(url=_url(url), bodies=bodies, out_dir=out, users=users,
                    spawn_rate=float(spawn_rate if spawn_rate is not None else users),
                    duration_s=float(duration_s), workers=workers, worker_mode=worker_mode,
                    max_rps=max_rps, shadow_url=None if shadow_url is None else _url(shadow_url),
                    path=path, seed=seed, rows_per_request=batch_size, timeout_s=timeout_s,
                    request_timeout_s=request_timeout_s)
    run = run_locust(spec)
    slo = Slo(max_p50_ms, max_p95_ms, max_p99_ms, min_rps, max_error_ratio)
    if spec.shadow_url is None:
        return LoadResult(run, slo, prefix=prefix or "load", price_per_hour=price_per_hour)
    return ShadowResult(run, max_error_ratio=max_error_ratio, min_agreement=min_agreement,
                        max_latency_diff_ms=max_latency_diff_ms,
                        max_latency_diff_p95_ms=max_latency_diff_p95_ms, seed=seed,
                        prefix=prefix or "shadow")


def default_tracking_uri(model_uri: str, project_dir: Path) -> str | None:
    """The registry a ``models:/`` URI is resolved in: ``$MLFLOW_TRACKING_URI`` (inherited by the
    server), else the project's embedded registry when mlgate-mlflow is installed."""
    if os.environ.get("MLFLOW_TRACKING_URI") or not model_uri.startswith("models:/"):
        return None
    try:
        from mlgate_mlflow.connection import resolve
    except ImportError:
        return None
    return resolve(project_dir).tracking_uri


class ModelServers:
    """``servers("models:/iris@champion")`` starts ``mlflow models serve`` once per (model,
    tracking URI, workers) and returns it (``.url``); ``servers("http://…")`` returns the URL as
    an :class:`Endpoint`. ``stop_all()`` stops every server started."""

    def __init__(self, log_dir: Path, project_dir: Path) -> None:
        self.log_dir = log_dir
        self.project_dir = project_dir
        self._servers: dict[tuple[str, str | None, int], Any] = {}

    def __call__(self, model: str, *, tracking_uri: str | None = None, workers: int = 1,
                 start_timeout_s: float | None = None) -> Any:
        if model.startswith(("http://", "https://")):
            return Endpoint(model.rstrip("/"))
        from .server import START_TIMEOUT_S, ModelServer

        tracking_uri = tracking_uri or default_tracking_uri(model, self.project_dir)
        key = (model, tracking_uri, workers)
        server = self._servers.get(key)
        if server is None or server.proc is None or server.proc.poll() is not None:
            server = ModelServer(model, log_dir=self.log_dir, tracking_uri=tracking_uri,
                                 workers=workers, cwd=self.project_dir,
                                 start_timeout_s=start_timeout_s or START_TIMEOUT_S)
            self._servers[key] = server  # registered before start: stopped even if start fails
            server.start()
        return server

    def stop_all(self) -> None:
        errors = []
        for server in self._servers.values():
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others, then report
                errors.append(exc)
        self._servers.clear()
        if errors:
            raise errors[0]
