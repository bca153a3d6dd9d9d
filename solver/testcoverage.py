"""Which obligations (rules, MC/DC halves, boundaries) a set of cases meets, and which it leaves."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.cases import Case
from solver.obligations import Obligation, met, obligations
from solver.passes.options import resolve
from solver.person import parse_person


@dataclass
class ObligationCoverage:
    obligations: list[Obligation]
    met_by: dict[str, list[str]]  # obligation id -> case ids

    def missing(self, kind: str | None = None) -> list[Obligation]:
        return [o for o in self.obligations if not self.met_by[o.id] and (kind is None or o.kind == kind)]

    def summary(self) -> str:
        lines = []
        for kind in ("rule", "mcdc", "boundary"):
            total = [o for o in self.obligations if o.kind == kind]
            done = [o for o in total if self.met_by[o.id]]
            lines.append(f"{kind:<9} {len(done):>5}/{len(total):<5} met")
        return "\n".join(lines)


def obligation_coverage(rs: ir.RuleSet, cases: list[tuple[Path, Case]]) -> ObligationCoverage:
    """Meet obligations with traced decisions; obligations refer to the default-options rule set
    (cases with other options are traced on their own resolution, matched by rule and atom text)."""
    resolved = resolve(rs)
    obs = list(obligations(resolved))
    met_by: dict[str, list[str]] = {o.id: [] for o in obs}
    backends: dict[tuple[tuple[str, str], ...], EvalBackend] = {}
    for _, case in cases:
        key = tuple(sorted(case.options.items()))
        if key not in backends:
            backends[key] = EvalBackend(resolved if not key else resolve(rs, dict(case.options)))
        backend = backends[key]
        _, trace = backend.decide_traced(parse_person(rs, case.person))
        # Obligations of this resolution, in the same order as the default one.
        local = list(obligations(backend.rs))
        for ob, lob in zip(obs, local, strict=True):
            rule = backend.rs.rule(lob.rule)
            if met(lob, rule, trace.applies.get(rule.id), trace.value):
                met_by[ob.id].append(case.id)
    return ObligationCoverage(obs, met_by)
