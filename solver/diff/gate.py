"""The drafter's gate: every region of the diff between two versions is either declared in
changes.yaml (an intended change, with its reason) or an `unintended_change` finding; a declared
change no region matches is `stale_change`; a diff without its completeness proof is `undecided`."""

from __future__ import annotations

from collections.abc import Sequence

from solver.checks.findings import Finding, Kind
from solver.diff.engine import DiffReport, Region, value_text
from solver.language.changes import ChangeM


def matches(change: ChangeM, region: Region) -> bool:
    """The region is the declared change: same output (and member), and the rules / values it
    names, where it names them."""
    if change.output != region.output or (change.member is not None and change.member != region.member):
        return False
    if change.rules is not None:
        for want, got in ((change.rules.old, region.old.rules), (change.rules.new, region.new.rules)):
            if want is not None and set(want) != set(got):
                return False
    if change.values is not None:
        for value, side in ((change.values.old, region.old), (change.values.new, region.new)):
            if value is not None and value_text(value) != side.value:
                return False
    return True


def _subject(r: Region) -> str:
    member = f"[{r.member}]" if r.member else ""
    return f"{r.output}{member}: {r.old.describe()} -> {r.new.describe()}"


def _explanation(r: Region) -> str:
    where = " and ".join(r.condition) or "every person"
    return f"where {where}: {r.old.value} -> {r.new.value}"


def gate(report: DiffReport, changes: Sequence[ChangeM]) -> list[Finding]:
    """Findings of the check's own type, one per region, per stale declaration, per unproved output."""
    out: list[Finding] = []
    used: set[int] = set()
    for r in report.regions:
        declared = [i for i, c in enumerate(changes) if matches(c, r)]
        used.update(declared)
        rules = tuple(dict.fromkeys((*r.old.rules, *r.new.rules)))
        clauses = tuple(dict.fromkeys((*r.old.clauses, *r.new.clauses)))
        if declared:
            c = changes[declared[0]]
            clauses = tuple(dict.fromkeys((*clauses, *c.clauses)))
        out.append(
            Finding(
                "intended_change" if declared else "unintended_change",
                _subject(r),
                rules,
                clauses,
                _explanation(r),
                witness=r.witness_new,
                shown=r.fields,
                accepted=changes[declared[0]].reason if declared else "",
            )
        )
    for od in report.outputs:
        if od.presence:
            declared = [i for i, c in enumerate(changes) if c.output == od.output]
            used.update(declared)
            kind: Kind = "intended_change" if declared else "unintended_change"
            reason = changes[declared[0]].reason if declared else ""
            out.append(Finding(kind, f"{od.output}: {od.presence}", (), (), f"output {od.presence}", accepted=reason))
        if od.proof != "complete":
            out.append(Finding("undecided", od.output, (), (), f"the diff is not proved complete: {od.reason}"))
    for i, c in enumerate(changes):
        if i not in used:
            what = c.output + (f"[{c.member}]" if c.member else "")
            out.append(
                Finding(
                    "stale_change",
                    what,
                    tuple(c.rules.old or []) + tuple(c.rules.new or []) if c.rules else (),
                    tuple(c.clauses),
                    f"declared ({c.reason}) but no region of the diff matches it",
                )
            )
    return out


def check_against(
    old_dir: str, new_dir: str, changes_file: str | None, options: dict[str, str], timeout_ms: int
) -> tuple[DiffReport, list[Finding]]:
    """`elig check NEW --against OLD [--changes FILE]`: the diff of the two folders, gated."""
    from pathlib import Path

    from solver.diff.engine import Version, diff
    from solver.diff.vocabulary import vocabulary_changes
    from solver.language.changes import ChangesFile, load_changes
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    declared = load_changes(Path(changes_file)) if changes_file else ChangesFile()
    old = Version(resolve(load_ruleset(old_dir), options), old_dir)
    new = Version(resolve(load_ruleset(new_dir), options), new_dir)
    report = diff(old, new, timeout_ms=timeout_ms)
    return report, gate(report, declared.changes) + vocabulary_changes(old.rs, new.rs, declared.vocabulary)
