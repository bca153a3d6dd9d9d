"""A diff report as text, Markdown (tables for a review memo) and JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from solver import ir
from solver.diff.engine import Decider, DiffReport, OutputDiff, Region


def _v(v: ir.Value, time: bool = False) -> Any:
    if time and isinstance(v, int) and not isinstance(v, bool):
        return ir.time_text(v)
    return v.isoformat() if isinstance(v, dt.date) else v


def _person(p: Mapping[str, ir.Value], times: frozenset[str]) -> dict[str, Any]:
    return {k: _v(v, k in times) for k, v in p.items()}


def _witness(r: Region, times: frozenset[str]) -> str:
    old, new = _person(r.witness_old, times), _person(r.witness_new, times)
    parts = [f"{f}={old[f]}" for f in r.fields if f in old]
    parts += [f"{f}: {old.get(f)} vs {v}" for f, v in new.items() if old.get(f) != v]
    return ", ".join(parts) or "any valid person"


def _proof(o: OutputDiff) -> str:
    if o.presence:
        return f"output {o.presence}"
    if o.proof == "complete":
        return "complete: no other valid person's value differs (unsat)"
    return f"{o.proof}: {o.reason}"


def _count(r: Region) -> str:
    return str(r.count) if r.count is not None else r.combinations


def to_text(rep: DiffReport) -> str:
    lines = [f"diff {rep.old} -> {rep.new}"]
    if rep.equivalent:
        lines.append("equivalent: every output proved equal for every valid person (unsat per output)")
    for o in rep.outputs:
        if not o.regions and o.proof == "complete" and not o.presence:
            continue
        lines.append(f"\n{o.output}: {len(o.regions)} region(s); {_proof(o)}")
        for i, r in enumerate(o.regions, 1):
            what = f" [{r.member}]" if r.member else ""
            lines.append(f"  {i}.{what} {r.old.describe()} -> {r.new.describe()}")
            lines.append(f"     where: {' and '.join(r.condition) or 'always'}")
            for side, d in (("old", r.old), ("new", r.new)):
                if d.clauses:
                    lines.append(
                        f"     {side} clauses: {', '.join(d.clauses)}: " + " / ".join(f"「{q}」" for q in d.quotes)
                    )
            lines.append(f"     witness: {_witness(r, rep.times)}{'' if r.confirmed else ' (NOT confirmed by eval)'}")
            if _count(r):
                lines.append(f"     count: {_count(r)}")
    same = [o.output for o in rep.outputs if not o.regions and o.proof == "complete" and not o.presence]
    lines.append(
        f"\n{len(rep.regions)} region(s) in {sum(1 for o in rep.outputs if o.regions)} output(s); "
        f"{len(same)} output(s) proved unchanged; proof: {'complete' if rep.complete else 'INCOMPLETE'}"
    )
    return "\n".join(lines)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(rep: DiffReport, title: str = "", command: str = "") -> str:
    lines = [f"# {title or f'Diff {rep.old} → {rep.new}'}", f"<!-- elig diff {command} -->" if command else ""]
    if rep.equivalent:
        lines += ["**Equivalent**: every output proved equal for every valid person.", ""]
    lines += [
        f"{len(rep.regions)} region(s) in {sum(1 for o in rep.outputs if o.regions)} output(s); "
        f"completeness proof: **{'complete' if rep.complete else 'incomplete'}** "
        f"({sum(1 for o in rep.outputs if o.proof == 'complete')}/{len(rep.outputs)} outputs proved).",
        "",
    ]
    for o in rep.outputs:
        if not o.regions and o.proof == "complete" and not o.presence:
            continue
        lines += [f"## {o.output}", "", f"Proof: {_proof(o)}.", ""]
        if not o.regions:
            continue
        lines += [
            f"| # | where | {rep.old} | {rep.new} | clauses | witness | count |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, r in enumerate(o.regions, 1):
            what = f"[{r.member}] " if r.member else ""
            clauses = "; ".join(
                f"{side}: {', '.join(d.clauses)}" for side, d in (("old", r.old), ("new", r.new)) if d.clauses
            )
            ok = "" if r.confirmed else " (not confirmed)"
            cells = [
                str(i),
                what + (" and ".join(r.condition) or "always"),
                r.old.describe(),
                r.new.describe(),
                clauses,
                _witness(r, rep.times) + ok,
                _count(r),
            ]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        lines.append("")
        quotes = {q for r in o.regions for d in (r.old, r.new) for q in d.quotes}
        if quotes:
            lines += ["Quotes: " + " ".join(f"「{q}」" for q in sorted(quotes)), ""]
    same = [o.output for o in rep.outputs if not o.regions and o.proof == "complete" and not o.presence]
    lines += ["## Proved unchanged", "", ", ".join(same) or "(none)", ""]
    return "\n".join(lines)


def _decider_json(d: Decider) -> dict[str, Any]:
    return {"status": d.status, "value": d.value, "rules": list(d.rules), "clauses": list(d.clauses)}


def region_json(r: Region, times: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        "output": r.output,
        "member": r.member or None,
        "where": list(r.condition),
        "old": {
            "status": r.old.status,
            "value": r.old.value,
            "rules": list(r.old.rules),
            "clauses": list(r.old.clauses),
        },
        "new": {
            "status": r.new.status,
            "value": r.new.value,
            "rules": list(r.new.rules),
            "clauses": list(r.new.clauses),
        },
        "witness_old": _person(r.witness_old, times),
        "witness_new": _person(r.witness_new, times),
        "confirmed": r.confirmed,
        "fields": list(r.fields),
        "count": r.count,
        "combinations": r.combinations or None,
    }


def to_json(rep: DiffReport) -> str:
    data = {
        "old": rep.old,
        "new": rep.new,
        "equivalent": rep.equivalent,
        "complete": rep.complete,
        "population_size": rep.population_size or None,
        "outputs": [
            {
                "output": o.output,
                "proof": o.proof,
                "reason": o.reason or None,
                "presence": o.presence or None,
                "regions": [region_json(r, rep.times) for r in o.regions],
            }
            for o in rep.outputs
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
