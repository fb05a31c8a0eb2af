"""The shared Markdown summary and the shared HTTP client's retry policy."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mlgate.gate import Reason
from mlgate.report._http import Client, HttpError
from mlgate.report.markdown import marker, one_line, summary_markdown


def test_verdict_first_then_why_then_the_table_with_failures_first(make_decision, make_bundle) -> None:
    decision = make_decision("reject", n_rules=3)
    text = summary_markdown(decision, make_bundle(n_failed=2, n_passed=3))
    lines = text.splitlines()
    assert lines[0] == "<!-- mlgate:iris -->"
    assert lines[1] == "## ❌ mlgate: **REJECT** — iris v2"
    assert "1/3 rules passed" in lines[3] and "tests: 2 failed, 3 passed" in lines[3]
    assert text.index("### Why") < text.index("### Rules")
    rows = [x for x in lines if x.startswith("| ") and "`" in x]
    assert [r.split("|")[1].strip() for r in rows] == ["❌ fail", "❌ fail", "✅ pass"]


def test_cut_cleanly_with_a_note_and_never_past_the_limit(make_decision) -> None:
    decision = make_decision("reject", n_rules=10_000)
    for limit in (65_535, 5000, 700):
        text = summary_markdown(decision, limit=limit)
        assert len(text) <= limit
        assert text.rstrip().endswith("more rules, see the report")
        shown = sum(1 for x in text.splitlines() if x.startswith("| ") and "`bound" in x
                    or x.startswith("| ✅"))
        note = int(text.rstrip().splitlines()[-1].split()[1])
        assert shown + note == 10_000
    assert len(summary_markdown(decision, limit=30)) <= 30


def test_hostile_names_cannot_break_the_table_or_the_marker(make_decision) -> None:
    decision = make_decision("reject")
    evil = "a|b <script>alert(1)</script>\n--> `x`"
    decision = replace(decision, model=replace(decision.model, name="m--><b>"),
                       reasons=(Reason(evil, "fail", evil),))
    text = summary_markdown(decision)
    assert text.startswith("<!-- mlgate:m___b_ -->\n") and marker(decision) == "<!-- mlgate:m___b_ -->"
    assert "<script>" not in text and "-->" not in text.split("\n", 1)[1]
    row = next(x for x in text.splitlines() if x.startswith("| ❌"))
    assert row.count(" | ") == 5 and "a\\|b" in row


def test_one_line_reads_only_what_fits(make_decision) -> None:
    decision = make_decision("reject", message="y" * 1_000_000, n_rules=50)
    line = one_line(decision, 140)
    assert len(line) == 140 and line.startswith("reject: bound:m0: yyy") and line.endswith("…")
    assert one_line(make_decision("promote"), 140) == "promote: all 2 rules passed"


def test_retry_budget_is_bounded(recording_server) -> None:
    slept: list[float] = []
    recording_server.script("GET", "/x", (429, {"message": "later"}, {"Retry-After": "3600"}))
    http = Client(recording_server.url, sleep=slept.append, secrets=("s3cret",))
    with pytest.raises(HttpError) as info:
        http.request("GET", "/x")
    assert slept == [] and len(recording_server.requests) == 1
    assert str(info.value) == "GET /x: HTTP 429: later (a retry in 3600 s would pass the 60 s budget)"
    assert info.value.status == 429


def test_pagination_stops_at_a_short_page(recording_server) -> None:
    recording_server.script("GET", "/items", (200, list(range(100))), (200, list(range(7))))
    items = list(Client(recording_server.url, sleep=lambda s: None).paginate("/items"))
    assert len(items) == 107 and len(recording_server.requests) == 2
