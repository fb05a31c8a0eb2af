"""Decisions and bundles for the publishers' tests."""

from __future__ import annotations

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.gate import Decision, Reason
from mlgate.record import Metric, TestRecord

TOKEN = "ghp_SECRETtoken1234567890abcdef"
SHA = "0123456789abcdef0123456789abcdef01234567"


def make_bundle(n_failed: int = 0, n_passed: int = 1, message: str | None = None) -> Bundle:
    tests = [TestRecord(f"tests/test_model.py::test_ok_{i}", "passed", ("model",),
                        (Metric("accuracy", 0.95, 0.9),)) for i in range(n_passed)]
    tests += [TestRecord(f"tests/test_model.py::test_bad_{i}", "failed", ("model",),
                         message=message or f"assert {i} == 0") for i in range(n_failed)]
    return Bundle(created_at="2026-01-01T00:00:00Z", model=ModelRef("iris", "2"), commit=SHA,
                  tests=tuple(tests))


def make_decision(verdict: str = "reject", message: str = "accuracy = 0.8 is below the minimum 0.9",
                  n_rules: int = 2) -> Decision:
    status = {"promote": "pass", "reject": "fail", "needs-review": "review"}[verdict]
    reasons = [Reason("integrity", "pass", "the digest matches")]
    reasons += [Reason(f"bound:m{i}", status, message, 0.8, 0.9) for i in range(n_rules - 1)]
    return Decision(verdict, tuple(reasons), ModelRef("iris", "2"), None, "sha256:b", "sha256:p",
                    None, "2026-01-01T00:00:00Z")


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The back-off sleeps, recorded instead of slept."""
    import mlgate.report._http as http

    slept: list[float] = []
    monkeypatch.setattr(http, "_sleep", slept.append)
    return slept


@pytest.fixture(name="make_bundle")
def _make_bundle():
    return make_bundle


@pytest.fixture(name="make_decision")
def _make_decision():
    return make_decision
