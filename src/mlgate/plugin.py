"""The mlgate pytest plugin (entry point ``pytest11: mlgate``; turn it off with ``-p no:mlgate``).

It registers the check-family markers, the ``mlgate`` fixture (the record API), options and ini
keys, and at the end of the session writes the results bundle (``results.json``) and JUnit XML.

This module is imported by every pytest run, so it imports nothing heavy: no numpy, pandas,
sklearn, torch, mlflow. Under pytest-xdist, records ride on ``item.user_properties`` (built-in
types only) to the controller, which alone writes files.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .record import FAMILIES, PROPERTY_KEY, CheckResult, Metric, TestRecord, make_metric

MAX_EVIDENCE_BYTES = 1_000_000

# the fixtures of the security family live beside their engines (light modules, like this one)
pytest_plugins = ["mlgate.security.fixtures"]

MARKERS = {
    "data": "data checks: schemas, quality, drift of the data a model is trained and served on",
    "model": "model checks: metrics, comparison with the champion, slices, fairness",
    "performance": "performance checks: latency, throughput, memory, load tests",
    "security": "security checks: model-file scanning, robustness, privacy, fuzzing",
}

# name: (help, environment variable)
SETTINGS: dict[str, tuple[str, str]] = {
    "mlgate_dir": ("folder for results.json and junit.xml (default: reports/)", "MLGATE_DIR"),
    "mlgate_model": ("registered model name the run tests (binds the bundle)", "MLGATE_MODEL"),
    "mlgate_model_version": ("model version the run tests (binds the bundle)",
                             "MLGATE_MODEL_VERSION"),
    "mlgate_price_per_hour": ("the machine's price per hour (e.g. 3.06): benchmarks and load tests "
                              "then record cost per million predictions", "MLGATE_PRICE_PER_HOUR"),
    "mlgate_without_gpu": ("what @pytest.mark.gpu_benchmark tests do without a CUDA GPU: skip "
                           "(default), fail, or cpu (run the workload on the CPU)",
                           "MLGATE_WITHOUT_GPU"),
}


@dataclass(frozen=True)
class Setting:
    value: str | None
    source: str  # where the value came from: option, environment, ini file, default


def setting(config: pytest.Config, name: str) -> Setting:
    """One configuration value, by precedence: command line > MLGATE_* env > ini > default."""
    value = config.getoption(name)
    if value is not None:
        return Setting(value, f"--{name.replace('_', '-')}")
    env = SETTINGS[name][1]
    if os.environ.get(env):
        return Setting(os.environ[env], f"${env}")
    ini = config.getini(name)
    if ini:
        return Setting(str(ini), f"{config.inipath or 'ini'} [{name}]")
    return Setting(None, "default")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(
        "mlgate", "mlgate: record model-quality evidence into a results bundle for `mlgate gate`"
    )
    for name, (help_text, env) in SETTINGS.items():
        flag = "--" + name.replace("_", "-")
        group.addoption(flag, dest=name, default=None, metavar=name.split("_")[-1].upper(),
                        help=f"{help_text}; also ${env} or ini `{name}`")
        parser.addini(name, help=f"mlgate: {help_text}", type="string", default="")
    group.addoption("--mlgate-no-bundle", action="store_true", default=False,
                    help="record nothing and write no bundle (the fixture still works)")


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line(
            "markers", f"{name}: mlgate check family - {text}. "
            f"Example: @pytest.mark.{name} on a test that records evidence with the mlgate fixture."
        )
    config.addinivalue_line(
        "markers", "gpu_benchmark(name=None, warmup_ms=25, rep_ms=100, flush_l2=True, "
        "cuda_graph=False, without_gpu=None, batch_size=None, max_median_ms=None, ...): a "
        "performance test timed on a CUDA GPU with CUDA events through the mlgate_gpu_benchmark "
        "fixture; without a GPU it is skipped, or fails (without_gpu='fail'), or runs on the CPU "
        "(without_gpu='cpu'). Example: @pytest.mark.gpu_benchmark(cuda_graph=True)")
    config.addinivalue_line(
        "markers", "mltest(*items): the ML Test Score items (Breck et al. 2017) this test covers, "
        "e.g. @pytest.mark.mltest(\"Model 6\", \"Monitor 7\"); the bundle scores the rubric")
    if not hasattr(config, "workerinput") and not config.getoption("mlgate_no_bundle"):
        collector = Collector(config)
        config.stash[collector_key] = collector
        config.pluginmanager.register(collector, "mlgate-collector")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tag every test with its check families and ML Test Score items (runs where tests are
    collected: on xdist workers too, and the tag travels with every report)."""
    from .rubric import normalise

    for item in items:
        families = {m.name for m in item.iter_markers() if m.name in FAMILIES}
        if item.get_closest_marker("gpu_benchmark") is not None:
            families.add("performance")
        families = sorted(families)
        rubric: set[str] = set()
        for mark in item.iter_markers("mltest"):
            try:
                rubric.update(normalise(arg) for arg in mark.args)
            except ValueError as exc:
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.mltest: {exc}") from None
        item.user_properties.append(
            (PROPERTY_KEY, {"kind": "test", "families": families, "rubric": sorted(rubric)}))


gpu_key = pytest.StashKey["tuple[Any, str, str]"]()
gpu_failure_key = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A ``@pytest.mark.gpu_benchmark`` test: look for the GPU (torch is imported here, only for
    such a test), then skip, fail or fall back to the CPU as configured. A failure is raised
    when the test is called, so the test reads as failed (not as an error in a fixture)."""
    mark = item.get_closest_marker("gpu_benchmark")
    if mark is None:
        return
    from .perf.gpu import parse_mark, probe, resolve_without_gpu

    try:
        spec = parse_mark(mark.args, mark.kwargs)
        configured = setting(item.config, "mlgate_without_gpu")
        without = resolve_without_gpu(spec, configured.value, configured.source)
    except ValueError as exc:
        item.stash[gpu_failure_key] = f"{item.nodeid}: {exc}"
        return
    found = probe(spec.device_index)
    if found.available:
        item.stash[gpu_key] = (spec, found.reason, found.reason)
        return
    how = ("run it on a machine with a CUDA GPU, or time the same workload on the CPU with "
           "--mlgate-without-gpu=cpu (or without_gpu='cpu' in the marker)")
    if without == "fail":
        item.stash[gpu_failure_key] = (f"gpu_benchmark requires a GPU (without_gpu='fail'): "
                                       f"{found.reason}; {how}")
    elif without == "skip":
        pytest.skip(f"gpu_benchmark: {found.reason}; {how}, or =fail to require a GPU")
    else:
        item.stash[gpu_key] = (spec, "cpu", found.reason)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    failure = item.stash.get(gpu_failure_key, None)
    if failure is not None:
        pytest.fail(failure, pytrace=False)


# -- the record API ----------------------------------------------------------------------------


class Recorder:
    """The ``mlgate`` fixture: how a test tells the gate what it measured.

    Example::

        @pytest.mark.model
        def test_accuracy(mlgate, model, X_test, y_test):
            acc = (model.predict(X_test) == y_test).mean()
            mlgate.metric("accuracy", acc, threshold=0.9, direction="higher",
                          interval=(lo, hi))
    """

    def __init__(self, item: pytest.Item, model: tuple[str | None, str | None]) -> None:
        self._item = item
        self.model_name, self.model_version = model

    def metric(
        self,
        name: str,
        value: float,
        *,
        threshold: float | None = None,
        direction: str = "higher",
        interval: tuple[float, float] | tuple[float, float, float] | None = None,
        unit: str | None = None,
        soft: bool = False,
    ) -> Metric:
        """Record a metric. With a ``threshold`` the test fails when it is not met (or the
        value is NaN or infinite) unless ``soft=True``: the record is kept either way.

        ``direction``: ``"higher"`` (bigger is better; the threshold is a minimum) or
        ``"lower"``. ``interval``: ``(low, high)`` or ``(low, high, level)``; level 0.95 by
        default."""
        metric = make_metric(name, value, threshold=threshold, direction=direction,
                             interval=interval, unit=unit)
        self._item.user_properties.append((PROPERTY_KEY, {"kind": "metric", **metric.to_json()}))
        if metric.passed is False and not soft:
            if not metric.finite:
                pytest.fail(f"mlgate: metric {metric.name!r} is {metric.value}", pytrace=False)
            op = ">=" if metric.direction == "higher" else "<="
            pytest.fail(f"mlgate: metric {metric.name!r} = {metric.value:.6g}, must be "
                        f"{op} {metric.threshold:.6g}", pytrace=False)
        return metric

    def evidence(self, name: str, data: Any) -> None:
        """Keep JSON-able evidence (a histogram, failing examples…) with this test's record, for
        the report. Keep it small: at most 1 MB per item; aggregate, never raw data sets."""
        import json

        try:
            text = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"evidence {name!r} must be JSON-able without NaN: {exc}") from None
        if len(text) > MAX_EVIDENCE_BYTES:
            raise ValueError(f"evidence {name!r} is {len(text)} bytes, the limit is "
                             f"{MAX_EVIDENCE_BYTES}; aggregate it (e.g. histograms, a few examples)")
        # kept as plain JSON types: subclasses of str or float (torch's TorchVersion, NumPy
        # scalars' kin) cannot travel from a pytest-xdist worker to the controller
        self._item.user_properties.append(
            (PROPERTY_KEY, {"kind": "evidence", "name": name, "data": json.loads(text)}))

    def check(self, result: CheckResult) -> CheckResult:
        """Record a check's metrics and evidence, then fail the test with its failures."""
        for metric in result.metrics():
            self._item.user_properties.append(
                (PROPERTY_KEY, {"kind": "metric", **metric.to_json()}))
        self.evidence(result.name, result.evidence())
        failures = result.failures()
        if failures:
            pytest.fail(f"mlgate {result.name} check failed:\n  " + "\n  ".join(failures),
                        pytrace=False)
        return result

    def fingerprint(self, name: str, data: Any) -> str:
        """Record the content digest of a data set (file path, bytes, array or DataFrame);
        the bundle keeps it under ``data[name]``."""
        from .record import fingerprint

        digest = fingerprint(data)
        self._item.user_properties.append(
            (PROPERTY_KEY, {"kind": "data", "name": name, "digest": digest})
        )
        return digest


@pytest.fixture(scope="session")
def mlgate_model(pytestconfig: pytest.Config):
    """The model version under test (``ModelRef``), from ``--mlgate-model`` and
    ``--mlgate-model-version`` (or ``$MLGATE_MODEL``/``$MLGATE_MODEL_VERSION``, or the ini keys).
    Skips the test when no model name is configured."""
    from .bundle import ModelRef

    name = setting(pytestconfig, "mlgate_model").value
    version = setting(pytestconfig, "mlgate_model_version").value
    if not name:
        pytest.skip("no model under test: pass --mlgate-model NAME --mlgate-model-version VERSION")
    return ModelRef(name, version)


@pytest.fixture(scope="session")
def mlgate_predictions():
    """Predictions per (model, evaluation set), computed once per session and shared by every
    test that asks (one cache per xdist worker): ``mlgate_predictions.get(model, X_test)`` gives
    ``Predictions`` with ``.labels`` and ``.scores``, for any model ``mlgate.model.adapters.as_model``
    accepts (scikit-learn, a torch module, an MLflow pyfunc or ``models:/name@alias``, a callable)."""
    from .model.adapters import PredictionCache

    return PredictionCache()


@pytest.fixture(scope="session")
def mlgate_price_per_hour(pytestconfig: pytest.Config) -> float | None:
    """The machine's price per hour from ``--mlgate-price-per-hour`` (or
    ``$MLGATE_PRICE_PER_HOUR``, or the ini key), ``None`` when unset."""
    from .perf.cost import parse_price

    found = setting(pytestconfig, "mlgate_price_per_hour")
    try:
        return parse_price(found.value, found.source)
    except ValueError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def mlgate_benchmark(mlgate: Recorder, request: pytest.FixtureRequest,
                     mlgate_price_per_hour: float | None):
    """Time a callable on the CPU and record it (see ``mlgate.perf.bench``):
    ``mlgate_benchmark(fn, *args, name="predict", batch_size=64, max_median_s=0.02)``: warm-up,
    calibrated rounds, an adaptive stop when the median's 95% interval is within 1% (or the time
    budget runs out). Refuses under pytest-xdist with more than one worker (timings would be
    skewed) unless ``allow_parallel=True``."""
    from .perf.bench import BenchmarkFixture

    return BenchmarkFixture(mlgate.check, default_name=request.node.name,
                            price_per_hour=mlgate_price_per_hour)


@pytest.fixture
def mlgate_gpu_benchmark(mlgate: Recorder, request: pytest.FixtureRequest,
                         mlgate_price_per_hour: float | None):
    """Time a workload on the GPU with CUDA events, with the settings of the test's
    ``@pytest.mark.gpu_benchmark(...)`` (see ``mlgate.perf.gpu``): ``.device`` is where to put
    the tensors (``"cuda:0"``, or ``"cpu"`` in the CPU fallback);
    ``mlgate_gpu_benchmark(fn, *args, name="matmul")`` times and records it."""
    from .perf.gpu import GpuBenchmarkFixture

    found = request.node.stash.get(gpu_key, None)
    if found is None:
        if gpu_failure_key in request.node.stash:  # reported when the test is called
            return None
        pytest.fail(f"{request.node.nodeid}: the mlgate_gpu_benchmark fixture needs the test to be "
                    "marked @pytest.mark.gpu_benchmark(...)", pytrace=False)
    spec, device, reason = found
    return GpuBenchmarkFixture(mlgate.check, default_name=request.node.name, spec=spec,
                               device=device, reason=reason, price_per_hour=mlgate_price_per_hour)


@pytest.fixture
def mlgate(request: pytest.FixtureRequest) -> Recorder:
    """Record metrics and data fingerprints for the mlgate results bundle (see ``Recorder``)."""
    config = request.config
    model = (setting(config, "mlgate_model").value, setting(config, "mlgate_model_version").value)
    return Recorder(request.node, model)


# -- collecting reports (controller only) ---------------------------------------------------------


@dataclass
class _Acc:
    outcome: str = "passed"
    duration: float = 0.0
    message: str | None = None
    properties: list[Any] = field(default_factory=list)
    ran: bool = False


def _message(report: pytest.TestReport) -> str | None:
    if report.passed:
        return None
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        text = str(longrepr[2])
    elif crash is not None:  # an exception: "RuntimeError: fixture exploded"
        text = crash.message
    else:
        text = getattr(report, "longreprtext", "") or str(longrepr or "")
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text[:500] or None


class Collector:
    """Gathers one record per test from the reports (its own or the xdist workers')."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tests: dict[str, _Acc] = {}
        self.bundle_path: Path | None = None
        self.bundle: Any = None
        self.warnings: list[str] = []

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        acc = self.tests.setdefault(report.nodeid, _Acc())
        acc.duration += report.duration
        acc.properties = [v for k, v in report.user_properties if k == PROPERTY_KEY]
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            acc.ran = True
            if report.passed:
                acc.outcome = "xpassed" if xfail else "passed"
            elif report.failed:
                acc.outcome = "failed"
            else:
                acc.outcome = "xfailed" if xfail else "skipped"
            acc.message = _message(report) if not report.passed else (
                str(report.wasxfail) or None if xfail else None)
        elif report.failed:  # setup or teardown error
            acc.outcome, acc.message = "error", f"error in {report.when}: {_message(report)}"
        elif report.when == "setup" and report.skipped:
            acc.outcome = "xfailed" if xfail else "skipped"
            acc.message = _message(report)

    def records(self) -> tuple[tuple[TestRecord, ...], dict[str, str]]:
        from .security.redact import redact, redact_obj

        env = dict(os.environ)
        tests: list[TestRecord] = []
        data: dict[str, str] = {}
        for nodeid, acc in sorted(self.tests.items()):
            families: tuple[str, ...] = ()
            metrics: list[Metric] = []
            evidence: dict[str, Any] = {}
            rubric: tuple[str, ...] = ()
            for prop in acc.properties:
                kind = prop.get("kind") if isinstance(prop, dict) else None
                if kind == "test":
                    families = tuple(prop["families"])
                    rubric = tuple(prop.get("rubric", ()))
                elif kind == "metric":
                    fields = {k: v for k, v in prop.items() if k != "kind"}
                    metrics.append(Metric.from_json(fields))
                elif kind == "evidence":
                    evidence[prop["name"]] = prop["data"]
                elif kind == "data":
                    name, digest = prop["name"], prop["digest"]
                    if data.get(name, digest) != digest:
                        self.warnings.append(f"data set {name!r} has two fingerprints "
                                             f"({data[name]} and {digest}); kept the conflict")
                        digest = "conflict"
                    data[name] = digest
            # secrets (CI tokens, passwords in URLs, known token formats) never reach the bundle,
            # nor what is made from it: JUnit, decisions, reports
            tests.append(TestRecord(redact(nodeid, env=env), acc.outcome, families,
                                    tuple(metrics), acc.duration,
                                    redact(acc.message, env=env) if acc.message else acc.message,
                                    redact_obj(evidence, env=env), rubric))
        return tuple(tests), data

    def output_dir(self) -> Path:
        opt = self.config.getoption("mlgate_dir")
        if opt:
            return Path(opt).resolve()
        if os.environ.get("MLGATE_DIR"):
            return Path(os.environ["MLGATE_DIR"]).resolve()
        ini = self.config.getini("mlgate_dir")
        return self.config.rootpath / (ini or "reports")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.config.option.collectonly:
            return
        from . import __version__
        from .actor import actor, git_commit
        from .bundle import Bundle, ModelRef, format_time, utc_now

        name = setting(self.config, "mlgate_model").value
        version = setting(self.config, "mlgate_model_version").value
        tests, data = self.records()
        bundle = Bundle(
            created_at=format_time(utc_now()),
            model=None if not name else ModelRef(name, version),
            commit=git_commit(self.config.rootpath),
            tests=tests,
            data=data,
            environment={
                "python": sys.version.split()[0],
                "platform": sys.platform,
                "pytest": pytest.__version__,
                "mlgate": __version__,
            },
            run=actor(),
        ).sealed()
        out = self.output_dir()
        self.bundle_path = bundle.write(out / "results.json")
        from .report.junit import write_junit

        write_junit(bundle, out / "junit.xml")
        self.bundle = bundle

    def pytest_terminal_summary(self, terminalreporter) -> None:
        bundle = self.bundle
        if bundle is None:
            return
        tr = terminalreporter
        tr.write_sep("-", "mlgate")
        n_metrics = sum(len(t.metrics) for t in bundle.tests)
        model = bundle.model or "no model"
        tr.write_line(f"bundle: {self.bundle_path} ({len(bundle.tests)} tests, {n_metrics} "
                      f"metrics; {model}; {bundle.digest[:19]}…)")
        if bundle.model is None or bundle.model.version is None:
            tr.write_line("note: the bundle is not bound to a model version, so `mlgate gate` "
                          "will reject it; pass --mlgate-model NAME --mlgate-model-version VERSION")
        if any(t.rubric for t in bundle.tests):
            from .rubric import score

            rubric = score(bundle.tests)
            parts = ", ".join(f"{k} {v:g}" for k, v in rubric.sections.items())
            tr.write_line(f"ML Test Score: {rubric.score:g} of 7 ({parts}); "
                          f"{len(rubric.untested)} of 28 items have no test")
        for text in self.warnings:
            tr.write_line(f"warning: {text}")


collector_key = pytest.StashKey[Collector]()

