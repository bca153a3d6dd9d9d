"""What `check --against` must see besides the decisions: the diff pairs persons valid in both
versions, so a value one version adds to an input type (its holders are valid in that version
only) and a changed citation (no decision changes) never show as a region. Each is an
`unintended_change` finding of its own."""

from __future__ import annotations

from solver import ir
from solver.checks.findings import Finding


def vocabulary_changes(old: ir.RuleSet, new: ir.RuleSet) -> list[Finding]:
    out: list[Finding] = []
    for name in sorted(set(old.inputs) & set(new.inputs)):
        a, b = old.inputs[name].type, new.inputs[name].type
        if not (isinstance(a, ir.EnumT) and isinstance(b, ir.EnumT)):
            continue
        for side, only in (
            ("new", [v for v in b.values if v not in a.values]),
            ("old", [v for v in a.values if v not in b.values]),
        ):
            for v in only:
                why = (
                    f"{name} = {v!r} is a value of the {side} version only: persons holding it are valid in one "
                    "version, so no decision of theirs is compared"
                )
                out.append(Finding("unintended_change", f"{name}={v}: only in {side}", (), (), why))
    olds = {r.id: r for r in old.rules}
    for r in new.rules:
        o = olds.get(r.id)
        if o is None or set(o.cites) == set(r.cites):
            continue
        added = sorted(set(r.cites) - set(o.cites))
        dropped = sorted(set(o.cites) - set(r.cites))
        why = f"{r.id} cites " + "; ".join(
            part
            for part in (
                f"also {', '.join(added)}" if added else "",
                f"no longer {', '.join(dropped)}" if dropped else "",
            )
            if part
        )
        out.append(Finding("unintended_change", f"{r.id}: citations", (r.id,), (*added, *dropped), why))
    return out
