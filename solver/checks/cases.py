"""The rule set's own worked cases as a check: a case whose expectations the eval backend does not
meet is a `case_failed` finding (the hand-worked reading of the law and the rules disagree)."""

from __future__ import annotations

from pathlib import Path

from solver import ir
from solver.cases import collect, mismatches
from solver.checks.findings import Finding
from solver.compiled import AnyOptions
from solver.errors import EligError
from solver.person import parse_person


def check_cases(rs: ir.RuleSet, folder: Path) -> list[Finding]:
    """Every case in FOLDER/cases, decided under its own options (the ones it was worked under)."""
    cases_dir = folder / "cases"
    if not cases_dir.is_dir():
        return []
    decider = AnyOptions(rs)  # eval compiled once, with the options as inputs
    rules = {r.id: r for r in rs.rules}
    out: list[Finding] = []
    for path, case in collect([cases_dir]):
        where = f"{path.name}:{case.loc.line}"
        try:
            results = decider.decide(parse_person(rs, case.person), case.options).results
        except EligError as e:  # a case that no longer parses is as failed as a wrong answer
            out.append(Finding("case_failed", case.id, (), case.cites, f"{where}: {e}", options=case.options))
            continue
        problems = mismatches(rs, case, results)
        if not problems:
            continue
        names = [n for n in case.expect if n in rs.outputs]
        fired = tuple(sorted({r for n in names for r in results[n].rules}))
        clauses = tuple(dict.fromkeys([*case.cites, *(c for r in fired if r in rules for c in rules[r].cites)]))
        fired_text = ", ".join(f"{r} [{', '.join(rules[r].cites)}]" for r in fired if r in rules) or "none"
        out.append(
            Finding(
                "case_failed",
                case.id,
                fired,
                clauses,
                f"{where}: " + "; ".join(problems) + f"; rules that fired: {fired_text}",
                options=case.options,
            )
        )
    return out
