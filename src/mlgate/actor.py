"""Who or what is running: CI system and job, user, commit. Read from the environment."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from typing import Any

_COMMIT_VARS = ("MLGATE_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")


def ci_system(env: dict[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    if env.get("JENKINS_URL"):
        return "jenkins"
    if env.get("CI"):
        return "ci"
    return None


def actor(env: dict[str, str] | None = None) -> dict[str, Any]:
    """A small, credential-free description of who ran this (kept with every decision)."""
    env = os.environ if env is None else env
    info: dict[str, Any] = {"ci": ci_system(env)}
    job = None
    if info["ci"] == "github" and env.get("GITHUB_RUN_ID"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        job = f"{server}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env['GITHUB_RUN_ID']}"
    elif info["ci"] == "gitlab":
        job = env.get("CI_JOB_URL")
    elif info["ci"] == "jenkins":
        job = env.get("BUILD_URL")
    info["job"] = job
    try:
        info["user"] = env.get("GITHUB_ACTOR") or env.get("GITLAB_USER_LOGIN") or getpass.getuser()
    except (KeyError, OSError):
        info["user"] = None
    return info


def git_commit(root: Path, env: dict[str, str] | None = None) -> str | None:
    """The commit under test: from CI variables first, else ``git rev-parse HEAD``."""
    env = os.environ if env is None else env
    for var in _COMMIT_VARS:
        if env.get(var):
            return env[var].strip()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
