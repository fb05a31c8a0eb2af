"""The ML Test Score rubric: tags, scoring (min over sections), the gate's requirement."""

from __future__ import annotations

import pytest

from mlgate.bundle import Bundle
from mlgate.gate import decide
from mlgate.policy import parse_policy
from mlgate.record import TestRecord
from mlgate.rubric import ITEMS, normalise, score

pytest_plugins = ["pytester"]


def test_there_are_28_items_seven_per_section() -> None:
    assert len(ITEMS) == 28
    assert normalise("model-6") == normalise("MODEL6") == "Model 6"
    with pytest.raises(ValueError, match="is not an ML Test Score item"):
        normalise("Model 8")


def test_score_is_the_minimum_over_sections_and_counts_passed_tests_only() -> None:
    tests = [TestRecord(f"t.py::{s}{i}", "passed", rubric=(f"{s} {i}",))
             for s in ("Data", "Model", "Infra", "Monitor") for i in range(1, 4)]
    tests.append(TestRecord("t.py::extra", "passed", rubric=("Data 4", "Model 4")))
    tests.append(TestRecord("t.py::broken", "failed", rubric=("Infra 4",)))
    result = score(tests)
    assert result.sections == {"Data": 4, "Model": 4, "Infra": 3, "Monitor": 3}
    assert result.score == 3
    assert "Infra 4" not in result.untested  # tagged, but it did not pass: 0 points
    assert result.items["Infra 4"] == 0.0
    assert len(result.untested) == 28 - 12 - 3


def test_marker_tags_reach_the_bundle_and_the_gate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        @pytest.mark.mltest("Data 1", "monitor 2")
        def test_schema():
            pass
        @pytest.mark.mltest("Model 6")
        def test_slices():
            pass
    """)
    result = pytester.runpytest("--strict-markers", "--mlgate-model", "m",
                                "--mlgate-model-version", "1", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["ML Test Score: 0 of 7 (Data 1, Model 1, Infra 0, Monitor 1); "
                                 "25 of 28 items have no test"])
    bundle = Bundle.read(pytester.path / "reports" / "results.json")
    rubric = {t.nodeid.split("::")[1]: t.rubric for t in bundle.tests}
    assert rubric == {"test_schema": ("Data 1", "Monitor 2"), "test_slices": ("Model 6",)}
    policy = parse_policy({"max_age": "unlimited", "require": {"ml_test_score": 1}})
    from datetime import UTC, datetime

    decision = decide(bundle, policy, now=datetime.now(UTC))
    (reason,) = [r for r in decision.reasons if r.rule == "require.ml_test_score"]
    assert reason.status == "fail" and decision.verdict == "reject"
    assert reason.message == ("ML Test Score 0 (Data 1, Model 1, Infra 0, Monitor 1), "
                              "the policy asks for 1")


def test_unknown_item_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("import pytest\n@pytest.mark.mltest('Model 9')\ndef test_x():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(["*test_x: @pytest.mark.mltest: 'Model 9' is not an ML Test Score item*"])


def test_the_bundle_shows_the_score_and_the_untested_items() -> None:
    tests = (TestRecord("t.py::a", "passed", rubric=("Data 1",)), TestRecord("t.py::b", "passed"))
    data = Bundle("2026-11-27T10:00:00Z", None, None, tests).to_json()
    assert data["rubric"]["score"] == 0
    assert data["rubric"]["sections"] == {"Data": 1, "Model": 0, "Infra": 0, "Monitor": 0}
    assert data["rubric"]["items"]["Data 1"] == {
        "title": "Feature expectations are captured in a schema", "points": 1.0, "tests": ["t.py::a"]}
    assert len(data["rubric"]["untested"]) == 27
    untagged = Bundle("2026-11-27T10:00:00Z", None, None, tests[1:]).to_json()
    assert "rubric" not in untagged
    assert Bundle.from_json(data).digest_ok  # derived, and read back consistently
