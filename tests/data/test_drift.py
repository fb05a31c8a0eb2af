"""mlgate.data.drift: agreement with SciPy on data nobody tuned, the correction, the verdicts,
the profile and Parquet paths, bad input, and the record API through pytester."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as hs
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlgate.data import _drift_stats as st
from mlgate.data.drift import ColumnDrift, DriftReport, ReferenceProfile, drift, drift_parquet
from mlgate.errors import InputError
from mlgate.record import CheckResult

pytest_plugins = ["pytester"]


def ks_both(a, b, **kw):
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    d, w = st.ks_wasserstein(a, b)
    d, p, method = st.ks_pvalue(d, a.size, b.size, a, b, **kw)
    return d, p, method, w


def assert_matches_scipy(a, b):
    d, p, method, w = ks_both(a, b)
    with warnings.catch_warnings():  # scipy warns when its exact method fails; so do not we
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = stats.ks_2samp(a, b)
    assert d == pytest.approx(ref.statistic, rel=1e-12, abs=1e-12)
    assert abs(p - ref.pvalue) <= 1e-9
    assert w == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-12, abs=1e-12)
    return method


# -- Kolmogorov-Smirnov and Wasserstein --------------------------------------------------------------

floats = hs.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
tied = hs.integers(-3, 3).map(float)  # few distinct values: ties within and across samples


@given(hs.lists(floats | tied, min_size=1, max_size=60), hs.lists(floats | tied, min_size=1, max_size=45))
def test_ks_and_wasserstein_agree_with_scipy_on_generated_samples(a, b):
    assert assert_matches_scipy(a, b) in ("exact", "asymp")  # asymp: exact failed, as in scipy


@given(hs.lists(tied, min_size=1, max_size=200), hs.lists(tied, min_size=1, max_size=200))
def test_ks_agrees_with_scipy_on_heavy_ties(a, b):
    assert_matches_scipy(a, b)


@pytest.mark.parametrize(("n", "m", "shift", "decimals"), [
    (7, 7, 0.0, 3), (1, 10_000, 0.5, 12), (10_000, 9_999, 0.02, 1), (9_973, 10_000, 0.0, 12),
    (10_001, 500, 0.1, 2), (20_000, 30_000, 0.0, 12), (25_000, 25_000, 0.03, 12),
    (60_000, 45_000, 0.05, 0), (200_000, 150_000, 0.0, 2),
])
def test_ks_agrees_with_scipy_on_seeded_samples_across_the_exact_and_asymptotic_methods(
        n, m, shift, decimals):
    rng = np.random.default_rng(n + 7 * m)
    a = np.round(rng.standard_t(5, n), decimals)
    b = np.round(rng.standard_t(5, m) + shift, decimals)
    method = assert_matches_scipy(a, b)
    assert method == ("exact" if max(n, m) <= 10_000 else "asymp")


def test_tiny_ks_pvalues_are_within_3e_11_by_default_and_scipys_own_with_exact_tail():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=20_000), rng.normal(0.12, size=20_000)
    ref = stats.ks_2samp(a, b)
    assert ref.statistic**2 * 10_000 >= st.TAIL_NX2  # the fast tail is used
    d, p, _, _ = ks_both(a, b)
    assert abs(p - ref.pvalue) < 3e-11
    d, p, _, _ = ks_both(a, b, exact_tail=True)
    assert p == ref.pvalue


# -- chi-square, Jensen-Shannon, PSI -------------------------------------------------------------------


@hs.composite
def count_tables(draw, max_k=8):
    k = draw(hs.integers(1, max_k))
    rows = [draw(hs.lists(hs.integers(0, 60), min_size=k, max_size=k)) for _ in range(2)]
    table = np.array(rows, dtype=np.int64)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] == 0 or (table.sum(axis=1) == 0).any():  # a side with no values at all
        table = np.array([[3, 0], [0, 4]])
    return table


@given(count_tables(), hs.booleans())
def test_chi2_agrees_with_chi2_contingency(table, yates):
    ours = st.chi2_homogeneity(table[0], table[1], yates=yates)
    ref = stats.chi2_contingency(table, correction=yates)
    assert ours.dof == ref.dof
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12, abs=1e-12)
    assert abs(ours.p_value - ref.pvalue) <= 1e-9


@given(count_tables())
def test_js_distance_agrees_with_scipy(table):
    expected = jensenshannon(table[0], table[1], base=2)
    assert st.js_distance(table[0], table[1]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_psi_is_zero_for_equal_shares_and_grows_with_the_shift():
    assert st.psi(np.array([10, 20, 30]), np.array([20, 40, 60])) == pytest.approx(0)
    small = st.psi(np.array([50, 50]), np.array([55, 45]))
    large = st.psi(np.array([50, 50]), np.array([90, 10]))
    assert 0 < small < large
    assert math.isfinite(st.psi(np.array([100, 0]), np.array([0, 100])))  # empty bins: finite


def test_psi_bins_come_from_the_reference_quantiles():
    a = np.sort(np.random.default_rng(0).normal(size=10_000))
    edges = st.psi_edges(a, 10)
    np.testing.assert_allclose(edges, np.quantile(a, np.linspace(0, 1, 11)[1:-1]), rtol=1e-12)
    counts = st.bin_counts_sorted(a, edges)
    assert counts.sum() == a.size and counts.min() >= 999


# -- the correction ---------------------------------------------------------------------------------------


def bh_direct(p):
    """Benjamini-Hochberg straight from the definition: p_(i) * k / i, made monotone from the top."""
    k = len(p)
    out = [0.0] * k
    ranked = sorted(range(k), key=lambda i: p[i])
    running = 1.0
    for pos in range(k - 1, -1, -1):
        i = ranked[pos]
        running = min(running, p[i] * k / (pos + 1))
        out[i] = running
    return out


@given(hs.lists(hs.floats(0, 1) | hs.sampled_from([0.0, 0.01, 0.5, 1.0]), min_size=1, max_size=40))
def test_benjamini_hochberg_matches_the_definition_and_scipy(p):
    ours = st.correct_pvalues(np.array(p), "bh")
    np.testing.assert_allclose(ours, bh_direct(p), rtol=1e-12, atol=1e-15)
    if hasattr(stats, "false_discovery_control"):
        np.testing.assert_allclose(ours, stats.false_discovery_control(p, method="bh"),
                                   rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(st.correct_pvalues(np.array(p), "bonferroni"),
                               np.minimum(np.array(p) * len(p), 1))
    np.testing.assert_array_equal(st.correct_pvalues(np.array(p), "none"), p)


# -- drift() end to end ---------------------------------------------------------------------------------


def planted(n=4_000, m=3_000, seed=11):
    rng = np.random.default_rng(seed)
    levels = np.array(list("abcdefghij"), dtype=object)
    p = np.linspace(1, 2, 10) / np.linspace(1, 2, 10).sum()
    ref = pd.DataFrame({
        "x0": rng.normal(size=n), "x1": rng.normal(size=n), "x2": rng.exponential(size=n),
        "x3": rng.integers(0, 20, n), "x4": np.round(rng.normal(size=n), 1),
        "c0": levels[rng.choice(10, n, p=p)], "c1": levels[rng.choice(10, n, p=p)],
        "flag": rng.random(n) < 0.3,
    })
    cur = pd.DataFrame({
        "x0": rng.normal(0.4, size=m), "x1": rng.normal(size=m), "x2": rng.exponential(size=m),
        "x3": rng.integers(0, 20, m), "x4": np.round(rng.normal(size=m), 1) * 1.5,
        "c0": levels[rng.choice(10, m, p=p[::-1])], "c1": levels[rng.choice(10, m, p=p)],
        "flag": rng.random(m) < 0.3,
    })
    return ref, cur


def test_planted_drift_is_found_and_nothing_else():
    ref, cur = planted()
    report = drift(ref, cur, max_drift_share=0.5)
    assert isinstance(report, CheckResult)
    assert sorted(c.column for c in report.drifted) == ["c0", "x0", "x4"]
    assert report.drift_share == pytest.approx(3 / 8)
    assert report.failures() == []
    assert report["flag"].kind == "categorical" and report["flag"].method == "yates"
    assert report["x3"].kind == "numeric"


def test_column_statistics_equal_scipy_through_drift():
    ref, cur = planted(n=12_000, m=9_000)
    report = drift(ref, cur, correction="none")
    for col in ("x0", "x1", "x3", "x4"):
        expected = stats.ks_2samp(ref[col], cur[col])
        c = report[col]
        assert c.statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert abs(c.p_value - expected.pvalue) <= 1e-9 and c.p_value_corrected == c.p_value
        assert c.wasserstein == pytest.approx(stats.wasserstein_distance(ref[col], cur[col]), rel=1e-12)
    for col in ("c0", "c1", "flag"):
        table = pd.concat([ref[col].value_counts(), cur[col].value_counts()], axis=1).fillna(0).T
        expected = stats.chi2_contingency(table.to_numpy())
        c = report[col]
        assert c.statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert abs(c.p_value - expected.pvalue) <= 1e-9 and c.dof == expected.dof


def test_failures_metrics_and_evidence():
    ref, cur = planted()
    report = drift(ref, cur)  # 3 of 8 > 0.2
    failures = report.failures()
    assert failures[0].startswith("drift in 3 of 8 columns: drift_share 0.375 > max_drift_share 0.2")
    assert any("'x0': KS D=" in f for f in failures)
    metrics = {m.name: m for m in report.metrics()}
    assert (metrics["drift_share"].value, metrics["drift_share"].threshold) == (0.375, 0.2)
    assert metrics["drift_share"].direction == "lower" and metrics["drift_share"].passed is False
    assert metrics["drift.x0.p_value"].threshold is None and "drift.c0.psi" in metrics
    evidence = report.evidence()
    text = json.dumps(evidence, allow_nan=False)
    assert len(text) < 20_000
    cols = {c["column"]: c for c in evidence["columns"]}
    hist = cols["x0"]["histogram"]
    assert len(hist["edges"]) == 21 and len(hist["reference"]) == 20
    assert sum(hist["reference"]) + hist["below"]["reference"] + hist["above"]["reference"] == 4_000
    assert cols["c0"]["histogram"]["categories"][0] in list("abcdefghij")
    assert evidence["drifted"] == ["x0", "x4", "c0"]


def test_bonferroni_is_stricter_than_bh_and_none_is_loosest():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({f"x{i}": rng.normal(size=800) for i in range(12)})
    cur = pd.DataFrame({f"x{i}": rng.normal(0.12 * (i % 4), size=800) for i in range(12)})
    counts = {c: len(drift(ref, cur, correction=c).drifted) for c in ("bonferroni", "bh", "none")}
    assert counts["bonferroni"] <= counts["bh"] <= counts["none"]
    none = drift(ref, cur, correction="none")
    assert all(c.p_value == c.p_value_corrected for c in none.columns)


def test_nulls_are_left_out_and_reported():
    ref, cur = planted()
    cur = cur.copy()
    cur.loc[cur.index[:300], "x1"] = np.nan
    cur.loc[cur.index[:150], "c1"] = None
    report = drift(ref, cur, max_drift_share=1)
    assert report["x1"].null_share_current == pytest.approx(0.1)
    assert report["x1"].n_current == 2_700
    expected = stats.ks_2samp(ref["x1"], cur["x1"].dropna())
    assert report["x1"].statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert report["c1"].null_share_current == pytest.approx(0.05)
    assert report.evidence()["columns"][1]["null_share"]["current"] == pytest.approx(0.1)


def test_new_and_missing_categories():
    ref = pd.DataFrame({"c": ["a", "b", "c", "d"] * 50})
    cur = pd.DataFrame({"c": ["a", "b", "e"] * 60 + ["f"]})
    c = drift(ref, cur)["c"]
    assert c.new_categories == ("e", "f") and c.n_new_categories == 2
    assert set(c.missing_categories) == {"c", "d"} and c.n_missing_categories == 2
    assert c.status == "drift"


def test_polars_input_gives_the_same_report():
    pl = pytest.importorskip("polars")
    ref, cur = planted()
    ours = drift(pl.from_pandas(ref), pl.from_pandas(cur))
    assert ours.evidence() == drift(ref, cur).evidence()


# -- the profile and Parquet ------------------------------------------------------------------------


def test_profile_round_trip_gives_identical_results(tmp_path):
    ref, cur = planted()
    ref.loc[ref.index[:10], "x2"] = np.nan
    direct = drift(ref, cur, categorical=["x3"])
    profile = ReferenceProfile.from_frame(ref, categorical=["x3"])
    path = profile.save(tmp_path / "ref.profile.npz")
    assert path.exists() and path.name == "ref.profile.npz"
    loaded = ReferenceProfile.load(path)
    for p in (profile, loaded):
        report = drift(p, cur)
        assert report.evidence() == direct.evidence()
        assert report.metrics() == direct.metrics()
    alone = drift(loaded, cur, columns=["x0"])["x0"]  # one column tested: nothing to correct
    assert alone.p_value_corrected == alone.p_value == direct["x0"].p_value
    assert alone.histogram == direct["x0"].histogram


def test_profile_file_is_not_pickle_and_bad_files_are_input_errors(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(InputError, match="cannot be read"):
        ReferenceProfile.load(bad)
    with pytest.raises(InputError, match="does not exist"):
        ReferenceProfile.load(tmp_path / "missing.npz")
    other = tmp_path / "other.npz"
    np.savez(other, __meta__=np.frombuffer(b'{"schema": "x"}', dtype=np.uint8))
    with pytest.raises(InputError, match="not a drift profile"):
        ReferenceProfile.load(other)


def test_parquet_path_equals_the_in_memory_path(tmp_path):
    ref, cur = planted()
    ref["cat"] = ref["c0"].astype("category")
    cur["cat"] = cur["c0"].astype("category")
    ref.loc[ref.index[:7], "x1"] = np.nan
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    memory = drift(ref, cur)
    on_disk = drift_parquet(tmp_path / "ref.parquet", tmp_path / "cur.parquet")
    assert on_disk.evidence() == memory.evidence()
    profile = ReferenceProfile.from_frame(tmp_path / "ref.parquet")
    assert drift_parquet(profile, tmp_path / "cur.parquet", n_jobs=1).evidence() == memory.evidence()


# -- bad input ----------------------------------------------------------------------------------------------


def test_empty_frames_are_input_errors():
    ref, cur = planted()
    with pytest.raises(InputError, match="the reference data has no rows"):
        drift(ref.iloc[:0], cur)
    with pytest.raises(InputError, match="the current data has no rows"):
        drift(ref, cur.iloc[:0])
    with pytest.raises(InputError, match="no columns"):
        drift(pd.DataFrame(index=range(3)), cur)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"alpha": 0}, "alpha=0 must be"), ({"correction": "holm"}, "correction='holm'"),
    ({"psi_bins": 1}, "psi_bins=1"), ({"max_drift_share": 2}, "max_drift_share=2"),
    ({"hist_bins": 100}, "hist_bins=100"), ({"columns": ["nope"]}, r"columns \['nope'\] are not"),
    ({"categorical": ["nope"]}, "categorical names columns"),
])
def test_bad_arguments_are_input_errors(kwargs, match):
    ref, cur = planted(n=50, m=50)
    with pytest.raises(InputError, match=match):
        drift(ref, cur, **kwargs)


def test_a_column_missing_in_current_is_a_failed_column_check():
    ref, cur = planted()
    report = drift(ref, cur.drop(columns=["x1"]).assign(extra=1), max_drift_share=1)
    c = report["x1"]
    assert c.status == "error" and "not in the current data" in c.message
    assert report.extra_columns == ("extra",)
    assert report.failures() == [f"column 'x1' could not be tested: {c.message}"]
    assert report.drift_share == pytest.approx(3 / 7)  # of the tested columns
    assert "drift.x1.p_value" not in {m.name for m in report.metrics()}


def test_all_nan_columns_are_failed_column_checks():
    ref, cur = planted()
    ref, cur = ref.copy(), cur.copy()
    cur["x1"] = np.nan
    ref["c1"] = None
    report = drift(ref, cur, max_drift_share=1)
    assert report["x1"].status == "error" and "no finite values" in report["x1"].message
    assert report["c1"].status == "error" and "all missing" in report["c1"].message
    json.dumps(report.evidence(), allow_nan=False)


def test_mixed_types_in_an_object_column_are_a_failed_column_check():
    ref = pd.DataFrame({"m": pd.Series(["a", 1, 2.5, "b"] * 10, dtype=object), "x": range(40)})
    report = drift(ref, ref)
    assert report["m"].status == "error"
    assert "mixes types (number, str)" in report["m"].message and ".astype(str)" in report["m"].message
    assert report["x"].status == "ok"


def test_numeric_against_text_is_a_failed_column_check_with_the_fix():
    ref = pd.DataFrame({"x": np.arange(100.0)})
    cur = pd.DataFrame({"x": [str(i) for i in range(100)]})
    c = drift(ref, cur)["x"]
    assert c.status == "error"
    assert "numeric (float64) but the current one is not" in c.message and "pd.to_numeric" in c.message
    # named categorical, both sides are tested as categories (and their label types differ)
    c = drift(ref, cur, categorical=["x"])["x"]
    assert c.status == "error" and "cast both sides to one type" in c.message


def test_unsupported_dtype_is_a_failed_column_check():
    ref = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=10), "x": range(10)})
    report = drift(ref, ref)
    assert report["t"].status == "error" and "datetime64" in report["t"].message


def test_100000_levels_are_tested_with_small_evidence():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"id": [f"u{i}" for i in rng.integers(0, 100_000, 300_000)]})
    cur = pd.DataFrame({"id": [f"u{i}" for i in rng.integers(0, 110_000, 300_000)]})
    report = drift(ref, cur)
    c = report["id"]
    assert c.status == "drift" and c.dof > 99_000 and c.n_new_categories > 5_000
    assert len(c.new_categories) == 10 and len(c.histogram["categories"]) == 20
    assert len(json.dumps(report.evidence(), allow_nan=False)) < 5_000


def test_other_inputs_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="takes a pandas or polars DataFrame"):
        drift([[1, 2]], pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError, match="does not exist"):
        drift_parquet(tmp_path / "a.parquet", tmp_path / "b.parquet")
    (tmp_path / "a.parquet").write_text("x,y\n1,2\n")
    with pytest.raises(InputError, match="cannot be read as Parquet"):
        drift_parquet(tmp_path / "a.parquet", tmp_path / "a.parquet")
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InputError, match="duplicate column names"):
        drift(dup, dup)


def test_report_types_are_frozen():
    ref, cur = planted(n=100, m=100)
    report = drift(ref, cur)
    assert isinstance(report, DriftReport) and isinstance(report.columns[0], ColumnDrift)
    with pytest.raises(AttributeError):
        report.alpha = 0.1  # type: ignore[misc]


# -- through the plugin ----------------------------------------------------------------------------------


def test_check_records_drift_share_and_histograms_in_the_bundle(pytester: pytest.Pytester):
    pytester.makepyfile(test_data="""
        import numpy as np
        import pandas as pd
        import pytest
        from mlgate.data.drift import drift

        def frames(shift):
            rng = np.random.default_rng(0)
            ref = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(list("abc"), 2000)})
            cur = pd.DataFrame({"x": rng.normal(shift, size=2000), "c": rng.choice(list("abc"), 2000)})
            return ref, cur

        @pytest.mark.data
        def test_no_drift(mlgate):
            mlgate.check(drift(*frames(0.0)))

        @pytest.mark.data
        def test_drift(mlgate):
            mlgate.check(drift(*frames(1.0)))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate drift check failed:*",
                                 "*drift in 1 of 2 columns: drift_share 0.5 > max_drift_share 0.2*",
                                 "*'x': KS D=*"])
    bundle = json.loads((pytester.path / "reports" / "results.json").read_text())
    tests = {t["nodeid"].split("::")[1]: t for t in bundle["tests"]}
    for name, share in (("test_no_drift", 0.0), ("test_drift", 0.5)):
        metrics = {m["name"]: m for m in tests[name]["metrics"]}
        assert metrics["drift_share"]["value"] == share
        assert metrics["drift_share"]["threshold"] == 0.2 and "drift.x.p_value" in metrics
        evidence = tests[name]["evidence"]["drift"]
        x = evidence["columns"][0]
        assert x["column"] == "x" and len(x["histogram"]["reference"]) == 20
        assert evidence["columns"][1]["histogram"]["categories"]
