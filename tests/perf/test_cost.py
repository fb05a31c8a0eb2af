"""Cost per million predictions, from a price per hour and a throughput."""

from __future__ import annotations

import math

import pytest

from mlgate.perf.bench import benchmark
from mlgate.perf.cost import cost_per_million, parse_price


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch):
    """Inner runs must not inherit the outer xdist worker's environment: the benchmark would
    rightly refuse to measure beside other workers."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def test_formula():
    # $3.60 an hour at 1,000 predictions a second: 3.6M predictions an hour cost $3.60
    assert cost_per_million(3.6, 1000.0) == pytest.approx(1.0)
    assert cost_per_million(0.0, 5.0) == 0.0


@pytest.mark.parametrize("throughput", [0.0, -1.0, math.nan, math.inf])
def test_no_throughput_gives_nan(throughput):
    assert math.isnan(cost_per_million(1.0, throughput))


@pytest.mark.parametrize("price", [-1.0, math.nan, math.inf, True, "3"])
def test_bad_price(price):
    with pytest.raises(ValueError, match="price_per_hour must be a finite number"):
        cost_per_million(price, 1.0)


def test_parse_price_names_the_source():
    assert parse_price(None, "x") is None and parse_price(" ", "x") is None
    assert parse_price("3.06", "x") == 3.06
    with pytest.raises(ValueError, match=r"\$MLGATE_PRICE_PER_HOUR: .* got 'cheap'"):
        parse_price("cheap", "$MLGATE_PRICE_PER_HOUR")


def test_benchmark_records_the_cost(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    r = benchmark(sum, range(100), name="s", batch_size=100, warmup=0.0, max_time=0.05,
                  price_per_hour=2.0, measure_memory=False)
    metrics = {m.name: m for m in r.metrics()}
    cost = metrics["s.cost_per_million"]
    assert cost.direction == "lower"
    assert cost.value == pytest.approx(2.0 / (r.throughput * 3600) * 1e6)
    assert r.evidence()["stats"]["price_per_hour"] == 2.0
    plain = benchmark(sum, range(100), name="s", warmup=0.0, max_time=0.05, measure_memory=False)
    assert "s.cost_per_million" not in {m.name for m in plain.metrics()}
    with pytest.raises(ValueError, match="price_per_hour"):
        benchmark(sum, range(3), name="s", price_per_hour=-3)


def test_configured_price_reaches_the_fixture(pytester):
    pytester.makepyfile(
        """
        def test_b(mlgate_benchmark, mlgate_price_per_hour):
            assert mlgate_price_per_hour == 7.5
            r = mlgate_benchmark(sum, range(10), warmup=0.0, max_time=0.05)
            assert r.price_per_hour == 7.5

        def test_unset_elsewhere():
            pass
        """
    )
    pytester.makeini("[pytest]\nmlgate_price_per_hour = 7.5\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle", "-p", "no:xdist")
    result.assert_outcomes(passed=2)
    bad = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle", "-p", "no:xdist",
                             "--mlgate-price-per-hour=cheap")
    bad.assert_outcomes(passed=1, errors=1)
    bad.stdout.fnmatch_lines(["*--mlgate-price-per-hour: the price per hour must be a number*"])
