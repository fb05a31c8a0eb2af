"""Redaction of secrets in text that mlgate writes: logs, bundles, reports, messages.

:func:`redact` masks, in this order:

1. the values of environment variables whose names look secret (``*TOKEN*``, ``*SECRET*``,
   ``*PASSWORD*``, ``*PASSWD*``, ``*_KEY``, ``*CREDENTIAL*``, ``*AUTH*``, ``*API_KEY*``…) and
   are at least :data:`MIN_SECRET_LEN` characters long, wherever they appear;
2. known token formats (:data:`TOKEN_PATTERNS`: AWS access key ids, GitHub, GitLab, Slack,
   Stripe and Google API keys, JSON Web Tokens, PEM private key blocks);
3. credentials in URLs (``scheme://user:password@host`` and ``scheme://token@host``);
4. ``Authorization: Bearer …`` / ``Basic …`` values and ``password=…``-style assignments.

Redaction errs towards masking (fail closed): a masked word too many is better than a token in a
CI log. It is pure text processing with the standard library only, cheap enough to run on every
string mlgate writes::

    >>> from mlgate.security.redact import redact
    >>> redact("push to https://bot:s3cr3t-pass@example.com/repo.git", env={})
    'push to https://***:***@example.com/repo.git'
    >>> redact("token ghp_" + "a" * 36, env={})
    'token ghp_***'
    >>> redact("sent abcdef123456", env={"CI_JOB_TOKEN": "abcdef123456"})
    'sent ***'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: what replaces a secret
MASK = "***"
#: environment values shorter than this are not masked (``1``, ``true``: too common to hunt)
MIN_SECRET_LEN = 6

#: environment variable names whose values are secrets
SECRET_ENV_NAME = re.compile(
    r"(?i)(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|(^|_)AUTH($|_)|API_?KEY|"
    r"(^|_)KEY$|PRIVATE|(^|_)PASS$|SESSION|COOKIE|(^|_)DSN$)")
#: names that match :data:`SECRET_ENV_NAME` loosely but hold no secret
#: keys of JSON-like data whose string values are secrets (stricter than the environment names:
#: evidence keys such as ``pass`` or ``key`` hold no secret)
SECRET_KEY_NAME = re.compile(r"(?i)(password|passwd|passphrase|secret|token|api_?key|access_?key|"
                             r"private_?key|credential|authorization|cookie)")
_NOT_SECRET_ENV = frozenset({"PWD", "OLDPWD", "SSH_AUTH_SOCK", "GPG_AGENT_INFO",
                             "KEYTIMEOUT", "PYTEST_CURRENT_TEST"})

#: known token formats: (kind, regex, the public prefix kept when masking)
#: (a prefix such as ``ghp_`` says which kind of secret leaked, and is no secret itself)
TOKEN_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("aws_access_key_id", r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}(?![A-Z0-9])",
     ""),
    ("github_token", r"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]"
     r"{22,255})(?![A-Za-z0-9_])", ""),
    ("gitlab_token", r"(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|cbt|oas|soat|ft)-[A-Za-z0-9_-]{20,}",
     ""),
    ("slack_token", r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}", ""),
    ("stripe_key", r"(?<![A-Za-z0-9])(?:sk|rk)_live_[A-Za-z0-9]{16,}", ""),
    ("google_api_key", r"(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", ""),
    ("jwt", r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}",
     ""),
    ("private_key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----", ""),
)

_PREFIX = re.compile(r"^(gh[pousr]_|github_pat_|gl[a-z]+-|xox[a-z]-|[sr]k_live_|AIza|eyJ|"
                     r"AKIA|ASIA|AGPA|AIDA|AROA|ANPA)")
_PEM_BLOCK = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?", re.S)
_TOKENS = re.compile("|".join(f"(?:{p})" for k, p, _ in TOKEN_PATTERNS if k != "private_key"))
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s@:]+)(?::([^/\s@]*))?@")
_AUTH_HEADER = re.compile(r"(?i)\b(authorization\s*[:=]\s*['\"]?(?:bearer|basic|token)\s+)"
                          r"([^\s'\"]+)")
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:[a-z0-9]+[_-])*(?:password|passwd|passphrase|secret|token|api[_-]?key|"
    r"access[_-]?key|private[_-]?key)\b['\"]?\s*[:=]\s*['\"]?)([^\s'\"&,;]{4,})")


def secret_env_values(env: Mapping[str, str] | None = None) -> list[str]:
    """The values of the environment variables whose names look secret, longest first (so a
    value containing another is masked whole)."""
    env = os.environ if env is None else env
    values = {value for name, value in env.items()
              if name.upper() not in _NOT_SECRET_ENV and SECRET_ENV_NAME.search(name)
              and isinstance(value, str) and len(value) >= MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def mask_token(token: str) -> str:
    """A token as it may be shown: its public prefix (``ghp_``…) then :data:`MASK`."""
    match = _PREFIX.match(token)
    return (match.group(1) if match else "") + MASK


def redact(text: str, *, env: Mapping[str, str] | None = None) -> str:
    """``text`` with secrets masked (see the module's docstring). ``env``: the environment
    whose secret-looking values are masked (``os.environ`` by default)."""
    if not isinstance(text, str) or not text:
        return text
    for value in secret_env_values(env):
        if value in text:
            text = text.replace(value, MASK)
    text = _PEM_BLOCK.sub("-----BEGIN PRIVATE KEY-----" + MASK, text)
    text = _TOKENS.sub(lambda m: mask_token(m.group(0)), text)
    text = _URL_USERINFO.sub(
        lambda m: m.group(1) + MASK + (":" + MASK if m.group(3) is not None else "") + "@", text)
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _ASSIGNMENT.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_obj(obj: Any, *, env: Mapping[str, str] | None = None) -> Any:
    """:func:`redact` on every string inside JSON-like data (dicts, lists, tuples), and the string
    value of every key that names a secret (:data:`SECRET_KEY_NAME`: ``{"password": …}``)
    replaced by :data:`MASK`."""
    if env is None:
        env = dict(os.environ)  # read once for the whole structure
    if isinstance(obj, str):
        return redact(obj, env=env)
    if isinstance(obj, Mapping):
        out = {}
        for key, value in obj.items():
            if (isinstance(key, str) and isinstance(value, str) and value
                    and SECRET_KEY_NAME.search(key)):
                out[key] = MASK
            else:
                out[key] = redact_obj(value, env=env)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(redact_obj(v, env=env) for v in obj)
    return obj


def redact_url(url: str) -> str:
    """``url`` for messages and evidence: without user name, password, query and fragment (which
    may hold tokens); local ``sqlite:``/``file:`` URIs and plain paths are kept as they are.

    >>> redact_url("https://alice:s3cret@mlflow.example.com:8443/p?token=abc")
    'https://mlflow.example.com:8443/p'
    """
    parts = urlsplit(url)
    if not parts.scheme or parts.scheme in ("sqlite", "file"):
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
