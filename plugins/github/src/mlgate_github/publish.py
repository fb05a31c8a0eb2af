"""Publish a decision on GitHub: commit status, check run, job summary and outputs, one
pull-request comment kept up to date. Every GitHub limit is enforced here, where the payload is
written (see the module constants)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.hookspecs import PublishResult
from mlgate.report._http import Client, HttpError, cut
from mlgate.report.markdown import marker, one_line, summary_markdown

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
CONTEXT = "mlgate"
DESCRIPTION_LIMIT = 140  # commit status description
SUMMARY_LIMIT = 65_535  # check run output.summary
TITLE_LIMIT = 255  # check run output.title, annotation title
ANNOTATION_BATCH = 50  # annotations per create/update request
ANNOTATION_LIMIT = 1000  # annotations per check run (ours: the rest are counted in the summary)
ANNOTATION_MESSAGE_LIMIT = 4000  # GitHub takes 64 KB; a short message reads better
COMMENT_LIMIT = 65_536  # issue comment body
STEP_SUMMARY_LIMIT = 65_535  # GitHub takes 1 MiB per step; the comment's size is enough

#: verdict → commit status state and check run conclusion
STATE = {"promote": "success", "reject": "failure", "needs-review": "pending"}
CONCLUSION = {"promote": "success", "reject": "failure", "needs-review": "action_required"}


@dataclass(frozen=True)
class GitHubConfig:
    """Where to publish, from the environment (see :meth:`from_env`)."""

    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    repository: str | None = None
    sha: str | None = None
    pr_number: int | None = None
    step_summary: Path | None = None
    output: Path | None = None
    details_url: str | None = None

    @property
    def api_ready(self) -> bool:
        return bool(self.token and self.repository and self.sha)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, bundle: Bundle | None = None,
                 details_url: str | None = None) -> GitHubConfig:
        env = os.environ if env is None else env
        event = _event(env.get("GITHUB_EVENT_PATH"))
        pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else {}
        number = env.get("MLGATE_PR_NUMBER") or pr.get("number")
        head = pr.get("head") if isinstance(pr.get("head"), dict) else {}
        # on a pull request GITHUB_SHA is the merge commit; the status belongs on the head
        sha = head.get("sha") or (bundle.commit if bundle is not None else None) or env.get("GITHUB_SHA")
        return cls(
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            token=env.get("MLGATE_GITHUB_TOKEN") or env.get("GITHUB_TOKEN") or None,
            repository=env.get("GITHUB_REPOSITORY") or None,
            sha=sha or None,
            pr_number=int(number) if str(number or "").isdigit() else None,
            step_summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
            output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
            details_url=details_url,
        )


def _event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def client(config: GitHubConfig, sleep: Callable[[float], None] | None = None) -> Client:
    return Client(
        config.api_url,
        headers={"Authorization": f"Bearer {config.token}", "Accept": "application/vnd.github+json",
                 "X-GitHub-Api-Version": API_VERSION},
        secrets=(config.token or "",), sleep=sleep,
    )


def annotations(decision: Decision, bundle: Bundle) -> list[dict[str, Any]]:
    """One annotation per failed or errored test (``failure``) and per missed metric threshold
    in a test that passed (``warning``), on the test's file."""
    out: list[dict[str, Any]] = []
    for test in sorted(bundle.tests, key=lambda t: t.nodeid):
        path = test.nodeid.split("::", 1)[0] or "."
        if test.outcome in ("failed", "error"):
            out.append({"path": path, "start_line": 1, "end_line": 1, "annotation_level": "failure",
                        "title": cut(f"{test.outcome}: {test.nodeid}", TITLE_LIMIT),
                        "message": cut(test.message or f"the test {test.outcome}",
                                       ANNOTATION_MESSAGE_LIMIT)})
            continue
        for m in test.metrics:
            if m.passed is False:
                bound = "minimum" if m.direction == "higher" else "maximum"
                out.append({"path": path, "start_line": 1, "end_line": 1,
                            "annotation_level": "warning",
                            "title": cut(f"{m.name}: {test.nodeid}", TITLE_LIMIT),
                            "message": cut(f"{m.name} = {m.value:.6g} misses the {bound} "
                                           f"{m.threshold}", ANNOTATION_MESSAGE_LIMIT)})
    return out


class _Steps:
    """What each step did; a failed step makes the result not ok, a skipped one does not."""

    def __init__(self, http: Client | None) -> None:
        self.done: dict[str, str] = {}
        self.failed: list[str] = []
        self.http = http

    def run(self, name: str, step: Callable[[], str]) -> None:
        try:
            self.done[name] = step()
        except (HttpError, OSError, ValueError) as exc:
            text = str(exc) if self.http is None else self.http.scrub(str(exc))
            self.done[name] = f"failed: {text}"
            self.failed.append(name)


def publish(decision: Decision, bundle: Bundle, config: GitHubConfig, *,
            sleep: Callable[[float], None] | None = None) -> PublishResult | None:
    """Publish ``decision``; ``None`` when the environment configures nothing GitHub."""
    if not (config.api_ready or config.step_summary or config.output):
        return None
    body = summary_markdown(decision, bundle, limit=COMMENT_LIMIT)
    http = client(config, sleep) if config.api_ready else None
    steps = _Steps(http)
    if config.step_summary:
        steps.run("step summary", lambda: _append(
            config.step_summary, summary_markdown(decision, bundle, limit=STEP_SUMMARY_LIMIT) + "\n"))
    if config.output:
        steps.run("outputs", lambda: _append(
            config.output, f"verdict={decision.verdict}\ndecision-id={decision.id}\n"))
    details: dict[str, Any] = {}
    if http is not None:
        repo = f"/repos/{config.repository}"
        steps.run("status", lambda: _status(http, repo, decision, config))
        steps.run("check run", lambda: _check_run(http, repo, decision, bundle, config, details))
        if config.pr_number is not None:
            steps.run("comment", lambda: _comment(http, repo, config.pr_number, body,
                                                  marker(decision), details))
    else:
        steps.done["api"] = "skipped: set GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_SHA to publish"
    details.update(steps.done)
    message = "; ".join(f"{k}: {v}" for k, v in steps.done.items())
    if config.token:
        message = message.replace(config.token, "***")
    return PublishResult("github", not steps.failed, message, details)


def _append(path: Path, text: str) -> str:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
    return f"written to {path}"


def _status(http: Client, repo: str, decision: Decision, config: GitHubConfig) -> str:
    payload = {"state": STATE[decision.verdict], "context": CONTEXT,
               "description": one_line(decision, DESCRIPTION_LIMIT)}
    if config.details_url:
        payload["target_url"] = config.details_url
    http.request("POST", f"{repo}/statuses/{config.sha}", payload)
    return f"{payload['state']} on {config.sha[:12]}"


def _check_run(http: Client, repo: str, decision: Decision, bundle: Bundle, config: GitHubConfig,
               details: dict[str, Any]) -> str:
    try:  # the same decision again: its check run is there already (external_id), leave it
        runs = http.request("GET", f"{repo}/commits/{config.sha}/check-runs",
                            params={"check_name": CONTEXT, "per_page": 100}).data
    except HttpError as exc:
        if exc.status != 403:
            raise
        runs = None
    for run in (runs or {}).get("check_runs", []) if isinstance(runs, dict) else []:
        if isinstance(run, dict) and run.get("external_id") == decision.id:
            details["check_run_id"] = run.get("id")
            return f"unchanged (check run {run.get('id')})"
    notes = annotations(decision, bundle)
    extra = len(notes) - ANNOTATION_LIMIT
    notes = notes[:ANNOTATION_LIMIT]
    title = cut(f"{decision.verdict}: {decision.model or 'unbound bundle'}", TITLE_LIMIT)
    summary = summary_markdown(decision, bundle, limit=SUMMARY_LIMIT - 120)
    if extra > 0:
        summary += f"\n{extra} more annotations left out (at most {ANNOTATION_LIMIT})\n"
    summary = cut(summary, SUMMARY_LIMIT)
    conclusion = CONCLUSION[decision.verdict]
    if conclusion == "action_required" and not config.details_url:
        conclusion = "neutral"  # action_required wants a page to act on
    batches = [notes[i:i + ANNOTATION_BATCH] for i in range(0, len(notes), ANNOTATION_BATCH)] or [[]]
    create: dict[str, Any] = {
        "name": CONTEXT, "head_sha": config.sha, "status": "completed", "conclusion": conclusion,
        "external_id": decision.id,
        "output": {"title": title, "summary": summary, "annotations": batches[0]},
    }
    if config.details_url:
        create["details_url"] = config.details_url
    try:
        run = http.request("POST", f"{repo}/check-runs", create).data
    except HttpError as exc:
        if exc.status == 403:
            return ("skipped: check runs need a GitHub App token (GITHUB_TOKEN in Actions with "
                    "`permissions: checks: write`); the commit status carries the verdict")
        raise
    run_id = run.get("id") if isinstance(run, dict) else None
    if run_id is None:
        raise ValueError("the check run was created without an id in the answer")
    for batch in batches[1:]:
        http.request("PATCH", f"{repo}/check-runs/{run_id}",
                     {"output": {"title": title, "summary": summary, "annotations": batch}})
    details["check_run_id"] = run_id
    return f"{conclusion}, {len(notes)} annotations in {len(batches)} requests"


def _comment(http: Client, repo: str, number: int, body: str, mark: str,
             details: dict[str, Any]) -> str:
    for comment in http.paginate(f"{repo}/issues/{number}/comments"):
        if isinstance(comment, dict) and mark in str(comment.get("body") or ""):
            details["comment_id"] = comment["id"]
            if comment.get("body") == body:
                return f"unchanged (#{number}, comment {comment['id']})"
            http.request("PATCH", f"{repo}/issues/comments/{comment['id']}", {"body": body})
            return f"updated (#{number}, comment {comment['id']})"
    made = http.request("POST", f"{repo}/issues/{number}/comments", {"body": body}).data
    details["comment_id"] = made.get("id") if isinstance(made, dict) else None
    return f"created (#{number})"
