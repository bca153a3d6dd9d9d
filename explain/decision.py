"""Rendering a decision: every output with its value, the rules that produced it and their clauses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from solver import ir
from solver.backends.base import Decision, OutputResult


def show(v: Any) -> str:
    return v.isoformat() if isinstance(v, dt.date) else str(v).lower() if isinstance(v, bool) else str(v)


def clauses_of(rs: ir.RuleSet, rule_ids: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    for rid in rule_ids:
        for c in rs.rule(rid).cites:
            if c not in seen:
                seen.append(c)
    return seen


def result_text(r: OutputResult) -> str:
    if r.status == "ok":
        return "{" + ", ".join(map(show, r.values)) + "}" if len(r.values) != 1 else show(r.values[0])
    if r.status == "conflict":
        return "CONFLICT " + " vs ".join(map(show, r.values))
    if r.status == "unknown":
        why = [f"missing {', '.join(r.missing)}"] if r.missing else []
        return "unknown (" + "; ".join(why + list(r.reasons)) + ")"
    return {"gap": "GAP (no rule gives a value)", "none": "none"}[r.status]


def decision_text(rs: ir.RuleSet, title: str, d: Decision) -> str:
    lines = [f"== {title}"]
    if d.options:
        lines.append("   options: " + ", ".join(f"{k}={v}" for k, v in sorted(d.options.items())))
    width = max((len(n) for n in d.results), default=0)
    for name in rs.outputs:
        r = d.results[name]
        label = rs.outputs[name].labels.zh
        line = f"   {name:<{width}}  {result_text(r)}"
        if r.rules:
            line += f"   <- {', '.join(r.rules)} [{', '.join(clauses_of(rs, r.rules))}]"
        elif r.status == "ok" and rs.outputs[name].default is not None:
            line += "   (default)"
        lines.append(line + (f"   ({label})" if label else ""))
    return "\n".join(lines)


def decision_json(rs: ir.RuleSet, case_id: str, d: Decision) -> dict[str, Any]:
    return {
        "id": case_id,
        "backend": d.backend,
        "options": dict(d.options),
        "outputs": {
            name: {
                "status": r.status,
                "values": [show(v) if isinstance(v, dt.date) else v for v in r.values],
                "rules": list(r.rules),
                "clauses": clauses_of(rs, r.rules),
                "missing": list(r.missing),
                "reasons": list(r.reasons),
            }
            for name, r in d.results.items()
        },
    }
