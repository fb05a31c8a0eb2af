"""The results bundle: everything one pytest run found, in one versioned JSON file.

Schema ``mlgate.bundle/1`` (documented in README.md, "The bundle")::

    {
      "schema": "mlgate.bundle/1",
      "created_at": "2026-11-27T10:00:00Z",       # UTC, when the run finished
      "model": {"name": "iris", "version": "3"},   # the model version the run tested
      "commit": "0123abc…" | null,                 # git commit of the code under test
      "data": {"train": "sha256:…"},               # data fingerprints, by name
      "environment": {"python": "3.11.7", …},
      "run": {"actor": "ci:github:123", "user": "…"},
      "tests": [ {nodeid, outcome, families, metrics, duration, message}, … ],   # by nodeid
      "digest": "sha256:…"                          # over all of the above, canonical JSON
    }

The digest is a SHA-256 over the canonical JSON form (sorted keys, no spaces, UTF-8) of every
field but ``digest``. Reading a bundle checks the schema and the shape; whether the digest
matches is kept as :attr:`Bundle.digest_ok`, for the gate to refuse (fail closed), not hidden.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import BundleError
from .record import TestRecord

SCHEMA = "mlgate.bundle/1"


def canonical_json(data: Any) -> bytes:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_digest(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(data)).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone; write it in UTC with a trailing Z")
    return moment


@dataclass(frozen=True)
class ModelRef:
    """A registered model version: ``name`` and ``version`` (a string, as registries use)."""

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name} v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ModelRef | None:
        if not data or not data.get("name"):
            return None
        version = data.get("version")
        return cls(str(data["name"]), None if version is None else str(version))


@dataclass(frozen=True)
class Bundle:
    created_at: str
    model: ModelRef | None
    commit: str | None
    tests: tuple[TestRecord, ...]
    data: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    run: dict[str, Any] = field(default_factory=dict)
    schema: str = SCHEMA
    #: the digest the file declared; ``None`` for a bundle built in memory
    declared_digest: str | None = None

    # -- content -----------------------------------------------------------------------------
    def content(self) -> dict[str, Any]:
        """The JSON form without the digest (what the digest covers). ``rubric``, the ML Test
        Score of the tests' ``@pytest.mark.mltest`` tags, is derived from ``tests`` (and only
        present when a test is tagged): a reader recomputes it, never trusts it."""
        data = {
            "schema": self.schema,
            "created_at": self.created_at,
            "model": None if self.model is None else self.model.to_json(),
            "commit": self.commit,
            "data": dict(sorted(self.data.items())),
            "environment": self.environment,
            "run": self.run,
            "tests": [t.to_json() for t in sorted(self.tests, key=lambda t: t.nodeid)],
        }
        if any(t.rubric for t in self.tests):
            from .rubric import score

            data["rubric"] = score(self.tests).to_json()
        return data

    @property
    def digest(self) -> str:
        """The digest of the current content."""
        return sha256_digest(self.content())

    @property
    def digest_ok(self) -> bool:
        """True when the file's declared digest matches its content (always for in-memory)."""
        return self.declared_digest is None or self.declared_digest == self.digest

    @property
    def created(self) -> datetime:
        return parse_time(self.created_at)

    def to_json(self) -> dict[str, Any]:
        data = self.content()
        data["digest"] = self.digest
        return data

    def sealed(self) -> Bundle:
        """This bundle as read back from a file written now (declared digest = content)."""
        return replace(self, declared_digest=self.digest)

    # -- reading and writing --------------------------------------------------------------------
    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (a temporary file renamed over the target): never a torn file."""
        return write_json_atomic(path, self.to_json())

    @classmethod
    def from_json(cls, data: Any, *, source: str = "<bundle>") -> Bundle:
        if not isinstance(data, dict):
            raise BundleError("a bundle is a JSON object", file=source, fix="regenerate it with pytest")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise BundleError(
                f"schema is {schema!r}, this mlgate reads {SCHEMA!r}",
                file=source,
                key="schema",
                fix="re-run pytest with this mlgate version to write a new bundle",
            )
        tests = _read_tests(data.get("tests"), source)
        for key, kind, what in (("model", dict, "an object"), ("commit", str, "a string")):
            value = data.get(key)
            if value is not None and not isinstance(value, kind):
                raise BundleError(
                    f"must be {what} or null, got {value!r}", file=source, key=key,
                    fix="the file was edited by hand; regenerate it with pytest",
                )
        try:
            created_at = str(data["created_at"])
            parse_time(created_at)
            bundle = cls(
                created_at=created_at,
                model=ModelRef.from_json(data.get("model")),
                commit=data.get("commit"),
                tests=tests,
                data=dict(data.get("data") or {}),
                environment=dict(data.get("environment") or {}),
                run=dict(data.get("run") or {}),
                schema=schema,
                declared_digest=str(data.get("digest")),
            )
        except KeyError as exc:
            raise BundleError(
                f"required field {exc.args[0]!r} is missing", file=source, key=str(exc.args[0]),
                fix="the file is incomplete or was edited; regenerate it with pytest",
            ) from None
        except (TypeError, ValueError) as exc:
            raise BundleError(
                f"malformed: {exc}", file=source, fix="regenerate the bundle with pytest"
            ) from None
        seen: set[str] = set()
        for t in bundle.tests:
            if t.nodeid in seen:
                raise BundleError(
                    f"test {t.nodeid!r} appears twice", file=source, key="tests",
                    fix="the file was merged or edited by hand; regenerate it with pytest",
                )
            seen.add(t.nodeid)
        return bundle

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Bundle:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BundleError(
                "no such file", file=str(path),
                fix="run pytest first (the mlgate plugin writes reports/results.json), "
                "or pass --bundle with the right path",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleError(f"cannot read: {exc}", file=str(path)) from None
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise BundleError(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
                file=str(path), fix="the file is truncated or corrupt; regenerate it with pytest",
            ) from None
        except ValueError as exc:  # NaN / Infinity literals (canonical JSON cannot hold them)
            raise BundleError(
                f"not valid JSON: {exc}", file=str(path),
                fix="the file was not written by mlgate; regenerate it with pytest",
            ) from None
        return cls.from_json(data, source=str(path))


def _read_tests(raw: Any, source: str) -> tuple[TestRecord, ...]:
    """The ``tests`` array, each record read with errors keyed ``tests[i]``."""
    if raw is None:
        raise BundleError(
            "required field 'tests' is missing", file=source, key="tests",
            fix="the file is incomplete or was edited; regenerate it with pytest",
        )
    if not isinstance(raw, list):
        raise BundleError(
            f"must be a list of test records, got {type(raw).__name__}", file=source, key="tests",
            fix="the file was edited by hand; regenerate it with pytest",
        )
    tests: list[TestRecord] = []
    for i, item in enumerate(raw):
        try:
            tests.append(TestRecord.from_json(item))
        except KeyError as exc:
            raise BundleError(
                f"required field {exc.args[0]!r} is missing", file=source,
                key=f"tests[{i}].{exc.args[0]}",
                fix="the file is incomplete or was edited; regenerate it with pytest",
            ) from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise BundleError(
                f"malformed: {exc}", file=source, key=f"tests[{i}]",
                fix="regenerate the bundle with pytest",
            ) from None
    return tuple(tests)


def _no_constant(name: str) -> Any:
    raise ValueError(f"the bare literal {name} is not JSON; mlgate writes the string {name!r}")


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    write_text_atomic(path, payload + "\n")
    return path


def write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; reports are read by CI uploaders and people
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
