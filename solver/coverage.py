"""Coverage of the law by rules and cases: for each clause id, the rules that cite it, the cases
that cite it, and whether those cases actually fire a rule citing it; and the rules no case fires."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.cases import Case, collect
from solver.passes.options import resolve
from solver.person import parse_person


@dataclass
class ClauseCoverage:
    clause: str
    rules: list[str] = field(default_factory=list)  # rules (and parameter tables) encoding it
    cases: list[str] = field(default_factory=list)  # cases citing the clause
    fired_by: list[str] = field(default_factory=list)  # cases in which a rule citing it applies

    @property
    def complete(self) -> bool:
        return bool(self.rules and self.cases)


@dataclass
class Coverage:
    clauses: dict[str, ClauseCoverage]
    rules_fired: dict[str, list[str]]  # rule id -> cases where it applies
    case_count: int

    @property
    def unfired_rules(self) -> list[str]:
        return [r for r, cs in self.rules_fired.items() if not cs]


def coverage(rs: ir.RuleSet, cases: list[tuple[Path, Case]]) -> Coverage:
    table = {c: ClauseCoverage(c) for c in rs.clauses}
    for r in rs.rules:
        for c in r.cites:
            table[c].rules.append(r.id)
    for p in rs.params.values():  # a clause may be encoded as a dated parameter table
        for c in dict.fromkeys(c for row in p.rows for c in row.cites):
            table[c].rules.append(f"parameter {p.name}")
    fired: dict[str, list[str]] = {r.id: [] for r in rs.rules}
    backends: dict[tuple[tuple[str, str], ...], EvalBackend] = {}
    for _, case in cases:
        for c in case.cites:
            if c in table:
                table[c].cases.append(case.id)
        key = tuple(sorted(case.options.items()))
        if key not in backends:
            backends[key] = EvalBackend(resolve(rs, dict(case.options)))
        applies = backends[key].applies(parse_person(rs, case.person))
        for rid, a in applies.items():
            if a is True:
                fired[rid].append(case.id)
                for c in rs.rule(rid).cites:
                    if case.id not in table[c].fired_by:
                        table[c].fired_by.append(case.id)
    return Coverage(table, fired, len(cases))


def cases_of(root: str | Path) -> list[tuple[Path, Case]]:
    folder = Path(root) / "cases"
    return collect([folder]) if folder.exists() else []


def render_text(cov: Coverage, checklist: Mapping[str, str] | None = None) -> str:
    ids = list(checklist) if checklist else list(cov.clauses)
    lines = [f"{'clause':<14}{'rules':>6}{'cases':>7}{'fired':>7}"]
    missing = []
    for cid in ids:
        c = cov.clauses.get(cid)
        if c is None:
            lines.append(f"{cid:<14}{'not in clauses':>20}")
            missing.append(cid)
            continue
        mark = "" if c.complete else "   <- " + ("no rule" if not c.rules else "no case")
        lines.append(f"{cid:<14}{len(c.rules):>6}{len(c.cases):>7}{len(c.fired_by):>7}{mark}")
        if not c.complete:
            missing.append(cid)
    complete = len(ids) - len(missing)
    lines.append(f"\n{complete}/{len(ids)} clause ids with rules and cases; {cov.case_count} cases")
    if missing:
        lines.append("not covered: " + ", ".join(missing))
    unfired = cov.unfired_rules
    lines.append(f"{len(cov.rules_fired) - len(unfired)}/{len(cov.rules_fired)} rules applied by some case")
    if unfired:
        lines.append("rules no case applies: " + ", ".join(unfired))
    return "\n".join(lines)
