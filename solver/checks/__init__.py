"""Checks of a rule set itself: `run_checks` is what `elig check` runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from solver import ir
from solver.checks.cases import check_cases
from solver.checks.engine import Checker, Settings
from solver.checks.findings import Finding, apply_accepted, load_accepted
from solver.checks.properties import check_properties, load_properties
from solver.passes.options import resolve


@dataclass(frozen=True)
class CheckReport:
    ruleset: str
    title: str
    options: Mapping[str, str]
    intervals: tuple[str, ...]
    findings: tuple[Finding, ...]
    stale_accepted: tuple[str, ...] = ()  # accepted ids that no longer occur
    seconds: float = 0.0
    properties: tuple[str, ...] = field(default=())
    switched_off: Mapping[str, str] = field(default_factory=dict)  # rule -> the option test that is false
    unconfirmed: tuple[str, ...] = ()  # accepted ids not seen while some question timed out: not stale
    times: frozenset[str] = frozenset()  # the inputs that are times of day (witnesses show HH:MM)

    @property
    def new(self) -> tuple[Finding, ...]:
        """Findings neither accepted nor known-open: what fails the gate."""
        return tuple(f for f in self.findings if not f.accepted and not f.known_open)

    @property
    def known_open(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.known_open)

    def exit_code(self) -> int:
        """0: nothing new (known-open defects are listed, not gating); 1: new findings (an undecided
        check counts: it proved nothing)."""
        return 1 if self.new else 0


def run_checks(
    rs: ir.RuleSet,
    options: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    on_step: Callable[[str], None] | None = None,
    root: Path | None = None,
    cases: bool = True,
) -> CheckReport:
    """Every check of the rule set under one option assignment, per timeline interval, and its worked
    cases (each under the options it was worked under, so they do not depend on OPTIONS)."""
    start = time.perf_counter()
    resolved = resolve(rs, options or {})
    folder = Path(root or rs.root)
    props = load_properties(resolved, folder)
    checker = Checker(resolved, settings, on_step)
    findings = checker.run([check_properties(props)] if props else []) + (check_cases(rs, folder) if cases else [])
    accepted = load_accepted(folder)
    marked = apply_accepted(findings, accepted)
    seen = {f.id for f in marked}
    missing = tuple(sorted(a for a in accepted if a not in seen))
    timed_out = any(f.kind == "undecided" for f in marked)  # an acceptance not reached is not stale
    return CheckReport(
        rs.name,
        rs.title,
        dict(resolved.resolved_options),
        tuple(str(s) for s in checker.spans()),
        tuple(marked),
        () if timed_out else missing,
        time.perf_counter() - start,
        tuple(p.id for p in props),
        dict(checker.inactive),
        missing if timed_out else (),
        times=frozenset(n for n, i in rs.inputs.items() if ir.is_time(i.type)),
    )


@dataclass(frozen=True)
class OptionEffect:
    """What reading `option=value` (instead of the default) changes in the findings."""

    option: str
    value: str
    added: tuple[Finding, ...]
    removed: tuple[Finding, ...]


def option_effects(
    rs: ir.RuleSet, settings: Settings | None = None, on_step: Callable[[str], None] | None = None
) -> tuple[CheckReport, list[OptionEffect]]:
    """The default report, and for every other reading of every option the findings it adds and
    removes: what each ambiguity of the text decides."""
    base = run_checks(rs, {}, settings)
    ids = {f.id: f for f in base.findings if f.kind != "case_failed"}
    effects: list[OptionEffect] = []
    for name, opt in rs.options.items():
        for value in opt.type.values:
            if value == opt.default:
                continue
            if on_step:
                on_step(f"{name}={value}")
            other = run_checks(rs, {name: value}, settings, cases=False)
            theirs = {f.id: f for f in other.findings}
            added = tuple(f for i, f in theirs.items() if i not in ids)
            removed = tuple(f for i, f in ids.items() if i not in theirs)
            effects.append(OptionEffect(name, value, added, removed))
    return base, effects
