"""The checks per output and timeline box: gaps, unknowns of its own (with every missing row), conflicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from solver import ir
from solver.checks.basics import BackendDisagreement, Marks
from solver.checks.findings import Finding
from solver.query import Query, Unknown
from solver.semantics import goals
from solver.semantics.goals import Goal
from solver.semantics.reasons import Reason, joined

if TYPE_CHECKING:
    from solver.checks.engine import Checker

MAX_MISSING_ROWS = 200  # missing rows listed in one undetermined finding (more: undecided)


def gaps(
    ck: Checker, s: Query, marks: Marks, label: str, names: Iterable[str], maybe: set[tuple[str, str]]
) -> list[Finding]:
    """Gaps and own unknowns of the outputs NAMES (only the checks MAYBE leaves open)."""
    out: list[Finding] = []
    for o in (ck.rs.outputs[n] for n in names):
        sym = ck.enc.outputs[o.name]
        rules = [r.id for r in ck.rs.rules_for(o.name)]
        if o.cardinality == "exactly_one" and o.default is None and ("gap", o.name) in maybe:
            if o.name not in marks.gaps:
                res, _ = ck.ask(s, sym.status["gap"], marks=marks, reads=ck.cones[o.name])
                if isinstance(res, Unknown):
                    out.append(ck.undecided(o.name, rules, f"can {o.name} have no value?", label))
            if o.name in marks.gaps:
                gap_person = marks.gaps[o.name]
                if ck.ref.decide(gap_person)[o.name].status != "gap":
                    raise BackendDisagreement(f"{o.name} has no gap for {gap_person} by eval")
                why = f"no rule gives {o.name} a value for this person, and it has no default"
                out.append(ck.finding("gap", o.name, [], why, label, gap_person))
        # Unknown for its own reason (a missing parameter row, ...), not only because an output
        # it reads has a gap, a conflict or is unknown: those are reported at their source.
        if ("unknown", o.name) not in maybe:
            continue
        res, person = ck.ask(s, sym.status["unknown"], *ck.sound_upstream(o.name), person=True, reads=ck.cones[o.name])
        if isinstance(res, Unknown):
            out.append(ck.undecided(o.name, rules, f"can {o.name} be unknown?", label))
        elif person is not None:
            got = ck.ref.decide(person)[o.name]
            if got.status != "unknown":
                raise BackendDisagreement(f"{o.name} is known for {person} by eval")
            why = f"{o.name} is unknown for a complete person: {joined(got.reasons) or 'a value is unknown'}"
            keys, complete = missing_rows(ck, s, o.name, got.reasons)
            found = ck.finding("undetermined", o.name, [], why, label, person, _param_cites(ck.rs, got))
            out.append(dataclasses.replace(found, keys=keys))
            if not complete:
                what = f"can {o.name} be unknown for a missing row other than {', '.join(keys)}?"
                out.append(ck.undecided(o.name, rules, what, label))
    return out


def missing_rows(ck: Checker, s: Query, name: str, reasons: Iterable[Reason]) -> tuple[tuple[str, ...], bool]:
    """Every missing parameter row that leaves NAME unknown (for a reason of its own) for some
    valid person of S's scope: the first witness's rows, then a person for whom NAME would stay
    unknown were those rows there, until there is none. They go into the finding's id, so that
    accepting one missing row does not accept another. False when z3 gave up (or past
    MAX_MISSING_ROWS): the list may be short."""
    own = [*ck.sound_upstream(name)]
    found: dict[tuple[str, tuple[ir.Value, ...]], None] = {}
    while True:
        new = [(r.name, r.key) for r in reasons if r.kind == "no_parameter" and (r.name, r.key) not in found]
        if not new:
            return _row_names(sorted(found, key=str)), True
        found.update(dict.fromkeys(new))
        if len(found) > MAX_MISSING_ROWS:
            return _row_names(sorted(found, key=str)), False
        res, person = ck.ask(s, ck.unknown_without(name, found), *own, person=True, reads=ck.cones[name])
        if isinstance(res, Unknown):
            return _row_names(sorted(found, key=str)), False
        if person is None:
            return _row_names(sorted(found, key=str)), True
        reasons = ck.ref.decide(person)[name].reasons


def conflicts(ck: Checker, s: Query, marks: Marks, label: str, names: Iterable[str]) -> list[Finding]:
    out: list[Finding] = []
    for o in (ck.rs.outputs[n] for n in names):
        sym = ck.enc.outputs[o.name]
        blocked: list[Goal] = []
        for (name, rules), _ in marks.conflicts.items():
            if name == o.name:
                blocked.append(goals.negate(goals.all_apply(ck.enc, o.name, rules)))
        for _ in range(ck.settings.max_conflicts_per_output):
            res, person = ck.ask(s, sym.status["conflict"], *blocked, marks=marks, reads=ck.cones[o.name])
            if isinstance(res, Unknown):
                out.append(ck.undecided(o.name, [], f"can {o.name} get two values?", label))
                break
            if person is None:
                break
            got = ck.ref.decide(person)[o.name]
            if got.status != "conflict":
                raise BackendDisagreement(f"z3 says {o.name} conflicts for {person}; eval says {got.status}")
            blocked.append(goals.negate(goals.all_apply(ck.enc, o.name, got.rules)))
        for (name, rules), person in marks.conflicts.items():
            if name != o.name:
                continue
            vals = ck.ref.decide(person)[o.name].values
            shown = ", ".join(map(str, vals))
            both = "both apply" if len(rules) == 2 else "all apply"
            why = f"{' and '.join(rules)} {both} and give {shown}; neither is an exception of the other"
            out.append(ck.finding("conflict", o.name, list(rules), why, label, person))
    return out


def _row_names(rows: Iterable[tuple[str, tuple[ir.Value, ...]]]) -> tuple[str, ...]:
    return tuple(f"{p}({', '.join(str(v) for v in key)})" for p, key in rows)


def _param_cites(rs: ir.RuleSet, res: Any) -> list[str]:
    names = {r.name for r in res.reasons if r.kind == "no_parameter"}
    return [c for n in sorted(names) if n in rs.params for row in rs.params[n].rows for c in row.cites][:4]
