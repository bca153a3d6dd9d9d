"""What `check --against` must see besides the decisions: the diff pairs persons valid in both
versions, so a value one version adds to an input type (its holders are valid in that version
only) and a changed citation (no decision changes) never show as a region. Each is a finding of
its own: `intended_change` where changes.yaml's `vocabulary` declares it, else
`unintended_change`; a declared one that does not happen is `stale_change`."""

from __future__ import annotations

from collections.abc import Sequence

from solver import ir
from solver.checks.findings import Finding
from solver.language.changes import VocabularyM


def vocabulary_changes(old: ir.RuleSet, new: ir.RuleSet, declared: Sequence[VocabularyM] = ()) -> list[Finding]:
    out: list[Finding] = []
    used: set[tuple[int, str, str]] = set()  # (declaration, side, value) that happened

    def declared_by(found: tuple[str, str, str], kind: str) -> VocabularyM | None:
        """The first declaration of the value (kind 'input') or citation (kind 'rule') on a side."""
        name, side, item = found
        for i, d in enumerate(declared):
            sides = d.values if kind == "input" else d.cites
            if (d.input if kind == "input" else d.rule) == name and sides and item in getattr(sides, side):
                used.add((i, side, item))
                return d
        return None

    def finding(
        subject: str, rules: tuple[str, ...], clauses: tuple[str, ...], why: str, ds: Sequence[VocabularyM]
    ) -> Finding:
        """Intended where declarations DS cover the whole change (none: unintended)."""
        if not ds:
            return Finding("unintended_change", subject, rules, clauses, why)
        cites = tuple(dict.fromkeys((*clauses, *(c for d in ds for c in d.clauses))))
        reason = "; ".join(dict.fromkeys(d.reason for d in ds))
        return Finding("intended_change", subject, rules, cites, why, accepted=reason)

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
                d = declared_by((name, side, v), "input")
                out.append(finding(f"{name}={v}: only in {side}", (), (), why, [d] if d is not None else []))
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
        # Declared only if every citation added and every one dropped is declared.
        ds = [declared_by((r.id, "new", c), "rule") for c in added]
        ds += [declared_by((r.id, "old", c), "rule") for c in dropped]
        whole = [d for d in ds if d is not None] if all(ds) else []
        out.append(finding(f"{r.id}: citations", (r.id,), (*added, *dropped), why, whole))
    for i, d in enumerate(declared):
        sides = d.values if d.input is not None else d.cites
        assert sides is not None  # VocabularyM's validator
        for side in ("old", "new"):
            for item in getattr(sides, side):
                if (i, side, item) in used:
                    continue
                what = f"{d.input} = {item!r}" if d.input is not None else f"{d.rule} citing {item}"
                out.append(
                    Finding(
                        "stale_change",
                        f"{d.input or d.rule}: {item} only in {side}",
                        (d.rule,) if d.rule else (),
                        tuple(d.clauses),
                        f"declared ({d.reason}): {what} only in the {side} version, but the versions do not differ so",
                    )
                )
    return out
