"""Run an Evidently report (a preset, a list of metrics, or the user's ``Report``) and turn each of
its tests into an mlgate record: :class:`EvidentlyResult` satisfies ``mlgate.record.CheckResult``,
so ``mlgate.check(run_evidently(reference, current))`` records it and fails the test on failures.

Traps of Evidently 0.7 handled here:

- ``Report.run(current, reference)`` takes the *current* data first; :func:`run_evidently` takes
  ``(reference, current)`` like every mlgate check and passes them in Evidently's order.
- ``Report(include_tests=False)`` is Evidently's default and yields no tests at all; here
  ``include_tests=True`` is the default, and a run with no tests is a failure (fail closed).
- ``Snapshot.save_html`` given a ``pathlib.Path`` silently writes nothing; the path is passed as a
  string and the file is checked after writing.
- ``import evidently`` emits Litestar deprecation warnings (its UI server), which a suite run
  with ``-W error`` turns into an import error; imports and the run happen with warnings caught,
  and their count is kept in the evidence.
"""

from __future__ import annotations

import copy
import importlib.util
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import MissingExtraError
from mlgate.quiet import caught_warnings
from mlgate.record import Direction, Metric

#: Evidently's test statuses, as mlgate names them
STATUSES = {"SUCCESS": "passed", "FAIL": "failed", "ERROR": "error", "WARNING": "warning",
            "SKIPPED": "skipped"}
TESTED = ("mlgate-evidently is tested with evidently 0.7.23 on pandas 2.3, numpy 1.26 (pandas 3 "
          "breaks it): pip install 'mlgate[evidently]' in an environment with pandas < 3")


@dataclass(frozen=True)
class EvidentlyTest:
    """One Evidently test, as mlgate keeps it.

    ``status``: ``passed``, ``failed``, ``error``, ``warning`` (a non-critical test whose condition
    was not met) or ``skipped``. ``threshold`` is kept only when it reproduces Evidently's verdict
    with ``direction`` (a threshold relative to the reference, for instance, is not a number)."""

    name: str
    metric: str
    status: str
    description: str
    value: float | None = None
    threshold: float | None = None
    direction: Direction = "lower"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "metric": self.metric,
            "status": self.status,
            "value": _json_number(self.value),
            "threshold": _json_number(self.threshold),
            "direction": self.direction,
            "condition": self.description,
        }


@dataclass(frozen=True)
class EvidentlyResult:
    """The tests of one Evidently run (a ``CheckResult``)."""

    tests: tuple[EvidentlyTest, ...]
    name: str = "evidently"
    html: str | None = None
    version: str = ""
    warnings_caught: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[EvidentlyTest, ...]:
        """The tests that failed or could not be computed (errors are never a pass)."""
        return tuple(t for t in self.tests if t.status in ("failed", "error"))

    def metrics(self) -> list[Metric]:
        out = [Metric(t.metric, t.value, t.threshold, t.direction)
               for t in self.tests if t.value is not None]
        out.append(Metric(f"{self.name}_failed_tests", float(len(self.failed)), 0.0, "lower"))
        return out

    def evidence(self) -> dict[str, Any]:
        counts = Counter(t.status for t in self.tests)
        return {
            "tool": "evidently",
            "version": self.version,
            "counts": dict(sorted(counts.items())),
            "tests": [t.to_json() for t in self.tests],
            "html": self.html,
            "warnings": {"count": len(self.warnings_caught),
                         "distinct": sorted(set(self.warnings_caught))[:10]},
        }

    def failures(self) -> list[str]:
        if not self.tests:
            return ["Evidently ran no tests: the report's metrics define none. Pass "
                    "include_tests=True (Evidently's default is False) or give the metrics tests, "
                    "e.g. ValueDrift(column='x', tests=[lte(0.1)])"]
        return [f"{t.name} [{t.status}]: {t.description}" for t in self.failed]


def run_evidently(
    reference: Any,
    current: Any,
    *,
    metrics: Any = None,
    include_tests: bool = True,
    html: str | os.PathLike[str] | None = None,
    name: str = "evidently",
) -> EvidentlyResult:
    """Run an Evidently report on ``reference`` and ``current`` and return its tests as records.

    ``reference``, ``current``: pandas DataFrames or ``evidently.Dataset`` objects (with your
    ``DataDefinition``). ``metrics``: ``None`` (``DataDriftPreset()``), a preset or metric, a list
    of them, or a ``Report`` you built (it is copied, never changed). ``include_tests``: turn on
    Evidently's default tests (Evidently's own default is off, which gives no tests at all).
    ``html``: where to write Evidently's HTML report (parent folders are made; the path goes into
    the evidence, so put it under the report folder, e.g. ``reports/evidently-drift.html``).
    ``name``: the evidence key and the prefix of the metric names (``evidently.ValueDrift[age].drift``
    and ``evidently_failed_tests``): use distinct names for two runs in one test session.
    """
    with caught_warnings() as caught:
        evidently, report_cls = _import_evidently()
        report = _build_report(metrics, include_tests, report_cls)
        snapshot = report.run(current, reference)  # Evidently 0.7: current first
        tests = _tests(snapshot, name)
        html_path = _write_html(snapshot, html) if html is not None else None
    return EvidentlyResult(
        tests=tests, name=name, html=html_path, version=getattr(evidently, "__version__", ""),
        warnings_caught=tuple(caught))


# -- Evidently's side ---------------------------------------------------------------------------


def _import_evidently() -> tuple[Any, Any]:
    try:
        import evidently
        from evidently import Report
    except ImportError as exc:
        if importlib.util.find_spec("evidently") is None:
            raise MissingExtraError("evidently", "evidently") from exc
        raise ImportError(f"evidently is installed but does not import ({exc}); {TESTED}") from exc
    return evidently, Report


def _build_report(metrics: Any, include_tests: bool, report_cls: Any) -> Any:
    if isinstance(metrics, report_cls):
        report = copy.copy(metrics)
        if include_tests:
            report.include_tests = True
        return report
    if metrics is None:
        from evidently.presets import DataDriftPreset

        items = [DataDriftPreset()]
    elif isinstance(metrics, (list, tuple)):
        items = list(metrics)
    else:
        items = [metrics]
    return report_cls(items, include_tests=include_tests)


def _tests(snapshot: Any, prefix: str) -> tuple[EvidentlyTest, ...]:
    out: list[EvidentlyTest] = []
    seen: Counter[str] = Counter()
    for test in snapshot.tests_results:
        bound = getattr(test, "bound_test", None)
        status = STATUSES.get(str(getattr(test.status, "value", test.status)), "error")
        metric = _metric_name(prefix, test, bound)
        seen[metric] += 1
        if seen[metric] > 1:
            metric = f"{metric}#{seen[metric]}"
        value = _value(snapshot, test, bound)
        threshold, direction = _threshold(test, bound)
        if threshold is not None and value is not None and status in ("passed", "failed"):
            met = Metric(metric, value, threshold, direction).passed
            if met != (status == "passed"):  # it would contradict Evidently's verdict
                threshold = None
        out.append(EvidentlyTest(str(test.name), metric, status, str(test.description),
                                 value, threshold, direction))
    return tuple(out)


def _metric_name(prefix: str, test: Any, bound: Any) -> str:
    params = dict(getattr(test.metric_config, "params", {}) or {})
    kind = str(params.get("type", "")).rsplit(":", 1)[-1] or "metric"
    name = f"{prefix}.{kind}"
    if params.get("column") is not None:
        name += f"[{params['column']}]"
    label = getattr(bound, "label", None)
    if label is not None:
        name += f"[{label}]"
    for attr, yes, no in (("is_count", "count", "share"), ("is_mean", "mean", "std")):
        if hasattr(bound, attr):
            name += "." + (yes if getattr(bound, attr) else no)
    if getattr(bound, "slot", None):
        name += f".{bound.slot}"
    return name + (f".{test.id}" if getattr(test, "id", "") else "")


def _value(snapshot: Any, test: Any, bound: Any) -> float | None:
    """The number Evidently tested, where it exposes one."""
    results = snapshot.metric_results
    result = None
    for key in (getattr(bound, "metric_fingerprint", None), getattr(test.metric_config, "metric_id", None)):
        if key is not None and key in results:
            result = results[key]
            break
    if result is None:
        return None
    try:
        if hasattr(bound, "is_count"):
            value = result.get_count() if bound.is_count else result.get_share()
        elif hasattr(bound, "is_mean"):
            value = result.get_mean() if bound.is_mean else result.get_std()
        elif getattr(bound, "label", None) is not None:
            value = result.get_label_result(bound.label)
            if getattr(bound, "slot", None) is not None:
                value = value[0] if bound.slot == "count" else value[1]
        else:
            value = result
        return _number(value)
    except (AttributeError, IndexError, KeyError, TypeError, ValueError):
        return None


def _threshold(test: Any, bound: Any) -> tuple[float | None, Direction]:
    check = getattr(bound, "test", None)
    kind = type(check).__name__
    if kind in ("LessOrEqualMetricTest", "LessThanMetricTest"):
        return _number(getattr(check, "threshold", None)), "lower"
    if kind in ("GreaterOrEqualMetricTest", "GreaterThanMetricTest"):
        return _number(getattr(check, "threshold", None)), "higher"
    if kind == "ValueDriftTest":
        params = dict(getattr(test.metric_config, "params", {}) or {})
        method = str(params.get("method") or "").lower()
        # a p-value drifts when it is small; a distance when it is large
        return _number(params.get("threshold")), "higher" if "p_value" in method else "lower"
    return None, "lower"


def _number(value: Any) -> float | None:
    for _ in range(3):  # SingleValue(value=…) and the like
        if isinstance(value, (int, float)) or value is None:
            break
        value = getattr(value, "value", value)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _json_number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _write_html(snapshot: Any, html: str | os.PathLike[str]) -> str:
    path = Path(html)
    path.parent.mkdir(parents=True, exist_ok=True)
    snapshot.save_html(os.fspath(path))  # a pathlib.Path is silently ignored by Evidently 0.7
    if not path.is_file() or path.stat().st_size == 0:
        raise RuntimeError(f"Evidently wrote no HTML report to {path}")
    return path.as_posix()
