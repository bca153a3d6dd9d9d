"""Which obligations (rules, MC/DC halves, boundaries) a set of cases meets, and which it leaves.

An obligation no case meets is *missing* only if some valid person could meet it: those are
checked with z3 exactly as `elig fixtures` checks them (solver.fixtures.feasibility), so the two
agree on what "feasible" means. Infeasible obligations are listed with their reason, not counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from solver import ir
from solver.backends.eval_backend import EvalBackend
from solver.cases import Case
from solver.obligations import Meter, Obligation, obligations
from solver.passes.options import resolve
from solver.person import parse_person

if TYPE_CHECKING:
    from solver.fixtures import Verdict

KINDS = ("rule", "mcdc", "boundary")


@dataclass
class ObligationCoverage:
    obligations: list[Obligation]
    met_by: dict[str, list[str]]  # obligation id -> case ids
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)  # unmet obligations, when checked
    options: Mapping[str, str] = field(default_factory=dict)  # the reading the obligations refer to

    def _status(self, o: Obligation) -> str:
        v = self.verdicts.get(o.id)
        return v.status if v is not None else "unchecked"

    def missing(self, kind: str | None = None) -> list[Obligation]:
        """Unmet obligations that are not known to be infeasible."""
        return [
            o
            for o in self.obligations
            if not self.met_by[o.id] and self._status(o) != "infeasible" and (kind is None or o.kind == kind)
        ]

    def infeasible(self, kind: str | None = None) -> list[Obligation]:
        return [
            o
            for o in self.obligations
            if not self.met_by[o.id] and self._status(o) == "infeasible" and (kind is None or o.kind == kind)
        ]

    def summary(self, limit: int = 40) -> str:
        lines = []
        for kind in KINDS:
            total = [o for o in self.obligations if o.kind == kind]
            done = [o for o in total if self.met_by[o.id]]
            inf = self.infeasible(kind)
            feasible = len(total) - len(inf)
            pct = 100.0 * len(done) / feasible if feasible else 100.0
            unknown = [o for o in self.missing(kind) if self._status(o) == "unknown"]
            extra = f", {len(unknown)} unknown" if unknown else ""
            lines.append(
                f"{kind:<9} {len(done):>5}/{feasible:<5} met ({pct:.0f}% of feasible; {len(inf)} infeasible{extra})"
            )
        inf = self.infeasible()
        if inf:
            lines.append("infeasible (no valid person can meet them; not counted as missing):")
        for o in inf[:limit]:
            v = self.verdicts[o.id]
            lines.append(f"  {o.describe()}\n      because: {v.reason}")
        if len(inf) > limit:
            lines.append(f"  ... and {len(inf) - limit} more (elig fixtures lists them all)")
        return "\n".join(lines)


def obligation_coverage(
    rs: ir.RuleSet, cases: list[tuple[Path, Case]], *, check_feasible: bool = True
) -> ObligationCoverage:
    """Meet obligations with traced decisions. Obligations refer to the options every case shares
    (the defaults when cases differ); a case with other options is traced on its own resolution
    and matched by obligation id."""
    shared = {tuple(sorted(c.options.items())) for _, c in cases}
    options = dict(next(iter(shared))) if len(shared) == 1 else {}
    resolved = resolve(rs, options)
    obs = list(obligations(resolved))
    met_by: dict[str, list[str]] = {o.id: [] for o in obs}
    backends: dict[tuple[tuple[str, str], ...], tuple[EvalBackend, Meter]] = {}
    for _, case in cases:
        key = tuple(sorted(case.options.items()))
        if key not in backends:
            backend = EvalBackend(resolved if dict(key) == options else resolve(rs, dict(case.options)))
            backends[key] = (backend, Meter(list(obligations(backend.rs)), backend.rs))
        backend, meter = backends[key]
        _, trace = backend.decide_traced(parse_person(rs, case.person))
        for oid in meter.met(trace.applies, trace.value):
            if oid in met_by:
                met_by[oid].append(case.id)
    verdicts: dict[str, Verdict] = {}
    unmet = [o for o in obs if not met_by[o.id]]
    if check_feasible and unmet:
        from solver.fixtures import feasibility

        verdicts = feasibility(resolved, unmet)
    return ObligationCoverage(obs, met_by, verdicts, resolved.resolved_options)
