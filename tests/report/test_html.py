"""The HTML report: structure, escaping of hostile names, the size budget, two bundles side by
side, `mlgate report` and the report the gate writes beside decision.json."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.cli import main
from mlgate.data.drift import drift
from mlgate.gate import Decision, Reason
from mlgate.model.calibration import calibration
from mlgate.model.compare import compare
from mlgate.record import Interval, Metric, TestRecord
from mlgate.report.html import render, render_comparison

SCRIPT_NAME = "test_x[<script>alert(1)</script>]"
IMG_COLUMN = '"><img src=x onerror=alert(1)>'
STYLE_METRIC = "loss</style><b>bold</b>"


class _Checker(HTMLParser):
    """Parses the whole page; records tags, and fails on tags a report never has."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs
        if tag not in {"meta", "br", "input", "img"}:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += attrs

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Checker:
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert checker.stack == [], f"unclosed tags: {checker.stack}"
    return checker


def rich_bundle(version: str = "2", *, shift: float = 0.5, accuracy: float = 0.93) -> Bundle:
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"age": rng.normal(40, 10, 500), IMG_COLUMN: rng.choice(["a", "b"], 500)})
    cur = pd.DataFrame({"age": rng.normal(40 + shift * 10, 10, 400),
                        IMG_COLUMN: rng.choice(["a", "b", "c"], 400)})
    d = drift(ref, cur, max_drift_share=0.5)
    y = rng.integers(0, 2, 300)
    scores = np.clip(y * 0.6 + rng.uniform(0, 0.4, 300), 0, 1)
    champ = np.clip(y * 0.5 + rng.uniform(0, 0.5, 300), 0, 1)
    cal = calibration(y, scores, max_ece=0.5)
    cmp = compare(y, scores, champ, metrics=("accuracy",), margin=0.01)
    tests = (
        TestRecord("tests/test_data.py::test_drift", "passed", ("data",), tuple(d.metrics()),
                   evidence={"drift": d.evidence()}),
        TestRecord("tests/test_model.py::test_accuracy", "passed", ("model",),
                   (Metric("accuracy", accuracy, 0.9, "higher", Interval(accuracy - 0.02, accuracy + 0.02)),
                    Metric(STYLE_METRIC, 0.2, 0.3, "lower")), rubric=("Model 6",)),
        TestRecord("tests/test_model.py::test_calibration", "passed", ("model",), tuple(cal.metrics()),
                   evidence={"calibration": cal.evidence()}),
        TestRecord("tests/test_model.py::test_vs_champion", "passed", ("model",), tuple(cmp.metrics()),
                   evidence={"comparison": cmp.evidence()}),
        TestRecord(f"tests/test_model.py::{SCRIPT_NAME}", "failed", ("model",),
                   message="assert <script>alert(2)</script>",
                   evidence={"custom": {"note": "</pre><script>alert(3)</script>", "big": "x" * 50_000}}),
        TestRecord("tests/test_perf.py::test_latency", "passed" if version == "2" else "failed",
                   ("performance",), (Metric("latency_p95_ms", 12.0, 50.0, "lower", unit="ms"),)),
    )
    return Bundle(created_at=format_time(utc_now()), model=ModelRef("iris", version),
                  commit="abc1234def", tests=tests, data={"train": "sha256:00"},
                  environment={"python": "3.11.7"}, run={"user": "ci<b>"}).sealed()


def decision_for(bundle: Bundle, verdict: str = "reject") -> Decision:
    return Decision(verdict=verdict, model=bundle.model, champion=ModelRef("iris", "1"),
                    bundle_digest=bundle.digest, policy_digest="sha256:pp", baseline_digest=None,
                    decided_at="2026-11-27T10:00:00Z",
                    reasons=(Reason("tests", "fail", f"1 test failed: {SCRIPT_NAME}"),
                             Reason("bound:accuracy", "pass", "accuracy = 0.93 >= 0.9", 0.93, 0.9),
                             Reason("champion:accuracy", "review", "within the margin", 0.93, 0.01, 0.94)))


def test_structure_verdict_first_then_rules_families_rubric_environment() -> None:
    bundle = rich_bundle()
    page = render(bundle, decision_for(bundle))
    checker = parse(page)
    assert page.startswith("<!DOCTYPE html>")
    order = [page.index(f'id="{s}"') for s in ("verdict", "rules", "families", "family-data",
                                                 "family-model", "family-performance", "rubric",
                                                 "environment")]
    assert order == sorted(order)
    assert re.search(r'class="word">reject<', page)
    assert decision_for(bundle).id in page and bundle.digest in page
    text = "".join(checker.text)
    for expected in ("bound:accuracy", "champion:accuracy", "ML Test Score: 0", "abc1234def",
                     "drift share", "ECE", "accuracy_vs_champion", "latency_p95_ms"):
        assert expected in text
    # drawn: interval bars, drift histograms, the reliability curve
    assert page.count('class="hist"') == 2 and page.count('class="rc"') == 1
    assert page.count('class="ib"') >= 5
    # the generic fallback: collapsed, size-capped JSON
    assert "<details><summary>custom" in page and "more characters not shown" in page
    assert "x" * 5000 not in page


def test_no_external_url_and_no_script() -> None:
    bundle = rich_bundle()
    page = render(bundle, decision_for(bundle), champion=rich_bundle("1"))
    checker = parse(page)
    assert "script" not in checker.tags
    assert not re.search(r"url\(|@import|https?://|//[a-z]", page, flags=re.I), "nothing loaded"
    assert not [a for a, _ in checker.attrs if a in ("src", "href", "srcset", "action", "xlink:href")]
    assert not [a for a, _ in checker.attrs if a.startswith("on")]


def test_hostile_names_are_escaped() -> None:
    bundle = rich_bundle()
    page = render(bundle, decision_for(bundle), champion=rich_bundle("1"))
    parse(page)
    for raw in ("<script>", "<img", "</style><b>", "<b>bold", "</pre><script>", "ci<b>"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "loss&lt;/style&gt;" in page
    assert page.count("</style>") == 1


def test_bundle_without_decision_or_evidence() -> None:
    bundle = Bundle(created_at="2026-11-27T10:00:00Z", model=None, commit=None, tests=())
    page = render(bundle)
    parse(page)
    assert "not gated" in page and "No tests in the bundle" in page


def test_ten_thousand_tests_stay_well_under_two_megabytes() -> None:
    evidence = {"drift": rich_bundle().tests[0].evidence["drift"]}
    tests = tuple(
        TestRecord(f"tests/test_many.py::test_case[{i}-<script>]", "failed" if i % 97 == 0 else "passed",
                   (("data", "model", "performance", "security")[i % 4],),
                   (Metric(f"m{i}", 0.5, 0.4, "higher", Interval(0.45, 0.55)),
                    Metric(f"n{i}", 0.1, 0.2, "lower")),
                   message="x" * 2000 if i % 97 == 0 else None,
                   evidence=evidence if i % 10 == 0 else {"blob": {"k": "v" * 3000, "i": i}},
                   rubric=("Data 1",) if i % 2 else ())
        for i in range(10_000))
    bundle = Bundle(created_at="2026-11-27T10:00:00Z", model=ModelRef("big", "1"), commit="c",
                    tests=tests)
    page = render(bundle, decision_for(bundle.sealed()), champion=bundle)
    size = len(page.encode("utf-8"))
    assert size < 1_500_000, size
    checker = parse(page)
    assert "<script>" not in page and "script" not in checker.tags
    assert "more tests (all passed or skipped ones come last) not shown" in page
    # failures are listed before passes
    fam = page[page.index('id="family-data"'):]
    assert fam.index(">failed<") < fam.index(">passed<")


def test_comparison_flags_worse_metrics_by_direction_and_changed_outcomes() -> None:
    candidate = rich_bundle("2", accuracy=0.91)
    champion = rich_bundle("1", accuracy=0.95)
    page = render_comparison(candidate, champion)
    parse(page)
    row = re.search(r"<code>accuracy</code></td>(.*?)</tr>", page).group(1)
    assert ">0.91<" in row and ">0.95<" in row and "-0.04" in row and 'class="worse">worse<' in row
    # lower is better: an equal latency is "same"; the test's outcome changed failed -> passed
    lat = re.search(r"<code>latency_p95_ms</code></td>(.*?)</tr>", page).group(1)
    assert ">same<" in lat
    changed = page[page.index("Tests that changed outcome"):]
    assert "test_latency" in changed and "test_accuracy" not in changed
    assert "1 tests changed outcome" in page


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlgate.toml").write_text(
        'model = "iris"\n[[rule]]\nkind = "bound"\nmetric = "accuracy"\nmin = 0.9\n')
    return tmp_path


def test_cli_report_writes_beside_the_bundle_and_to_o(project, capsys) -> None:
    bundle = rich_bundle()
    bundle.write(project / "reports" / "results.json")
    rich_bundle("1").write(project / "champ.json")
    (project / "decision.json").write_text(json.dumps(decision_for(bundle).dump()))
    assert main(["report", "--bundle", "reports/results.json"]) == 0
    assert "not gated" in (project / "reports" / "report.html").read_text()
    assert main(["report", "--bundle", "reports/results.json", "--decision", "decision.json",
                 "--champion-bundle", "champ.json", "-o", "out/r.html"]) == 0
    page = (project / "out" / "r.html").read_text()
    parse(page)
    assert 'class="word">reject<' in page and "Candidate against champion" in page
    assert "report written to out/r.html" in capsys.readouterr().out


def test_cli_report_bad_decision_is_an_input_error(project, capsys) -> None:
    rich_bundle().write(project / "results.json")
    (project / "decision.json").write_text("{}")
    assert main(["report", "--bundle", "results.json", "--decision", "decision.json"]) == 2
    assert "decision.json" in capsys.readouterr().err
    assert not (project / "report.html").exists()


def test_gate_writes_report_html_beside_decision_json(project) -> None:
    bundle = rich_bundle()
    bundle.write(project / "reports" / "results.json")
    code = main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json"])
    assert code == 1  # a test failed
    page = (project / "reports" / "report.html").read_text()
    decision = json.loads((project / "reports" / "decision.json").read_text())
    assert decision["id"] in page and 'class="word">reject<' in page
    # idempotent: the same decision gives the same file
    main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json"])
    assert (project / "reports" / "report.html").read_text() == page


def test_gate_html_publisher_can_be_blocked(project) -> None:
    rich_bundle().write(project / "reports" / "results.json")
    main(["gate", "-p", "no:mlflow", "-p", "no:mlgate.html", "--bundle", "reports/results.json"])
    assert (project / "reports" / "decision.json").exists()
    assert not (project / "reports" / "report.html").exists()


def test_performance_evidence_is_rendered(monkeypatch) -> None:
    """A benchmark's stats, device and notes, and a regression's ratio against its limit."""
    from mlgate.perf.bench import benchmark
    from mlgate.perf.regression import regression

    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    b = benchmark(sum, range(200), name="predict<x>", batch_size=200, warmup=0.0, max_time=0.05,
                  price_per_hour=1.0)
    slow = [0.0012 + i * 1e-7 for i in range(30)]
    fast = [0.0010 + i * 1e-7 for i in range(30)]
    r = regression(slow, fast, tolerance=0.05, name="predict")
    tests = (TestRecord("tests/test_speed.py::test_b", "passed", ("performance",), tuple(b.metrics()),
                        evidence={b.name: b.evidence()}),
             TestRecord("tests/test_speed.py::test_r", "failed", ("performance",), tuple(r.metrics()),
                        evidence={r.name: r.evidence()}))
    bundle = Bundle(created_at=format_time(utc_now()), model=ModelRef("m", "1"), commit=None,
                    tests=tests).sealed()
    page = render(bundle)
    parse(page)  # well-formed
    assert "predict&lt;x&gt;" in page and "predict<x>" not in page
    assert "median ms" in page and "per million predictions" in page
    assert "timed on " in page and "logical cores" in page
    assert "candidate / baseline median time <b>1.2" in page
    assert "limit 1 + tolerance = 1.05" in page


def test_security_evidence_is_rendered(tmp_path) -> None:
    """Scan findings with their fix, privacy counts with masked examples only, fuzzing counts by
    input kind; hostile names escaped."""
    from mlgate.security.privacy import scan as privacy_scan
    from mlgate.security.scan import scan

    (tmp_path / "<i>evil.pkl").write_bytes(b"\x80\x02cos\nsystem\nX\x04\x00\x00\x00true\x85R.")
    s = scan(tmp_path)
    p = privacy_scan(pd.DataFrame({"<script>x</script>": ["mail jane.doe@example.com", "n/a"]}))
    fuzz_ev = {"by_kind": {"nan": {"ok": 0, "error": 3, "crash": 1}}, "calls": 4,
               "crash_rate": 0.25, "interval": [0.05, 0.7], "seed": 0, "target": "predict",
               "minimal_failing_input": {"kind": "nan", "rows": [{"a": None}]}}
    tests = tuple(TestRecord(f"tests/test_sec.py::t{i}", "failed", ("security",), tuple(r.metrics()),
                             evidence={r.name: r.evidence()}) for i, r in enumerate((s, p)))
    tests += (TestRecord("tests/test_sec.py::t2", "failed", ("security",), (),
                         evidence={"fuzz": fuzz_ev}),)
    bundle = Bundle(created_at=format_time(utc_now()), model=ModelRef("m", "1"), commit=None,
                    tests=tests).sealed()
    page = render(bundle)
    parse(page)
    assert "file(s) scanned without loading them" in page
    assert "imports os.system" in page and "re-create the model from trusted code" in page
    assert "&lt;i&gt;evil.pkl" in page and "<i>evil" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>" not in page
    assert "j***@e***.com" in page and "jane.doe@example.com" not in page
    assert "crash rate <b>0.25</b>" in page and "minimal failing input" in page
