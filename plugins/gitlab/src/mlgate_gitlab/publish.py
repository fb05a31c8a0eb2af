"""Publish a decision on GitLab: commit status, one merge-request note kept up to date, and the
metrics report (``metrics.txt``, OpenMetrics, for ``artifacts:reports:metrics``). The JUnit report
is written by the pytest plugin (``reports/junit.xml``). Limits are enforced here."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.bundle import write_text_atomic
from mlgate.hookspecs import PublishResult
from mlgate.report._http import Client, HttpError
from mlgate.report.markdown import marker, one_line, summary_markdown
from mlgate.report.openmetrics import openmetrics_text

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision

NAME = "mlgate"
DESCRIPTION_LIMIT = 255  # commit status description (kept short, as GitLab shows it in one line)
NOTE_LIMIT = 1_000_000  # note body: GitLab refuses more than 1,000,000 characters
METRICS_FILE = "metrics.txt"

#: verdict → commit status state (needs-review waits for a person: pending)
STATE = {"promote": "success", "reject": "failed", "needs-review": "pending"}


@dataclass(frozen=True)
class GitLabConfig:
    api_url: str | None = None  # CI_API_V4_URL, e.g. https://gitlab.example.com/api/v4
    token: str | None = field(default=None, repr=False)
    token_header: str = "PRIVATE-TOKEN"
    project: str | None = None
    sha: str | None = None
    mr_iid: int | None = None
    pipeline_id: str | None = None
    ref: str | None = None
    target_url: str | None = None
    in_ci: bool = False

    @property
    def api_ready(self) -> bool:
        return bool(self.api_url and self.token and self.project and self.sha)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 bundle: Bundle | None = None) -> GitLabConfig:
        env = os.environ if env is None else env
        if env.get("MLGATE_GITLAB_TOKEN"):
            token, header = env["MLGATE_GITLAB_TOKEN"], "PRIVATE-TOKEN"
        else:
            token, header = env.get("CI_JOB_TOKEN") or None, "JOB-TOKEN"
        iid = env.get("CI_MERGE_REQUEST_IID", "")
        sha = (bundle.commit if bundle is not None else None) or env.get("CI_COMMIT_SHA")
        return cls(
            api_url=(env.get("CI_API_V4_URL") or "").rstrip("/") or None,
            token=token, token_header=header, project=env.get("CI_PROJECT_ID") or None,
            sha=sha or None, mr_iid=int(iid) if iid.isdigit() else None,
            pipeline_id=env.get("CI_PIPELINE_ID") or None,
            ref=env.get("CI_COMMIT_REF_NAME") or None, target_url=env.get("CI_JOB_URL") or None,
            in_ci=env.get("GITLAB_CI") == "true",
        )


def client(config: GitLabConfig, sleep: Callable[[float], None] | None = None) -> Client:
    return Client(config.api_url or "", headers={config.token_header: config.token or ""},
                  secrets=(config.token or "",), sleep=sleep)


def publish(decision: Decision, bundle: Bundle, config: GitLabConfig, output_dir: Path, *,
            sleep: Callable[[float], None] | None = None) -> PublishResult | None:
    """Publish ``decision``; ``None`` when the environment configures nothing GitLab."""
    if not (config.api_ready or config.in_ci):
        return None
    done: dict[str, str] = {}
    failed: list[str] = []
    http = client(config, sleep) if config.api_ready else None
    details: dict[str, Any] = {}

    def run(name: str, step: Callable[[], str]) -> None:
        try:
            done[name] = step()
        except (HttpError, OSError, ValueError) as exc:
            text = str(exc)
            done[name] = f"failed: {text.replace(config.token, '***') if config.token else text}"
            failed.append(name)

    def metrics() -> str:
        path = Path(output_dir) / METRICS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, openmetrics_text(bundle, decision))
        details["metrics_path"] = str(path)
        return f"written to {path}"

    run("metrics report", metrics)
    if http is not None:
        project = f"/projects/{urllib.parse.quote(config.project or '', safe='')}"
        run("status", lambda: _status(http, project, decision, config))
        if config.mr_iid is not None:
            body = summary_markdown(decision, bundle, limit=NOTE_LIMIT)
            run("note", lambda: _note(http, project, config.mr_iid, body, marker(decision), details))
    else:
        done["api"] = ("skipped: set CI_API_V4_URL, CI_PROJECT_ID, a commit and "
                       "MLGATE_GITLAB_TOKEN (or CI_JOB_TOKEN) to publish")
    details.update(done)
    return PublishResult("gitlab", not failed, "; ".join(f"{k}: {v}" for k, v in done.items()),
                         details)


def _status(http: Client, project: str, decision: Decision, config: GitLabConfig) -> str:
    payload: dict[str, Any] = {"state": STATE[decision.verdict], "name": NAME,
                               "description": one_line(decision, DESCRIPTION_LIMIT)}
    for key, value in (("pipeline_id", config.pipeline_id), ("ref", config.ref),
                       ("target_url", config.target_url)):
        if value:
            payload[key] = int(value) if key == "pipeline_id" and value.isdigit() else value
    try:
        http.request("POST", f"{project}/statuses/{config.sha}", payload)
    except HttpError as exc:
        # GitLab refuses to set a status to the state it already has: a re-run changes nothing
        if exc.status == 400 and "Cannot transition status" in str(exc):
            return f"{payload['state']} on {(config.sha or '')[:12]} (unchanged)"
        raise
    return f"{payload['state']} on {(config.sha or '')[:12]}"


def _note(http: Client, project: str, iid: int, body: str, mark: str, details: dict[str, Any]) -> str:
    notes = f"{project}/merge_requests/{iid}/notes"
    for note in http.paginate(notes):
        if isinstance(note, dict) and not note.get("system") and mark in str(note.get("body") or ""):
            details["note_id"] = note["id"]
            if note.get("body") == body:
                return f"unchanged (!{iid}, note {note['id']})"
            http.request("PUT", f"{notes}/{note['id']}", {"body": body})
            return f"updated (!{iid}, note {note['id']})"
    made = http.request("POST", notes, {"body": body}).data
    details["note_id"] = made.get("id") if isinstance(made, dict) else None
    return f"created (!{iid})"
