"""Findings: what `elig check` reports about a rule set, as typed records with stable ids, and the
reviewed findings a rule set accepts (accepted.yaml)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, cast

from solver import ir
from solver.errors import RuleError
from solver.language.formats import AcceptedFile
from solver.language.strict_yaml import load
from solver.language.validate import validate

Kind = Literal[
    "unreachable_rule",
    "unreachable_value",
    "conflict",
    "gap",
    "undetermined",
    "dead_exception",
    "redundant_rule",
    "parameter_invariant",
    "property_violation",
    "undecided",
    "case_failed",
    "unhandled_value",
    "table_incomplete",
    "citation_out_of_force",
    "switched_off",
    "unintended_change",
    "intended_change",
    "stale_change",
]
Severity = Literal["error", "warning", "info"]

# Kinds whose id carries the intervals and missing keys they hold for: when one grows, it is new.
SCOPED: frozenset[Kind] = frozenset({"gap", "undetermined", "citation_out_of_force"})

SEVERITY: dict[Kind, Severity] = {
    "unreachable_rule": "error",
    "unreachable_value": "warning",
    "conflict": "error",
    "gap": "error",
    "undetermined": "warning",
    "dead_exception": "error",
    "redundant_rule": "warning",
    "parameter_invariant": "error",
    "property_violation": "error",
    "undecided": "error",
    "case_failed": "error",
    "unhandled_value": "warning",
    "table_incomplete": "warning",
    "citation_out_of_force": "error",
    "switched_off": "info",
    "unintended_change": "error",
    "intended_change": "info",
    "stale_change": "error",
}

TITLES: dict[Kind, str] = {
    "unreachable_rule": "rule can never apply",
    "unreachable_value": "output value can never be given",
    "conflict": "two rules give different values to one person",
    "gap": "a person gets no value for an exactly-one output",
    "undetermined": "a complete person's output is unknown (no parameter / value)",
    "dead_exception": "exception never overlaps the rule it overrides",
    "redundant_rule": "rule is subsumed by another with the same outcome",
    "parameter_invariant": "parameter table breaks an invariant",
    "property_violation": "declared property does not hold",
    "undecided": "the solver gave up (timeout): not checked",
    "case_failed": "a worked case gets another answer than the one worked out by hand",
    "unhandled_value": "no expression names an input value: persons holding it fall through",
    "table_incomplete": "a parameter table has no row for a key its rules read",
    "citation_out_of_force": "a rule is valid where no document it cites is in force",
    "switched_off": "a rule is switched off by the options in force",
    "unintended_change": "a decision changes and changes.yaml does not declare it",
    "intended_change": "a decision changes as changes.yaml declares",
    "stale_change": "changes.yaml declares a change that does not happen",
}


@dataclass(frozen=True)
class Finding:
    """One result of a check. `witness` is a person (re-checked by eval) where one exists;
    `intervals` lists the timeline intervals the finding holds in."""

    kind: Kind
    subject: str  # what the finding is about: an output, output=value, a rule, a property
    rules: tuple[str, ...]
    clauses: tuple[str, ...]
    explanation: str
    intervals: tuple[str, ...] = ()
    witness: Mapping[str, ir.Value] | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    accepted: str = ""  # the reason, when accepted.yaml lists this finding
    known_open: str = ""  # a known defect of the draft (accepted.yaml `status: open`): shown, not gating
    shown: tuple[str, ...] = ()  # the witness fields the finding depends on (what a reader needs)
    keys: tuple[str, ...] = ()  # missing parameter rows (TABLE(key, ...)) an undetermined output reads

    @property
    def merge_key(self) -> tuple[str, ...]:
        """What is the same finding in another interval (merged into one)."""
        return (self.kind, self.subject, *sorted(self.rules))

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.kind]

    @property
    def id(self) -> str:
        """Stable across runs and witness choices: kind, subject and rules, and for the kinds that
        hold over part of the timeline or the tables also where and what they hold for (intervals,
        missing keys), so accepting a gap in 2024 does not accept one that appears in 2026."""
        parts = [self.kind, self.subject, *sorted(self.rules)]
        if self.kind in SCOPED:
            parts += ["@", *self.intervals, "#", *sorted(self.keys)]
        text = "|".join(parts)
        return f"{self.kind}:{hashlib.sha1(text.encode()).hexdigest()[:10]}"

    def merged(self, other: Finding) -> Finding:
        """The same finding in another interval (with the missing rows it has there)."""
        intervals = tuple(dict.fromkeys(self.intervals + other.intervals))
        return replace(self, intervals=intervals, keys=tuple(dict.fromkeys(self.keys + other.keys)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "rules": list(self.rules),
            "clauses": list(self.clauses),
            "intervals": list(self.intervals),
            "keys": list(self.keys),
            "explanation": self.explanation,
            "options": dict(self.options),
        }
        if self.witness is not None:
            out["witness"] = {k: _json_value(v) for k, v in self.witness.items()}
        if self.accepted:
            out["accepted"] = self.accepted
        if self.known_open:
            out["known_open"] = self.known_open
        return out


def _json_value(v: ir.Value) -> Any:
    return v if isinstance(v, bool | int | str) else v.isoformat()


@dataclass(frozen=True)
class Accepted:
    id: str
    reason: str
    loc: ir.Loc
    status: Literal["accepted", "open"] = "accepted"  # open: a known defect reported to the draft's authors


def load_accepted(root: Path) -> dict[str, Accepted]:
    """accepted.yaml: a list of {id, reason} (optional `note`, `status: accepted|open`), each reviewed
    by a person; read through the strict model (solver/language/formats.py AcceptedFile)."""
    path = root / "accepted.yaml"
    if not path.exists():
        return {}
    located = load(path)
    if located.data is None:
        return {}
    entries = cast(AcceptedFile, validate(located, AcceptedFile)).root
    out: dict[str, Accepted] = {}
    for i, e in enumerate(entries):
        if e.id in out:
            raise RuleError(located.loc((i, "id")), f"{e.id} is listed twice", hint=f"first at {out[e.id].loc}")
        out[e.id] = Accepted(e.id, e.reason, located.loc((i,)), e.status)
    return out


def apply_accepted(findings: Sequence[Finding], accepted: Mapping[str, Accepted]) -> list[Finding]:
    """Mark accepted and known-open findings; an undecided check can never be either (it proved nothing)."""
    out: list[Finding] = []
    for f in findings:
        a = accepted.get(f.id)
        if a is None or f.kind == "undecided":
            out.append(f)
        elif a.status == "open":
            out.append(replace(f, known_open=a.reason))
        else:
            out.append(replace(f, accepted=a.reason))
    return out
