"""Properties of ``mlgate.gate.decide()``: it fails closed on every generated input.

The central strategy, :func:`good_cases`, builds a bundle, a policy, a baseline and an expectation
that *promote* (checked in :func:`test_a_case_that_meets_the_policy_is_promoted`). Each fail-closed
property then breaks exactly one thing in such a case and checks that the rule in charge fails and
the verdict is not ``promote``: so a property can only pass because of the thing it breaks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

from mlgate.bundle import Bundle, ModelRef, format_time
from mlgate.gate import Baseline, Decision, Expectation, decide
from mlgate.policy import BoundRule, ChampionRule, Policy
from mlgate.record import DIRECTIONS, FAMILIES, OUTCOMES, Interval, Metric, TestRecord

NOW = datetime(2026, 11, 27, 10, 0, 0, tzinfo=UTC)
MODEL_NAMES = ("iris", "wine")
VERSIONS = ("1", "2", "17")
COMMITS = ("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98")
METRIC_NAMES = ("accuracy", "f1", "latency_p95", "auc", "drift")
NOT_PASSED = ("skipped", "xfailed", "failed", "error")
NON_FINITE = (math.nan, math.inf, -math.inf)
CHAMPION = ModelRef("iris", "0")

# -- strategies: the record and bundle model -------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
any_float = st.one_of(finite, st.sampled_from(NON_FINITE))
# whole milliseconds: the bundle rounds durations to 6 decimals, so these survive a round trip
durations = st.integers(min_value=0, max_value=10**7).map(lambda n: n / 1000)
families = st.lists(st.sampled_from(FAMILIES), unique=True, max_size=2).map(tuple)


@st.composite
def intervals(draw, around: float | None = None, values=finite) -> Interval:
    """An interval; with ``around``, one that contains that value."""
    if around is None:
        low, high = sorted((draw(values), draw(values)))
    else:
        low = around - draw(st.floats(0, 100))
        high = around + draw(st.floats(0, 100))
    return Interval(low, high, draw(st.sampled_from((0.8, 0.9, 0.95, 0.99))))


@st.composite
def metrics(draw, name=None, values=any_float) -> Metric:
    value = draw(values)
    return Metric(
        name=draw(st.sampled_from(METRIC_NAMES)) if name is None else name,
        value=value,
        threshold=draw(st.none() | any_float),
        direction=draw(st.sampled_from(DIRECTIONS)),
        interval=draw(st.none() | intervals(values=any_float)),
        unit=draw(st.none() | st.sampled_from(("", "ms", "%"))),
    )


def nodeid(module: str, index: int, case: str | None = None) -> str:
    return f"tests/test_{module}.py::test_{index}" + ("" if case is None else f"[{case}]")


@st.composite
def records(draw, index: int, outcomes=None, with_metrics=True):
    case = draw(st.none() | st.sampled_from(("a", "b-1", "x.y")))
    return TestRecord(
        nodeid=nodeid(draw(st.sampled_from(("data", "model", "perf"))), index, case),
        outcome=draw(st.sampled_from(OUTCOMES) if outcomes is None else outcomes),
        families=draw(families),
        metrics=tuple(draw(st.lists(metrics(), max_size=3 if with_metrics else 0))),
        duration=draw(durations),
        message=draw(st.none() | st.text(max_size=20)),
    )


def created_at(seconds_ago: int) -> str:
    return format_time(NOW - timedelta(seconds=seconds_ago))


json_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=10)


@st.composite
def bundles(draw) -> Bundle:
    """Any bundle: outcomes, metrics (NaN and infinities included), binding and age at random."""
    n = draw(st.integers(0, 6))
    tests = tuple(draw(records(i)) for i in range(n))
    model = draw(st.none() | st.builds(ModelRef, st.sampled_from(MODEL_NAMES),
                                       st.none() | st.sampled_from(VERSIONS)))
    bundle = Bundle(
        created_at=created_at(draw(st.integers(-3600, 10 * 86400))),
        model=model,
        commit=draw(st.none() | st.sampled_from(COMMITS)),
        tests=tests,
        data=draw(st.dictionaries(st.sampled_from(("train", "test", "ref")),
                                  st.sampled_from(("sha256:00", "sha256:ff")))),
        environment=draw(st.dictionaries(st.sampled_from(("python", "os")), json_scalars)),
        run=draw(st.dictionaries(st.sampled_from(("actor", "user")), json_scalars)),
    )
    return bundle.sealed() if draw(st.booleans()) else bundle


@st.composite
def bound_rules(draw, rid: str, metric: str | None = None) -> BoundRule:
    lo, hi = draw(st.none() | finite), draw(st.none() | finite)
    if lo is None and hi is None:
        lo = draw(finite)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    return BoundRule(id=rid, metric=metric or draw(st.sampled_from(METRIC_NAMES)), min=lo, max=hi,
                     on=draw(st.sampled_from(("value", "lower", "upper"))))


@st.composite
def champion_rules(draw, rid: str, metric: str | None = None) -> ChampionRule:
    return ChampionRule(id=rid, metric=metric or draw(st.sampled_from(METRIC_NAMES)),
                        margin=draw(st.floats(0, 10)),
                        direction=draw(st.none() | st.sampled_from(DIRECTIONS)))


@st.composite
def policies(draw) -> Policy:
    n = draw(st.integers(0, 4))
    rules = tuple(draw(st.one_of(bound_rules(f"r{i}"), champion_rules(f"r{i}"))) for i in range(n))
    return Policy(
        source="mlgate.toml",
        model=draw(st.none() | st.sampled_from(MODEL_NAMES)),
        max_age=draw(st.sampled_from((None, 3600.0, 86400.0, 7 * 86400.0))),
        allow_failures=draw(st.booleans()),
        require_families=tuple(draw(st.lists(st.sampled_from(FAMILIES), unique=True, max_size=2))),
        require_tests=tuple(draw(st.lists(
            st.sampled_from(("test_0", "tests/test_model.py::test_1", "test_data.py::test_2",
                             "test_3[a]")), unique=True, max_size=2))),
        rules=rules,
    )


@st.composite
def baselines(draw) -> Baseline | None:
    return draw(st.one_of(
        st.none(),
        st.just(Baseline(model=None, source="registry")),
        st.builds(Baseline, st.just(CHAMPION), st.none() | bundles(), st.just("registry"),
                  st.none() | st.just("the run was deleted")),
    ))


# -- strategies: a case that promotes -------------------------------------------------------


@dataclass(frozen=True)
class Case:
    bundle: Bundle
    policy: Policy
    baseline: Baseline | None
    expect: Expectation

    def decide(self, **changes) -> Decision:
        args = {"bundle": self.bundle, "policy": self.policy, "baseline": self.baseline,
                "expect": self.expect, **changes}
        return decide(args.pop("bundle"), args.pop("policy"), args.pop("baseline"), now=NOW,
                      expect=args.pop("expect"))


def reseal_like(original: Bundle, **changes) -> Bundle:
    """``original`` with ``changes``, sealed again if the original was (a legitimate rewrite)."""
    fresh = replace(original, declared_digest=None, **changes)
    return fresh.sealed() if original.declared_digest is not None else fresh


@st.composite
def good_cases(draw) -> Case:
    name, version = draw(st.sampled_from(MODEL_NAMES)), draw(st.sampled_from(VERSIONS))
    commit = draw(st.none() | st.sampled_from(COMMITS))
    max_age = draw(st.sampled_from((None, 3600.0, 86400.0, 7 * 86400.0)))
    allow_failures = draw(st.booleans())
    age = draw(st.integers(-300, int(max_age) if max_age else 30 * 86400))

    # tests: metrics only on passed tests, each metric name recorded once in the whole bundle
    outcomes = ("passed", "skipped", "xfailed", "xpassed")
    outcomes += ("failed", "error") if allow_failures else ()
    names = draw(st.lists(st.sampled_from(METRIC_NAMES), unique=True))
    tests: list[TestRecord] = []
    for i in range(draw(st.integers(1, 6))):
        t = draw(records(i, outcomes=st.sampled_from(outcomes), with_metrics=False))
        if t.outcome == "passed" and names and draw(st.booleans()):
            k = draw(st.integers(1, len(names)))
            mine, names = names[:k], names[k:]
            recorded = []
            for m in mine:
                value = draw(finite)
                interval = draw(st.none() | intervals(around=value))
                recorded.append(Metric(m, value, draw(st.none() | finite),
                                       draw(st.sampled_from(DIRECTIONS)), interval))
            t = replace(t, metrics=tuple(recorded))
        tests.append(t)
    passed = [t for t in tests if t.outcome == "passed"]

    # requirements the tests meet
    fams = [f for f in FAMILIES
            if any(f in t.families for t in tests)
            and all(t.outcome == "passed" for t in tests if f in t.families)]
    require_families = draw(st.lists(st.sampled_from(fams), unique=True)) if fams else []
    require_tests = []
    for t in passed:
        if draw(st.booleans()):
            full, func = t.nodeid, t.nodeid.split("::")[-1]
            require_tests.append(draw(st.sampled_from((full, func, full.split("/", 1)[1]))))

    # rules the metrics meet; the champion's bundle holds values the candidate is not worse than
    rules: list[BoundRule | ChampionRule] = []
    champion_metrics: list[Metric] = []
    for i, m in enumerate(mm for t in passed for mm in t.metrics):
        choice = draw(st.sampled_from(("none", "bound", "champion")))
        if choice == "bound":
            on = draw(st.sampled_from(("value", "lower", "upper") if m.interval else ("value",)))
            x = {"value": m.value, "lower": m.interval and m.interval.low,
                 "upper": m.interval and m.interval.high}[on]
            lo = draw(st.none() | st.floats(-2e6, x))
            hi = draw(st.none() | st.floats(x, 2e6))
            if lo is None and hi is None:
                lo = x
            rules.append(BoundRule(f"rule{i}", m.name, lo, hi, on))
        elif choice == "champion":
            rule = draw(champion_rules(f"rule{i}", m.name))
            sign = 1.0 if (rule.direction or m.direction) == "higher" else -1.0
            ref = m.value if m.interval is None else (
                m.interval.low if sign > 0 else m.interval.high)
            champion_metrics.append(Metric(m.name, ref - sign * draw(st.floats(0, 100)),
                                           direction=m.direction))
            rules.append(rule)
    has_champion_rule = any(isinstance(r, ChampionRule) for r in rules)
    champion_bundle = Bundle(created_at(86400 * 30), CHAMPION, None,
                             (TestRecord("tests/test_model.py::test_champ", "passed",
                                         metrics=tuple(champion_metrics)),)).sealed()
    if has_champion_rule:
        baseline = draw(st.sampled_from((Baseline(model=None, source="registry"),
                                         Baseline(CHAMPION, champion_bundle, "registry"))))
    else:
        baseline = draw(st.none() | st.just(Baseline(model=None)) | st.just(
            Baseline(CHAMPION, champion_bundle, "registry")))

    bundle = Bundle(
        created_at=created_at(age), model=ModelRef(name, version), commit=commit,
        tests=tuple(tests), data={"train": "sha256:00"}, environment={"python": "3.11"},
        run={"actor": "ci"},
    )
    if draw(st.booleans()):
        bundle = bundle.sealed()
    expect = Expectation(
        model=draw(st.none() | st.just(name)),
        version=draw(st.none() | st.just(version)),
        commit=None if commit is None else draw(st.none() | st.just(commit) | st.just(commit[:7])
                                                | st.just(commit.upper())),
    )
    policy = Policy(
        source="mlgate.toml", model=draw(st.none() | st.just(name)), max_age=max_age,
        allow_failures=allow_failures, require_families=tuple(require_families),
        require_tests=tuple(require_tests), rules=tuple(rules),
    )
    return Case(bundle, policy, baseline, expect)


@st.composite
def arbitrary_cases(draw) -> Case:
    """Generated from scratch, or a good case with something in it broken."""
    if draw(st.booleans()):
        return Case(draw(bundles()), draw(policies()), draw(baselines()),
                    draw(st.builds(Expectation, st.none() | st.sampled_from(MODEL_NAMES),
                                   st.none() | st.sampled_from(VERSIONS),
                                   st.none() | st.sampled_from(COMMITS))))
    case = draw(good_cases())
    breaker = draw(st.sampled_from(BREAKERS))
    return breaker(draw, case)


def by_rule(decision: Decision) -> dict:
    return {r.rule: r for r in decision.reasons}


def assert_not_promoted_because(decision: Decision, rule: str) -> None:
    note(f"decision: {decision.dump()}")
    assert by_rule(decision)[rule].status == "fail"
    assert decision.verdict == "reject"
    assert decision.exit_code == 1


# -- breakers: each breaks one thing in a good case (also used by arbitrary_cases) ---------------


def break_required_test(draw, case: Case) -> tuple[Case, str]:
    tests = list(case.bundle.tests)
    how = draw(st.sampled_from(("missing", "outcome", "new case")))
    if how == "missing" or not tests:
        pattern = draw(st.sampled_from(("tests/test_gone.py::test_gone", "test_99")))
    else:
        i = draw(st.integers(0, len(tests) - 1))
        target = tests[i]
        pattern = target.nodeid.split("::")[-1].split("[")[0]
        bad = draw(st.sampled_from(NOT_PASSED))
        if how == "outcome":
            tests[i] = replace(target, outcome=bad)
            pattern = target.nodeid if draw(st.booleans()) else target.nodeid.split("::")[-1]
        else:  # another parametrized case of the required test, which did not pass
            tests.append(TestRecord(target.nodeid.split("[")[0] + "[zz]", bad))
    policy = replace(case.policy, require_tests=(*case.policy.require_tests, pattern),
                     allow_failures=draw(st.booleans()))
    return replace(case, bundle=reseal_like(case.bundle, tests=tuple(tests)),
                   policy=policy), f"require.test:{pattern}"


def break_family(draw, case: Case) -> tuple[Case, str]:
    family = draw(st.sampled_from(FAMILIES))
    tests = list(case.bundle.tests)
    if draw(st.booleans()):  # no test of the family at all
        tests = [replace(t, families=tuple(f for f in t.families if f != family)) for t in tests]
    else:  # one test of the family did not pass (others may have)
        tests.append(TestRecord(nodeid("family", 50), draw(st.sampled_from(NOT_PASSED)),
                                families=(family,)))
    policy = replace(case.policy,
                     require_families=tuple({*case.policy.require_families, family}))
    return replace(case, bundle=reseal_like(case.bundle, tests=tuple(tests)),
                   policy=policy), f"require.family:{family}"


def break_metric(draw, case: Case) -> tuple[Case, str]:
    tests = list(case.bundle.tests)
    recorded = [(i, m) for i, t in enumerate(tests) for m in t.metrics]
    rules = list(case.policy.rules)
    how = draw(st.sampled_from(("absent", "non-finite", "twice")))
    if how == "absent" or not recorded:
        name = "never_recorded"
        for i, t in enumerate(tests):  # the metric some rule checks is dropped
            tests[i] = replace(t, metrics=tuple(m for m in t.metrics if m.name != name))
    else:
        i, metric = draw(st.sampled_from(recorded))
        name = metric.name
        if how == "non-finite":
            new = replace(metric, value=draw(st.sampled_from(NON_FINITE)))
            tests[i] = replace(tests[i], metrics=tuple(
                new if m.name == name else m for m in tests[i].metrics))
        else:
            where = draw(st.integers(0, len(tests)))
            if where == len(tests) or where == i:  # a second record, in another test
                tests.append(TestRecord(nodeid("dup", 60), "passed", metrics=(metric,)))
            else:
                tests[where] = replace(tests[where], metrics=(*tests[where].metrics, metric))
    checking = [r for r in rules if r.metric == name]
    if checking:
        rule = draw(st.sampled_from(checking))
    else:
        rule = draw(st.one_of(bound_rules("added", name), champion_rules("added", name)))
        rules.append(rule)
    baseline = case.baseline
    return replace(case, bundle=reseal_like(case.bundle, tests=tuple(tests)),
                   policy=replace(case.policy, rules=tuple(rules)), baseline=baseline), rule.id


def tamper(draw, bundle: Bundle) -> Bundle:
    """Change the content of a sealed bundle without sealing it again."""
    tests = list(bundle.tests)
    what = draw(st.sampled_from(("value", "outcome", "version", "commit", "created_at",
                                 "drop test", "data")))
    if what == "value" and any(t.metrics for t in tests):
        i = draw(st.sampled_from([i for i, t in enumerate(tests) if t.metrics]))
        m = tests[i].metrics[0]
        value = m.value + 1.0 if math.isfinite(m.value) and abs(m.value) < 1e15 else 0.5
        tests[i] = replace(tests[i], metrics=(replace(m, value=value), *tests[i].metrics[1:]))
        return replace(bundle, tests=tuple(tests))
    if what == "outcome" and tests:
        i = draw(st.integers(0, len(tests) - 1))
        new = draw(st.sampled_from([o for o in OUTCOMES if o != tests[i].outcome]))
        tests[i] = replace(tests[i], outcome=new)
        return replace(bundle, tests=tuple(tests))
    if what == "version":
        model = bundle.model or ModelRef("iris")
        return replace(bundle, model=replace(model, version=(model.version or "") + "9"))
    if what == "commit":
        return replace(bundle, commit="ab" * 20 if bundle.commit != "ab" * 20 else None)
    if what == "created_at":
        return replace(bundle, created_at=format_time(bundle.created + timedelta(seconds=1)))
    if what == "drop test" and tests:
        return replace(bundle, tests=tuple(tests[1:]))
    return replace(bundle, data={**bundle.data, "train": "sha256:tampered"})


def break_integrity(draw, case: Case) -> tuple[Case, str]:
    sealed = case.bundle if case.bundle.declared_digest else case.bundle.sealed()
    return replace(case, bundle=tamper(draw, sealed)), "integrity"


def break_binding(draw, case: Case) -> tuple[Case, str]:
    model = case.bundle.model
    assert model is not None and model.version is not None
    other_name = next(n for n in MODEL_NAMES if n != model.name)
    how = draw(st.sampled_from(("expect model", "expect version", "expect commit",
                                "policy model", "no model", "no version")))
    bundle, expect, policy = case.bundle, case.expect, case.policy
    if how == "expect model":
        expect = replace(expect, model=other_name)
    elif how == "expect version":
        expect = replace(expect, version=model.version + "0")
    elif how == "expect commit":
        other = next(c for c in COMMITS if c != bundle.commit)
        expect = replace(expect, commit=draw(st.sampled_from((other, other[:7]))))
    elif how == "policy model":
        policy = replace(policy, model=other_name)
    elif how == "no model":
        bundle = reseal_like(bundle, model=None)
    else:
        bundle = reseal_like(bundle, model=ModelRef(model.name, None))
    return replace(case, bundle=bundle, expect=expect, policy=policy), "binding"


def break_freshness(draw, case: Case) -> tuple[Case, str]:
    policy = case.policy
    if draw(st.booleans()):  # too old for max_age
        if policy.max_age is None:
            policy = replace(policy, max_age=draw(st.sampled_from((60.0, 3600.0, 86400.0))))
        seconds = int(policy.max_age) + draw(st.integers(1, 10**7))
    else:  # from more than the allowed clock skew (5 min) in the future
        seconds = -(300 + draw(st.integers(1, 10**7)))
    bundle = reseal_like(case.bundle, created_at=created_at(seconds))
    return replace(case, bundle=bundle, policy=policy), "freshness"


def break_champion_evidence(draw, case: Case) -> tuple[Case, str]:
    """Sound evidence, but the champion's side cannot be compared: review, not promote."""
    tests = list(case.bundle.tests)
    rules = list(case.policy.rules)
    recorded = [m for t in tests if t.outcome == "passed" for m in t.metrics]
    if recorded:
        metric = draw(st.sampled_from(recorded))
    else:
        metric = Metric("review_metric", 0.9)
        tests.append(TestRecord(nodeid("review", 70), "passed", metrics=(metric,)))
    rule = next((r for r in rules if isinstance(r, ChampionRule) and r.metric == metric.name),
                None)
    if rule is None:
        rule = ChampionRule("champion-added", metric.name, margin=1.0)
        rules = [r for r in rules if r.metric != metric.name] + [rule]
    empty = Bundle(created_at(86400), CHAMPION, None, (TestRecord("t.py::champ", "passed"),))
    baseline = draw(st.sampled_from((
        None,  # nobody looked the champion up
        Baseline(CHAMPION, None, "registry", "the run was deleted"),
        Baseline(CHAMPION, replace(empty.sealed(), commit="ab" * 20), "registry"),  # tampered
        Baseline(CHAMPION, empty.sealed(), "registry"),  # the metric is not in it
    )))
    return replace(case, bundle=reseal_like(case.bundle, tests=tuple(tests)), baseline=baseline,
                   policy=replace(case.policy, rules=tuple(rules))), rule.id


BREAKERS = (
    lambda draw, c: break_champion_evidence(draw, c)[0],
    lambda draw, c: break_required_test(draw, c)[0],
    lambda draw, c: break_family(draw, c)[0],
    lambda draw, c: break_metric(draw, c)[0],
    lambda draw, c: break_integrity(draw, c)[0],
    lambda draw, c: break_binding(draw, c)[0],
    lambda draw, c: break_freshness(draw, c)[0],
    lambda draw, c: c,
)


# -- the properties -------------------------------------------------------------------------


@given(good_cases())
def test_a_case_that_meets_the_policy_is_promoted(case: Case) -> None:
    # the baseline every fail-closed property breaks: without the break, it promotes
    decision = case.decide()
    note(f"decision: {decision.dump()}")
    assert decision.verdict == "promote"
    assert decision.exit_code == 0
    assert decision.failed == ()


@given(arbitrary_cases())
def test_promote_implies_every_reason_passes(case: Case) -> None:
    decision = case.decide()
    if decision.verdict == "promote":
        assert decision.reasons
        assert all(r.status == "pass" for r in decision.reasons)


@given(arbitrary_cases())
def test_verdict_is_reject_iff_a_reason_fails_and_review_iff_review_without_fail(
    case: Case,
) -> None:
    decision = case.decide()
    statuses = {r.status for r in decision.reasons}
    assert statuses <= {"pass", "fail", "review"}
    assert (decision.verdict == "reject") == ("fail" in statuses)
    assert (decision.verdict == "needs-review") == ("review" in statuses and "fail" not in statuses)
    # one reason for each of the four checks, each required family and test, and each rule
    assert len(decision.reasons) == (4 + len(case.policy.require_families)
                                     + len(case.policy.require_tests) + len(case.policy.rules))


@given(good_cases(), st.data())
def test_a_required_test_that_is_missing_or_did_not_pass_is_never_promoted(case, data) -> None:
    broken, rule = break_required_test(data.draw, case)
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_a_required_family_without_all_tests_passed_is_never_promoted(case, data) -> None:
    broken, rule = break_family(data.draw, case)
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_a_gated_metric_absent_non_finite_or_recorded_twice_is_never_promoted(case, data) -> None:
    broken, rule = break_metric(data.draw, case)
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_a_sealed_bundle_changed_without_resealing_is_never_promoted(case, data) -> None:
    broken, rule = break_integrity(data.draw, case)
    assert broken.bundle.declared_digest is not None
    assert broken.bundle.digest_ok is False
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_a_sealed_bundle_edited_in_its_json_is_never_promoted(case, data) -> None:
    sealed = case.bundle.sealed()
    doc = sealed.to_json()
    edit = data.draw(st.sampled_from(("outcome", "version", "commit", "created_at", "families")))
    if edit == "outcome":
        doc["tests"][0]["outcome"] = "failed" if doc["tests"][0]["outcome"] != "failed" else "passed"
    elif edit == "version":
        doc["model"]["version"] = doc["model"]["version"] + "1"
    elif edit == "commit":
        doc["commit"] = "ab" * 20
    elif edit == "created_at":
        doc["created_at"] = format_time(NOW)
        assume(doc["created_at"] != sealed.created_at)
    else:
        doc["tests"][0]["families"] = [f for f in FAMILIES if f not in doc["tests"][0]["families"]]
    bundle = Bundle.from_json(json.loads(json.dumps(doc)))
    assert bundle.digest_ok is False
    assert_not_promoted_because(case.decide(bundle=bundle), "integrity")


@given(good_cases(), st.data())
def test_a_bundle_bound_to_another_model_version_or_commit_is_never_promoted(case, data) -> None:
    broken, rule = break_binding(data.draw, case)
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_a_stale_or_future_bundle_is_never_promoted(case, data) -> None:
    broken, rule = break_freshness(data.draw, case)
    assert_not_promoted_because(broken.decide(), rule)


@given(good_cases(), st.data())
def test_champion_evidence_that_cannot_be_compared_needs_review(case, data) -> None:
    broken, rule = break_champion_evidence(data.draw, case)
    decision = broken.decide()
    note(f"decision: {decision.dump()}")
    assert by_rule(decision)[rule].status == "review"
    assert decision.verdict == "needs-review"
    assert decision.exit_code == 3


@given(arbitrary_cases())
def test_decide_is_deterministic(case: Case) -> None:
    first, second = case.decide(), case.decide()
    assert first == second
    assert first.dump() == second.dump()
    assert first.id == second.id


@given(arbitrary_cases(), st.datetimes(timezones=st.just(UTC)),
       st.dictionaries(st.sampled_from(("job", "user")), st.text(max_size=5)))
def test_decision_id_ignores_decided_at_and_context(case, moment, context) -> None:
    decision = case.decide()
    later = replace(decision, decided_at=format_time(moment), context=context)
    assert later.id == decision.id
    assert decision.with_context(**context).id == decision.id
    assert decision.dump()["id"] == decision.id
    other = "reject" if decision.verdict != "reject" else "promote"
    assert replace(decision, verdict=other).id != decision.id  # the id does follow the content


def _has_nan(bundle: Bundle) -> bool:
    floats = [x for t in bundle.tests for m in t.metrics
              for x in (m.value, m.threshold, *(() if m.interval is None
                                                 else (m.interval.low, m.interval.high)))]
    return any(x is not None and math.isnan(x) for x in floats)


@given(bundles())
def test_bundle_json_round_trip(bundle: Bundle) -> None:
    text = json.dumps(bundle.to_json(), allow_nan=False)  # no bare NaN/Infinity in the file
    back = Bundle.from_json(json.loads(text))
    assert back.digest_ok
    assert back.digest == bundle.digest
    assert back.to_json() == bundle.to_json()
    if not _has_nan(bundle):  # NaN != NaN, so dataclass equality only holds without it
        assert back == replace(bundle, tests=tuple(sorted(bundle.tests, key=lambda t: t.nodeid))).sealed()
    for t, doc in zip(sorted(bundle.tests, key=lambda t: t.nodeid), json.loads(text)["tests"],
                      strict=True):
        for m, mdoc in zip(t.metrics, doc["metrics"], strict=True):
            if math.isnan(m.value):
                assert mdoc["value"] == "NaN"
            elif math.isinf(m.value):
                assert mdoc["value"] == ("Infinity" if m.value > 0 else "-Infinity")
            else:
                assert mdoc["value"] == m.value


@given(arbitrary_cases())
def test_decision_json_round_trip(case: Case) -> None:
    decision = case.decide().with_context(job="ci-1")
    text = json.dumps(decision.dump(), allow_nan=False)
    back = Decision.from_json(json.loads(text))
    assert back.dump() == decision.dump()
    assert back.id == decision.id
    values = [x for r in decision.reasons for x in (r.observed, r.threshold, r.champion)
              if x is not None]
    if not any(math.isnan(x) for x in values):
        assert back == decision
    else:
        assert '"NaN"' in text


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_values_are_written_as_strings(value: float) -> None:
    bundle = Bundle(created_at(0), ModelRef("iris", "1"), None,
                    (TestRecord("t.py::t", "passed", metrics=(Metric("m", value),)),))
    doc = json.loads(json.dumps(bundle.to_json(), allow_nan=False))
    expected = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    assert doc["tests"][0]["metrics"][0]["value"] == expected
    back = Bundle.from_json(doc).tests[0].metrics[0].value
    assert repr(back) == repr(value)
