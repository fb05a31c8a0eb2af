"""The bundle's metrics in OpenMetrics text, for GitLab's metrics report
(``artifacts:reports:metrics``), which shows each metric and its change on the merge request.

One gauge family per metric name, ``mlgate_metric_<name>``, with the labels ``metric`` (the name
as recorded) and ``test`` (the test's node id); the threshold, when there is one, as
``mlgate_threshold_<name>``. Counts of tests by outcome (``mlgate_tests``) and, given a decision,
of rules by status (``mlgate_rules``) and the verdict (``mlgate_verdict``). Names are made valid
(``[a-zA-Z_:][a-zA-Z0-9_:]*``), label values escaped, the text ends with ``# EOF``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision

LABEL_LIMIT = 1000  # characters of one label value
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def metric_name(name: str, prefix: str = "mlgate_metric_") -> str:
    """A valid OpenMetrics name for ``name``: invalid characters become ``_``."""
    return prefix + (_INVALID.sub("_", name) or "_")


def escape_label(value: str) -> str:
    value = str(value)
    if len(value) > LABEL_LIMIT:
        value = value[: LABEL_LIMIT - 1] + "…"
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "+Inf" if x > 0 else "-Inf"
    return repr(float(x))


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items()) + "}"


def openmetrics_text(bundle: Bundle, decision: Decision | None = None) -> str:
    families: dict[str, dict[str, float]] = {}  # family -> rendered labels -> value
    helps: dict[str, str] = {}

    def add(family: str, labels: dict[str, str], value: float, help_text: str) -> None:
        samples = families.setdefault(family, {})
        helps.setdefault(family, help_text)
        samples.setdefault(_labels(labels), value)  # the first record of a duplicate wins

    for test in sorted(bundle.tests, key=lambda t: t.nodeid):
        for m in test.metrics:
            labels = {"metric": m.name, "test": test.nodeid}
            add(metric_name(m.name), labels, m.value, "a metric recorded by a test")
            if m.threshold is not None:
                add(metric_name(m.name, "mlgate_threshold_"), labels, m.threshold,
                    f"the threshold of the metric ({m.direction} is better)")
    for outcome, n in sorted(Counter(t.outcome for t in bundle.tests).items()):
        add("mlgate_tests", {"outcome": outcome}, n, "tests by outcome")
    if decision is not None:
        for status, n in sorted(Counter(r.status for r in decision.reasons).items()):
            add("mlgate_rules", {"status": status}, n, "gate rules by status")
        add("mlgate_verdict", {"verdict": decision.verdict}, 1, "the gate's verdict")

    lines: list[str] = []
    for family in sorted(families):
        lines.append(f"# TYPE {family} gauge")
        lines.append(f"# HELP {family} {helps[family]}")
        lines += [f"{family}{labels} {_value(v)}" for labels, v in families[family].items()]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
