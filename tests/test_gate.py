"""``decide()`` on hand-written cases, with the exact verdicts and messages a user sees."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mlgate.bundle import Bundle, ModelRef, format_time
from mlgate.gate import EXIT_CODES, Baseline, Decision, Expectation, Reason, decide
from mlgate.policy import BoundRule, ChampionRule, NoninferiorityRule, Policy
from mlgate.record import Interval, Metric, TestRecord

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CHAMPION = ModelRef("iris", "2")


def bundle(*tests: TestRecord, seconds_ago: int = 60, **fields) -> Bundle:
    fields.setdefault("model", ModelRef("iris", "3"))
    fields.setdefault("commit", "0123456789abcdef0123456789abcdef01234567")
    created = format_time(NOW - timedelta(seconds=seconds_ago))
    return Bundle(created_at=created, tests=tests, **fields).sealed()


def passed(nodeid: str, *metrics: Metric, families=()) -> TestRecord:
    return TestRecord(nodeid, "passed", tuple(families), tuple(metrics))


def acc(value: float, interval: tuple[float, float] | None = None, name="accuracy") -> Metric:
    iv = None if interval is None else Interval(*interval)
    return Metric(name, value, threshold=0.9, interval=iv)


def run(b: Bundle, policy: Policy | None = None, baseline: Baseline | None = None,
        **kw) -> Decision:
    return decide(b, policy or Policy(), baseline, now=NOW, **kw)


def reason(decision: Decision, rule: str) -> Reason:
    (found,) = [r for r in decision.reasons if r.rule == rule]
    return found


def champion_baseline(value: float | None) -> Baseline:
    metrics = () if value is None else (acc(value),)
    champ = Bundle(format_time(NOW - timedelta(days=30)), CHAMPION, None,
                   (passed("tests/test_model.py::test_accuracy", *metrics),)).sealed()
    return Baseline(CHAMPION, champ, "registry")


# -- the checks every decision makes ----------------------------------------------------------


def test_a_clean_bundle_is_promoted_with_one_reason_per_check() -> None:
    d = run(bundle(passed("tests/test_model.py::test_a")))
    assert d.verdict == "promote"
    assert [(r.rule, r.status) for r in d.reasons] == [
        ("integrity", "pass"), ("binding", "pass"), ("freshness", "pass"), ("tests", "pass")]
    assert reason(d, "binding").message == "bound to iris v3 at commit 0123456789ab"
    assert reason(d, "tests").message == "1 passed"
    assert d.summary() == "promote: all 4 rules passed"


def test_an_empty_bundle_is_rejected() -> None:
    d = run(bundle())
    assert d.verdict == "reject"
    assert reason(d, "tests") == Reason("tests", "fail", "the bundle holds no test results")


def test_a_failed_test_anywhere_rejects() -> None:
    b = bundle(passed("t.py::ok"), TestRecord("t.py::bad", "failed"),
               TestRecord("t.py::boom", "error"))
    d = run(b)
    assert d.verdict == "reject"
    assert reason(d, "tests") == Reason(
        "tests", "fail", "2 of 3 tests did not pass: t.py::bad (failed), t.py::boom (error)",
        observed=2.0, threshold=0.0)


def test_failed_tests_are_allowed_with_allow_failures() -> None:
    b = bundle(passed("t.py::ok"), TestRecord("t.py::bad", "failed"),
               TestRecord("t.py::skip", "skipped"))
    d = run(b, Policy(allow_failures=True))
    assert d.verdict == "promote"
    assert reason(d, "tests").message == "1 failed, 1 passed, 1 skipped"


def test_the_failed_test_list_is_cut_at_five() -> None:
    b = bundle(*(TestRecord(f"t.py::f{i}", "failed") for i in range(7)))
    message = reason(run(b), "tests").message
    assert message.startswith("7 of 7 tests did not pass: t.py::f0 (failed), ")
    assert message.endswith("t.py::f4 (failed) and 2 more")


def test_a_bundle_without_a_model_version_is_rejected() -> None:
    d = run(bundle(passed("t.py::a"), model=ModelRef("iris")))
    assert d.verdict == "reject"
    assert reason(d, "binding").message == (
        "the bundle is not bound to a model version; run pytest with "
        "--mlgate-model NAME --mlgate-model-version VERSION")


@pytest.mark.parametrize(("expect", "policy", "message"), [
    (Expectation(model="wine"), Policy(), "the bundle tested model 'iris', the command line "
     "expects 'wine'"),
    (Expectation(), Policy(source="mlgate.toml", model="wine"),
     "the bundle tested model 'iris', mlgate.toml expects 'wine'"),
    (Expectation(version="4"), Policy(), "the bundle tested iris v3, but version 4 is being "
     "decided"),
    (Expectation(commit="fedcba9"), Policy(), "the bundle is from commit "
     "0123456789abcdef0123456789abcdef01234567, expected fedcba9"),
    (Expectation(commit="012345"), Policy(), "the bundle is from commit "
     "0123456789abcdef0123456789abcdef01234567, expected 012345"),  # too short to be a prefix
])
def test_a_bundle_bound_to_something_else_is_rejected(expect, policy, message) -> None:
    d = run(bundle(passed("t.py::a")), policy, expect=expect)
    assert d.verdict == "reject"
    assert reason(d, "binding") == Reason("binding", "fail", message)


def test_a_matching_commit_prefix_binds() -> None:
    d = run(bundle(passed("t.py::a")), expect=Expectation("iris", "3", "0123456789ABC"))
    assert reason(d, "binding").status == "pass"


def test_an_expected_commit_needs_one_in_the_bundle() -> None:
    d = run(bundle(passed("t.py::a"), commit=None), expect=Expectation(commit="0123456789"))
    assert reason(d, "binding").message == "commit 0123456789 expected, the bundle records no commit"


def test_freshness() -> None:
    policy = Policy(source="mlgate.toml", max_age=3600.0)
    old = run(bundle(passed("t.py::a"), seconds_ago=2 * 3600), policy)
    assert old.verdict == "reject"
    assert reason(old, "freshness") == Reason(
        "freshness", "fail", "the bundle is 2.0h old, the policy allows 1.0h (max_age in "
        "mlgate.toml)", observed=7200.0, threshold=3600.0)
    assert run(bundle(passed("t.py::a"), seconds_ago=3600), policy).verdict == "promote"
    future = run(bundle(passed("t.py::a"), seconds_ago=-301), policy)
    assert reason(future, "freshness").message == (
        "the bundle claims to be from the future (2026-11-27T10:05:01Z)")
    assert run(bundle(passed("t.py::a"), seconds_ago=-300), policy).verdict == "promote"
    unlimited = run(bundle(passed("t.py::a"), seconds_ago=400 * 86400), replace(policy,
                                                                               max_age=None))
    assert unlimited.verdict == "promote"


def test_a_tampered_bundle_is_rejected() -> None:
    sealed = bundle(passed("t.py::a", acc(0.95)))
    tampered = replace(sealed, model=ModelRef("iris", "4"))
    d = run(tampered)
    assert d.verdict == "reject"
    assert reason(d, "integrity").message == (
        f"bundle digest {sealed.digest} does not match its content ({tampered.digest}): the file "
        "was changed after pytest wrote it")


# -- required families and tests ---------------------------------------------------------------


def test_required_families() -> None:
    b = bundle(passed("t.py::a", families=("data",)), passed("t.py::b", families=("data", "model")),
               TestRecord("t.py::c", "skipped", ("model",)))
    d = run(b, Policy(require_families=("data", "model", "security")))
    assert reason(d, "require.family:data") == Reason("require.family:data", "pass",
                                                      "2 data tests passed")
    assert reason(d, "require.family:model") == Reason(
        "require.family:model", "fail", "1 of 2 model tests did not pass: t.py::c (skipped)")
    assert reason(d, "require.family:security") == Reason(
        "require.family:security", "fail", "no test is marked @pytest.mark.security")
    assert d.verdict == "reject"


@pytest.mark.parametrize("outcome", ["skipped", "xfailed", "xpassed", "failed", "error"])
def test_a_required_test_that_did_not_pass_rejects(outcome: str) -> None:
    b = bundle(passed("tests/test_m.py::test_other"),
               TestRecord("tests/test_m.py::test_acc", outcome, message="why not"))
    d = run(b, Policy(allow_failures=True, require_tests=("test_acc",)))
    assert d.verdict == "reject"
    assert reason(d, "require.test:test_acc") == Reason(
        "require.test:test_acc", "fail", f"required test tests/test_m.py::test_acc was {outcome}: "
        "why not")


def test_a_missing_required_test_rejects() -> None:
    d = run(bundle(passed("tests/test_m.py::test_acc")),
            Policy(require_tests=("tests/test_m.py::test_f1",)))
    assert reason(d, "require.test:tests/test_m.py::test_f1") == Reason(
        "require.test:tests/test_m.py::test_f1", "fail", "required test is missing from the bundle")


@pytest.mark.parametrize(("pattern", "status", "message"), [
    ("tests/test_m.py::test_acc", "fail", "required test tests/test_m.py::test_acc[b] was failed"),
    ("test_m.py::test_acc", "fail", "required test tests/test_m.py::test_acc[b] was failed"),
    ("test_acc", "fail", "required test tests/test_m.py::test_acc[b] was failed"),
    ("test_acc[a]", "pass", "passed"),
    ("tests/test_m.py::test_acc[a]", "pass", "passed"),
    ("test_acc[c]", "fail", "required test is missing from the bundle"),
    ("acc", "fail", "required test is missing from the bundle"),  # no partial names
    ("st_m.py::test_acc", "fail", "required test is missing from the bundle"),
])
def test_parametrized_required_tests(pattern: str, status: str, message: str) -> None:
    b = bundle(passed("tests/test_m.py::test_acc[a]"),
               TestRecord("tests/test_m.py::test_acc[b]", "failed"))
    r = reason(run(b, Policy(allow_failures=True, require_tests=(pattern,))),
               f"require.test:{pattern}")
    assert (r.status, r.message) == (status, message)


def test_all_cases_of_a_parametrized_required_test_pass() -> None:
    b = bundle(passed("tests/test_m.py::test_acc[a]"), passed("tests/test_m.py::test_acc[b]"))
    d = run(b, Policy(require_tests=("test_acc",)))
    assert d.verdict == "promote"
    assert reason(d, "require.test:test_acc").message == "all 2 cases passed"


# -- bound rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "status", "message"), [
    (BoundRule("b", "accuracy", min=0.9), "pass", "accuracy = 0.93 >= 0.9"),
    (BoundRule("b", "accuracy", min=0.9, max=0.99), "pass", "accuracy = 0.93 >= 0.9 and <= 0.99"),
    (BoundRule("b", "accuracy", min=0.95), "fail", "accuracy = 0.93 is below the minimum 0.95"),
    (BoundRule("b", "accuracy", max=0.92), "fail", "accuracy = 0.93 is above the maximum 0.92"),
    (BoundRule("b", "accuracy", min=0.9, on="lower"), "fail",
     "lower 95% bound of accuracy = 0.89 is below the minimum 0.9"),
    (BoundRule("b", "accuracy", min=0.85, on="lower"), "pass",
     "lower 95% bound of accuracy = 0.89 >= 0.85"),
    (BoundRule("b", "accuracy", max=0.96, on="upper"), "fail",
     "upper 95% bound of accuracy = 0.97 is above the maximum 0.96"),
    (BoundRule("b", "accuracy", max=0.97, on="upper"), "pass",
     "upper 95% bound of accuracy = 0.97 <= 0.97"),
    (BoundRule("b", "f1", min=0.5), "fail", "metric 'f1' was not recorded by any test"),
])
def test_bound_rule(rule: BoundRule, status: str, message: str) -> None:
    d = run(bundle(passed("t.py::a", acc(0.93, (0.89, 0.97)))), Policy(rules=(rule,)))
    r = reason(d, "b")
    assert (r.status, r.message) == (status, message)
    assert d.verdict == ("promote" if status == "pass" else "reject")


@pytest.mark.parametrize("on", ["lower", "upper"])
def test_a_bound_on_an_interval_needs_an_interval(on: str) -> None:
    d = run(bundle(passed("t.py::a", acc(0.93))), Policy(rules=(BoundRule("b", "accuracy", 0.9,
                                                                         on=on),)))
    assert reason(d, "b") == Reason("b", "fail", f"the rule bounds the {on} confidence bound of "
                                    "'accuracy', but it was recorded without an interval",
                                    observed=0.93)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_metric_fails_its_rule(value: float) -> None:
    d = run(bundle(passed("t.py::a", acc(value))), Policy(rules=(BoundRule("b", "accuracy",
                                                                           max=1e300),)))
    assert d.verdict == "reject"
    assert reason(d, "b").message == f"metric 'accuracy' is {value} (not a finite number)"


def test_a_metric_recorded_twice_fails_its_rule() -> None:
    b = bundle(passed("t.py::a", acc(0.93)), passed("t.py::b", acc(0.95)))
    d = run(b, Policy(rules=(BoundRule("b", "accuracy", 0.9),)))
    assert reason(d, "b").message == (
        "metric 'accuracy' was recorded 2 times (t.py::a, t.py::b); record each gated metric "
        "once, or give the records distinct names")


# -- champion rules -----------------------------------------------------------------------------

RULE = ChampionRule("champ", "accuracy", margin=0.01)
DETAIL = "(higher is better, margin 0.01)"


def test_no_champion_yet_passes() -> None:
    d = run(bundle(passed("t.py::a", acc(0.5))), Policy(rules=(RULE,)), Baseline(model=None))
    assert d.verdict == "promote"
    assert reason(d, "champ").message == "no champion yet: accuracy = 0.5 is not compared"
    assert d.champion is None and d.baseline_digest is None


def test_no_baseline_source_needs_review() -> None:
    d = run(bundle(passed("t.py::a", acc(0.95))), Policy(rules=(RULE,)), None)
    assert d.verdict == "needs-review"
    assert reason(d, "champ").status == "review"


def test_worse_than_the_champion_by_more_than_the_margin_rejects() -> None:
    d = run(bundle(passed("t.py::a", acc(0.90))), Policy(rules=(RULE,)), champion_baseline(0.93))
    assert d.verdict == "reject"
    r = reason(d, "champ")
    assert r.status == "fail"
    assert r.message == ("worse than the champion by 0.03: accuracy 0.9 against champion iris v2 "
                         f"0.93 {DETAIL}")
    assert (r.observed, r.champion, r.threshold) == (0.90, 0.93, pytest.approx(0.92))


def test_within_the_margin_promotes() -> None:
    d = run(bundle(passed("t.py::a", acc(0.925))), Policy(rules=(RULE,)), champion_baseline(0.93))
    assert d.verdict == "promote"
    assert reason(d, "champ").message == f"accuracy 0.925 against champion iris v2 0.93 {DETAIL}"
    assert d.champion == CHAMPION
    assert d.baseline_digest == champion_baseline(0.93).bundle.digest


def test_within_the_margin_but_an_interval_straddling_it_needs_review() -> None:
    d = run(bundle(passed("t.py::a", acc(0.93, (0.90, 0.96)))), Policy(rules=(RULE,)),
            champion_baseline(0.93))
    assert d.verdict == "needs-review"
    assert d.exit_code == 3
    assert reason(d, "champ").message == (
        "the 95% interval [0.9, 0.96] straddles the margin: accuracy 0.93 against champion "
        f"iris v2 0.93 {DETAIL}")


def test_a_lower_is_better_metric_is_compared_the_other_way() -> None:
    rule = ChampionRule("lat", "latency", margin=5.0, direction="lower")
    lat = Metric("latency", 120.0, direction="lower")
    baseline = Baseline(CHAMPION, bundle(passed("t.py::x", replace(lat, value=100.0))), "r")
    d = run(bundle(passed("t.py::a", lat)), Policy(rules=(rule,)), baseline)
    assert reason(d, "lat").message == ("worse than the champion by 20: latency 120 against "
                                        "champion iris v2 100 (lower is better, margin 5)")


def test_missing_champion_evidence_needs_review() -> None:
    baseline = Baseline(CHAMPION, None, "registry", note="its run was deleted")
    d = run(bundle(passed("t.py::a", acc(0.95))), Policy(rules=(RULE,)), baseline)
    assert d.verdict == "needs-review"
    assert reason(d, "champ").message == (
        "champion iris v2: its run was deleted; cannot compare accuracy")
    no_note = run(bundle(passed("t.py::a", acc(0.95))), Policy(rules=(RULE,)),
                  Baseline(CHAMPION, None))
    assert reason(no_note, "champ").message == (
        "champion iris v2: its evidence was not found; cannot compare accuracy")


def test_a_champion_bundle_whose_digest_does_not_match_needs_review() -> None:
    good = champion_baseline(0.80)
    tampered = replace(good, bundle=replace(good.bundle, commit="ab" * 20))
    d = run(bundle(passed("t.py::a", acc(0.95))), Policy(rules=(RULE,)), tampered)
    assert d.verdict == "needs-review"
    assert reason(d, "champ").message == (
        "champion iris v2: its bundle digest does not match; cannot compare accuracy")


def test_a_champion_without_the_metric_needs_review() -> None:
    d = run(bundle(passed("t.py::a", acc(0.95))), Policy(rules=(RULE,)), champion_baseline(None))
    assert d.verdict == "needs-review"
    assert reason(d, "champ").message == (
        "champion iris v2: metric 'accuracy' was not recorded by any test")


def test_a_non_finite_interval_bound_fails_the_champion_rule() -> None:
    d = run(bundle(passed("t.py::a", acc(0.95, (float("nan"), 0.97)))), Policy(rules=(RULE,)),
            champion_baseline(0.80))
    assert d.verdict == "reject"
    assert reason(d, "champ").status == "fail"


def test_a_failure_outranks_a_review() -> None:
    policy = Policy(rules=(RULE, BoundRule("b", "accuracy", min=0.99)))
    d = run(bundle(passed("t.py::a", acc(0.95))), policy, None)
    assert [r.status for r in d.reasons[-2:]] == ["review", "fail"]
    assert d.verdict == "reject"


# -- the decision record ------------------------------------------------------------------------


def test_exit_codes() -> None:
    assert EXIT_CODES == {"promote": 0, "reject": 1, "needs-review": 3}
    d = run(bundle(passed("t.py::a")))
    assert [replace(d, verdict=v).exit_code for v in ("promote", "reject", "needs-review")] == [
        0, 1, 3]


def test_summary_lists_the_reasons_that_did_not_pass_and_truncates() -> None:
    b = bundle(*(TestRecord(f"tests/test_long_module_name.py::test_{i}", "failed")
                 for i in range(3)))
    d = run(b, Policy(require_tests=("test_gone",)))
    full = d.summary(limit=10_000)
    assert full == (
        "reject: tests: 3 of 3 tests did not pass: tests/test_long_module_name.py::test_0 "
        "(failed), tests/test_long_module_name.py::test_1 (failed), "
        "tests/test_long_module_name.py::test_2 (failed); require.test:test_gone: required test "
        "is missing from the bundle")
    short = d.summary(limit=40)
    assert len(short) == 40
    assert short == full[:39] + "…"
    assert d.summary(limit=len(full)) == full


def test_decision_records_its_inputs() -> None:
    b = bundle(passed("t.py::a"))
    policy = Policy(max_age=None)
    d = run(b, policy)
    assert d.model == ModelRef("iris", "3")
    assert d.bundle_digest == b.digest
    assert d.policy_digest == policy.digest
    assert d.decided_at == "2026-11-27T10:00:00Z"
    assert d.kind == "gate" and d.context == {}
    assert Decision.from_json(d.dump()) == d
    assert d.with_context(job="1").id == d.id


@pytest.mark.parametrize("outcome", ["skipped", "xfailed", "error"])
def test_metric_from_an_unfinished_test_is_not_evidence(outcome: str) -> None:
    unfinished = TestRecord("tests/test_model.py::test_accuracy", outcome, (), (acc(0.99),))
    d = run(bundle(unfinished), Policy(rules=(BoundRule("bound:accuracy", "accuracy", min=0.9),)))
    assert d.verdict == "reject"
    assert reason(d, "bound:accuracy").message == (
        f"metric 'accuracy' comes from tests/test_model.py::test_accuracy, which was {outcome}: "
        "evidence from an unfinished test is not used")


def test_champion_evidence_from_an_unfinished_test_needs_review() -> None:
    champ = Bundle(format_time(NOW - timedelta(days=1)), CHAMPION, None, (
        TestRecord("tests/test_model.py::test_accuracy", "skipped", (), (acc(0.95),)),)).sealed()
    policy = Policy(rules=(ChampionRule("champion:accuracy", "accuracy", margin=0.01),))
    d = run(bundle(passed("tests/test_model.py::test_accuracy", acc(0.96))), policy,
            Baseline(CHAMPION, champ, "registry"))
    assert d.verdict == "needs-review"
    assert "which was skipped" in reason(d, "champion:accuracy").message


# -- the paired non-inferiority rule -------------------------------------------------------------


def _diff(value: float, low: float, high: float) -> TestRecord:
    return passed("tests/test_model.py::test_vs_champion",
                  Metric("accuracy_vs_champion", value, threshold=-0.01,
                         interval=Interval(low, high, 0.95)))


NONINF = Policy(rules=(NoninferiorityRule("noninferiority:accuracy", "accuracy_vs_champion",
                                          margin=0.01),))


@pytest.mark.parametrize(("low", "high", "status", "verdict"), [
    (-0.005, 0.02, "pass", "promote"),
    (-0.03, 0.01, "review", "needs-review"),
    (-0.05, -0.02, "fail", "reject"),
    (-0.01, 0.0, "pass", "promote"),  # the low end exactly at -margin passes
])
def test_noninferiority_three_ways(low, high, status, verdict) -> None:
    d = run(bundle(_diff((low + high) / 2, low, high)), NONINF, champion_baseline(0.9))
    assert (reason(d, "noninferiority:accuracy").status, d.verdict) == (status, verdict)


def test_noninferiority_messages_and_fail_closed_cases() -> None:
    d = run(bundle(_diff(-0.01, -0.03, 0.01)), NONINF, champion_baseline(0.9))
    assert reason(d, "noninferiority:accuracy").message == (
        "the interval straddles the margin: accuracy_vs_champion = -0.01, 95% interval "
        "[-0.03, 0.01], margin 0.01")
    no_interval = passed("t.py::test_vs", Metric("accuracy_vs_champion", 0.02))
    assert run(bundle(no_interval), NONINF, champion_baseline(0.9)).verdict == "reject"
    # absent: passes only when the registry says there is no champion yet
    absent = bundle(passed("t.py::test_other"))
    assert run(absent, NONINF, Baseline(model=None)).verdict == "promote"
    assert run(absent, NONINF, champion_baseline(0.9)).verdict == "reject"
    assert run(absent, NONINF, None).verdict == "reject"


def test_noninferiority_passes_when_re_gating_the_champion_itself() -> None:
    me = bundle(_diff(0.0, -0.03, 0.03))  # its own interval straddles the margin
    d = run(me, NONINF, Baseline(ModelRef("iris", "3"), me, "registry"))
    assert reason(d, "noninferiority:accuracy").message == (
        "iris v3 is the champion itself: accuracy_vs_champion is not a comparison with another model")
    assert d.verdict == "promote"
