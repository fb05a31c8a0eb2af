"""The decision in Markdown: a pull-request comment, a merge-request note, a check-run summary,
a job summary. Shared by the GitHub and GitLab publishers.

The verdict comes first, then what did not pass, then every rule in a table (not passed first).
The text never passes ``limit`` characters: rules that do not fit are left out with the note
``… N more rules, see the report``. A hidden marker, ``<!-- mlgate:<model name> -->``, lets a
publisher find its own comment again and edit it instead of adding one per push.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision, Reason

ICON = {"pass": "✅", "fail": "❌", "review": "⚠️"}
VERDICT_ICON = {"promote": "✅", "reject": "❌", "needs-review": "⚠️"}
MESSAGE_LIMIT = 500  # characters of one reason's message in the table
WHY_LIMIT = 20  # reasons listed in full under "Why" before the table
NOTE_ROOM = 80  # characters kept for the "… N more rules" note


def marker(decision: Decision) -> str:
    """``<!-- mlgate:<model name> -->``; the name cannot close the comment early."""
    name = decision.model.name if decision.model else "unbound"
    name = re.sub(r"-{2,}|[<>\n\r]", "_", name)[:200]
    return f"<!-- mlgate:{name} -->"


def _cell(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text safe in a table cell: one line, no HTML, no column break, at most ``limit``."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def _row(r: Reason) -> str:
    return (f"| {ICON.get(r.status, '')} {r.status} | `{_cell(r.rule, 200).replace('`', chr(39))}` | "
            f"{_num(r.observed)} | {_num(r.threshold)} | {_num(r.champion)} | {_cell(r.message)} |")


def summary_markdown(decision: Decision, bundle: Bundle | None = None, *, limit: int = 65_535,
                     report_url: str | None = None) -> str:
    """The decision as Markdown of at most ``limit`` characters."""
    order = {"fail": 0, "review": 1, "pass": 2}
    reasons = sorted(decision.reasons, key=lambda r: order.get(r.status, 0))
    bad = [r for r in reasons if r.status != "pass"]
    head = [marker(decision),
            f"## {VERDICT_ICON.get(decision.verdict, '')} mlgate: **{decision.verdict.upper()}** "
            f"— {_cell(str(decision.model or 'unbound bundle'), 200)}", ""]
    facts = [f"champion: {_cell(str(decision.champion), 200) if decision.champion else 'none yet'}",
             f"decision `{decision.id}`",
             f"{len(decision.reasons) - len(bad)}/{len(decision.reasons)} rules passed"]
    if bundle is not None:
        if bundle.commit:
            facts.append(f"commit `{_cell(bundle.commit, 64)}`")
        outcomes = Counter(t.outcome for t in bundle.tests)
        facts.append("tests: " + (", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
                                   or "none"))
    head += [" · ".join(facts), ""]
    if report_url:
        head += [f"[Full report]({report_url.replace(')', '%29')})", ""]
    why = []
    if bad:
        why = ["### Why", ""]
        why += [f"- {ICON.get(r.status, '')} **{_cell(r.rule, 200)}**: {_cell(r.message)}"
                for r in bad[:WHY_LIMIT]]
        if len(bad) > WHY_LIMIT:
            why.append(f"- … and {len(bad) - WHY_LIMIT} more, in the table below")
        why.append("")
    table = ["### Rules", "", "| status | rule | observed | threshold | champion | message |",
             "|---|---|---|---|---|---|"]

    budget = limit - NOTE_ROOM
    out = "\n".join(head)
    if len(out) > budget:  # a tiny limit: the marker and the verdict, cut
        return out[:limit]
    for line in why:
        if len(out) + len(line) + 1 > budget:
            break
        out += line + "\n"
    shown = 0
    if len(out) + sum(len(x) + 1 for x in table) + 1 <= budget:
        out += "\n".join(table) + "\n"
        for r in reasons:
            row = _row(r)
            if len(out) + len(row) + 1 > budget:
                break
            out += row + "\n"
            shown += 1
    left = len(reasons) - shown
    if left:
        out += f"\n… {left} more rules, see the report\n"
    return out[:limit]


def one_line(decision: Decision, limit: int) -> str:
    """The decision in one line of at most ``limit`` characters (a commit status description);
    like ``Decision.summary`` but reading no more of the reasons than fits."""
    bad = decision.failed
    if not bad:
        return decision.summary(limit)
    parts: list[str] = []
    size = len(decision.verdict) + 2
    for r in bad:
        piece = " ".join(f"{r.rule}: {r.message[: limit + 1]}".split())
        parts.append(piece)
        size += len(piece) + 2
        if size > limit:
            break
    text = f"{decision.verdict}: " + "; ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"
