"""The audit record: one model-version tag per decision, ``mlgate.decision.<decision id>``.

Its value is compact JSON (schema ``mlgate.audit/1``)::

    {"schema": "mlgate.audit/1", "id": "…", "kind": "gate" | "rollback",
     "verdict": "promote", "decided_at": "…Z", "recorded_ns": 1795…,   # first write, for order
     "context": {…actor…}, "champion": {"name", "version"} | null,
     "bundle_digest": "sha256:…", "policy_digest": "sha256:…", "baseline_digest": … | null,
     "reasons": [{rule, status, message, …}, …], "reasons_complete": true,
     "artifacts": "mlgate/<id>" | null,
     "alias": {"name": "champion", "from": "1" | null, "to": "2",
               "state": "pending" | "done", "observed": "2" | null} | null}

Keyed by the decision id, so writing it again is a no-op and a retried request can never add a
second record. The alias move is written as ``pending`` *before* the alias moves and marked
``done`` (with the version read back) after: a re-run of an interrupted publish finishes it.
A value stays under :data:`VALUE_LIMIT` characters (the smallest limit of MLflow servers still in
use); when the full reasons do not fit, the failed ones are kept, shortened
(``reasons_complete`` is then false; ``decision.json`` in the artifacts has them all).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from mlgate.bundle import ModelRef
from mlgate.gate import Decision, Reason

SCHEMA = "mlgate.audit/1"
PREFIX = "mlgate.decision."
VALUE_LIMIT = 5000
_SHORT_MESSAGE = 160


@dataclass(frozen=True)
class AliasMove:
    alias: str
    from_version: str | None
    to_version: str
    state: str = "pending"  # "pending": intended, not yet confirmed; "done": moved, read back
    observed: str | None = None  # where the alias pointed when read back after the move

    def to_json(self) -> dict[str, Any]:
        return {"name": self.alias, "from": self.from_version, "to": self.to_version,
                "state": self.state, "observed": self.observed}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> AliasMove | None:
        if not data:
            return None
        return cls(str(data["name"]), _opt_str(data.get("from")), str(data["to"]),
                   str(data.get("state", "pending")), _opt_str(data.get("observed")))

    def context(self) -> dict[str, Any]:
        """The move as kept in a Decision's context (``alias_move``)."""
        return {"alias": self.alias, "from": self.from_version, "to": self.to_version,
                "observed": self.observed}


@dataclass(frozen=True)
class AuditRecord:
    decision_id: str
    kind: str
    verdict: str
    decided_at: str
    recorded_ns: int
    context: dict[str, Any]
    champion: ModelRef | None
    bundle_digest: str
    policy_digest: str
    baseline_digest: str | None
    reasons: tuple[Reason, ...]
    reasons_complete: bool = True
    artifacts: str | None = None
    move: AliasMove | None = None

    @property
    def tag_key(self) -> str:
        return PREFIX + self.decision_id

    @property
    def finished(self) -> bool:
        """Nothing is left to do for this decision (no alias move, or the move is done)."""
        return self.move is None or self.move.state == "done"

    @classmethod
    def of(cls, decision: Decision, *, recorded_ns: int, artifacts: str | None,
           move: AliasMove | None) -> AuditRecord:
        context = {k: v for k, v in decision.context.items() if k != "alias_move"}
        return cls(decision.id, decision.kind, decision.verdict, decision.decided_at, recorded_ns,
                   context, decision.champion, decision.bundle_digest, decision.policy_digest,
                   decision.baseline_digest, decision.reasons, True, artifacts, move)

    def with_move(self, move: AliasMove | None) -> AuditRecord:
        return replace(self, move=move)

    # -- the tag value -----------------------------------------------------------------------
    def to_json(self, reasons: list[dict[str, Any]] | None = None,
                complete: bool | None = None) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "id": self.decision_id,
            "kind": self.kind,
            "verdict": self.verdict,
            "decided_at": self.decided_at,
            "recorded_ns": self.recorded_ns,
            "context": self.context,
            "champion": None if self.champion is None else self.champion.to_json(),
            "bundle_digest": self.bundle_digest,
            "policy_digest": self.policy_digest,
            "baseline_digest": self.baseline_digest,
            "reasons": [r.to_json() for r in self.reasons] if reasons is None else reasons,
            "reasons_complete": self.reasons_complete if complete is None else complete,
            "artifacts": self.artifacts,
            "alias": None if self.move is None else self.move.to_json(),
        }

    def tag_value(self) -> str:
        """Compact JSON under :data:`VALUE_LIMIT` characters."""
        text = _dumps(self.to_json())
        if len(text) <= VALUE_LIMIT:
            return text
        short = [_short(r) for r in self.reasons if r.status != "pass"]
        while short:
            text = _dumps(self.to_json(short, False))
            if len(text) <= VALUE_LIMIT:
                return text
            short.pop()
        # the context (the actor) is what is left to cut; the full decision is in the artifacts
        return _dumps({**self.to_json([], False), "context": {"truncated": True}})

    @classmethod
    def parse(cls, value: str | None) -> AuditRecord | None:
        """The record in a tag value; ``None`` for a value that is not one (never raises)."""
        if not value:
            return None
        try:
            data = json.loads(value)
            if data.get("schema") != SCHEMA:
                return None
            return cls(
                decision_id=str(data["id"]),
                kind=str(data.get("kind", "gate")),
                verdict=str(data["verdict"]),
                decided_at=str(data["decided_at"]),
                recorded_ns=int(data.get("recorded_ns", 0)),
                context=dict(data.get("context") or {}),
                champion=ModelRef.from_json(data.get("champion")),
                bundle_digest=str(data.get("bundle_digest", "")),
                policy_digest=str(data.get("policy_digest", "")),
                baseline_digest=data.get("baseline_digest"),
                reasons=tuple(Reason.from_json(r) for r in data.get("reasons", ())),
                reasons_complete=bool(data.get("reasons_complete", True)),
                artifacts=data.get("artifacts"),
                move=AliasMove.from_json(data.get("alias")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def decision(self, model: ModelRef) -> Decision:
        """The decision as kept, about ``model`` (the version that holds the record); the alias
        move is in its context under ``alias_move``."""
        context = dict(self.context)
        if self.move is not None:
            context["alias_move"] = self.move.context()
        return Decision(
            verdict=self.verdict,  # type: ignore[arg-type]
            reasons=self.reasons,
            model=model,
            champion=self.champion,
            bundle_digest=self.bundle_digest,
            policy_digest=self.policy_digest,
            baseline_digest=self.baseline_digest,
            decided_at=self.decided_at,
            kind=self.kind,
            context=context,
        )


def _short(reason: Reason) -> dict[str, Any]:
    data = reason.to_json()
    if len(reason.message) > _SHORT_MESSAGE:
        data["message"] = reason.message[: _SHORT_MESSAGE - 1] + "…"
    return data


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False, default=str)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)
