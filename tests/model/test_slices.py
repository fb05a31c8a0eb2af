"""Slices: per-segment metrics, the worst slice, and the paired champion comparison."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats
from sklearn.metrics import roc_auc_score

from mlgate.errors import InputError
from mlgate.model.slices import _tango, adjust, delong, slices, wilson_interval
from mlgate.record import CheckResult


def _json(result):
    return json.loads(json.dumps(result.evidence(), allow_nan=False))


# -- exact numbers on small examples --------------------------------------------------------------

def test_accuracy_per_slice_exact_with_wilson_intervals():
    y = np.array([1, 0, 1, 1, 0, 1, 0, 0, 1, 1])
    p = np.array([1, 0, 0, 1, 0, 0, 0, 1, 1, 1])
    seg = np.array(["a"] * 4 + ["b"] * 6)
    r = slices(y, p, seg, min_size=1, threshold=0.7)
    assert isinstance(r, CheckResult) and r.name == "slices"
    assert r["a"].n == 4 and r["a"].value == 0.75
    assert r["b"].n == 6 and r["b"].value == pytest.approx(4 / 6, abs=1e-15)
    for s, k in ((r["a"], 3), (r["b"], 4)):
        ci = stats.binomtest(k, s.n).proportion_ci(0.95, method="wilson")
        assert (s.low, s.high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    worst = r.metrics()[0]
    assert (worst.name, worst.value, worst.threshold, worst.direction) == (
        "slice_worst_accuracy", pytest.approx(4 / 6), 0.7, "higher")
    assert worst.interval.low == r["b"].low
    assert _json(r)["worst_slice"] == "b"
    assert r.failures() == [
        "worst slice 'b' (6 rows): accuracy 0.6667 is below the threshold 0.7 (interval "
        f"{r['b'].low:.4g}..{r['b'].high:.4g})"]
    names = [m.name for m in r.metrics()]
    assert names == ["slice_worst_accuracy", "slice_accuracy[b]", "slice_accuracy[a]"]


def test_error_rate_and_mae_directions():
    y = np.array([0, 1, 1, 0, 1, 0])
    p = np.array([0, 1, 0, 0, 0, 0])
    r = slices(y, p, ["x", "x", "x", "y", "y", "y"], metric="error_rate", min_size=1, threshold=0.4)
    assert r["x"].value == pytest.approx(1 / 3) and r["y"].value == pytest.approx(1 / 3)
    assert r.metrics()[0].direction == "lower" and r.failures() == []
    yt = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 20.0])
    yp = np.array([1.5, 2.0, 2.0, 4.0, 12.0, 17.0])
    r = slices(yt, yp, ["s", "s", "s", "t", "t", "t"], metric="mae", min_size=1)
    assert r["s"].value == pytest.approx(0.5, abs=1e-15)
    assert r["t"].value == pytest.approx(5 / 3, abs=1e-15)
    assert r.worst.name == "t"
    assert r["t"].low <= r["t"].value <= r["t"].high


def test_roc_auc_per_slice_agrees_with_sklearn_with_delong_intervals():
    rng = np.random.default_rng(3)
    n = 600
    seg = rng.choice(["north", "south", "east"], n)
    y = rng.integers(0, 2, n)
    s = np.round(rng.random(n) + 0.4 * y, 2)  # ties on purpose
    r = slices(y, s, seg, metric="roc_auc")
    for name in ("north", "south", "east"):
        rows = seg == name
        assert r[name].value == pytest.approx(roc_auc_score(y[rows], s[rows]), abs=1e-12)
        auc, cov = delong([s[rows]], y[rows] == 1)
        half = 1.959963984540054 * math.sqrt(cov[0, 0])
        assert (r[name].low, r[name].high) == pytest.approx((auc[0] - half, auc[0] + half), abs=1e-12)
    assert r.evidence()["interval_method"] == "DeLong"


def test_callable_bootstrap_is_seeded():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 200)
    p = rng.integers(0, 2, 200)

    def agreement(t, q):
        return float(np.mean(t == q))

    r = slices(y, p, np.repeat(["a", "b"], 100), metric=agreement, n_boot=200)
    assert r.evidence() == slices(y, p, np.repeat(["a", "b"], 100), metric=agreement, n_boot=200).evidence()
    other = slices(y, p, np.repeat(["a", "b"], 100), metric=agreement, n_boot=200, seed=1)
    assert other["a"].low != r["a"].low or other["a"].high != r["a"].high
    assert r["a"].low <= r["a"].value <= r["a"].high


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.booleans()), min_size=2, max_size=25))
def test_delong_matches_its_definition_by_brute_force(rows):
    a = np.array([r[0] for r in rows], dtype=float)
    b = np.array([r[1] for r in rows], dtype=float)
    pos = np.array([r[2] for r in rows])
    auc, cov = delong([a, b], pos)
    if pos.all() or not pos.any():
        assert np.isnan(auc).all()
        return

    def psi(x, z):
        return (x > z) + 0.5 * (x == z)

    m, k = pos.sum(), (~pos).sum()
    v10 = [[psi(s[i], s[~pos]).mean() for i in np.flatnonzero(pos)] for s in (a, b)]
    v01 = [[psi(s[pos], s[j]).mean() for j in np.flatnonzero(~pos)] for s in (a, b)]
    for x, s in zip(auc, (a, b), strict=True):
        assert x == pytest.approx(roc_auc_score(pos, s), abs=1e-12)
    s10 = np.cov(v10) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(v01) if k > 1 else np.zeros((2, 2))
    assert cov == pytest.approx(s10 / m + s01 / k, abs=1e-12)


def test_callable_metric_and_small_slices_reported_not_gated():
    y = np.r_[np.ones(40), np.zeros(5)]
    p = np.r_[np.ones(30), np.zeros(10), np.ones(5)]
    seg = np.r_[np.zeros(40), np.ones(5)]

    def recall(t, q):
        return float(((t == 1) & (q == 1)).sum() / max((t == 1).sum(), 1))

    r = slices(y, p, seg, metric=recall, direction="higher", n_boot=100)
    assert r.metric == "recall"
    assert r["0.0"].gated and r["0.0"].value == 0.75
    assert not r["1.0"].gated and r["1.0"].value == 0.0  # reported, not gated
    assert r.worst.name == "0.0"
    assert "1 slice(s) below min_size=30 rows: reported, not gated" in r.evidence()["notes"]


def test_segments_from_column_callable_and_bins():
    frame = pd.DataFrame({"age": np.arange(100.0), "city": ["a", "b"] * 50})
    y = np.ones(100, dtype=int)
    p = (np.arange(100) % 4 != 0).astype(int)
    by_col = slices(y, p, "city", data=frame)
    assert [s.name for s in by_col.stats] == ["a", "b"]
    assert by_col["a"].value == 0.5 and by_col["b"].value == 1.0
    by_fn = slices(y, p, lambda d: np.where(d["age"] < 50, "young", "old"), data=frame, min_size=10)
    assert by_fn["young"].n == 50
    quartiles = slices(y, p, frame["age"], bins=4, min_size=1)
    assert [s.n for s in quartiles.stats] == [25, 25, 25, 25]
    edges = slices(y, p, "age", data=frame, bins=[0, 10, 100], min_size=1)
    assert [(s.name, s.n) for s in edges.stats] == [("(-0.001, 10.0]", 11), ("(10.0, 100.0]", 89)]
    assert _json(edges)["slices"][0]["value"] == "(-0.001, 10.0]"


def test_missing_segment_values_are_a_slice():
    seg = pd.Series(["a", None, "a", None])
    r = slices([1, 1, 0, 0], [1, 0, 0, 0], seg, min_size=1)
    assert r["null"].n == 2 and r["null"].value == 0.5
    assert _json(r)["slices"][1]["value"] is None


# -- the champion comparison ------------------------------------------------------------------------

def _classifier_pair(seed, n_slices=6, per_slice=400, planted=None, drop=0.15):
    rng = np.random.default_rng(seed)
    seg = np.repeat(np.arange(n_slices), per_slice)
    y = rng.integers(0, 2, seg.size)
    cand = np.where(rng.random(seg.size) < 0.85, y, 1 - y)
    champ = np.where(rng.random(seg.size) < 0.85, y, 1 - y)
    if planted is not None:
        rows = (seg == planted) & (rng.random(seg.size) < drop)
        cand[rows] = 1 - y[rows]
    return y, cand, champ, seg


def test_planted_worse_slice_is_found():
    y, cand, champ, seg = _classifier_pair(0, planted=2)
    r = slices(y, cand, seg, champion=champ, max_gap=0.02)
    assert [s.name for s in r.regressions] == ["2"]
    s = r["2"]
    assert s.difference < -0.1 and s.difference_high < 0
    assert s.difference == pytest.approx(s.value - s.champion, abs=1e-12)
    m = {m.name: m for m in r.metrics()}["slice_regressions"]
    assert (m.value, m.threshold, m.direction, m.passed) == (1.0, 0.0, "lower", False)
    assert any("slice '2' (400 rows) regressed" in f and "holm correction over 6 slices" in f
               for f in r.failures())
    ev = _json(r)
    assert ev["regressed_slices"] == ["2"] and ev["max_gap"] == 0.02 and "Tango" in ev["test"]


def test_no_planted_slice_is_not_flagged_and_max_gap_tolerates_a_small_loss():
    y, cand, champ, seg = _classifier_pair(1)
    r = slices(y, cand, seg, champion=champ)
    assert r.regressions == [] and r.failures() == []
    y, cand, champ, seg = _classifier_pair(2, planted=0, drop=0.03)
    loose = slices(y, cand, seg, champion=champ, max_gap=0.1)
    assert loose.regressions == []


def test_roc_auc_and_mae_comparisons():
    rng = np.random.default_rng(5)
    n = 1200
    seg = np.repeat(["a", "b", "c"], n // 3)
    y = rng.integers(0, 2, n)
    cand = rng.random(n) + 0.8 * y
    champ = rng.random(n) + 0.8 * y
    cand[seg == "b"] = rng.random(n // 3)  # no signal left in slice b
    r = slices(y, cand, seg, metric="roc_auc", champion=champ)
    assert [s.name for s in r.regressions] == ["b"]
    assert r.test.startswith("DeLong's paired test")
    assert r["a"].difference == pytest.approx(r["a"].value - r["a"].champion, abs=1e-12)
    yt = rng.normal(size=n)
    champ_r = yt + rng.normal(0, 0.5, n)
    cand_r = yt + rng.normal(0, 0.5, n)
    cand_r[seg == "c"] += 1.0
    r = slices(yt, cand_r, seg, metric="mae", champion=champ_r)
    assert [s.name for s in r.regressions] == ["c"] and r["c"].difference < -0.3
    assert r["a"].difference == pytest.approx(r["a"].champion - r["a"].value, abs=1e-12)


def test_callable_metric_comparison_is_a_paired_bootstrap():
    y, cand, champ, seg = _classifier_pair(3, n_slices=3, per_slice=300, planted=1, drop=0.2)

    def hits(t, q):
        return float(np.mean(t == q))

    r = slices(y, cand, seg, metric=hits, champion=champ, n_boot=300)
    assert [s.name for s in r.regressions] == ["1"] and r.test.startswith("paired bootstrap (300")
    assert r["1"].p_value == pytest.approx(1 / 301)  # no resample reaches the margin
    assert r["1"].difference_low <= r["1"].difference <= r["1"].difference_high < 0


def test_multiple_comparisons_are_corrected_across_null_slices():
    flagged_corrected = flagged_raw = runs_with_any = 0
    for seed in range(40):
        y, cand, champ, seg = _classifier_pair(100 + seed, n_slices=20, per_slice=200)
        corrected = slices(y, cand, seg, champion=champ)
        raw = slices(y, cand, seg, champion=champ, correction="none")
        flagged_corrected += len(corrected.regressions)
        runs_with_any += bool(corrected.regressions)
        flagged_raw += len(raw.regressions)
    # Holm keeps the family-wise error <= 0.05 per run of 20 slices (measured: 0.027 over 300 runs);
    # uncorrected, ~5% of the 800 one-sided tests are false alarms
    assert runs_with_any <= 5
    assert flagged_raw >= 20 > flagged_corrected
    bh = slices(y, cand, seg, champion=champ, correction="bh")
    assert bh.evidence()["correction"] == "bh"


def test_tango_at_zero_margin_is_mcnemar_and_holm_is_step_down():
    b, c, n = np.array([3.0, 10.0]), np.array([12.0, 10.0]), np.array([100.0, 100.0])
    expected = special.ndtr((b - c) / np.sqrt(b + c))
    assert _tango(b, c, n, 0.0) == pytest.approx(expected, abs=1e-15)
    assert _tango(np.array([0.0]), np.array([0.0]), np.array([50.0]), 0.0)[0] == 1.0
    assert adjust([0.01, 0.04, 0.03], "holm").tolist() == pytest.approx([0.03, 0.06, 0.06])
    p = np.array([0.001, 0.2, 0.03, 0.04])
    assert adjust(p, "bh") == pytest.approx(stats.false_discovery_control(p, method="bh"))
    assert adjust(p, "bonferroni").tolist() == pytest.approx([0.004, 0.8, 0.12, 0.16])


def test_wilson_interval_matches_scipy_and_is_nan_on_no_rows():
    lo, hi = wilson_interval(np.array([0, 7, 20]), np.array([20, 20, 20]), 0.9)
    for i, k in enumerate((0, 7, 20)):
        ci = stats.binomtest(k, 20).proportion_ci(0.9, method="wilson")
        assert (lo[i], hi[i]) == pytest.approx((ci.low, ci.high), abs=1e-12)
    lo, hi = wilson_interval(0, 0)
    assert math.isnan(lo) and math.isnan(hi)


# -- bad input -----------------------------------------------------------------------------------------

def test_missing_slice_column_names_it_and_the_columns():
    frame = pd.DataFrame({"age": [1, 2], "city": ["a", "b"]})
    with pytest.raises(InputError, match=r"column 'region' is not in the data; it has: 'age', 'city'"):
        slices([1, 0], [1, 0], "region", data=frame)
    with pytest.raises(InputError, match="no data frame was given"):
        slices([1, 0], [1, 0], "region")


def test_length_mismatch_names_every_length():
    with pytest.raises(InputError, match="y_true has 3, y_pred has 2, champion has 3, segments has 3 rows"):
        slices([1, 0, 1], [1, 0], ["a", "a", "b"], champion=[1, 1, 1])


def test_nan_scores_are_refused():
    with pytest.raises(InputError,
                       match=r"y_pred has 1 missing \(NaN/null\) values of 3, e.g. at positions \[1\]"):
        slices([1, 0, 1], [0.2, np.nan, 0.9], ["a"] * 3, metric="roc_auc")
    with pytest.raises(InputError, match="champion has 1 missing"):
        slices([1, 0, 1], [1, 0, 1], ["a"] * 3, champion=pd.Series([1, None, 1]))


def test_one_class_slice_makes_the_worst_slice_nan_and_fails():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(40, dtype=int), rng.integers(0, 2, 40)]
    s = rng.random(80)
    seg = np.r_[["pure"] * 40, ["mixed"] * 40]
    r = slices(y, s, seg, metric="roc_auc")
    assert math.isnan(r["pure"].value) and r["pure"].note == "one class only: all 40 rows are positive"
    worst = r.metrics()[0]
    assert math.isnan(worst.value) and worst.passed is False
    assert r.failures() == ["slice 'pure' (40 rows): roc_auc is undefined (one class only: all 40 rows "
                            "are positive); the gate never passes on NaN"]
    ev = _json(r)
    assert ev["slices"][1]["metric"] == "NaN"
    everywhere = slices(np.ones(80, dtype=int), s, seg, metric="roc_auc")
    assert "y_true has one class only" in everywhere.evidence()["notes"][0]


def test_no_slice_big_enough_fails_closed_and_other_bad_arguments():
    r = slices([1, 0, 1], [1, 0, 1], ["a", "b", "c"])
    assert math.isnan(r.metrics()[0].value)
    assert r.failures()[0].startswith("no slice has at least min_size=30 rows (3 slices, the largest has 1)")
    with pytest.raises(InputError, match="metric='f1' is not known"):
        slices([1], [1], ["a"], metric="f1")
    with pytest.raises(InputError, match="direction='up'"):
        slices([1], [1], ["a"], metric=len, direction="up")
    with pytest.raises(InputError, match="correction="):
        slices([1], [1], ["a"], correction="sidak")
    with pytest.raises(InputError, match="bins=4 needs numeric segment values"):
        slices([1], [1], ["a"], bins=4)
    with pytest.raises(InputError, match="roc_auc needs binary labels"):
        slices([0, 1, 2], [0.1, 0.2, 0.3], ["a"] * 3, metric="roc_auc")


def test_through_the_mlgate_fixture(pytester):
    pytester.makepyfile("""
        import numpy as np
        from mlgate.model.slices import slices

        def test_slices(mlgate):
            y = np.array([1, 0] * 40)
            p = y.copy()
            p[:20] = 1 - p[:20]
            mlgate.check(slices(y, p, np.repeat(["a", "b"], 40), threshold=0.9))
    """)
    result = pytester.runpytest("--mlgate-no-bundle")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mlgate slices check failed:*",
                                 "*worst slice 'a' (40 rows): accuracy 0.5 is below the threshold 0.9*"])
