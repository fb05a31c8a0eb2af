"""Fairness: group rates and the four gate measures, against hand computation and fairlearn."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from mlgate.errors import InputError
from mlgate.model.fairness import fairness
from mlgate.record import CheckResult


def _values(result):
    return {m.name: m.value for m in result.metrics()}


def test_hand_computed_example():
    # group a: 4 rows, 3 selected; y=1 rows: 2 (both selected), y=0 rows: 2 (1 selected)
    # group b: 4 rows, 1 selected; y=1 rows: 2 (1 selected), y=0 rows: 2 (0 selected)
    y = [1, 1, 0, 0, 1, 1, 0, 0]
    p = [1, 1, 1, 0, 1, 0, 0, 0]
    g = ["a"] * 4 + ["b"] * 4
    r = fairness(y, p, g)
    assert isinstance(r, CheckResult) and r.name == "fairness"
    assert _values(r) == {
        "fairness_demographic_parity_difference": 0.5,  # 3/4 - 1/4
        "fairness_disparate_impact_ratio": pytest.approx(1 / 3),  # (1/4) / (3/4)
        "fairness_equal_opportunity_difference": 0.5,  # TPR 1 - 1/2
        "fairness_equalized_odds_difference": 0.5,  # max(TPR 0.5, FPR 1/2 - 0)
    }
    dirs = {m.name: (m.threshold, m.direction) for m in r.metrics()}
    assert dirs["fairness_disparate_impact_ratio"] == (0.8, "higher")
    assert dirs["fairness_demographic_parity_difference"] == (0.1, "lower")
    assert r.failures()[0] == ("demographic parity difference 0.5 is above 0.1: selection rate 0.75 for "
                               "group 'a' (n=4) against 0.25 for group 'b' (n=4)")
    assert len(r.failures()) == 4
    ev = json.loads(json.dumps(r.evidence(), allow_nan=False))
    a = ev["groups"][0]
    assert a["group"] == "a" and a["selection_rate"]["count"] == 3 and a["selection_rate"]["of"] == 4
    assert a["true_positive_rate"]["rate"] == 1.0 and a["false_positive_rate"]["rate"] == 0.5
    lo, hi = a["selection_rate"]["interval"]
    assert lo < 0.75 < hi


def test_equal_rates_pass():
    y = [1, 0, 1, 0, 1, 1, 0, 0]
    p = [1, 0, 0, 0, 1, 0, 0, 0]
    r = fairness(y, p, ["x"] * 4 + ["y"] * 4)
    assert _values(r) == {"fairness_demographic_parity_difference": 0.0,
                          "fairness_disparate_impact_ratio": 1.0,
                          "fairness_equal_opportunity_difference": 0.0,
                          "fairness_equalized_odds_difference": 0.0}
    assert r.failures() == []


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_fairlearn(seed):
    fm = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(seed)
    n = 700
    g = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    y = rng.integers(0, 2, n)
    p = (rng.random(n) < np.where(g == "a", 0.6, 0.45) + 0.1 * y).astype(int)
    v = _values(fairness(y, p, g))
    kw = {"sensitive_features": g}
    assert v["fairness_demographic_parity_difference"] == pytest.approx(
        fm.demographic_parity_difference(y, p, **kw), abs=1e-12)
    assert v["fairness_disparate_impact_ratio"] == pytest.approx(fm.demographic_parity_ratio(y, p, **kw),
                                                                 abs=1e-12)
    assert v["fairness_equal_opportunity_difference"] == pytest.approx(
        fm.equal_opportunity_difference(y, p, **kw), abs=1e-12)
    assert v["fairness_equalized_odds_difference"] == pytest.approx(
        fm.equalized_odds_difference(y, p, method="between_groups", **kw), abs=1e-12)


def test_string_labels_pos_label_and_combined_attributes():
    frame = pd.DataFrame({"sex": ["f", "f", "m", "m"] * 2, "age": ["young"] * 4 + ["old"] * 4})
    y = ["good", "bad"] * 4
    p = ["good", "good", "bad", "good", "bad", "bad", "good", "bad"]
    r = fairness(y, p, ["sex", "age"], data=frame, pos_label="good")
    assert [g.name for g in r.groups] == ["sex=f & age=old", "sex=f & age=young",
                                          "sex=m & age=old", "sex=m & age=young"]
    assert [g.selection_rate for g in r.groups] == [0.0, 1.0, 0.5, 0.5]
    single = fairness(y, p, "sex", data=frame, pos_label="good")
    assert _values(single)["fairness_demographic_parity_difference"] == 0.0


def test_without_y_true_only_selection_measures():
    r = fairness(None, [1, 0, 1, 1], ["a", "a", "b", "b"])
    assert set(_values(r)) == {"fairness_demographic_parity_difference", "fairness_disparate_impact_ratio"}
    assert r.evidence()["groups"][0]["true_positive_rate"] is None
    assert "no y_true" in r.evidence()["notes"][0]


# -- undefined rates and bad input ---------------------------------------------------------------------

def test_group_without_positives_is_left_out_and_noted():
    # group c has no positive labels: its TPR is undefined (fairlearn counts it as 0)
    y = [1, 0, 1, 0, 1, 1, 0, 0, 0]
    p = [1, 0, 0, 0, 1, 1, 1, 0, 1]
    g = ["a"] * 4 + ["b"] * 2 + ["c"] * 3
    r = fairness(y, p, g)
    v = _values(r)
    assert v["fairness_equal_opportunity_difference"] == 0.5  # TPR a 1/2, b 1; c left out
    assert v["fairness_equalized_odds_difference"] == pytest.approx(2 / 3)  # FPR a 0, c 2/3; b has none
    notes = r.evidence()["notes"]
    assert ("group 'c' has no positive labels: its TPR is undefined and left out of equal opportunity "
            "and equalized odds") in notes
    assert "group 'b' has no negative labels: its FPR is undefined and left out of equalized odds" in notes
    c = r.evidence()["groups"][2]
    assert c["true_positive_rate"] == {"rate": None, "count": 0, "of": 0, "interval": None,
                                       "note": "undefined: no rows"}


def test_one_group_or_one_class_is_nan_and_fails():
    r = fairness([1, 0, 1], [1, 0, 0], ["a", "a", "a"])
    v = _values(r)
    assert all(math.isnan(x) for x in v.values())
    assert all(m.passed is False for m in r.metrics())
    assert r.failures()[0] == ("demographic parity difference is undefined: one group only ('a'): "
                               "nothing to compare")
    json.dumps(r.evidence(), allow_nan=False)
    one_class = fairness([0, 0, 0, 0], [1, 0, 0, 0], ["a", "a", "b", "b"])
    assert math.isnan(_values(one_class)["fairness_equal_opportunity_difference"])
    assert ("equal opportunity difference is undefined: the TPR is defined for 0 of 2 groups (it needs "
            "at least 2; a group without positive labels has none)") in one_class.failures()
    none_selected = fairness([1, 0, 1, 0], [0, 0, 0, 0], ["a", "a", "b", "b"])
    assert math.isnan(_values(none_selected)["fairness_disparate_impact_ratio"])
    assert ("disparate impact ratio is undefined: no group has a single positive decision (0 / 0)"
            in none_selected.failures())


def test_bad_inputs():
    frame = pd.DataFrame({"sex": ["f", "m"], "age": [1, 2]})
    with pytest.raises(InputError, match="column 'race' is not in the data; it has: 'sex', 'age'"):
        fairness([1, 0], [1, 0], "race", data=frame)
    with pytest.raises(InputError, match="y_true has 3, y_pred has 2, sensitive has 2 rows"):
        fairness([1, 0, 1], [1, 0], ["a", "b"])
    with pytest.raises(InputError, match="y_pred has 1 missing"):
        fairness([1, 0], [1.0, np.nan], ["a", "b"])
    with pytest.raises(InputError, match="pos_label=1 occurs neither"):
        fairness(["yes", "no"], ["yes", "no"], ["a", "b"])
