"""``decide()``: the pure decision function. No I/O, no clock, no randomness.

Given a bundle, a policy and (optionally) the champion's evidence, it returns a
:class:`Decision`: ``promote``, ``reject`` or ``needs-review``, with one :class:`Reason` per rule.

It fails closed: anything it cannot verify (a digest that does not match, a bundle bound to
another model version or commit, a stale bundle, a required test that did not pass, a metric that
is missing, recorded twice or not a finite number) is a ``fail`` and the verdict is ``reject``.
Evidence that is sound but inconclusive (the champion's evidence is missing, or an interval
straddles the margin) is ``review`` and the verdict is ``needs-review``. Only when every rule
passes is the verdict ``promote``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from .bundle import Bundle, ModelRef, format_time, sha256_digest
from .policy import BenchmarkRule, BoundRule, ChampionRule, CostRule, NoninferiorityRule, Policy
from .record import Metric, TestRecord, encode_float

Verdict = Literal["promote", "reject", "needs-review"]
Status = Literal["pass", "fail", "review"]
VERDICTS: tuple[str, ...] = ("promote", "reject", "needs-review")

#: exit codes of ``mlgate gate`` (documented in README.md)
EXIT_CODES: dict[str, int] = {"promote": 0, "reject": 1, "needs-review": 3}
EXIT_INPUT_ERROR = 2
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Baseline:
    """The current champion and its evidence, as a baseline loader found them.

    ``decide(baseline=None)`` means no one looked (champion rules then need review);
    ``Baseline(model=None)`` means the registry was asked and has no champion yet;
    ``bundle`` is ``None`` when a champion exists but its evidence could not be found (``note`` says why).
    """

    model: ModelRef | None = None
    bundle: Bundle | None = None
    source: str = ""
    note: str | None = None


@dataclass(frozen=True)
class Expectation:
    """What the bundle must be bound to (from the command line or CI); ``None``: not checked."""

    model: str | None = None
    version: str | None = None
    commit: str | None = None


@dataclass(frozen=True)
class Reason:
    rule: str
    status: Status
    message: str
    observed: float | None = None
    threshold: float | None = None
    champion: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "status": self.status, "message": self.message}
        for name in ("observed", "threshold", "champion"):
            value = getattr(self, name)
            if value is not None:
                out[name] = encode_float(value)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reason:
        def num(name):
            v = data.get(name)
            return None if v is None else float(str(v).replace("Infinity", "inf"))

        return cls(data["rule"], data["status"], data["message"], num("observed"),
                   num("threshold"), num("champion"))


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    model: ModelRef | None
    champion: ModelRef | None
    bundle_digest: str
    policy_digest: str
    baseline_digest: str | None
    decided_at: str
    kind: str = "gate"  # "gate", or "rollback" for a rollback's record
    context: dict[str, Any] = field(default_factory=dict)  # who ran it: CI job, commit, user

    @property
    def id(self) -> str:
        """Stable identity: the same inputs give the same id, whenever and wherever decided.

        Publishers key on it, so publishing the same decision twice changes nothing."""
        core = self.to_json()
        for volatile in ("decided_at", "context", "id"):
            core.pop(volatile, None)
        return sha256_digest(core)[len("sha256:"):][:16]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def failed(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.status != "pass")

    def summary(self, limit: int = 250) -> str:
        """The reasons in short (for a registry tag or a commit status)."""
        bad = self.failed
        if not bad:
            text = f"{self.verdict}: all {len(self.reasons)} rules passed"
        else:  # joined only as far as the limit reaches (reasons may be huge)
            parts, size = [], 0
            for r in bad:
                part = f"{r.rule}: {r.message[: limit + 1]}"
                parts.append(part)
                size += len(part) + 2
                if size > limit:
                    break
            text = f"{self.verdict}: " + "; ".join(parts)
        return text if len(text) <= limit else text[: limit - 1] + "…"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "mlgate.decision/1",
            "id": None,  # filled below, after the content is known
            "kind": self.kind,
            "verdict": self.verdict,
            "model": None if self.model is None else self.model.to_json(),
            "champion": None if self.champion is None else self.champion.to_json(),
            "bundle_digest": self.bundle_digest,
            "policy_digest": self.policy_digest,
            "baseline_digest": self.baseline_digest,
            "decided_at": self.decided_at,
            "context": self.context,
            "reasons": [r.to_json() for r in self.reasons],
        }

    def dump(self) -> dict[str, Any]:
        data = self.to_json()
        data["id"] = self.id
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Decision:
        return cls(
            verdict=data["verdict"],
            reasons=tuple(Reason.from_json(r) for r in data["reasons"]),
            model=ModelRef.from_json(data.get("model")),
            champion=ModelRef.from_json(data.get("champion")),
            bundle_digest=data["bundle_digest"],
            policy_digest=data["policy_digest"],
            baseline_digest=data.get("baseline_digest"),
            decided_at=data["decided_at"],
            kind=data.get("kind", "gate"),
            context=dict(data.get("context") or {}),
        )

    def with_context(self, **context: Any) -> Decision:
        return replace(self, context={**self.context, **context})


def verdict_of(reasons: Iterable[Reason]) -> Verdict:
    statuses = {r.status for r in reasons}
    if not statuses or "fail" in statuses:
        return "reject"  # no rule evaluated at all is not a pass either
    if "review" in statuses:
        return "needs-review"
    return "promote"


# -- the rules ------------------------------------------------------------------------------


def decide(
    bundle: Bundle,
    policy: Policy,
    baseline: Baseline | None = None,
    *,
    now: datetime,
    expect: Expectation = Expectation(),
) -> Decision:
    """Decide on ``bundle`` under ``policy``. Pure: the same arguments give the same Decision."""
    reasons: list[Reason] = [
        _integrity(bundle),
        _binding(bundle, policy, expect),
        _freshness(bundle, policy, now),
        _tests(bundle, policy),
    ]
    reasons += [_family(bundle, fam) for fam in policy.require_families]
    reasons += [_required_test(bundle, pattern) for pattern in policy.require_tests]
    if policy.require_ml_test_score is not None:
        reasons.append(_ml_test_score(bundle, policy.require_ml_test_score))
    metrics = _metrics_by_name(bundle.tests)
    for rule in policy.rules:
        if isinstance(rule, BoundRule):
            reasons.append(_bound(rule, metrics))
        elif isinstance(rule, ChampionRule):
            reasons.append(_champion(rule, metrics, baseline, bundle.model))
        elif isinstance(rule, NoninferiorityRule):
            reasons.append(_noninferiority(rule, metrics, baseline, bundle.model))
        elif isinstance(rule, BenchmarkRule):
            reasons.append(_benchmark(rule, bundle, metrics, baseline))
        elif isinstance(rule, CostRule):
            reasons.append(_cost(rule, metrics))
        else:  # pragma: no cover - parse_policy only builds known kinds
            reasons.append(Reason(rule.id, "fail", f"unknown rule kind {rule.kind!r}"))
    champion = baseline.model if baseline else None
    baseline_digest = None
    if baseline is not None and baseline.bundle is not None:
        baseline_digest = baseline.bundle.declared_digest or baseline.bundle.digest
    return Decision(
        verdict=verdict_of(reasons),
        reasons=tuple(reasons),
        model=bundle.model,
        champion=champion,
        bundle_digest=bundle.declared_digest or bundle.digest,
        policy_digest=policy.digest,
        baseline_digest=baseline_digest,
        decided_at=format_time(now),
    )


def _integrity(bundle: Bundle) -> Reason:
    if not bundle.digest_ok:
        return Reason("integrity", "fail",
                      f"bundle digest {bundle.declared_digest} does not match its content "
                      f"({bundle.digest}): the file was changed after pytest wrote it")
    return Reason("integrity", "pass", "bundle digest matches its content")


def _binding(bundle: Bundle, policy: Policy, expect: Expectation) -> Reason:
    model = bundle.model
    if model is None or model.version is None:
        return Reason("binding", "fail",
                      "the bundle is not bound to a model version; run pytest with "
                      "--mlgate-model NAME --mlgate-model-version VERSION")
    for wanted, source in ((expect.model, "the command line"), (policy.model, policy.source)):
        if wanted is not None and wanted != model.name:
            return Reason("binding", "fail",
                          f"the bundle tested model {model.name!r}, {source} expects {wanted!r}")
    if expect.version is not None and str(expect.version) != model.version:
        return Reason("binding", "fail",
                      f"the bundle tested {model}, but version {expect.version} is being decided")
    if expect.commit is not None:
        if bundle.commit is None:
            return Reason("binding", "fail",
                          f"commit {expect.commit} expected, the bundle records no commit")
        if not _same_commit(bundle.commit, expect.commit):
            return Reason("binding", "fail",
                          f"the bundle is from commit {bundle.commit}, expected {expect.commit}")
    return Reason("binding", "pass", f"bound to {model}"
                  + (f" at commit {bundle.commit[:12]}" if bundle.commit else ""))


def _same_commit(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 7 and longer.startswith(shorter)


def _freshness(bundle: Bundle, policy: Policy, now: datetime) -> Reason:
    created = bundle.created
    if created > now + CLOCK_SKEW:
        return Reason("freshness", "fail",
                      f"the bundle claims to be from the future ({bundle.created_at})")
    age = (now - created).total_seconds()
    if policy.max_age is not None and age > policy.max_age:
        return Reason("freshness", "fail",
                      f"the bundle is {_human(age)} old, the policy allows {_human(policy.max_age)} "
                      f"(max_age in {policy.source})", observed=age, threshold=policy.max_age)
    limit = "no age limit" if policy.max_age is None else f"max_age {_human(policy.max_age)}"
    return Reason("freshness", "pass", f"written {bundle.created_at} ({limit})")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _tests(bundle: Bundle, policy: Policy) -> Reason:
    if not bundle.tests:
        return Reason("tests", "fail", "the bundle holds no test results")
    bad = [t for t in bundle.tests if t.outcome in ("failed", "error")]
    if bad and not policy.allow_failures:
        names = ", ".join(f"{t.nodeid} ({t.outcome})" for t in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        return Reason("tests", "fail", f"{len(bad)} of {len(bundle.tests)} tests did not pass: "
                      f"{names}{more}", observed=float(len(bad)), threshold=0.0)
    counts = {}
    for t in bundle.tests:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    text = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    return Reason("tests", "pass", text)


def _family(bundle: Bundle, family: str) -> Reason:
    rule = f"require.family:{family}"
    tests = [t for t in bundle.tests if family in t.families]
    if not tests:
        return Reason(rule, "fail", f"no test is marked @pytest.mark.{family}")
    not_passed = [t for t in tests if t.outcome != "passed"]
    if not_passed:
        names = ", ".join(f"{t.nodeid} ({t.outcome})" for t in not_passed[:5])
        return Reason(rule, "fail", f"{len(not_passed)} of {len(tests)} {family} tests did not "
                      f"pass: {names}")
    return Reason(rule, "pass", f"{len(tests)} {family} tests passed")


def _matches(nodeid: str, pattern: str) -> bool:
    candidates = {nodeid}
    if "[" not in pattern and "[" in nodeid:
        candidates.add(nodeid[: nodeid.index("[")])
    return any(c == pattern or c.endswith("/" + pattern) or c.endswith("::" + pattern)
               for c in candidates)


def _required_test(bundle: Bundle, pattern: str) -> Reason:
    rule = f"require.test:{pattern}"
    tests = [t for t in bundle.tests if _matches(t.nodeid, pattern)]
    if not tests:
        return Reason(rule, "fail", "required test is missing from the bundle")
    not_passed = [t for t in tests if t.outcome != "passed"]
    if not_passed:
        t = not_passed[0]
        why = f": {t.message}" if t.message else ""
        return Reason(rule, "fail", f"required test {t.nodeid} was {t.outcome}{why}")
    return Reason(rule, "pass", "passed" if len(tests) == 1 else f"all {len(tests)} cases passed")


def _ml_test_score(bundle: Bundle, minimum: float) -> Reason:
    from .rubric import score

    rubric = score(bundle.tests)
    parts = ", ".join(f"{k} {v:g}" for k, v in rubric.sections.items())
    text = f"ML Test Score {rubric.score:g} ({parts}), the policy asks for {minimum:g}"
    status: Status = "pass" if rubric.score >= minimum else "fail"
    return Reason("require.ml_test_score", status, text, observed=rubric.score, threshold=minimum)


def _metrics_by_name(tests: Iterable[TestRecord]) -> dict[str, list[tuple[TestRecord, Metric]]]:
    found: dict[str, list[tuple[TestRecord, Metric]]] = {}
    for t in tests:
        for m in t.metrics:
            found.setdefault(m.name, []).append((t, m))
    return found


#: outcomes whose metrics are evidence: a failed test's numbers say why it failed (and the
#: ``tests`` rule rejects it anyway); a skipped, xfailed or errored test did not finish.
USABLE_OUTCOMES = ("passed", "xpassed", "failed")


def _one_metric(name: str, metrics: dict, rule: str) -> Metric | Reason:
    entries = metrics.get(name, [])
    if not entries:
        return Reason(rule, "fail", f"metric {name!r} was not recorded by any test")
    if len(entries) > 1:
        where = ", ".join(t.nodeid for t, _ in entries[:3])
        return Reason(rule, "fail", f"metric {name!r} was recorded {len(entries)} times ({where}); "
                      "record each gated metric once, or give the records distinct names")
    test = entries[0][0]
    if test.outcome not in USABLE_OUTCOMES:
        return Reason(rule, "fail", f"metric {name!r} comes from {test.nodeid}, which was "
                      f"{test.outcome}: evidence from an unfinished test is not used")
    metric = entries[0][1]
    if not metric.finite:
        return Reason(rule, "fail", f"metric {name!r} is {metric.value} (not a finite number)",
                      observed=metric.value)
    return metric


def _pct(level: float) -> str:
    """0.95 -> "95%", 0.975 -> "97.5%" (never rounded into another level)."""
    return f"{level * 100:.4g}%"


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _bound(rule: BoundRule, metrics: dict) -> Reason:
    found = _one_metric(rule.metric, metrics, rule.id)
    if isinstance(found, Reason):
        return found
    if rule.on == "value":
        x, what = found.value, rule.metric
    elif found.interval is None:
        return Reason(rule.id, "fail", f"the rule bounds the {rule.on} confidence bound of "
                      f"{rule.metric!r}, but it was recorded without an interval",
                      observed=found.value)
    else:
        x = found.interval.low if rule.on == "lower" else found.interval.high
        what = f"{rule.on} {_pct(found.interval.level)} bound of {rule.metric}"
        if not math.isfinite(x):
            return Reason(rule.id, "fail", f"{what} is {x}", observed=x)
    if rule.min is not None and x < rule.min:
        return Reason(rule.id, "fail", f"{what} = {_fmt(x)} is below the minimum {_fmt(rule.min)}",
                      observed=x, threshold=rule.min)
    if rule.max is not None and x > rule.max:
        return Reason(rule.id, "fail", f"{what} = {_fmt(x)} is above the maximum {_fmt(rule.max)}",
                      observed=x, threshold=rule.max)
    limits = " and ".join(s for s in (
        None if rule.min is None else f">= {_fmt(rule.min)}",
        None if rule.max is None else f"<= {_fmt(rule.max)}") if s)
    return Reason(rule.id, "pass", f"{what} = {_fmt(x)} {limits}", observed=x,
                  threshold=rule.min if rule.min is not None else rule.max)


def _champion_bundle(baseline: Baseline) -> Bundle | str:
    """The champion's bundle when it can be used as evidence, else why not."""
    found = baseline.bundle
    if found is None or not found.digest_ok:
        return baseline.note or ("its evidence was not found" if found is None
                                 else "its bundle digest does not match")
    return found


def _champion(rule: ChampionRule, metrics: dict, baseline: Baseline | None,
              candidate: ModelRef | None) -> Reason:
    found = _one_metric(rule.metric, metrics, rule.id)
    if isinstance(found, Reason):
        return found
    cand = found
    if baseline is None:
        return Reason(rule.id, "review", "no baseline source: the champion's evidence was not "
                      "looked up (install a registry plugin such as mlgate[mlflow], or pass "
                      "--baseline)", observed=cand.value)
    if baseline.model is None:
        return Reason(rule.id, "pass", f"no champion yet: {rule.metric} = {_fmt(cand.value)} "
                      "is not compared", observed=cand.value)
    if candidate == baseline.model:
        return Reason(rule.id, "pass", f"{candidate} is the champion itself: {rule.metric} = "
                      f"{_fmt(cand.value)} is not compared with itself", observed=cand.value)
    champ_bundle = _champion_bundle(baseline)
    if isinstance(champ_bundle, str):
        return Reason(rule.id, "review", f"champion {baseline.model}: {champ_bundle}; cannot "
                      f"compare {rule.metric}", observed=cand.value)
    champ = _one_metric(rule.metric, _metrics_by_name(champ_bundle.tests), rule.id)
    if isinstance(champ, Reason):
        return Reason(rule.id, "review", f"champion {baseline.model}: {champ.message}",
                      observed=cand.value)
    direction = rule.direction or cand.direction
    sign = 1.0 if direction == "higher" else -1.0
    worse_by = sign * (champ.value - cand.value)
    detail = (f"{rule.metric} {_fmt(cand.value)} against champion {baseline.model} "
              f"{_fmt(champ.value)} ({'higher' if direction == 'higher' else 'lower'} is better, "
              f"margin {_fmt(rule.margin)})")
    common = dict(observed=cand.value, champion=champ.value,
                  threshold=champ.value - sign * rule.margin)
    if worse_by > rule.margin:
        return Reason(rule.id, "fail", f"worse than the champion by {_fmt(worse_by)}: {detail}",
                      **common)
    if cand.interval is not None:
        pessimistic = cand.interval.low if direction == "higher" else cand.interval.high
        if not math.isfinite(pessimistic):  # NaN compares False: it would pass unseen
            return Reason(rule.id, "fail", f"the {_pct(cand.interval.level)} interval of "
                          f"{rule.metric} has the bound {pessimistic}: {detail}", **common)
        if sign * (champ.value - pessimistic) > rule.margin:
            return Reason(rule.id, "review", f"the {_pct(cand.interval.level)} interval "
                          f"[{_fmt(cand.interval.low)}, {_fmt(cand.interval.high)}] straddles the "
                          f"margin: {detail}", **common)
    return Reason(rule.id, "pass", detail, **common)


def _noninferiority(rule: NoninferiorityRule, metrics: dict, baseline: Baseline | None,
                    candidate: ModelRef | None) -> Reason:
    if rule.metric not in metrics and baseline is not None and baseline.model is None:
        return Reason(rule.id, "pass", f"no champion yet: {rule.metric} is not compared")
    if baseline is not None and candidate is not None and candidate == baseline.model:
        return Reason(rule.id, "pass", f"{candidate} is the champion itself: {rule.metric} is "
                      "not a comparison with another model")
    found = _one_metric(rule.metric, metrics, rule.id)
    if isinstance(found, Reason):
        return found
    iv = found.interval
    if iv is None:
        return Reason(rule.id, "fail", f"{rule.metric} was recorded without an interval; a "
                      "non-inferiority rule needs the paired interval (mlgate.model.compare)",
                      observed=found.value)
    if not (math.isfinite(iv.low) and math.isfinite(iv.high)):
        return Reason(rule.id, "fail", f"the interval of {rule.metric} is [{iv.low}, {iv.high}]",
                      observed=found.value)
    limit = -rule.margin
    shown = (f"{rule.metric} = {_fmt(found.value)}, {_pct(iv.level)} interval [{_fmt(iv.low)}, "
             f"{_fmt(iv.high)}], margin {_fmt(rule.margin)}")
    common = dict(observed=found.value, threshold=limit)
    if iv.high < limit:
        return Reason(rule.id, "fail", f"worse than the champion beyond the margin: {shown}",
                      **common)
    if iv.low < limit:
        return Reason(rule.id, "review", f"the interval straddles the margin: {shown}", **common)
    return Reason(rule.id, "pass", f"not worse than the champion by more than the margin: {shown}",
                  **common)


def _evidence(tests: Iterable[TestRecord], key: str) -> tuple[TestRecord, Any] | str:
    """The one usable test that kept evidence ``key``, or why there is none."""
    found = [(t, t.evidence[key]) for t in tests if key in t.evidence]
    if not found:
        return f"no test recorded {key!r}"
    if len(found) > 1:
        return (f"{key!r} was recorded by {len(found)} tests "
                f"({', '.join(t.nodeid for t, _ in found[:3])}); give each benchmark its own name")
    test, data = found[0]
    if test.outcome not in USABLE_OUTCOMES:
        return f"{key!r} comes from {test.nodeid}, which was {test.outcome}"
    return test, data


def _benchmark(rule: BenchmarkRule, bundle: Bundle, metrics: dict,
               baseline: Baseline | None) -> Reason:
    """Speed against the champion: the in-job interleaved comparison when the bundle has one,
    else the candidate's rounds against the champion bundle's (same machine only)."""
    if baseline is not None and baseline.model is not None and bundle.model == baseline.model:
        return Reason(rule.id, "pass", f"{bundle.model} is the champion itself")
    paired = _evidence(bundle.tests, f"regression.{rule.metric}")
    if not isinstance(paired, str) and paired[1].get("machine") == "interleaved":
        against = ModelRef.from_json(paired[1].get("baseline_model"))
        if (against is not None and baseline is not None and baseline.model is not None
                and against != baseline.model):
            return Reason(rule.id, "review", f"benchmark {rule.metric!r} was re-run against "
                          f"{against}, but the champion is {baseline.model}: run the tests again")
        found = _one_metric(f"{rule.metric}.median_ratio", metrics, rule.id)
        if isinstance(found, Reason):
            return found
        iv = found.interval
        if iv is None or not (math.isfinite(iv.low) and math.isfinite(iv.high)):
            return Reason(rule.id, "fail", f"{rule.metric}.median_ratio has no finite interval",
                          observed=found.value)
        return _speed_verdict(rule, found.value, iv.low, iv.high, iv.level,
                              f"champion{'' if against is None else f' {against}'} re-run "
                              "interleaved in this job")
    cand = _evidence(bundle.tests, f"benchmark.{rule.metric}")
    if isinstance(cand, str):
        return Reason(rule.id, "fail", f"the candidate's benchmark is missing: {cand}; time it with "
                      f"mlgate_benchmark(..., name={rule.metric!r})")
    if baseline is None:
        return Reason(rule.id, "review", "no baseline source: the champion's benchmark was not "
                      "looked up (a registry plugin, or --baseline), and the bundle has no "
                      f"interleaved comparison (mlgate_benchmark.compare(..., name={rule.metric!r}))")
    if baseline.model is None:
        return Reason(rule.id, "pass", f"no champion yet: benchmark {rule.metric!r} is not compared")
    champ_bundle = _champion_bundle(baseline)
    if isinstance(champ_bundle, str):
        return Reason(rule.id, "review", f"champion {baseline.model}: {champ_bundle}; cannot "
                      f"compare benchmark {rule.metric!r}")
    champ = _evidence(champ_bundle.tests, f"benchmark.{rule.metric}")
    if isinstance(champ, str):
        return Reason(rule.id, "review", f"champion {baseline.model}: {champ}; re-run it beside the "
                      "candidate with mlgate_benchmark.compare")
    from .perf.regression import regression

    try:
        result = regression(cand[1], champ[1], tolerance=rule.tolerance, alpha=rule.alpha,
                            name=rule.metric, allow_other_machine=rule.allow_other_machine)
    except (ValueError, TypeError) as exc:
        return Reason(rule.id, "fail", f"benchmark {rule.metric!r} cannot be compared: {exc}")
    if result.refused:
        return Reason(rule.id, "review", result.refused)
    marked = "" if result.machine == "same" else f" (machine {result.machine})"
    return _speed_verdict(rule, result.ratio, result.low, result.high, result.level,
                          f"against champion {baseline.model}'s stored rounds{marked}")


def _speed_verdict(rule: BenchmarkRule, ratio: float, low: float, high: float, level: float,
                   how: str) -> Reason:
    limit = 1 + rule.tolerance
    shown = (f"{rule.metric}: candidate/champion median time = {_fmt(ratio)}, {_pct(level)} "
             f"interval [{_fmt(low)}, {_fmt(high)}], tolerance {_fmt(rule.tolerance)}, {how}")
    common = dict(observed=ratio, threshold=limit)
    if low > limit:
        return Reason(rule.id, "fail", f"slower than the champion beyond the tolerance: {shown}",
                      **common)
    if ratio > limit:
        return Reason(rule.id, "review", f"looks slower than the tolerance allows, without "
                      f"statistical support: {shown}", **common)
    return Reason(rule.id, "pass", f"not slower than the champion beyond the tolerance: {shown}",
                  **common)


def _cost(rule: CostRule, metrics: dict) -> Reason:
    from .perf.cost import cost_per_million

    found = _one_metric(rule.metric, metrics, rule.id)
    if isinstance(found, Reason):
        return found
    cost = cost_per_million(rule.price_per_hour, found.value * rule.predictions_per_unit)
    shown = (f"{_fmt(cost)} per million predictions at {_fmt(rule.price_per_hour)} per hour and "
             f"{rule.metric} = {_fmt(found.value)}"
             + ("" if rule.predictions_per_unit == 1 else f" x {_fmt(rule.predictions_per_unit)}"))
    if not math.isfinite(cost):
        return Reason(rule.id, "fail", f"no cost: {rule.metric} = {_fmt(found.value)} is not a "
                      "positive throughput", observed=cost)
    if cost > rule.max_per_million:
        return Reason(rule.id, "fail", f"{shown} is above the maximum {_fmt(rule.max_per_million)}",
                      observed=cost, threshold=rule.max_per_million)
    return Reason(rule.id, "pass", f"{shown} <= {_fmt(rule.max_per_million)}", observed=cost,
                  threshold=rule.max_per_million)
