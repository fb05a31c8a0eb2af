"""The policy: what a model version must show before it is promoted.

Read from ``mlgate.toml`` (top level) or ``pyproject.toml`` (``[tool.mlgate]``)::

    model = "iris-classifier"     # optional: the registered model this policy gates
    max_age = "24h"               # refuse bundles older than this ("unlimited" to turn off)
    champion_alias = "champion"   # the registry alias that names the current champion
    allow_failures = false        # any failed or errored test rejects (the default)

    [require]
    families = ["data", "model"]  # each needs >= 1 test, and all its tests passed
    tests = ["tests/test_model.py::test_accuracy"]   # each must exist and have passed
    ml_test_score = 2             # the ML Test Score of the run's @pytest.mark.mltest tags

    [security]                    # globals the model-file scanner trusts beyond its allowlist
    allow_globals = ["mypackage.models.MyNet"]

    [[rule]]                      # an absolute bound on a recorded metric
    kind = "bound"
    metric = "accuracy"
    min = 0.90                    # and/or max = …
    on = "lower"                  # "value" (default), or the interval's "lower"/"upper" bound

    [[rule]]                      # not worse than the champion by more than a margin
    kind = "champion"
    metric = "accuracy"
    margin = 0.01

    [[rule]]                      # paired: the interval of candidate - champion on the same rows
    kind = "noninferiority"
    metric = "accuracy_vs_champion"
    margin = 0.01

    [[rule]]                      # not slower than the champion (benchmark "predict")
    kind = "benchmark"
    metric = "predict"
    tolerance = 0.05              # 5% slower is accepted; a regression also needs significance
    alpha = 0.01

    [[rule]]                      # cost per million predictions from a recorded throughput
    kind = "cost"
    metric = "predict.throughput"
    price_per_hour = 3.06
    max_per_million = 0.50

Every error names the file, the key and the fix. Parsing is strict: an unknown key is an error,
because a typo in a policy would otherwise silently switch a check off.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bundle import sha256_digest
from .errors import PolicyError
from .record import DIRECTIONS, FAMILIES

DEFAULT_MAX_AGE = 24 * 3600.0
BOUND_ON = ("value", "lower", "upper")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class BoundRule:
    """``metric`` (its value, or an end of its interval) must lie within [min, max]."""

    id: str
    metric: str
    min: float | None = None
    max: float | None = None
    on: str = "value"
    kind: str = "bound"


@dataclass(frozen=True)
class ChampionRule:
    """``metric`` must not be worse than the champion's by more than ``margin``."""

    id: str
    metric: str
    margin: float = 0.0
    direction: str | None = None  # None: the direction the metric was recorded with
    kind: str = "champion"


@dataclass(frozen=True)
class NoninferiorityRule:
    """A paired comparison with the champion (``metric`` = candidate − champion, positive when
    the candidate is better, recorded with its interval, e.g. by ``mlgate.model.compare``):
    pass when the interval's low end is at least ``-margin``, fail when its high end is below
    ``-margin``, review when the interval straddles ``-margin``."""

    id: str
    metric: str
    margin: float = 0.0
    kind: str = "noninferiority"


@dataclass(frozen=True)
class BenchmarkRule:
    """The candidate must not be slower than the champion on benchmark ``metric`` (its name, as
    given to the benchmark fixture) by more than ``tolerance``, with statistical support at
    ``alpha``. An interleaved re-run of the champion in the same job
    (``mlgate_benchmark.compare``) is preferred; otherwise the candidate's rounds are compared
    with those in the champion's bundle (:func:`mlgate.perf.regression.regression`), never
    across machines unless ``allow_other_machine``."""

    id: str
    metric: str
    tolerance: float = 0.05
    alpha: float = 0.01
    allow_other_machine: bool = False
    kind: str = "benchmark"


@dataclass(frozen=True)
class CostRule:
    """Cost per million predictions from a recorded throughput ``metric`` (predictions per
    second, or requests per second times ``predictions_per_unit``) at ``price_per_hour``; it
    must be at most ``max_per_million``."""

    id: str
    metric: str
    price_per_hour: float = 0.0
    max_per_million: float = 0.0
    predictions_per_unit: float = 1.0
    kind: str = "cost"


Rule = BoundRule | ChampionRule | NoninferiorityRule | BenchmarkRule | CostRule
RULE_KINDS: dict[str, type] = {"bound": BoundRule, "champion": ChampionRule,
                               "noninferiority": NoninferiorityRule, "benchmark": BenchmarkRule,
                               "cost": CostRule}


@dataclass(frozen=True)
class Policy:
    source: str = "<defaults>"
    model: str | None = None
    max_age: float | None = DEFAULT_MAX_AGE
    champion_alias: str = "champion"
    allow_failures: bool = False
    require_families: tuple[str, ...] = ()
    require_tests: tuple[str, ...] = ()
    require_ml_test_score: float | None = None
    rules: tuple[Rule, ...] = ()
    #: globals the model-file scanner accepts beyond its allowlist ([security] allow_globals)
    allow_globals: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "max_age": self.max_age,
            "champion_alias": self.champion_alias,
            "allow_failures": self.allow_failures,
            "require": {"families": list(self.require_families), "tests": list(self.require_tests),
                        "ml_test_score": self.require_ml_test_score},
            "rules": [_rule_json(r) for r in self.rules],
            **({"security": {"allow_globals": list(self.allow_globals)}}
               if self.allow_globals else {}),
        }

    @property
    def digest(self) -> str:
        """Digest of the policy's meaning (not its formatting or comments)."""
        return sha256_digest(self.to_json())


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {k: v for k, v in rule.__dict__.items() if v is not None}


def parse_duration(text: Any, *, file: str, key: str) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    elif isinstance(text, str) and text.strip().lower() in ("unlimited", "none", "off"):
        return None
    elif isinstance(text, str) and (m := _DURATION.match(text)):
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise PolicyError(
            f"cannot read the duration {text!r}", file=file, key=key,
            fix='write a number of seconds or a string like "90m", "24h", "7d" (or "unlimited")',
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise PolicyError(f"duration must be positive, got {text!r}", file=file, key=key,
                          fix='e.g. max_age = "24h"')
    return seconds


def find_policy(start: str | Path = ".") -> Path | None:
    """``mlgate.toml``, else a ``pyproject.toml`` with ``[tool.mlgate]``, in ``start``."""
    start = Path(start)
    candidate = start / "mlgate.toml"
    if candidate.is_file():
        return candidate
    pyproject = start / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text("utf-8")).get("tool", {})
            if isinstance(tool, dict) and "mlgate" in tool:
                return pyproject
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return pyproject  # let load_policy report the parse error with its position
    return None


def load_policy(path: str | Path) -> Policy:
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError("no such file", file=source,
                          fix="pass --policy with the path of your mlgate.toml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read: {exc}", file=source) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"not valid TOML: {exc}", file=source,
                          fix="correct the syntax at the position shown") from None
    prefix = ""
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("mlgate") if isinstance(tool, dict) else None
        if table is None:
            raise PolicyError("has no [tool.mlgate] table", file=source, key="tool.mlgate",
                              fix="add a [tool.mlgate] table, or point --policy at mlgate.toml")
        data, prefix = table, "tool.mlgate."
    return parse_policy(data, source=source, prefix=prefix)


_TOP_KEYS = {"model", "max_age", "champion_alias", "allow_failures", "require", "rule", "rules",
             "security"}


def parse_policy(data: dict[str, Any], *, source: str = "<policy>", prefix: str = "") -> Policy:
    def err(key: str, message: str, fix: str | None = None) -> PolicyError:
        return PolicyError(message, file=source, key=(prefix + key).rstrip(".") or None, fix=fix)

    if not isinstance(data, dict):
        raise err("", "the policy must be a table")
    for key in data:
        if key not in _TOP_KEYS:
            raise err(key, "unknown key", f"use one of: {', '.join(sorted(_TOP_KEYS - {'rules'}))}")

    model = data.get("model")
    if model is not None and (not isinstance(model, str) or not model):
        raise err("model", f"must be a model name (a string), got {model!r}")
    max_age = (
        parse_duration(data["max_age"], file=source, key=prefix + "max_age")
        if "max_age" in data else DEFAULT_MAX_AGE
    )
    alias = data.get("champion_alias", "champion")
    if not isinstance(alias, str) or not alias:
        raise err("champion_alias", f"must be a non-empty string, got {alias!r}")
    allow_failures = data.get("allow_failures", False)
    if not isinstance(allow_failures, bool):
        raise err("allow_failures", f"must be true or false, got {allow_failures!r}")

    require = data.get("require", {})
    if not isinstance(require, dict):
        raise err("require", "must be a table: [require]")
    for key in require:
        if key not in ("families", "tests", "ml_test_score"):
            raise err(f"require.{key}", "unknown key",
                      "use require.families, require.tests or require.ml_test_score")
    min_score = _number(require, "ml_test_score", err, "require")
    if min_score is not None and not 0 <= min_score <= 7:
        raise err("require.ml_test_score", f"must be between 0 and 7, got {min_score:g}",
                  "the ML Test Score is the minimum over four sections of seven items")
    families = _str_list(require.get("families", []), err, "require.families")
    for fam in families:
        if fam not in FAMILIES:
            raise err("require.families", f"unknown family {fam!r}",
                      f"use some of: {', '.join(FAMILIES)}")
    tests = _str_list(require.get("tests", []), err, "require.tests")

    security = data.get("security", {})
    if not isinstance(security, dict):
        raise err("security", "must be a table: [security]")
    for key in security:
        if key != "allow_globals":
            raise err(f"security.{key}", "unknown key",
                      'use security.allow_globals = ["mypackage.models.MyNet"]')
    allow_globals = _str_list(security.get("allow_globals", []), err, "security.allow_globals")
    for name in allow_globals:
        if "." not in name.strip(".") or any(c.isspace() for c in name):
            raise err("security.allow_globals", f"{name!r} is not a dotted global name",
                      'write module and name, e.g. "mypackage.models.MyNet"')

    if "rule" in data and "rules" in data:
        raise err("rules", "both [[rule]] and [[rules]] are given", "keep one of them")
    rules_key = "rules" if "rules" in data else "rule"
    raw_rules = data.get(rules_key, [])
    if not isinstance(raw_rules, list):
        raise err(rules_key, "must be an array of tables: [[rule]]")
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        rules.append(_parse_rule(raw, f"{rules_key}[{i}]", err))
    ids = [r.id for r in rules]
    for rid in ids:
        if ids.count(rid) > 1:
            raise err(rules_key, f"two rules have the id {rid!r}",
                      "give each rule a distinct `id`")
    return Policy(
        source=source, model=model, max_age=max_age, champion_alias=alias,
        allow_failures=allow_failures, require_families=tuple(families),
        require_tests=tuple(tests), require_ml_test_score=min_score, rules=tuple(rules),
        allow_globals=tuple(allow_globals),
    )


def _str_list(value: Any, err, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise err(key, f"must be a list of strings, got {value!r}")
    return list(value)


def _number(raw: dict, name: str, err, key: str) -> float | None:
    if name not in raw:
        return None
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise err(f"{key}.{name}", f"must be a finite number, got {value!r}",
                  f"write a plain number, e.g. {name} = 0.9")
    return float(value)


def _parse_rule(raw: Any, key: str, err) -> Rule:
    if not isinstance(raw, dict):
        raise err(key, "each rule must be a table")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise err(f"{key}.kind", f"unknown rule kind {kind!r}",
                  f"use one of: {', '.join(sorted(RULE_KINDS))}")
    metric = raw.get("metric")
    if not isinstance(metric, str) or not metric:
        raise err(f"{key}.metric", "every rule names the metric it checks: metric = \"accuracy\"")
    rid = raw.get("id", f"{kind}:{metric}")
    if not isinstance(rid, str) or not rid:
        raise err(f"{key}.id", f"must be a non-empty string, got {rid!r}")
    if kind == "bound":
        allowed = {"kind", "id", "metric", "min", "max", "on"}
        _no_unknown(raw, allowed, key, err)
        lo, hi = _number(raw, "min", err, key), _number(raw, "max", err, key)
        if lo is None and hi is None:
            raise err(key, "a bound rule needs min, max or both", "e.g. min = 0.9")
        if lo is not None and hi is not None and lo > hi:
            raise err(key, f"min {lo} is above max {hi}", "swap them, or drop one of them")
        on = raw.get("on", "value")
        if on not in BOUND_ON:
            raise err(f"{key}.on", f"must be one of {BOUND_ON}, got {on!r}")
        return BoundRule(id=rid, metric=metric, min=lo, max=hi, on=on)
    if kind == "benchmark":
        _no_unknown(raw, {"kind", "id", "metric", "tolerance", "alpha", "allow_other_machine"},
                    key, err)
        tol = _number(raw, "tolerance", err, key)
        tol = 0.05 if tol is None else tol
        if tol < 0:
            raise err(f"{key}.tolerance", f"must be >= 0, got {tol}",
                      "the slowdown accepted, e.g. tolerance = 0.05 for 5%")
        alpha = _number(raw, "alpha", err, key)
        alpha = 0.01 if alpha is None else alpha
        if not 0 < alpha < 0.5:
            raise err(f"{key}.alpha", f"must be between 0 and 0.5, got {alpha}",
                      "the one-sided error of calling a regression, e.g. alpha = 0.01")
        other = raw.get("allow_other_machine", False)
        if not isinstance(other, bool):
            raise err(f"{key}.allow_other_machine", f"must be true or false, got {other!r}")
        return BenchmarkRule(id=rid, metric=metric, tolerance=tol, alpha=alpha,
                             allow_other_machine=other)
    if kind == "cost":
        _no_unknown(raw, {"kind", "id", "metric", "price_per_hour", "max_per_million",
                          "predictions_per_unit"}, key, err)
        values = {}
        for name, example in (("price_per_hour", "3.06"), ("max_per_million", "0.50")):
            value = _number(raw, name, err, key)
            if value is None or value < 0:
                raise err(f"{key}.{name}", f"a cost rule needs {name} >= 0, got {value}",
                          f"e.g. {name} = {example}")
            values[name] = value
        per_unit = _number(raw, "predictions_per_unit", err, key)
        per_unit = 1.0 if per_unit is None else per_unit
        if per_unit <= 0:
            raise err(f"{key}.predictions_per_unit", f"must be > 0, got {per_unit}",
                      "rows per request for a load test's requests_per_second, e.g. 32")
        return CostRule(id=rid, metric=metric, predictions_per_unit=per_unit, **values)
    allowed = {"kind", "id", "metric", "margin"}
    if kind == "champion":
        allowed.add("direction")
    _no_unknown(raw, allowed, key, err)
    margin = _number(raw, "margin", err, key)
    margin = 0.0 if margin is None else margin
    if margin < 0:
        raise err(f"{key}.margin", f"must be >= 0, got {margin}")
    if kind == "noninferiority":
        return NoninferiorityRule(id=rid, metric=metric, margin=margin)
    direction = raw.get("direction")
    if direction is not None and direction not in DIRECTIONS:
        raise err(f"{key}.direction", f"must be one of {DIRECTIONS}, got {direction!r}")
    return ChampionRule(id=rid, metric=metric, margin=margin, direction=direction)


def _no_unknown(raw: dict, allowed: set[str], key: str, err) -> None:
    for name in raw:
        if name not in allowed:
            raise err(f"{key}.{name}", "unknown key", f"use one of: {', '.join(sorted(allowed))}")
