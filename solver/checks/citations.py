"""citation_out_of_force: a rule that can apply where none of the documents it cites is in force,
or that cites a document in force nowhere it can apply (a mistyped clause id, a rule carried into
years its source does not reach).

A rule is compared on its validity axis (`valid.on`, else the rule set's time input): a date axis
with the documents' in-force dates, an int axis (insurance years) with the years they govern
(sources.yaml `in_force`). The rule's `valid` interval settles most rules without z3; where it
does not, z3 is asked whether the rule can apply in the uncovered part (its conditions may
restrict the years), so a finding always has a witness. A rule the options in force switch off
is judged by its `valid` interval alone: a cited document in force nowhere in it is a finding
(another reading switches the rule on with that citation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

from solver import ir
from solver.checks.findings import Finding
from solver.passes.timeline import Interval, Point
from solver.query import Sat, Unknown
from solver.semantics import goals

if TYPE_CHECKING:
    from solver.checks.engine import Checker


def _next(p: Point, by: int = 1) -> Point:
    return p + dt.timedelta(days=by) if isinstance(p, dt.date) else p + by


def _minus(whole: Interval, cover: list[Interval]) -> list[Interval]:
    """The parts of WHOLE no interval of COVER contains."""
    out, at = [], whole.lo
    for c in sorted(cover, key=lambda c: c.lo):
        if c.hi < at or c.lo > whole.hi:  # type: ignore[operator]
            continue
        if c.lo > at:  # type: ignore[operator]
            out.append(Interval(whole.on, at, _next(c.lo, -1)))
        at = max(at, _next(c.hi))
    if at <= whole.hi:  # type: ignore[operator]
        out.append(Interval(whole.on, at, whole.hi))
    return out


def _in_force(src: ir.Source, axis: str, t: ir.Type) -> Interval | None:
    f = src.in_force
    if f is None:
        return None
    if isinstance(t, ir.DateT):
        return Interval(axis, f.lo, f.hi or t.hi)
    assert isinstance(t, ir.IntT)
    return Interval(axis, f.years[0], min(f.years[1], t.hi))


def citations_out_of_force(ck: Checker, seen: Mapping[str, Mapping[str, ir.Value]]) -> list[Finding]:
    """SEEN: a person each rule applies to, where one was met (spares a query when it lies in the
    part asked about). Rules with the same trouble (the same documents, the same part of the
    axis) are one finding: accepting it accepts those rules, a rule that joins it is new."""
    rs = ck.rs
    groups: dict[tuple[str, str], list[tuple[ir.Rule, dict[str, ir.Value] | None]]] = {}
    undecided: list[Finding] = []
    inactive = set(ck.inactive)
    for r in rs.rules:  # a switched-off rule too: another reading switches it on, with its citations
        axis = r.valid.on if r.valid else rs.time
        if axis is None or axis not in rs.inputs:
            continue
        t = rs.inputs[axis].type
        if not isinstance(t, ir.DateT | ir.IntT):
            continue
        lo = r.valid.lo if r.valid and r.valid.lo is not None else t.lo
        hi = r.valid.hi if r.valid and r.valid.hi is not None else t.hi
        valid = Interval(axis, lo, hi)
        docs: dict[str, Interval] = {}
        for cid in r.cites:
            src = rs.sources.get(rs.clauses[cid].source) if cid in rs.clauses else None
            span = _in_force(src, axis, t) if src else None
            if src is not None and span is not None:
                docs.setdefault(src.id, span)
        if not docs:
            continue  # no cited document states when it is in force

        def applies_in(part: Interval, r: ir.Rule = r) -> tuple[bool, dict[str, ir.Value] | None]:
            met = seen.get(r.id)
            if met is not None and part.contains(met[part.on]):  # type: ignore[arg-type]
                return True, dict(met)
            within = goals.input_within(ck.enc, part.on, part.lo, part.hi)
            res, person = ck.ask(ck.solver(goals.TRUE), ck.enc.applying(r.id), within, person=True)
            if isinstance(res, Unknown):
                undecided.append(ck.undecided(r.id, [r.id], f"can {r.id} apply in {part}?", str(part)))
            return isinstance(res, Sat), person

        names = ", ".join(sorted(docs))
        if r.id in inactive:  # z3 cannot ask where it applies; its validity alone still tells
            for d, span in sorted(docs.items()):
                if span.hi < valid.lo or span.lo > valid.hi:  # type: ignore[operator]
                    subject = f"citing {d}: valid only while {d} is not in force (rule switched off)"
                    groups.setdefault((subject, str(valid)), []).append((r, None))
            continue
        for part in _minus(valid, list(docs.values())):
            hit, person = applies_in(part)
            if hit:
                groups.setdefault((f"citing {names}: applied in {part}", str(part)), []).append((r, person))
        for d, span in sorted(docs.items()):
            if not _minus(valid, [span]):
                continue  # inside: it applies there wherever it can apply at all
            overlap = Interval(axis, max(valid.lo, span.lo), min(valid.hi, span.hi))
            if _minus(overlap, []) and applies_in(overlap)[0]:
                continue
            groups.setdefault((f"citing {d}: applies only while {d} is not in force", str(valid)), []).append(
                (r, None)
            )
    out = list(undecided)
    for (subject, where), members in sorted(groups.items()):
        rules = [r.id for r, _ in members]
        witness = next((p for _, p in members if p is not None), None)
        docs_named = sorted({rs.clauses[c].source for r, _ in members for c in r.cites if c in rs.clauses})
        said = "; ".join(f"{d} in force {_said(rs.sources[d])}" for d in docs_named if rs.sources[d].in_force)
        trouble = subject.partition(": ")[2]
        why = f"{', '.join(rules)}: {trouble}" + (
            ", where none of the documents they cite is in force" if "applied in" in trouble else ""
        )
        why += f" ({said})"
        out.append(ck.finding("citation_out_of_force", subject, rules, why, where, witness))
    return out


def _said(src: ir.Source) -> str:
    f = src.in_force
    assert f is not None
    span = f"{f.lo}..{f.hi or ''}" + (f" (insurance years {f.years[0]}..{f.years[1]})" if f.years[1] < 9999 else "")
    return f"{span}: 「{' '.join(f.quote.split())}」"
