"""`elig diff`: the two versions compared, the diff run, its report."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from solver.commands.args import coerce, input_file, options, output_path, write
from solver.errors import InputError


def diff_versions(args: argparse.Namespace) -> tuple[object, object]:
    """The two versions of `elig diff` / `check --against`: two folders, two years or two readings."""
    from solver.diff.engine import Version
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    if len(args.rules) not in (1, 2):
        raise InputError("rules", "give one rule-set folder (with --vs-year or --vs-option) or two (OLD NEW)")
    old_rs = load_ruleset(args.rules[0])
    new_rs = load_ruleset(args.rules[-1])
    old_opts, new_opts = options(args.option), {**options(args.option), **options(args.vs_option)}
    if len(args.rules) == 1 and args.vs_year is None and not args.vs_option:
        raise InputError("rules", "one folder needs --year A --vs-year B or --option N=x --vs-option N=y")
    pins: list[dict[str, object]] = [{}, {}]
    for i, year in enumerate((args.year, args.vs_year if args.vs_year is not None else args.year)):
        if year is not None:
            if not old_rs.time:
                raise InputError("--year", f"rule set {old_rs.name} declares no time input")
            pins[i][old_rs.time] = year
    if args.as_of is not None:
        pins[0]["as_of"] = pins[1]["as_of"] = args.as_of
    label = version_label
    old = Version(resolve(old_rs, old_opts), label(args.rules[0], args.year, old_opts, args), pins[0])  # type: ignore[arg-type]
    new_year = args.vs_year if args.vs_year is not None else args.year
    new = Version(resolve(new_rs, new_opts), label(args.rules[-1], new_year, new_opts, args), pins[1])  # type: ignore[arg-type]
    return old, new


def version_label(folder: str, year: int | None, opts: dict[str, str], args: argparse.Namespace) -> str:
    parts = [folder] if len(args.rules) == 2 else []
    if year is not None:
        parts.append(str(year))
    parts += [f"{k}={v}" for k, v in opts.items() if k in {n.partition("=")[0] for n in args.vs_option}]
    return " ".join(parts) or folder


def fixed_inputs(args: argparse.Namespace, rs: object) -> dict[str, object]:
    from solver.person import parse_value

    out: dict[str, object] = {}
    for text in args.fix:
        name, sep, raw = text.partition("=")
        if not sep:
            raise InputError("--fix", f"'{text}' is not FIELD=VALUE")
        inputs = rs.inputs  # type: ignore[attr-defined]
        if name not in inputs:
            raise InputError("--fix", f"unknown input '{name}'", allowed=", ".join(sorted(inputs)))
        out[name] = parse_value(name, inputs[name].type, coerce(raw))
    return out


def run_diff(args: argparse.Namespace, on_step: Callable[[str], None] | None = None) -> object:
    from solver.diff.engine import Version, combinations, count_population, diff

    old, new = diff_versions(args)
    assert isinstance(old, Version) and isinstance(new, Version)
    for o in args.output:
        if o not in old.rs.outputs and o not in new.rs.outputs:
            raise InputError("--output", f"unknown output '{o}'", allowed=", ".join(old.rs.outputs))
    fix = fixed_inputs(args, old.rs)
    kwargs = {"outputs": args.output or None, "fix": fix, "max_regions": args.max_regions, "timeout_ms": args.timeout}
    if not args.quiet and sys.stderr.isatty():
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=True) as bar:
            task = bar.add_task("diff", total=None)
            rep = diff(old, new, on_step=lambda s: bar.update(task, description=s[:100]), **kwargs)
    else:
        rep = diff(old, new, on_step=on_step, **kwargs)
    if args.population:
        return count_population(rep, old, new, args.population)
    return combinations(rep, old, new)


def cmd_diff(args: argparse.Namespace) -> int:
    from solver.diff import render
    from solver.diff.engine import DiffReport

    if args.out:
        output_path(args.out, "--out")
    if args.population:
        input_file(args.population, "--population")
    rep = run_diff(args)
    assert isinstance(rep, DiffReport)
    if args.format == "md":
        text = render.to_markdown(rep, command=diff_command(args))
    else:
        text = {"text": render.to_text, "json": render.to_json}[args.format](rep)
    if args.out:
        write(args.out, text, "--out")
        proof = "complete" if rep.complete else "INCOMPLETE"
        print(f"{args.out}: {len(rep.regions)} region(s), {proof}", file=sys.stderr)
    else:
        print(text)
    return 0 if rep.complete else 1


def diff_command(args: argparse.Namespace) -> str:
    """The arguments that make the report (what a reader reruns; the report test reruns it)."""
    parts = list(args.rules)
    for flag, values in (("--option", args.option), ("--vs-option", args.vs_option), ("--fix", args.fix)):
        parts += [x for v in values for x in (flag, v)]
    for flag, value in (("--year", args.year), ("--vs-year", args.vs_year), ("--as-of", args.as_of)):
        if value is not None:
            parts += [flag, str(value)]
    parts += [x for o in args.output for x in ("--output", o)]
    if args.max_regions != 40:
        parts += ["--max-regions", str(args.max_regions)]
    return " ".join(parts)
