"""The HTML quality report: one self-contained file (inline CSS and SVG, no script, no external
URL) from a bundle and, when there is one, the Decision about it.

- :func:`render` ``(bundle, decision=None, champion=None)``: the verdict first, then every rule,
  a section per check family (tests, metrics with interval bars, drift histograms, the
  calibration curve, the comparison with the champion, slices, schema and quality failures), the
  ML Test Score, environment and run; any other evidence as a collapsed, size-capped JSON block.
  With ``champion`` (the champion's bundle) it adds the side-by-side comparison.
- :func:`render_comparison` ``(candidate, champion)``: two bundles side by side on their own page.
- :func:`write_report`: render and write atomically.

Every string that comes from users' data, test names or evidence goes through
:func:`html.escape`. Rows, histogram bins and JSON excerpts are capped (the constants below), so a
bundle of 10,000 tests renders well under 2 MB. The output is deterministic (no clock): writing
the same decision twice gives the same file.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.record import FAMILIES, Metric, TestRecord
from mlgate.report import _svg

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision

#: tests listed per family section (failures first); the rest are counted, not listed
MAX_TESTS = 200
#: metric rows per family section
MAX_METRICS = 300
#: evidence items rendered per family section
MAX_EVIDENCE = 60
#: rows of a table drawn from evidence (drift columns, slices, failures)
MAX_ROWS = 50
#: histograms drawn per drift check
MAX_HISTOGRAMS = 30
#: bins or categories per histogram
MAX_BINS = 30
#: characters of one JSON excerpt, and of all of them together
MAX_JSON = 4_000
MAX_JSON_TOTAL = 300_000
#: characters of a test's message
MAX_MESSAGE = 500
MAX_RULES = 500

ORDER = {"error": 0, "failed": 1, "xpassed": 2, "skipped": 3, "xfailed": 4, "passed": 5}
VERDICT_COLOUR = {"promote": "#2e8b57", "reject": "#c0392b", "needs-review": "#d68910"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:20px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:16px 0 6px}
.verdict{color:#fff;padding:18px 24px;border-radius:6px;margin:8px 0 12px}
.verdict .word{font-size:34px;font-weight:700;letter-spacing:.04em;text-transform:uppercase}
.verdict .sub{font-size:15px;opacity:.95}
table{border-collapse:collapse;margin:6px 0;background:#fff}
th,td{border:1px solid #e1e1e1;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;
word-break:break-all}
.pass,.passed,.promote{color:#2e8b57;font-weight:600}
.fail,.failed,.error,.reject,.worse{color:#c0392b;font-weight:600}
.review,.needs-review,.xpassed{color:#b9770e;font-weight:600}
.skipped,.xfailed,.muted{color:#777}
.note{color:#666;font-size:12px}
details{margin:4px 0}summary{cursor:pointer;color:#345}
pre{background:#f4f4f4;padding:8px;overflow:auto;max-height:320px;font-size:12px;
white-space:pre-wrap;word-break:break-all}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{background:#fff;border:1px solid #e1e1e1;
padding:6px 8px;border-radius:4px}
.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 8px}
"""


# -- small helpers ----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        v = float(value)
        if not math.isfinite(v):
            return _e(value)
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.4g}"
    return _e(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        v = float(str(value).replace("Infinity", "inf")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return v


def _cut(text: Any, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, cls: str = "") -> str:
    """``rows`` hold HTML already escaped by the caller."""
    out = [f'<table class="{cls}"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return "".join(out)


def _td(html: str, cls: str = "") -> str:
    return f'<td class="{cls}">{html}</td>' if cls else f"<td>{html}</td>"


def _more(shown: int, total: int, what: str) -> str:
    return f'<p class="note">{total - shown} more {_e(what)} not shown ({total} in all).</p>' \
        if total > shown else ""


class _Budget:
    """What is left of the JSON budget of one page."""

    def __init__(self, total: int = MAX_JSON_TOTAL) -> None:
        self.left = total

    def json_block(self, label: str, data: Any) -> str:
        if self.left <= 0:
            return f'<p class="note">{_e(label)}: not shown (the report\'s size budget is spent).</p>'
        try:
            text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(data)
        limit = min(MAX_JSON, self.left)
        full = len(text)
        if full > limit:
            text = text[:limit] + f"\n… ({full - limit} more characters not shown)"
        self.left -= len(text)
        return (f"<details><summary>{_e(label)} <span class=\"note\">(JSON, {full} characters)"
                f"</span></summary><pre>{_e(text)}</pre></details>")


# -- the page ---------------------------------------------------------------------------------


def _page(title: str, body: str) -> str:
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            # no script, no external resource: a report must never phone home
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def render(bundle: Bundle, decision: Decision | None = None, *, champion: Bundle | None = None) -> str:
    """The whole report of ``bundle`` as one HTML string (see the module documentation)."""
    budget = _Budget()
    parts = [_verdict(bundle, decision), _rules(decision), _overview(bundle)]
    families = [f for f in FAMILIES if any(f in t.families for t in bundle.tests)]
    families += sorted({f for t in bundle.tests for f in t.families} - set(FAMILIES))
    for fam in families:
        parts.append(_family(fam, [t for t in bundle.tests if fam in t.families], budget))
    untagged = [t for t in bundle.tests if not t.families]
    if untagged:
        parts.append(_family("", untagged, budget))
    parts.append(_rubric(bundle))
    if champion is not None:
        parts.append(_comparison_body(bundle, champion))
    parts.append(_environment(bundle, decision))
    verdict = decision.verdict if decision else "report"
    return _page(f"mlgate: {verdict} {bundle.model or 'unbound bundle'}", "".join(parts))


def render_comparison(candidate: Bundle, champion: Bundle) -> str:
    """Two bundles side by side: every metric's values and change (flagged ``worse`` by its
    direction) and the tests whose outcome changed."""
    head = (f"<h1>mlgate: {_e(candidate.model or 'candidate')} against "
            f"{_e(champion.model or 'champion')}</h1>")
    return _page(f"mlgate: {candidate.model or 'candidate'} vs {champion.model or 'champion'}",
                 head + _comparison_body(candidate, champion))


def write_report(path: str | os.PathLike[str], bundle: Bundle, decision: Decision | None = None, *,
                 champion: Bundle | None = None) -> Path:
    from mlgate.bundle import write_text_atomic

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, render(bundle, decision, champion=champion))
    return path


# -- sections ---------------------------------------------------------------------------------


def _verdict(bundle: Bundle, decision: Decision | None) -> str:
    counts: dict[str, int] = {}
    for t in bundle.tests:
        counts[t.outcome] = counts.get(t.outcome, 0) + 1
    tally = ", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda kv: ORDER.get(kv[0], 9)))
    if decision is None:
        word, colour = "not gated", "#5d6d7e"
        sub = "no decision was given: this report shows the bundle only"
    else:
        word, colour = decision.verdict, VERDICT_COLOUR.get(decision.verdict, "#5d6d7e")
        champ = f"champion: {decision.champion}" if decision.champion else "no champion yet"
        bad = len(decision.failed)
        sub = (f"{len(decision.reasons)} rules, {bad} not passed · {champ}")
    model = bundle.model or (decision.model if decision else None)
    rows = [("model", str(model) if model else "unbound bundle"),
            ("tests", f"{len(bundle.tests)} ({tally})" if tally else "0"),
            ("bundle digest", bundle.declared_digest or bundle.digest)]
    if not bundle.digest_ok:
        rows.append(("integrity", "the bundle's declared digest does NOT match its content"))
    if decision is not None:
        rows[1:1] = [("decision", decision.id), ("decided at", decision.decided_at)]
        rows += [("policy digest", decision.policy_digest),
                 ("baseline digest", decision.baseline_digest or "none")]
    table = _table(("", ""), ([_td(_e(k)), _td(f"<code>{_e(v)}</code>")] for k, v in rows))
    return (f'<section id="verdict"><div class="verdict" style="background:{colour}">'
            f'<div class="word">{_e(word)}</div><div class="sub">{_e(model or "unbound bundle")}'
            f" · {_e(sub)}</div></div>{table}</section>")


def _rules(decision: Decision | None) -> str:
    if decision is None:
        return ""
    reasons = list(decision.reasons)[:MAX_RULES]
    rows = ([_td(_e(r.status), r.status), _td(f"<code>{_e(r.rule)}</code>"), _td(_e(r.message)),
             _td(_num(r.observed), "num"), _td(_num(r.threshold), "num"), _td(_num(r.champion), "num")]
            for r in reasons)
    return ('<section id="rules"><h2>Rules</h2>'
            + _table(("status", "rule", "message", "observed", "threshold", "champion"), rows)
            + _more(len(reasons), len(decision.reasons), "rules") + "</section>")


def _overview(bundle: Bundle) -> str:
    rows = []
    names = [f for f in FAMILIES] + sorted({f for t in bundle.tests for f in t.families} - set(FAMILIES))
    for fam in names + [""]:
        tests = [t for t in bundle.tests if (fam in t.families if fam else not t.families)]
        if not tests:
            continue
        n = {o: sum(t.outcome == o for t in tests) for o in ORDER}
        rows.append([_td(_e(fam or "no family")), _td(str(len(tests)), "num")]
                    + [_td(str(n[o]) if n[o] else "", f"num {o}" if n[o] else "num") for o in ORDER])
    if not rows:
        return '<section id="families"><h2>Families</h2><p>No tests in the bundle.</p></section>'
    return ('<section id="families"><h2>Families</h2>'
            + _table(("family", "tests", *ORDER), rows) + "</section>")


def _sorted(tests: Iterable[TestRecord]) -> list[TestRecord]:
    return sorted(tests, key=lambda t: (ORDER.get(t.outcome, 9), t.nodeid))


def _metric_row(t: TestRecord | None, m: Metric) -> list[str]:
    iv = m.interval
    passed = m.passed
    cls = "" if passed is None else ("pass" if passed else "fail")
    zero = m.name.endswith("_vs_champion")
    row = [_td(f"<code>{_e(m.name)}</code>"), _td(_num(m.value), f"num {cls}".strip()),
           _td(_num(m.threshold), "num"), _td(_e(m.direction)),
           _td("" if iv is None else f"[{_num(iv.low)}, {_num(iv.high)}] @{_num(iv.level)}", "num"),
           _td(_svg.interval_bar(m.value, iv.low if iv else None, iv.high if iv else None,
                                 m.threshold, direction=m.direction, zero=zero))]
    if t is not None:
        row.insert(0, _td(f"<code>{_e(_cut(t.nodeid, 200))}</code>"))
    return row


def _family(fam: str, tests: list[TestRecord], budget: _Budget) -> str:
    title = fam or "tests without a family"
    anchor = f"family-{fam}" if fam else "family-none"
    ordered = _sorted(tests)
    shown = ordered[:MAX_TESTS]
    rows = ([_td(_e(t.outcome), t.outcome), _td(f"<code>{_e(_cut(t.nodeid, 300))}</code>"),
             _td(f"{t.duration:.3f}s", "num"), _td(_e(_cut(t.message, MAX_MESSAGE)))] for t in shown)
    out = [f'<section id="{_e(anchor)}"><h2>{_e(title.capitalize())}</h2><h3>Tests</h3>',
           _table(("outcome", "test", "duration", "message"), rows),
           _more(len(shown), len(ordered), "tests (all passed or skipped ones come last)")]
    metrics = [(t, m) for t in ordered for m in t.metrics]
    if metrics:
        out.append("<h3>Metrics</h3><p class=\"note\">dot: value; line: interval; red tick: "
                   "threshold (the shaded side fails)</p>")
        out.append(_table(("test", "metric", "value", "threshold", "better", "interval", ""),
                          (_metric_row(t, m) for t, m in metrics[:MAX_METRICS])))
        out.append(_more(min(len(metrics), MAX_METRICS), len(metrics), "metrics"))
    evidence = [(t, name, data) for t in ordered for name, data in t.evidence.items()]
    if evidence:
        out.append("<h3>Evidence</h3>")
        for t, name, data in evidence[:MAX_EVIDENCE]:
            out.append(f'<div class="evidence"><h3><code>{_e(_cut(t.nodeid, 200))}</code> · '
                       f"{_e(_cut(name, 100))}</h3>{_evidence(name, data, budget)}</div>")
        out.append(_more(min(len(evidence), MAX_EVIDENCE), len(evidence), "evidence items"))
    out.append("</section>")
    return "".join(out)


# -- evidence ---------------------------------------------------------------------------------


def _evidence(name: str, data: Any, budget: _Budget) -> str:
    """A renderer for the evidence the engines keep (recognised by shape), else JSON."""
    if isinstance(data, dict):
        try:
            if isinstance(data.get("columns"), list) and "drift_share" in data:
                return _drift(data) + budget.json_block("all drift evidence", data)
            if isinstance(data.get("reliability_curve"), list):
                return _calibration(data) + budget.json_block("all calibration evidence", data)
            if isinstance(data.get("comparisons"), dict):
                return _compare(data) + budget.json_block("all comparison evidence", data)
            if isinstance(data.get("slices"), list) and "metric" in data:
                return _slices(data) + budget.json_block("all slice evidence", data)
            if isinstance(data.get("failures"), list) and "failed_checks" in data:
                return _schema(data) + budget.json_block("all schema evidence", data)
            if isinstance(data.get("checks"), dict):
                return _checks(data) + budget.json_block("all quality evidence", data)
            if isinstance(data.get("stats"), dict) and isinstance(data.get("rounds_s"), list):
                return _bench(data) + budget.json_block("all benchmark evidence", data)
            if "ratio" in data and "tolerance" in data and isinstance(data.get("interval"), list):
                return _speed(data) + budget.json_block("all regression evidence", data)
            if isinstance(data.get("files"), list) and "file_count" in data:
                return _scan(data) + budget.json_block("all scan evidence", data)
            if isinstance(data.get("findings"), list) and "columns_scanned" in data:
                return _privacy(data) + budget.json_block("all privacy evidence", data)
            if isinstance(data.get("by_kind"), dict) and "crash_rate" in data:
                return _fuzz(data) + budget.json_block("all fuzzing evidence", data)
        except (TypeError, ValueError, AttributeError, KeyError):
            pass  # an unexpected shape: shown as JSON below
    return budget.json_block(f"{name}", data)


def _bench(data: dict[str, Any]) -> str:
    st = data["stats"]

    def ms(key: str) -> str:
        v = _float(st.get(key))
        return "" if v is None else _num(v * 1000)

    iv = st.get("median_interval_s") if isinstance(st.get("median_interval_s"), list) else []
    low, high = (_float(iv[0]), _float(iv[1])) if len(iv) == 2 else (None, None)
    interval = ("" if low is None or high is None
                else f"[{_num(low * 1000)}, {_num(high * 1000)}]")
    rows = [[_td(ms("min_s"), "num"), _td(ms("median_s"), "num"), _td(interval, "num"),
             _td(ms("mean_s"), "num"), _td(ms("iqr_s"), "num"), _td(ms("p95_s"), "num"),
             _td(ms("p99_s"), "num"), _td(_num(st.get("throughput")) + " " + _e(st.get("throughput_unit")),
                                          "num"),
             _td(_num(st.get("peak_mb")), "num"), _td(_num(st.get("n_rounds")), "num")]]
    table = _table(("min ms", "median ms", "95% interval", "mean ms", "IQR ms", "p95 ms", "p99 ms",
                    "throughput", "peak MB", "rounds"), rows)
    device = data.get("device") if isinstance(data.get("device"), dict) else None
    fp = data.get("fingerprint") if isinstance(data.get("fingerprint"), dict) else {}
    where = (f"{_e(device.get('name') or device.get('type'))}" if device
             else f"{_e(fp.get('cpu'))}, {_e(fp.get('logical_cores'))} logical cores")
    cost = _float(st.get("cost_per_million"))
    extra = "" if cost is None else f"; <b>{_num(cost)}</b> per million predictions"
    notes = "".join(f"<li>{_e(_cut(n, 300))}</li>" for n in (data.get("notes") or [])[:10]
                    if isinstance(n, str))
    return (f"<p>timed on {where} with {_e(data.get('timer', 'perf_counter_ns'))}; stopped on "
            f"{_e(data.get('stop_reason'))}{extra}</p>" + table
            + (f'<ul class="note">{notes}</ul>' if notes else ""))


def _speed(data: dict[str, Any]) -> str:
    iv = data["interval"]
    low, high = (_float(iv[0]), _float(iv[1])) if len(iv) == 2 else (None, None)
    ratio, tol = _float(data.get("ratio")), _float(data.get("tolerance"))
    limit = None if tol is None else 1 + tol
    status = "fail" if data.get("regressed") else ("review" if data.get("refused") else "pass")
    text = (f"<p>candidate / baseline median time <b>{_num(ratio)}</b> [{_num(low)}, {_num(high)}] "
            f"(level {_num(data.get('level'))}), limit 1 + tolerance = {_num(limit)}; "
            f"machine: {_e(data.get('machine'))}; {_e(data.get('method'))}</p>")
    if data.get("refused"):
        text += f'<p class="review">{_e(_cut(data["refused"], 600))}</p>'
    bar = _svg.interval_bar(ratio, low, high, limit, direction="lower")
    return text + f'<div class="card {status}" style="display:inline-block">{bar}</div>'


def _scan(data: dict[str, Any]) -> str:
    files = [f for f in data["files"] if isinstance(f, dict)]
    rows = []
    for f in sorted(files, key=lambda f: -(f.get("finding_count") or 0))[:MAX_ROWS]:
        bad = bool(f.get("finding_count"))
        rows.append([_td(f"<code>{_e(_cut(f.get('path'), 160))}</code>"), _td(_e(f.get("format"))),
                     _td(_num(f.get("finding_count")), "fail" if bad else "pass"),
                     _td(f"<code>{_e(_cut(f.get('sha256'), 64))}</code>")])
    findings = [(f, x) for f in files for x in (f.get("findings") or []) if isinstance(x, dict)]
    detail = [[_td(_e(x.get("severity")), "fail"), _td(f"<code>{_e(_cut(x.get('where'), 160))}</code>"),
               _td(_num(x.get("offset")), "num"), _td(_e(_cut(x.get("message"), 300))),
               _td(_e(_cut(x.get("fix"), 300)))] for _, x in findings[:MAX_ROWS]]
    out = (f"<p>{_num(len(files))} file(s) scanned without loading them; "
           f"{_num(len(findings))} finding(s)</p>"
           + _table(("file", "format", "findings", "SHA-256"), rows)
           + _more(min(len(files), MAX_ROWS), len(files), "files"))
    if detail:
        out += _table(("severity", "where", "offset", "finding", "fix"), detail)
    return out


def _privacy(data: dict[str, Any]) -> str:
    found = [f for f in data["findings"] if isinstance(f, dict)]
    rows = [[_td(f"<code>{_e(_cut(f.get('column'), 120))}</code>"), _td(_e(f.get("kind"))),
             _td(_num(f.get("count")), "num"), _td(_num(f.get("rate")), "num"),
             _td(_e(", ".join(str(x) for x in (f.get("examples") or [])[:3]))),
             _td("allowed" if f.get("allowed") else "finding",
                 "pass" if f.get("allowed") else "fail")] for f in found[:MAX_ROWS]]
    head = (f"<p>{_num(len(data.get('columns_scanned') or []))} column(s), "
            f"{_num(data.get('rows'))} rows; {_num(len(found))} column/kind pair(s) found "
            "(examples masked)</p>")
    if not rows:
        return head
    return head + _table(("column", "kind", "count", "rate", "masked examples", ""), rows)


def _fuzz(data: dict[str, Any]) -> str:
    iv = data.get("interval") if isinstance(data.get("interval"), list) else [None, None]
    rows = [[_td(_e(kind)), _td(_num(c.get("ok")), "num"), _td(_num(c.get("error")), "num"),
             _td(_num(c.get("crash")), "fail" if c.get("crash") else "num")]
            for kind, c in sorted(data["by_kind"].items()) if isinstance(c, dict)][:MAX_ROWS]
    text = (f"<p>{_e(data.get('target'))}: {_num(data.get('calls'))} calls, crash rate "
            f"<b>{_num(data.get('crash_rate'))}</b> [{_num(iv[0] if iv else None)}, "
            f"{_num(iv[1] if len(iv) > 1 else None)}], seed {_num(data.get('seed'))}</p>")
    out = text + _table(("input kind", "answered", "clear error", "crash"), rows)
    if data.get("minimal_failing_input") is not None:
        out += ("<p>minimal failing input:</p><pre>"
                + _e(_cut(json.dumps(data["minimal_failing_input"], default=str), 2000)) + "</pre>")
    return out


def _drift(data: dict[str, Any]) -> str:
    cols = [c for c in data["columns"] if isinstance(c, dict)]
    cols.sort(key=lambda c: ({"error": 0, "drift": 1}.get(str(c.get("status")), 2),
                             str(c.get("column"))))
    head = (f"<p>drift share <b>{_num(data.get('drift_share'))}</b> (max "
            f"{_num(data.get('max_drift_share'))}), alpha {_num(data.get('alpha'))}, correction "
            f"{_e(data.get('correction'))}; <span class=\"key\" style=\"background:{_svg.REF}\"></span>"
            f"reference <span class=\"key\" style=\"background:{_svg.CUR}\"></span>current</p>")
    rows = []
    for c in cols[:MAX_ROWS]:
        status = str(c.get("status"))
        cls = "fail" if status in ("drift", "error") else "pass"
        rows.append([_td(f"<code>{_e(_cut(c.get('column'), 120))}</code>"), _td(_e(c.get("kind"))),
                     _td(_e(status), cls), _td(_e(c.get("test"))),
                     _td(_num(c.get("p_value_corrected")), "num"), _td(_num(c.get("psi")), "num"),
                     _td(_e(_cut(c.get("message"), 300)))])
    table = _table(("column", "kind", "status", "test", "p (corrected)", "PSI", "message"), rows)
    charts = []
    for c in [c for c in cols if isinstance(c.get("histogram"), dict)][:MAX_HISTOGRAMS]:
        svg = _histogram(c["histogram"])
        if svg:
            charts.append(f'<div class="card"><div><code>{_e(_cut(c.get("column"), 80))}</code> '
                          f'<span class="{"fail" if c.get("status") == "drift" else "muted"}">'
                          f"{_e(c.get('status'))}</span></div>{svg}</div>")
    return (head + table + _more(min(len(cols), MAX_ROWS), len(cols), "columns")
            + f'<div class="grid">{"".join(charts)}</div>')


def _histogram(h: dict[str, Any]) -> str:
    ref, cur = h.get("reference"), h.get("current")
    if not isinstance(ref, list) or not isinstance(cur, list):
        return ""
    ref = [_float(v) or 0.0 for v in ref][:MAX_BINS]
    cur = [_float(v) or 0.0 for v in cur][:MAX_BINS]
    if isinstance(h.get("categories"), list):
        labels = [_cut(c, 60) for c in h["categories"][:MAX_BINS]]
    elif isinstance(h.get("edges"), list):
        e = [_float(v) for v in h["edges"]]
        labels = [f"[{e[i]:.4g}, {e[i + 1]:.4g})" if e[i] is not None and e[i + 1] is not None
                  else str(i) for i in range(min(len(e) - 1, MAX_BINS))]
    else:
        labels = [str(i) for i in range(len(ref))]
    return _svg.paired_bars(labels, ref, cur)


def _calibration(data: dict[str, Any]) -> str:
    curve = [b for b in data["reliability_curve"] if isinstance(b, dict)][:200]
    points = [(_float(b.get("mean_predicted")) or 0.0, _float(b.get("observed")) or 0.0,
               int(b.get("count") or 0)) for b in curve]
    iv = data.get("ece_interval") if isinstance(data.get("ece_interval"), dict) else {}
    text = (f"<p>ECE <b>{_num(data.get('ece'))}</b> [{_num(iv.get('low'))}, {_num(iv.get('high'))}]"
            f" (max {_num(data.get('max_ece'))}); MCE {_num(data.get('mce'))} (max "
            f"{_num(data.get('max_mce'))}); n = {_num(data.get('n'))}, {_num(data.get('n_bins'))} "
            f"{_e(data.get('strategy'))} bins</p>")
    return text + f'<div class="card" style="display:inline-block">{_svg.reliability_curve(points)}</div>'


def _compare(data: dict[str, Any]) -> str:
    rows = []
    items = list(data["comparisons"].items())
    for name, c in items[:MAX_ROWS]:
        if not isinstance(c, dict):
            continue
        margin = _float(c.get("margin"))
        status = str(c.get("status"))
        rows.append([_td(f"<code>{_e(name)}</code>"), _td(_num(c.get("candidate")), "num"),
                     _td(_num(c.get("champion")), "num"), _td(_num(c.get("difference")), "num"),
                     _td(f"[{_num(c.get('low'))}, {_num(c.get('high'))}]", "num"),
                     _td("" if margin is None else _num(-margin), "num"), _td(_e(status), status),
                     _td(_svg.interval_bar(_float(c.get("difference")), _float(c.get("low")),
                                           _float(c.get("high")),
                                           None if margin is None else -margin, zero=True))])
    return ('<p class="note">difference = candidate − champion (positive: the candidate is '
            "better); the interval must stay above −margin</p>"
            + _table(("comparison", "candidate", "champion", "difference", "interval", "−margin",
                      "status", ""), rows) + _more(min(len(items), MAX_ROWS), len(items), "comparisons"))


def _slices(data: dict[str, Any]) -> str:
    slices = [s for s in data["slices"] if isinstance(s, dict)]
    champ = any("champion" in s for s in slices)
    rows = []
    threshold = _float(data.get("threshold"))
    for s in slices[:MAX_ROWS]:
        iv = s.get("interval") if isinstance(s.get("interval"), list) else [None, None]
        low, high = (_float(iv[0]), _float(iv[1])) if len(iv) == 2 else (None, None)
        row = [_td(f"<code>{_e(_cut(s.get('slice'), 120))}</code>"), _td(_num(s.get("n")), "num"),
               _td(_num(s.get("metric")), "num"), _td(f"[{_num(low)}, {_num(high)}]", "num"),
               _td(_svg.interval_bar(_float(s.get("metric")), low, high, threshold,
                                     direction=str(data.get("direction", "higher"))))]
        if champ:
            regressed = s.get("regressed")
            row += [_td(_num(s.get("champion")), "num"), _td(_num(s.get("difference")), "num"),
                    _td(_e("regressed" if regressed else "") , "fail" if regressed else "")]
        rows.append(row)
    head = ["slice", "n", str(data.get("metric")), "interval", ""]
    if champ:
        head += ["champion", "difference", ""]
    return (f"<p>worst slice: <code>{_e(data.get('worst_slice'))}</code>; "
            f"{_num(data.get('slices_gated'))} of {_num(data.get('slices_total'))} slices gated</p>"
            + _table(head, rows) + _more(min(len(slices), MAX_ROWS), len(slices), "slices"))


def _schema(data: dict[str, Any]) -> str:
    failures = [f for f in data["failures"] if isinstance(f, dict)]
    text = (f"<p>{_num(data.get('rows'))} rows, {_num(data.get('columns'))} columns: "
            f"{_num(data.get('failed_checks'))} failed checks, {_num(data.get('failing_rows'))} "
            "failing rows</p>")
    if not failures:
        return text
    rows = ([_td(f"<code>{_e(_cut(f.get('column'), 120))}</code>"), _td(_e(_cut(f.get("check"), 200))),
             _td(_e(f.get("kind"))), _td(_num(f.get("failing_rows")), "num"),
             _td(f"<code>{_e(_cut(json.dumps(f.get('examples'), default=str), 300))}</code>")]
            for f in failures[:MAX_ROWS])
    return text + _table(("column", "check", "kind", "failing rows", "examples"), rows)


def _checks(data: dict[str, Any]) -> str:
    rows = []
    items = list(data["checks"].items())
    for name, c in items[:MAX_ROWS]:
        if not isinstance(c, dict):
            continue
        passed = c.get("passed")
        cls = "" if passed is None else ("pass" if passed else "fail")
        rows.append([_td(f"<code>{_e(name)}</code>"), _td(_num(c.get("value")), f"num {cls}".strip()),
                     _td(_num(c.get("threshold")), "num"), _td(_e(c.get("direction"))),
                     _td(_e("" if passed is None else ("pass" if passed else "fail")), cls)])
    return _table(("check", "value", "threshold", "better", ""), rows)


# -- rubric, environment ----------------------------------------------------------------------


def _rubric(bundle: Bundle) -> str:
    if not any(t.rubric for t in bundle.tests):
        return ('<section id="rubric"><h2>ML Test Score</h2><p class="muted">No test is tagged '
                "with <code>@pytest.mark.mltest</code>.</p></section>")
    from mlgate.rubric import score

    data = score(bundle.tests).to_json()
    sections = data.get("sections") or {}
    rows = ([_td(_e(k)), _td(_num(v), "num")] for k, v in sections.items())
    items = data.get("items") or {}
    untested = data.get("untested") or []
    irows = ([_td(_e(k)), _td(_e(v.get("title"))), _td(_num(v.get("points")), "num"),
              _td("<br>".join(f"<code>{_e(_cut(n, 200))}</code>" for n in v.get("tests", [])[:5]))]
             for k, v in items.items())
    return (f'<section id="rubric"><h2>ML Test Score: {_num(data.get("score"))}</h2>'
            "<p class=\"note\">the minimum over the sections; an item counts when a test tagged "
            "with it passed</p>" + _table(("section", "points"), rows)
            + f"<p>{len(untested)} items without a test: {_e(', '.join(untested))}</p>"
            + "<details><summary>every item</summary>"
            + _table(("item", "title", "points", "tests"), irows) + "</details></section>")


def _environment(bundle: Bundle, decision: Decision | None) -> str:
    rows: list[tuple[str, Any]] = [("created at", bundle.created_at), ("commit", bundle.commit),
                                   ("schema", bundle.schema)]
    rows += [(f"data: {k}", v) for k, v in sorted(bundle.data.items())[:MAX_ROWS]]
    rows += [(f"environment: {k}", v) for k, v in sorted(bundle.environment.items())[:MAX_ROWS]]
    rows += [(f"run: {k}", v) for k, v in sorted(bundle.run.items())[:MAX_ROWS]]
    if decision is not None:
        actor = decision.context.get("actor")
        if isinstance(actor, dict):
            rows += [(f"gate actor: {k}", v) for k, v in sorted(actor.items())[:MAX_ROWS]]
    body = _table(("", ""), ([_td(_e(k)), _td(f"<code>{_e(_cut(v, 500))}</code>")] for k, v in rows))
    return f'<section id="environment"><h2>Environment and run</h2>{body}</section>'


# -- two bundles ------------------------------------------------------------------------------


def _metrics_by_key(bundle: Bundle) -> dict[str, Metric]:
    """Metrics by name, or ``nodeid :: name`` where a name is recorded more than once."""
    count: dict[str, int] = {}
    for t in bundle.tests:
        for m in t.metrics:
            count[m.name] = count.get(m.name, 0) + 1
    return {(m.name if count[m.name] == 1 else f"{t.nodeid} :: {m.name}"): m
            for t in bundle.tests for m in t.metrics}


def _comparison_body(candidate: Bundle, champion: Bundle) -> str:
    cand, champ = _metrics_by_key(candidate), _metrics_by_key(champion)
    keys = sorted(set(cand) | set(champ))
    rows = []
    worse_n = 0
    for key in keys:
        a, b = cand.get(key), champ.get(key)
        change, flag = "", ""
        if a is not None and b is not None and a.finite and b.finite:
            d = a.value - b.value
            change = f"{d:+.4g}"
            worse = (d < 0) if a.direction == "higher" else (d > 0)
            flag = "worse" if worse else ("better" if d != 0 else "same")
            worse_n += worse
        elif a is None or b is None:
            flag = "only candidate" if b is None else "only champion"
        rows.append((flag != "worse", key, [
            _td(f"<code>{_e(_cut(key, 200))}</code>"),
            _td("" if a is None else _num(a.value), "num"),
            _td("" if b is None else _num(b.value), "num"),
            _td(change, "num"), _td(_e((a or b).direction if (a or b) else "")),
            _td(_e(flag), "worse" if flag == "worse" else "")]))
    rows.sort(key=lambda r: (r[0], r[1]))
    shown = [r[2] for r in rows[:MAX_METRICS]]
    outcomes_a = {t.nodeid: t.outcome for t in candidate.tests}
    outcomes_b = {t.nodeid: t.outcome for t in champion.tests}
    changed = sorted(n for n in set(outcomes_a) | set(outcomes_b) if outcomes_a.get(n) != outcomes_b.get(n))
    trows = ([_td(f"<code>{_e(_cut(n, 300))}</code>"),
              _td(_e(outcomes_b.get(n, "absent")), outcomes_b.get(n, "muted")),
              _td(_e(outcomes_a.get(n, "absent")), outcomes_a.get(n, "muted"))]
             for n in changed[:MAX_ROWS * 4])
    return (f'<section id="comparison"><h2>Candidate against champion</h2>'
            f"<p>candidate <code>{_e(candidate.model or 'unbound')}</code> "
            f"(<code>{_e(_cut(candidate.declared_digest or candidate.digest, 80))}</code>), champion "
            f"<code>{_e(champion.model or 'unbound')}</code> "
            f"(<code>{_e(_cut(champion.declared_digest or champion.digest, 80))}</code>): "
            f"<b class=\"{'worse' if worse_n else 'pass'}\">{worse_n} metrics worse</b>, "
            f"{len(changed)} tests changed outcome</p>"
            "<h3>Metrics</h3>"
            + _table(("metric", "candidate", "champion", "change", "better", ""), shown)
            + _more(len(shown), len(rows), "metrics")
            + "<h3>Tests that changed outcome</h3>"
            + (_table(("test", "champion", "candidate"), trows) if changed else "<p>none</p>")
            + _more(min(len(changed), MAX_ROWS * 4), len(changed), "tests") + "</section>")
