"""`elig check`, `coverage`, `fixtures` and `schema`: the commands about a rule set itself."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from solver.commands.args import options, output_path, write
from solver.errors import InputError, shorten


def cmd_check(args: argparse.Namespace) -> int:
    from explain import report as render
    from solver.checks import run_checks
    from solver.checks.engine import Settings
    from solver.language.loader import load_ruleset

    if args.output:
        output_path(args.output, "--output")
    if args.against:
        return check_against_cmd(args)
    rs = load_ruleset(args.rules)
    settings = Settings(timeout_ms=args.timeout)
    if args.sweep_options:
        from solver.checks import option_effects

        base, effects = option_effects(rs, settings, None if args.quiet else lambda s: print(s, file=sys.stderr))
        print(render.to_text(base) + "\n\n" + render.effects_text(effects))
        return base.exit_code()
    show_progress = not args.quiet and sys.stderr.isatty()
    if show_progress:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True) as bar:
            task = bar.add_task("checking", total=None)
            result = run_checks(rs, options(args.option), settings, lambda step: bar.update(task, description=step))
    else:
        result = run_checks(rs, options(args.option), settings)
    text = {"text": render.to_text, "md": render.to_markdown, "json": render.to_json}[args.format](result)
    if args.output:
        write(args.output, text, "--output")
        print(f"{args.output}: {len(result.new)} new finding(s), {len(result.findings)} in all", file=sys.stderr)
    else:
        print(text)
    return result.exit_code()


def check_against_cmd(args: argparse.Namespace) -> int:
    """The drafter's gate: findings of the diff OLD -> NEW against the declared changes."""
    from explain import report as render
    from solver.checks import CheckReport
    from solver.diff.gate import check_against

    diff_report, findings = check_against(args.against, args.rules, args.changes, options(args.option), args.timeout)
    label = f"{args.rules} against {args.against}"
    result = CheckReport(
        label, "", options(args.option), (), tuple(findings), seconds=diff_report.seconds, times=diff_report.times
    )
    text = {"text": render.to_text, "md": render.to_markdown, "json": render.to_json}[args.format](result)
    if args.output:
        write(args.output, text, "--output")
    else:
        print(text)
    return result.exit_code()


def cmd_schema(args: argparse.Namespace) -> int:
    from solver.language.model import CaseM, RuleFile

    schema = (CaseM if args.kind == "case" else RuleFile).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return 0


def read_checklist(path: Path) -> dict[str, str]:
    """clause id -> reading, from a checklist file (`clauses: [{id: ..., reading: ...}, ...]`)."""
    from solver.errors import RuleError
    from solver.language.strict_yaml import load

    located = load(path)
    clauses = located.data.get("clauses") if isinstance(located.data, dict) else None
    if not isinstance(clauses, list):
        raise RuleError(
            located.loc(("clauses",)), "a checklist needs a list `clauses`", expected="clauses: [- id: ...]"
        )
    out = {}
    for i, c in enumerate(clauses):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str | int) or isinstance(c.get("id"), bool):
            raise RuleError(located.loc(("clauses", i)), "a checklist entry needs an `id`", expected="- id: ...")
        out[str(c["id"])] = str(c.get("reading", ""))
    return out


def cmd_coverage(args: argparse.Namespace) -> int:
    from solver.cases import collect
    from solver.coverage import cases_of, coverage, render_text
    from solver.language.loader import load_ruleset

    rs = load_ruleset(args.rules)
    cases = collect([Path(p) for p in args.cases]) if args.cases else cases_of(args.rules)
    cov = coverage(rs, cases)
    checklist = None
    if args.checklist:
        checklist = read_checklist(Path(args.checklist))
    print(render_text(cov, checklist))
    ids = checklist or cov.clauses
    ok = all(i in cov.clauses and cov.clauses[i].complete for i in ids)
    if args.cases or args.obligations:
        from solver.testcoverage import obligation_coverage

        oc = obligation_coverage(rs, cases)
        print("\n" + oc.summary())
        for ob in oc.missing()[: args.list]:
            print(f"  untested: {ob.describe()}")
        if len(oc.missing()) > args.list:
            print(f"  ... and {len(oc.missing()) - args.list} more (--list N)")
        ok = ok and not oc.missing()
    return 0 if ok else 1


def cmd_fixtures(args: argparse.Namespace) -> int:
    """Boundary, MC/DC and minimum covering fixtures, written as YAML cases, pytest or CSV."""
    from solver.fixtures import generate, write
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    output_path(args.out, "--out", folder=True)
    rs = load_ruleset(args.rules)
    resolved = resolve(rs, options(args.option))
    fs = generate(
        resolved,
        rules_path=str(args.rules),
        timeout_ms=args.timeout,
        cover_seconds=args.cover_seconds,
        keep_all=args.set == "all",
    )
    print(fs.report(args.list))
    try:
        path = write(fs, resolved, Path(args.out), args.format, args.set)
    except OSError as e:  # checked before the work, but a disk can still fill up
        raise InputError("--out", f"{shorten(args.out)}: {e.strerror or e}") from None
    shown = fs.cover if args.set == "cover" else fs.candidates
    print(f"wrote {len(shown)} fixtures to {path}")
    return 1 if fs.unconfirmed else 0
