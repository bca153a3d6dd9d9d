"""Renderers of a check report: text for the terminal, Markdown for drafters, JSON for tools."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from solver import ir
from solver.checks import CheckReport, OptionEffect
from solver.checks.findings import TITLES, Finding


def _witness(f: Finding, times: frozenset[str]) -> str:
    if f.witness is None:
        return ""
    names = [n for n in f.shown if n in f.witness] or sorted(f.witness)
    rest = len(f.witness) - len(names)
    more = f" (+{rest} fields it does not depend on: see --format json)" if rest else ""
    return ", ".join(f"{k}={_show(f.witness[k], k in times)}" for k in names) + more


def _show(v: object, time: bool = False) -> str:
    if time and isinstance(v, int) and not isinstance(v, bool):
        return ir.time_text(v)
    return str(v).lower() if isinstance(v, bool) else str(v)


def _finding_json(f: Finding, times: frozenset[str]) -> dict[str, Any]:
    out = f.to_json()
    if "witness" in out:
        out["witness"] = {k: _show(v, True) if k in times else v for k, v in out["witness"].items()}
    return out


def _summary(report: CheckReport) -> str:
    counts = Counter(f.kind for f in report.new)
    accepted = sum(1 for f in report.findings if f.accepted)
    parts = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
    known = len(report.known_open)
    return f"{len(report.new)} new finding(s) ({parts}); {accepted} accepted; {known} known open (draft defects)"


def to_text(report: CheckReport) -> str:
    lines = [f"elig check {report.ruleset}: {_summary(report)}"]
    if report.intervals:
        lines.append(f"intervals: {', '.join(report.intervals)}")
    lines.append(f"options: {', '.join(f'{k}={v}' for k, v in sorted(report.options.items())) or '(none)'}")
    for f in report.findings:
        tag = "accepted" if f.accepted else f"known open, {f.severity}" if f.known_open else f.severity
        lines.append("")
        lines.append(f"[{tag}] {f.id}  {TITLES[f.kind]}: {f.subject}")
        if f.intervals:  # gate findings (check --against) compare two versions, not intervals
            lines.append(f"  in: {', '.join(f.intervals)}")
        if f.rules:
            lines.append(f"  rules: {', '.join(f.rules)}")
        if f.keys:
            lines.append(f"  missing rows: {', '.join(sorted(f.keys))}")
        if f.clauses:
            lines.append(f"  clauses: {', '.join(f.clauses)}")
        lines.append(f"  why: {f.explanation}")
        if f.witness is not None:
            lines.append(f"  witness: {_witness(f, report.times)}")
        if f.accepted:
            lines.append(f"  accepted because: {f.accepted}")
        if f.known_open:
            lines.append(f"  known open: {f.known_open}")
    if report.switched_off:
        lines.append("\nswitched off by the options in force (the other reading of an ambiguity):")
        lines += [f"  {rule}: {test}" for rule, test in sorted(report.switched_off.items())]
    for a in report.stale_accepted:
        lines.append(f"\n[stale] accepted.yaml lists {a}, which no longer occurs: remove it")
    if report.unconfirmed:
        lines.append(
            f"\n[not confirmed] {len(report.unconfirmed)} accepted finding(s) were not reached: some questions"
            " timed out (undecided above), so whether they still occur is unknown; keep them"
        )
    return "\n".join(lines)


def to_markdown(report: CheckReport) -> str:
    """A stable report (no timings) that a drafter reads and CI compares."""
    lines = [
        f"# Check of `{report.ruleset}`",
        "",
        f"{report.title}",
        "",
        f"- Result: {_summary(report)}",
        f"- Timeline intervals: {', '.join(report.intervals)}",
        f"- Options: {', '.join(f'`{k}={v}`' for k, v in sorted(report.options.items())) or '(none)'}",
        f"- Properties proved or refuted: {', '.join(report.properties) or '(none declared)'}",
        "",
        "| id | kind | subject | intervals | status |",
        "|----|------|---------|-----------|--------|",
    ]
    for f in report.findings:
        status = (
            "accepted" if f.accepted else f"known open ({f.severity})" if f.known_open else f"**open** ({f.severity})"
        )
        lines.append(f"| `{f.id}` | {f.kind} | `{f.subject}` | {', '.join(f.intervals)} | {status} |")
    for f in report.findings:
        lines += ["", f"## {TITLES[f.kind]}: `{f.subject}`", "", f"- id: `{f.id}`"]
        if f.rules:
            lines.append(f"- rules: {', '.join(f'`{r}`' for r in f.rules)}")
        if f.clauses:
            lines.append(f"- clauses: {', '.join(f.clauses)}")
        lines.append(f"- intervals: {', '.join(f.intervals)}")
        if f.keys:
            lines.append(f"- missing rows: {', '.join(f'`{k}`' for k in sorted(f.keys))}")
        lines.append(f"- why: {f.explanation}")
        if f.witness is not None:
            lines.append(f"- witness: {_witness(f, report.times)}")
        if f.accepted:
            lines.append(f"- accepted: {f.accepted}")
        if f.known_open:
            lines.append(f"- known open (reported to the draft's authors): {f.known_open}")
    if report.switched_off:
        lines += ["", "## Rules switched off by the options in force", ""]
        lines.append("Each is the other reading of an ambiguity; `elig check --option` turns it on.")
        lines.append("")
        lines += [f"- `{rule}`: `{test}` is false" for rule, test in sorted(report.switched_off.items())]
    for a in report.stale_accepted:
        lines += ["", f"Stale acceptance: `{a}` no longer occurs."]
    if report.unconfirmed:
        lines += ["", f"{len(report.unconfirmed)} acceptance(s) not reached: some questions timed out."]
    return "\n".join(lines) + "\n"


def to_json(report: CheckReport) -> str:
    data: dict[str, Any] = {
        "ruleset": report.ruleset,
        "options": dict(report.options),
        "intervals": list(report.intervals),
        "findings": [_finding_json(f, report.times) for f in report.findings],
        "new": len(report.new),
        "stale_accepted": list(report.stale_accepted),
        "unconfirmed_accepted": list(report.unconfirmed),
        "switched_off": dict(report.switched_off),
        "seconds": round(report.seconds, 3),
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def effects_text(effects: list[OptionEffect]) -> str:
    """Per option reading: the findings it adds (+) and removes (-) against the defaults."""
    lines = ["what each reading changes (against the default readings):"]
    for e in effects:
        if not e.added and not e.removed:
            lines.append(f"  {e.option}={e.value}: no finding changes")
            continue
        lines.append(f"  {e.option}={e.value}:")
        lines += [f"    + {f.id} {TITLES[f.kind]}: {f.subject}" for f in e.added]
        lines += [f"    - {f.id} {TITLES[f.kind]}: {f.subject}" for f in e.removed]
    return "\n".join(lines)
