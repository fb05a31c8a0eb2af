"""The ML Test Score rubric (Breck, Cai, Nielsen, Salib, Sculley: "The ML Test Score: A Rubric
for ML Production Readiness and Technical Debt Reduction", IEEE Big Data 2017).

Tag a test with the items it covers::

    @pytest.mark.mltest("Model 6", "Monitor 7")
    def test_no_slice_regressed(mlgate, ...): ...

Scoring as in the paper: per item, half a point when the test is run by hand with its results
documented, a full point when it is automated and run repeatedly. A test in a pytest run is
automated, so an item scores 1 when at least one test tagged with it passed in the bundle, and
0 otherwise (no tagged test, or none passed). Each section scores the sum of its seven items;
the ML Test Score is the *minimum* over the four sections (0 to 7), so the weakest area bounds
the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SECTIONS = ("Data", "Model", "Infra", "Monitor")

ITEMS: dict[str, str] = {
    "Data 1": "Feature expectations are captured in a schema",
    "Data 2": "All features are beneficial",
    "Data 3": "No feature's cost is too much",
    "Data 4": "Features adhere to meta-level requirements",
    "Data 5": "The data pipeline has appropriate privacy controls",
    "Data 6": "New features can be added quickly",
    "Data 7": "All input feature code is tested",
    "Model 1": "Model specs are reviewed and submitted",
    "Model 2": "Offline and online metrics correlate",
    "Model 3": "All hyperparameters have been tuned",
    "Model 4": "The impact of model staleness is known",
    "Model 5": "A simpler model is not better",
    "Model 6": "Model quality is sufficient on important data slices",
    "Model 7": "The model is tested for considerations of inclusion",
    "Infra 1": "Training is reproducible",
    "Infra 2": "Model specs are unit tested",
    "Infra 3": "The ML pipeline is integration tested",
    "Infra 4": "Model quality is validated before serving",
    "Infra 5": "The model is debuggable",
    "Infra 6": "Models are canaried before serving",
    "Infra 7": "Serving models can be rolled back",
    "Monitor 1": "Dependency changes result in notification",
    "Monitor 2": "Data invariants hold for inputs",
    "Monitor 3": "Training and serving are not skewed",
    "Monitor 4": "Models are not too stale",
    "Monitor 5": "Models are numerically stable",
    "Monitor 6": "Computing performance has not regressed",
    "Monitor 7": "Prediction quality has not regressed",
}

_ITEM = re.compile(r"^\s*(data|model|infra|monitor)\s*[-_ ]?\s*([1-7])\s*$", re.IGNORECASE)


def normalise(item: str) -> str:
    """``"model 6"``, ``"Model-6"``, ``"MODEL6"`` → ``"Model 6"``; anything else is an error."""
    m = _ITEM.match(str(item))
    if not m:
        raise ValueError(f"{item!r} is not an ML Test Score item; use 'Data 1' .. 'Data 7', "
                         "'Model 1' .. 'Model 7', 'Infra 1' .. 'Infra 7' or 'Monitor 1' .. 'Monitor 7'")
    return f"{m.group(1).capitalize()} {m.group(2)}"


@dataclass(frozen=True)
class Score:
    items: dict[str, float]          # every item: 1.0 automated and passed, else 0.0
    tests: dict[str, list[str]]      # item -> the tests tagged with it

    @property
    def sections(self) -> dict[str, float]:
        return {s: sum(v for k, v in self.items.items() if k.startswith(s + " ")) for s in SECTIONS}

    @property
    def score(self) -> float:
        return min(self.sections.values())

    @property
    def untested(self) -> list[str]:
        return [k for k in ITEMS if not self.tests.get(k)]

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "sections": self.sections,
                "items": {k: {"title": ITEMS[k], "points": self.items[k],
                              "tests": self.tests.get(k, [])} for k in ITEMS},
                "untested": self.untested}


def score(tests: Iterable[Any]) -> Score:
    """The rubric of a bundle's tests (each with ``rubric`` items and an ``outcome``)."""
    items = dict.fromkeys(ITEMS, 0.0)
    tagged: dict[str, list[str]] = {}
    for test in tests:
        for item in test.rubric:
            tagged.setdefault(item, []).append(test.nodeid)
            if test.outcome == "passed":
                items[item] = 1.0
    return Score(items, tagged)
