"""Run a Deepchecks tabular suite (or one check) and turn each condition into an mlgate record:
:class:`DeepchecksResult` satisfies ``mlgate.record.CheckResult``, so
``mlgate.check(run_deepchecks(suite, train=…, test=…))`` records it and fails the test on failures.

Traps of Deepchecks 0.19 handled here:

- ``FeatureDrift`` and other checks silently subsample to ``n_samples`` rows (100,000 by
  default); here every check that samples is set to all rows unless ``n_samples`` says otherwise,
  and the evidence records what each check used.
- ``save_as_html`` never overwrites: given an existing ``x.html`` it writes ``x (1).html``; the old
  file is removed first and the written path is checked.
- A full suite raises hundreds of scikit-learn and pandas deprecation warnings (1,282 seen in one
  run), and with ``-W error`` they would become errors inside Deepchecks; they are caught during
  the run and only counted in the evidence. Its progress bars (on stderr) are swallowed too.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import MissingExtraError
from mlgate.quiet import caught_warnings
from mlgate.record import Metric

#: Deepchecks' condition categories, as mlgate names them
STATUSES = {"PASS": "passed", "FAIL": "failed", "WARN": "warning", "ERROR": "error"}
TESTED = ("mlgate-deepchecks is tested with deepchecks 0.19.1 on numpy 1.26, pandas 2.3, "
          "scikit-learn 1.7 and setuptools < 81 (it needs pkg_resources)")
MAX_VALUE_METRICS = 500


@dataclass(frozen=True)
class DeepchecksCondition:
    """One condition of one check. ``status``: ``passed``, ``failed``, ``warning``, ``error``
    (the condition could not be evaluated), or ``not-run`` (the check itself did not run, e.g. a
    date-leakage check on data without dates; ``condition`` is then empty)."""

    check: str
    condition: str
    status: str
    details: str = ""
    value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "condition": self.condition,
            "status": self.status,
            "details": self.details[:1000],
            "value": self.value if self.value is not None and math.isfinite(self.value) else None,
        }


@dataclass(frozen=True)
class DeepchecksResult:
    """The conditions of one Deepchecks run (a ``CheckResult``)."""

    conditions: tuple[DeepchecksCondition, ...]
    name: str = "deepchecks"
    #: numbers from the checks' values, by mlgate metric name (recorded without thresholds)
    values: dict[str, float] = field(default_factory=dict)
    html: str | None = None
    version: str = ""
    n_samples: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    fail_if_warning: bool = True
    fail_if_check_not_run: bool = False
    warnings_caught: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[DeepchecksCondition, ...]:
        bad = {"failed", "error"}
        if self.fail_if_warning:
            bad.add("warning")
        if self.fail_if_check_not_run:
            bad.add("not-run")
        return tuple(c for c in self.conditions if c.status in bad)

    @property
    def evaluated(self) -> tuple[DeepchecksCondition, ...]:
        return tuple(c for c in self.conditions if c.status != "not-run")

    def metrics(self) -> list[Metric]:
        out = [Metric(name, value) for name, value in self.values.items()]
        out.append(Metric(f"{self.name}_failed_conditions", float(len(self.failed)), 0.0, "lower"))
        return out

    def evidence(self) -> dict[str, Any]:
        return {
            "tool": "deepchecks",
            "version": self.version,
            "counts": dict(sorted(Counter(c.status for c in self.conditions).items())),
            "conditions": [c.to_json() for c in self.conditions],
            "html": self.html,
            "rows": self.rows,
            "n_samples": self.n_samples,
            "warnings": {"count": len(self.warnings_caught),
                         "distinct": sorted(set(self.warnings_caught))[:10]},
        }

    def failures(self) -> list[str]:
        messages = [f"{c.check}: {c.condition or 'did not run'} [{c.status}]"
                    + (f": {_one_line(c.details)}" if c.details else "") for c in self.failed]
        if not messages and not self.evaluated:  # fail closed: nothing was checked
            messages.append("Deepchecks evaluated no condition: the checks that ran have none. Add "
                            "conditions (e.g. FeatureDrift().add_condition_drift_score_less_than()) "
                            "or run a built-in suite, whose checks come with conditions")
        return messages


def run_deepchecks(
    suite_or_check: Any,
    *,
    train: Any = None,
    test: Any = None,
    model: Any = None,
    label: str | None = None,
    cat_features: list[str] | None = None,
    n_samples: int | str | None = "all",
    html: str | os.PathLike[str] | None = None,
    name: str = "deepchecks",
    fail_if_warning: bool = True,
    fail_if_check_not_run: bool | None = None,
    **run_kwargs: Any,
) -> DeepchecksResult:
    """Run a Deepchecks tabular suite or check and return its conditions as records.

    ``train``, ``test``: ``deepchecks.tabular.Dataset`` objects, or DataFrames made into one with
    ``label`` and ``cat_features``. ``model``, ``run_kwargs``: passed to ``Suite.run``.
    ``n_samples``: ``"all"`` (default) sets every check that samples to use all rows (Deepchecks
    samples 100,000 silently), an int sets that many, ``None`` leaves the checks as they are.
    ``html``: where to write Deepchecks' HTML report (replaced if it exists); the path goes into
    the evidence, so put it under the report folder. ``name``: the evidence key and the prefix of
    the metric names (``deepchecks.feature_drift.age.drift_score``, ``deepchecks_failed_conditions``).
    As ``SuiteResult.passed()`` does, a condition that warns fails the check
    (``fail_if_warning=True``) and a check of a suite that could not run does not
    (``fail_if_check_not_run``: ``False`` for a suite, always ``True`` for one check passed alone).
    """
    with caught_warnings() as caught, redirect_stderr(io.StringIO()):  # progress bars
        deepchecks, tabular = _import_deepchecks()
        lone = not isinstance(suite_or_check, tabular.Suite)
        suite = tabular.Suite(name, suite_or_check) if lone else suite_or_check
        train_ds = _dataset(tabular, train, label, cat_features)
        test_ds = _dataset(tabular, test, label, cat_features)
        rows = {k: len(ds.data) for k, ds in (("train", train_ds), ("test", test_ds)) if ds is not None}
        samples = _set_samples(suite, n_samples, max(rows.values(), default=0))
        run_kwargs.setdefault("with_display", html is not None)  # displays cost time; only HTML needs them
        result = suite.run(train_dataset=train_ds, test_dataset=test_ds, model=model, **run_kwargs)
        conditions, values = _conditions(result, name)
        html_path = _write_html(result, html) if html is not None else None
    return DeepchecksResult(
        conditions=conditions, name=name, values=values, html=html_path,
        version=getattr(deepchecks, "__version__", ""), n_samples=samples, rows=rows,
        fail_if_warning=fail_if_warning,
        fail_if_check_not_run=lone if fail_if_check_not_run is None else fail_if_check_not_run,
        warnings_caught=tuple(caught))


# -- Deepchecks' side ---------------------------------------------------------------------------


def _import_deepchecks() -> tuple[Any, Any]:
    try:
        import deepchecks
        import deepchecks.tabular as tabular
    except ImportError as exc:
        if importlib.util.find_spec("deepchecks") is None:
            raise MissingExtraError("deepchecks", "deepchecks") from exc
        raise ImportError(f"deepchecks is installed but does not import ({exc}); {TESTED}") from exc
    return deepchecks, tabular


def _dataset(tabular: Any, data: Any, label: str | None, cat_features: list[str] | None) -> Any:
    if data is None or isinstance(data, tabular.Dataset):
        return data
    return tabular.Dataset(data, label=label, cat_features=cat_features)


def _set_samples(suite: Any, n_samples: int | str | None, rows: int) -> dict[str, int]:
    """Set ``n_samples`` on every check that samples; return what each one uses."""
    if n_samples is not None and n_samples != "all" and (
            isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1):
        raise ValueError(f"n_samples={n_samples!r}: use 'all', a positive int, or None (keep the "
                         "checks' own settings; Deepchecks samples 100,000 rows by default)")
    used: dict[str, int] = {}
    for check in suite.checks.values():
        if not hasattr(check, "n_samples"):
            continue
        if n_samples == "all":
            check.n_samples = max(rows, check.n_samples or 0)
        elif n_samples is not None:
            check.n_samples = n_samples
        used[check.name()] = int(check.n_samples)
    return used


def _conditions(result: Any, prefix: str) -> tuple[tuple[DeepchecksCondition, ...], dict[str, float]]:
    conditions: list[DeepchecksCondition] = []
    values: dict[str, float] = {}
    for check_result in result.results:
        header = str(check_result.get_header())
        if hasattr(check_result, "exception"):  # CheckFailure: the check did not run
            conditions.append(DeepchecksCondition(header, "", "not-run", str(check_result.exception)))
            continue
        scalar = _number(check_result.value)
        for cond in check_result.conditions_results:
            status = STATUSES.get(getattr(cond.category, "value", str(cond.category)), "error")
            conditions.append(DeepchecksCondition(header, str(cond.name), status, str(cond.details),
                                                  scalar))
        base = f"{prefix}.{_slug(header)}"
        for path, number in _flatten(check_result.value):
            if len(values) >= MAX_VALUE_METRICS:
                break
            key = ".".join([base, *path])
            values[key if key not in values else f"{key}#{len(values)}"] = number
    return tuple(conditions), values


def _flatten(value: Any, path: tuple[str, ...] = (),
             depth: int = 0) -> Iterator[tuple[tuple[str, ...], float]]:
    """The finite numbers in a check's value (nested dicts of numbers, to depth 3)."""
    number = _number(value)
    if number is not None:
        if math.isfinite(number):
            yield path, number
        return
    if isinstance(value, dict) and depth < 3:
        for key, item in value.items():
            yield from _flatten(item, (*path, _slug(str(key))), depth + 1)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) or type(value).__module__ == "numpy" and hasattr(value, "item"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower() or "value"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _write_html(result: Any, html: str | os.PathLike[str]) -> str:
    path = Path(html)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # Deepchecks never overwrites: it would write "name (1).html"
    written = result.save_as_html(os.fspath(path), as_widget=False)
    if written is not None and Path(written).resolve() != path.resolve():
        raise RuntimeError(f"Deepchecks wrote its HTML report to {written}, not {path}")
    if not path.is_file() or path.stat().st_size == 0:
        raise RuntimeError(f"Deepchecks wrote no HTML report to {path}")
    return path.as_posix()
