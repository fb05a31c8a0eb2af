"""mlgate's own surface: tokens and passwords never reach what mlgate writes (the bundle, JUnit
XML, decision.json, the HTML report, the gate's output), and every string written to HTML is
escaped.

The first part plants unique secrets where a real run meets them (CI variables, a test's failure
message, evidence, a URL with ``user:password@``, a parametrize id, a model's error message, a
card number in a data set), runs pytest with the mlgate plugin, ``mlgate gate`` and ``mlgate
report`` in subprocesses, and looks for the secrets in every artifact.

The plugin passes every test's id, message and evidence through
:func:`mlgate.security.redact.redact` before the bundle is written, so nothing made from the
bundle (JUnit, decisions, reports, the gate's output) can carry them either.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import subprocess
import sys

import pytest

from mlgate.security.redact import MASK, redact, redact_obj, secret_env_values


def _alnum(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


#: the planted secrets: environment variables a CI job really has, each a unique random value
PLANTED = {
    "GITHUB_TOKEN": "ghp_" + _alnum(36),
    "GITLAB_TOKEN": "glpat-" + _alnum(20),
    "CI_JOB_TOKEN": secrets.token_hex(16),
    "MLFLOW_TRACKING_PASSWORD": "pw" + _alnum(18),
    "MLFLOW_TRACKING_TOKEN": secrets.token_hex(20),
    "AWS_SECRET_ACCESS_KEY": _alnum(40),
}
#: a payment card planted in a data set (Luhn-valid, unique per run)
CARD_DIGITS = "4" + "".join(secrets.choice(string.digits) for _ in range(14))


def _with_luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


CARD = _with_luhn(CARD_DIGITS)
SENTINELS = {**PLANTED, "PLANTED_CARD": CARD}

TESTS = '''
import os

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

env = os.environ


@pytest.mark.security
def test_failure_message_copies_a_token(mlgate):
    mlgate.metric("accuracy", 0.95, threshold=0.9)
    assert env["GITHUB_TOKEN"] == "expected", "token was " + env["GITHUB_TOKEN"]


@pytest.mark.security
def test_evidence_holds_a_url_with_a_password(mlgate):
    url = "https://bot:" + env["MLFLOW_TRACKING_PASSWORD"] + "@mlflow.example.com/api"
    mlgate.evidence("connection", {"url": url, "note": "used " + env["GITLAB_TOKEN"]})


class Leaky:
    name = "leaky"

    def metrics(self):
        return []

    def evidence(self):
        return {"detail": "key=" + env["AWS_SECRET_ACCESS_KEY"]}

    def failures(self):
        return []


@pytest.mark.security
def test_check_evidence_string(mlgate):
    mlgate.check(Leaky())


@pytest.mark.security
@pytest.mark.parametrize("job", [env["CI_JOB_TOKEN"]])
def test_parametrize_id(mlgate, job):
    print("job token", job, env["MLFLOW_TRACKING_TOKEN"])
    mlgate.metric("ok", 1.0, threshold=2.0)  # fails: the id is named in the gate's reasons


@pytest.mark.security
def test_privacy_scan_of_planted_card(mlgate_privacy):
    mlgate_privacy(pd.DataFrame({"t": ["paid with " + env["PLANTED_CARD"], "ok"]}))


@pytest.mark.security
def test_fuzz_of_a_model_whose_error_copies_a_token(mlgate_fuzz):
    schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(0, 1))})

    def predict(frame):
        raise RuntimeError("auth failed with " + env["MLFLOW_TRACKING_TOKEN"])

    mlgate_fuzz(predict, schema, max_examples=4, huge_rows=0, shrink=False)
'''

POLICY = 'model = "iris"\n[[rule]]\nkind = "bound"\nmetric = "accuracy"\nmin = 0.9\n'


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run pytest, ``mlgate gate`` and ``mlgate report`` on a project with planted secrets;
    every file and output they wrote, by name."""
    root = tmp_path_factory.mktemp("surface")
    (root / "test_planted.py").write_text(TESTS)
    (root / "mlgate.toml").write_text(POLICY)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "MLGATE_", "GITHUB_", "GITLAB_", "CI"))}
    env.update(SENTINELS)
    env["MLFLOW_TRACKING_URI"] = f"https://bot:{PLANTED['MLFLOW_TRACKING_PASSWORD']}@127.0.0.1:9"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    tests = run("-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
                "--mlgate-model", "iris", "--mlgate-model-version", "3", "test_planted.py")
    assert (root / "reports" / "results.json").is_file(), tests.stdout + tests.stderr
    gate = run("-m", "mlgate", "gate", "-p", "no:mlflow")
    assert gate.returncode == 1, gate.stdout + gate.stderr  # tests failed: reject
    report = run("-m", "mlgate", "report", "--bundle", "reports/results.json", "--decision",
                 "reports/decision.json", "-o", "reports/cli-report.html")
    assert report.returncode == 0, report.stdout + report.stderr
    out = {name: (root / "reports" / name).read_text(encoding="utf-8")
           for name in ("results.json", "junit.xml", "decision.json", "report.html",
                        "cli-report.html")}
    out.update({"gate stdout": gate.stdout, "gate stderr": gate.stderr,
                "report output": report.stdout + report.stderr,
                "pytest output": tests.stdout + tests.stderr})
    return out


def leaks(text: str) -> list[str]:
    return [name for name, value in SENTINELS.items() if value in text]


@pytest.mark.parametrize("name", [
    "results.json", "junit.xml", "decision.json", "report.html", "cli-report.html", "gate stdout",
    "gate stderr", "report output",
])
def test_no_planted_secret_reaches_an_artifact(artifacts, name) -> None:
    assert leaks(artifacts[name]) == []


def test_the_run_really_met_every_secret(artifacts) -> None:
    """The planted secrets did reach mlgate (else the test above could not fail): pytest's own
    terminal output, which mlgate does not write, shows them."""
    shown = leaks(artifacts["pytest output"])
    assert {"GITHUB_TOKEN", "CI_JOB_TOKEN"} <= set(shown)
    bundle = json.loads(artifacts["results.json"])
    outcomes = {t["nodeid"].split("::")[1].split("[")[0]: t["outcome"] for t in bundle["tests"]}
    assert outcomes["test_failure_message_copies_a_token"] == "failed"
    assert outcomes["test_privacy_scan_of_planted_card"] == "failed"
    assert outcomes["test_fuzz_of_a_model_whose_error_copies_a_token"] == "failed"


def test_the_security_engines_redact_their_own_evidence(artifacts) -> None:
    """The privacy scan and the fuzzer mask what they found before mlgate writes it: their
    records carry no secret even before the core redacts."""
    bundle = json.loads(artifacts["results.json"])
    for test in bundle["tests"]:
        if "privacy" in test["nodeid"] or "fuzz" in test["nodeid"]:
            assert leaks(json.dumps(test)) == [], test["nodeid"]
    privacy = next(t for t in bundle["tests"] if "privacy" in t["nodeid"])
    finding = privacy["evidence"]["privacy"]["findings"][0]
    assert finding["examples"] == ["**** **** **** " + CARD[-4:]]
    fuzz = next(t for t in bundle["tests"] if "fuzz" in t["nodeid"])
    assert f"auth failed with {MASK}" in json.dumps(fuzz["evidence"])


@pytest.mark.parametrize("name", ["results.json", "junit.xml", "decision.json", "report.html",
                                  "gate stdout"])
def test_redact_removes_every_planted_secret(artifacts, name) -> None:
    """Once the core calls redact(), no planted secret is left (checked on the text written)."""
    assert leaks(redact(artifacts[name], env=SENTINELS)) == []


# -- the redaction helper -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("https://user:hunter2pw@example.com/x", "https://***:***@example.com/x"),
    ("git clone https://oauth2:glpat-abcdefghij0123456789@gitlab.com/r",
     "git clone https://***:***@gitlab.com/r"),
    ("https://ghp_" + "a" * 36 + "@github.com", "https://***@github.com"),
    ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer ***"),
    ("password=S3cr3t!x and more", "password=*** and more"),
    ('{"api_key": "q8Zr1Lw0Yt5Nb3Vc"}', '{"api_key": "***"}'),
    ("key AKIAIOSFODNN7EXAMPLE used", "key AKIA*** used"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
     "-----BEGIN PRIVATE KEY-----***"),
    ("accuracy 0.93 >= 0.9 on 1,000 rows", "accuracy 0.93 >= 0.9 on 1,000 rows"),
    ("https://example.com/path?q=1", "https://example.com/path?q=1"),
])
def test_redact_masks_known_forms_and_leaves_the_rest(text, expected) -> None:
    assert redact(text, env={}) == expected


def test_redact_masks_values_of_secret_looking_variables_only() -> None:
    env = {"CI_JOB_TOKEN": "abcdef123456", "MY_SERVICE_PASSWORD": "zzzyyyxxx",
           "HOME": "/home/runner", "PWD": "/work/project", "SHORT_TOKEN": "1",
           "MLFLOW_TRACKING_URI": "http://localhost:5000"}
    assert secret_env_values(env) == ["abcdef123456", "zzzyyyxxx"]
    text = "ran in /work/project for /home/runner with abcdef123456 and zzzyyyxxx, 1 run"
    assert redact(text, env=env) == "ran in /work/project for /home/runner with *** and ***, 1 run"


def test_redact_obj_walks_json_and_masks_secret_keys() -> None:
    data = {"password": "plain", "tokens": 3, "nested": [{"url": "http://a:b12@h/"}],
            "ok": ("fine", 1.5), "pass": "3 rules", "key": "accuracy", "kind": "github_token"}
    assert redact_obj(data, env={}) == {"password": MASK, "tokens": 3,
                                        "nested": [{"url": "http://***:***@h/"}],
                                        "ok": ("fine", 1.5), "pass": "3 rules",
                                        "key": "accuracy", "kind": "github_token"}


# -- HTML escaping: the fields tests/report/test_html.py does not cover -------------------------

HOSTILE = '<script>alert("x")</script>\'"</style><img src=x onerror=1>'


def test_every_other_string_field_of_the_report_is_escaped() -> None:
    """test_html.py covers test ids, column and metric names, messages, evidence values, the run's
    user and reasons; here: model name and version, commit, data set names and digests,
    environment keys and values, evidence names, the champion, policy digest, the decision's
    context, and the privacy scan's and the fuzzer's evidence and failures about hostile
    column names."""
    from html.parser import HTMLParser

    import pandas as pd
    import pandera.pandas as pa

    from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
    from mlgate.gate import Decision, Reason
    from mlgate.record import Metric, TestRecord
    from mlgate.report.html import render
    from mlgate.security.fuzz import fuzz
    from mlgate.security.privacy import scan

    found = scan(pd.DataFrame({HOSTILE: [HOSTILE + " mail a@example.com"]}))
    schema = pa.DataFrameSchema({HOSTILE: pa.Column(float)})
    fuzzed = fuzz(lambda f: 1 / 0, schema, max_examples=3, huge_rows=0, shrink=False)
    bundle = Bundle(
        created_at=format_time(utc_now()), model=ModelRef("m" + HOSTILE, "v" + HOSTILE),
        commit="c" + HOSTILE,
        tests=(TestRecord("t.py::test_a", "passed", ("security",),
                          (Metric("acc", 0.9, 0.5),),
                          evidence={"ev" + HOSTILE: {"k" + HOSTILE: [HOSTILE]}}),
               TestRecord("t.py::test_b", "failed", ("security",),
                          (*found.metrics(), *fuzzed.metrics()),
                          message="\n".join(found.failures() + fuzzed.failures()),
                          evidence={"privacy": found.evidence(), "fuzz": fuzzed.evidence()})),
        data={"train" + HOSTILE: "sha256:" + HOSTILE},
        environment={"python" + HOSTILE: HOSTILE},
        run={"job": "https://ci.example.com/" + HOSTILE, "ci": HOSTILE}).sealed()
    decision = Decision(verdict="reject", model=bundle.model, champion=ModelRef(HOSTILE, HOSTILE),
                        bundle_digest=bundle.digest, policy_digest="sha256:" + HOSTILE,
                        baseline_digest=None, decided_at="2026-11-27T10:00:00Z",
                        reasons=(Reason("rule" + HOSTILE, "fail", "detail" + HOSTILE),),
                        context={"user": HOSTILE, "job": "https://ci.example.com/" + HOSTILE})
    page = render(bundle, decision)

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []
            self.attrs: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.attrs.extend(a for a, _ in attrs)

    parser = Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert "<script>" not in page and "<img" not in page
    assert page.count("</style>") == 1  # only the report's own stylesheet ends
    assert len(re.findall(r"&lt;script&gt;", page)) >= 8  # each field shown, escaped
