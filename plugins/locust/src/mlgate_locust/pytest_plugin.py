"""The pytest fixtures of mlgate-locust (entry point ``pytest11: mlgate_locust``).

This module imports nothing but pytest at load time: locust runs in processes of its own, and
is never imported into the pytest process (``import locust`` patches the network stack through
gevent). Locust's own pytest plugin adds ``--host``/``-H`` and fixtures ``session`` and
``fastsession``; nothing here uses those names.

``mlgate_model_server`` (session scope)
    ``mlgate_model_server("models:/iris@champion")`` starts ``mlflow models serve`` on
    127.0.0.1 (once per model in the session) and returns it (``.url``); given a URL it returns
    it as is. Every server started is stopped at the end of the session, failed or not.
``mlgate_load``
    ``mlgate_load(url, data=X_test, users=8, duration_s=10, max_p95_ms=50, min_rps=100,
    max_error_ratio=0.01)`` runs the load test and records it through ``mlgate.check``: the
    test fails on an SLO breach (or a run that made no requests), with the numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def mlgate_model_server(tmp_path_factory: pytest.TempPathFactory,
                        pytestconfig: pytest.Config) -> Iterator[Any]:
    """Start model servers for load tests: ``mlgate_model_server("models:/NAME@ALIAS")`` →
    an object with ``.url`` (``mlflow models serve --env-manager local`` on 127.0.0.1, ready
    when ``/ping`` answers; ``tracking_uri=``, ``workers=``, ``start_timeout_s=`` optional), or
    ``mlgate_model_server("http://…")`` for an endpoint that is already up. Servers are stopped
    at the end of the session."""
    from mlgate_locust.fixtures import ModelServers

    servers = ModelServers(tmp_path_factory.mktemp("mlgate-model-server"), pytestconfig.rootpath)
    try:
        yield servers
    finally:
        servers.stop_all()


class LoadFixture:
    """The ``mlgate_load`` fixture: ``mlgate_load(url, data=..., **bounds_and_slo)``."""

    def __init__(self, check: Any, tmp_path: Any, price_per_hour: float | None = None) -> None:
        self._check = check
        self._tmp_path = tmp_path
        self._price = price_per_hour
        self._runs = 0

    def __call__(self, url: Any, *, data: Any, **kwargs: Any) -> Any:
        """Run a bounded load test against ``url`` (a URL or ``mlgate_model_server(...)``) with
        bodies sampled from ``data`` and record it; see ``mlgate_locust.fixtures.run_load`` for
        the arguments (``users``, ``spawn_rate``, ``duration_s``, ``workers``, ``max_rps``,
        ``max_p50_ms``/``max_p95_ms``/``max_p99_ms``, ``min_rps``, ``max_error_ratio``,
        ``shadow_url``, ``min_agreement``, ``max_latency_diff_ms``, ``batch_size``, ``seed``…).
        Returns the ``LoadResult`` (or ``ShadowResult`` with ``shadow_url``)."""
        from mlgate_locust.fixtures import run_load

        self._runs += 1
        kwargs.setdefault("price_per_hour", self._price)
        result = run_load(url, data, self._tmp_path / f"load-{self._runs}", **kwargs)
        return self._check(result)


@pytest.fixture
def mlgate_load(mlgate: Any, tmp_path: Any, mlgate_price_per_hour: Any) -> LoadFixture:
    """Run a bounded locust load test and record p50/p95/p99 latency, requests per second and
    error ratio as gate metrics, and the cost per million predictions when
    ``--mlgate-price-per-hour`` is set (see ``LoadFixture``)."""
    return LoadFixture(mlgate.check, tmp_path, mlgate_price_per_hour)
