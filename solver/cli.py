"""The `elig` command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from solver.errors import EligError, InputError, shorten


def _not_negative(kind: type[int] | type[float], zero: str = "") -> Callable[[str], float]:
    """An argparse type: a number that is 0 or more (a negative limit is refused, not taken)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:80]!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{value} is negative" + (f" (0 means {zero})" if zero else ""))
        return value

    return parse


def _output_path(text: str, flag: str, *, folder: bool = False) -> Path:
    """An output path checked before any work starts: it can be written (a missing parent
    folder is created later), it is a file or a folder as `flag` needs, its names fit."""
    path, shown = Path(text), shorten(text)
    try:
        if any(len(os.fsencode(part)) > 255 for part in path.parts):
            raise InputError(flag, f"{shown}: a name in this path is longer than 255 bytes")
        if path.is_dir() != folder and path.exists():
            wanted = "a folder" if folder else "a file"
            raise InputError(flag, f"{shown} is a {'file' if folder else 'folder'}", allowed=wanted)
        if path.exists() and not os.access(path, os.W_OK):
            raise InputError(flag, f"{shown} cannot be written (no permission)")
        parent = path if folder else path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise InputError(flag, f"{shorten(str(parent))} is a file, so {shown} cannot be created under it")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(flag, f"{shorten(str(parent))} cannot be written (no permission)")
    except OSError as e:
        raise InputError(flag, f"{shown}: {e.strerror or e}") from None
    return path


def _write(text_path: str, text: str, flag: str) -> None:
    """A report written to a path checked by _output_path (missing parent folders are created)."""
    try:
        Path(text_path).parent.mkdir(parents=True, exist_ok=True)
        Path(text_path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as e:  # the disk is full, the file vanished
        raise InputError(flag, f"{shorten(text_path)}: {e.strerror or e}") from None


def _input_file(text: str, flag: str) -> Path:
    """An input file that must exist before any work starts."""
    path = Path(text)
    try:
        ok = path.is_file() and os.access(path, os.R_OK)
    except OSError as e:
        raise InputError(flag, f"{shorten(text)}: {e.strerror or e}") from None
    if not ok:
        raise InputError(flag, f"{shorten(text)}: no such readable file")
    return path


_ms, _seconds, _count = _not_negative(int, "no limit"), _not_negative(float, "no limit"), _not_negative(int)


def _options(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep:
            raise InputError("--option", f"'{p}' is not NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def cmd_decide(args: argparse.Namespace) -> int:
    from explain.decision import AskNext, decision_json, decision_text, full_text, open_answers, readings
    from solver.backends.base import Decision, Person
    from solver.cases import collect
    from solver.compiled import AnyOptions
    from solver.language.loader import load_ruleset
    from solver.person import parse_person

    rs = load_ruleset(args.rules)
    cli_options = _options(args.option)
    decider = AnyOptions(rs, args.backend)  # one compile shared by every person and reading
    ask_next = AskNext(rs)

    results = []
    failed = 0
    for path, case in collect([Path(p) for p in args.person]):
        try:
            opts = {**case.options, **cli_options}
            person_data = dict(case.person)
            if args.as_of is not None:
                person_data["as_of"] = args.as_of
            person = parse_person(rs, person_data)
            decision = decider.decide(person, opts)
        except InputError as e:
            failed += 1
            print(f"{path}: {case.id}: {e}", file=sys.stderr)
            results.append({"id": case.id, "error": str(e)})
            continue

        def decide_with(o: Mapping[str, str], person: Person = person) -> Decision:
            return decider.decide(person, o)

        other = None if args.no_readings else readings(rs, decision, decide_with)
        if args.all and args.format != "json":
            print(full_text(rs, f"{case.id} ({path})", decision))
            continue

        def decide_person(p: Person, o: Mapping[str, str] = decision.options) -> Decision:
            return decider.decide(p, o)

        ask = ask_next(person, decision, open_answers(rs, decision, other), decide_person)
        if args.format == "json":
            results.append(decision_json(rs, case.id, decision, other, ask))
        else:
            print(decision_text(rs, f"{case.id} ({path})", decision, lang=args.lang, other_readings=other, ask=ask))
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 2 if failed else 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Derivations, why-not, counterfactuals and the consultant for the persons of one file."""
    from typing import Any

    from explain import render
    from explain.consult import Consultant
    from explain.consult import steps as consult_steps
    from explain.counterfactual import counterfactual
    from explain.counterfactual import steps as cf_steps
    from explain.derivation import Step, explain, with_readings
    from explain.symbolic import Symbolic
    from explain.why_not import why_not
    from solver.backends.eval_backend import EvalBackend
    from solver.cases import collect
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve
    from solver.person import parse_person, parse_value

    rs = load_ruleset(args.rules)

    def target(flag: str, text: str) -> tuple[str, Any]:
        name, sep, raw = text.partition("=")
        if not sep:
            raise InputError(flag, f"'{text}' is not OUTPUT=VALUE")
        if name not in rs.outputs:
            raise InputError(flag, f"unknown output '{name}'", allowed=", ".join(rs.outputs))
        return name, parse_value(name, rs.outputs[name].type, _coerce(raw))

    for o in args.output:
        if o not in rs.outputs:
            raise InputError("--output", f"unknown output '{o}'", allowed=", ".join(rs.outputs))
    cases = [c for _, c in collect([Path(args.person)]) if not args.case or c.id in args.case]
    if not cases:
        raise InputError("--case", f"no case {', '.join(args.case)} in {args.person}")
    timeout = args.timeout or None
    prepared: dict[tuple[tuple[str, str], ...], tuple[EvalBackend, dict[str, Any]]] = {}
    payloads: list[tuple[str, Any, list[Step]]] = []
    for case in cases:
        opts = {**case.options, **_options(args.option)}
        key = tuple(sorted(opts.items()))
        if key not in prepared:
            prepared[key] = (EvalBackend(resolve(rs, opts)), {})
        backend, solvers = prepared[key]
        if "sym" not in solvers and (args.why_not or args.counterfactual or args.consult):
            solvers["sym"] = Symbolic(backend.rs)
        data = dict(case.person) | ({"as_of": args.as_of} if args.as_of else {})
        person = parse_person(rs, data)
        decision, trace = backend.decide_traced(person)
        payload: Any
        if args.counterfactual:
            name, value = target("--counterfactual", args.counterfactual)
            cf = counterfactual(solvers["sym"], backend, person, name, value, args.fix, timeout, args.engine)
            steps = [cf_steps(cf, backend.rs, backend, args.lang, rs)]
            payload = {"counterfactual": cf.to_json(), "steps": [s.to_json() for s in steps]}
        elif args.consult:
            if "consultant" not in solvers:
                solvers["consultant"] = Consultant(backend.rs, backend, solvers["sym"])
            c = solvers["consultant"].consult(person, args.output or None, timeout)
            steps = [consult_steps(c, backend.rs, args.lang)]
            payload = {"consultation": c.to_json(), "steps": [s.to_json() for s in steps]}
        elif args.why_not:
            name, value = target("--why-not", args.why_not)
            sym = solvers["sym"]
            steps = [
                why_not(
                    backend.rs, decision, trace, name, value, args.lang, symbolic=sym, timeout_ms=timeout, source=rs
                )
            ]
            payload = [s.to_json() for s in steps]
        else:
            steps = explain(backend.rs, decision, trace, args.output or None, args.lang, rs)
            if not args.no_readings:
                steps = with_readings(rs, backend.rs, person, decision, steps, args.output or None, args.lang)
            payload = [s.to_json() for s in steps]
        payloads.append((case.id, payload, steps))
    fmt = args.format
    if fmt == "text" and sys.stdout.isatty():
        fmt = "rich"
    if fmt == "json":
        data_out = payloads[0][1] if len(payloads) == 1 else [{"id": i, "result": p} for i, p, _ in payloads]
        print(json.dumps(data_out, ensure_ascii=False, indent=2))
    elif fmt == "rich":
        for _, _, steps in payloads:
            render.terminal(steps)
    else:
        renderer = {"text": render.text, "md": render.markdown, "html": render.to_html}[fmt]
        print("\n\n".join(renderer(steps) for _, _, steps in payloads))
    return 0


def _coerce(raw: str) -> object:
    """A command-line value: true/false, a number, a date, or text."""
    if raw in ("true", "false"):
        return raw == "true"
    if raw.lstrip("-").isdigit():
        return int(raw)
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return raw


def cmd_check(args: argparse.Namespace) -> int:
    from explain import report as render
    from solver.checks import run_checks
    from solver.checks.engine import Settings
    from solver.language.loader import load_ruleset

    if args.output:
        _output_path(args.output, "--output")
    if args.against:
        return _check_against(args)
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
            result = run_checks(rs, _options(args.option), settings, lambda step: bar.update(task, description=step))
    else:
        result = run_checks(rs, _options(args.option), settings)
    text = {"text": render.to_text, "md": render.to_markdown, "json": render.to_json}[args.format](result)
    if args.output:
        _write(args.output, text, "--output")
        print(f"{args.output}: {len(result.new)} new finding(s), {len(result.findings)} in all", file=sys.stderr)
    else:
        print(text)
    return result.exit_code()


def _check_against(args: argparse.Namespace) -> int:
    """The drafter's gate: findings of the diff OLD -> NEW against the declared changes."""
    from explain import report as render
    from solver.checks import CheckReport
    from solver.diff.gate import check_against

    diff_report, findings = check_against(args.against, args.rules, args.changes, _options(args.option), args.timeout)
    label = f"{args.rules} against {args.against}"
    result = CheckReport(
        label, "", _options(args.option), (), tuple(findings), seconds=diff_report.seconds, times=diff_report.times
    )
    text = {"text": render.to_text, "md": render.to_markdown, "json": render.to_json}[args.format](result)
    if args.output:
        _write(args.output, text, "--output")
    else:
        print(text)
    return result.exit_code()


def cmd_schema(args: argparse.Namespace) -> int:
    from solver.language.model import CaseM, RuleFile

    schema = (CaseM if args.kind == "case" else RuleFile).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    print(json.dumps(schema, ensure_ascii=False, indent=2))
    return 0


def _read_checklist(path: Path) -> dict[str, str]:
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
        checklist = _read_checklist(Path(args.checklist))
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

    _output_path(args.out, "--out", folder=True)
    rs = load_ruleset(args.rules)
    resolved = resolve(rs, _options(args.option))
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


def _diff_versions(args: argparse.Namespace) -> tuple[object, object]:
    """The two versions of `elig diff` / `check --against`: two folders, two years or two readings."""
    from solver.diff.engine import Version
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    if len(args.rules) not in (1, 2):
        raise InputError("rules", "give one rule-set folder (with --vs-year or --vs-option) or two (OLD NEW)")
    old_rs = load_ruleset(args.rules[0])
    new_rs = load_ruleset(args.rules[-1])
    old_opts, new_opts = _options(args.option), {**_options(args.option), **_options(args.vs_option)}
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
    label = _version_label
    old = Version(resolve(old_rs, old_opts), label(args.rules[0], args.year, old_opts, args), pins[0])  # type: ignore[arg-type]
    new_year = args.vs_year if args.vs_year is not None else args.year
    new = Version(resolve(new_rs, new_opts), label(args.rules[-1], new_year, new_opts, args), pins[1])  # type: ignore[arg-type]
    return old, new


def _version_label(folder: str, year: int | None, opts: dict[str, str], args: argparse.Namespace) -> str:
    parts = [folder] if len(args.rules) == 2 else []
    if year is not None:
        parts.append(str(year))
    parts += [f"{k}={v}" for k, v in opts.items() if k in {n.partition("=")[0] for n in args.vs_option}]
    return " ".join(parts) or folder


def _fixed(args: argparse.Namespace, rs: object) -> dict[str, object]:
    from solver.person import parse_value

    out: dict[str, object] = {}
    for text in args.fix:
        name, sep, raw = text.partition("=")
        if not sep:
            raise InputError("--fix", f"'{text}' is not FIELD=VALUE")
        inputs = rs.inputs  # type: ignore[attr-defined]
        if name not in inputs:
            raise InputError("--fix", f"unknown input '{name}'", allowed=", ".join(sorted(inputs)))
        out[name] = parse_value(name, inputs[name].type, _coerce(raw))
    return out


def run_diff(args: argparse.Namespace, on_step: Callable[[str], None] | None = None) -> object:
    from solver.diff.engine import Version, combinations, count_population, diff

    old, new = _diff_versions(args)
    assert isinstance(old, Version) and isinstance(new, Version)
    for o in args.output:
        if o not in old.rs.outputs and o not in new.rs.outputs:
            raise InputError("--output", f"unknown output '{o}'", allowed=", ".join(old.rs.outputs))
    fix = _fixed(args, old.rs)
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
        _output_path(args.out, "--out")
    if args.population:
        _input_file(args.population, "--population")
    rep = run_diff(args)
    assert isinstance(rep, DiffReport)
    if args.format == "md":
        text = render.to_markdown(rep, command=_diff_command(args))
    else:
        text = {"text": render.to_text, "json": render.to_json}[args.format](rep)
    if args.out:
        _write(args.out, text, "--out")
        proof = "complete" if rep.complete else "INCOMPLETE"
        print(f"{args.out}: {len(rep.regions)} region(s), {proof}", file=sys.stderr)
    else:
        print(text)
    return 0 if rep.complete else 1


def _diff_command(args: argparse.Namespace) -> str:
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


def _diff_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, help="the insurance year of the old side (one folder)")
    p.add_argument("--vs-year", type=int, help="the insurance year of the new side")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a reading on both sides")
    p.add_argument("--vs-option", action="append", default=[], metavar="NAME=VALUE", help="the new side's reading")
    p.add_argument("--as-of", type=dt.date.fromisoformat, help="fix the as_of input on both sides")
    p.add_argument("--fix", action="append", default=[], metavar="FIELD=VALUE", help="fix an input on both sides")
    p.add_argument("--max-regions", type=_count, default=40, help="regions per output before the answer is truncated")
    p.add_argument(
        "--timeout",
        type=_ms,
        default=20_000,
        metavar="MS",
        help="per solver question; past it: unknown",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")


def cmd_batch(args: argparse.Namespace) -> int:
    """Check and decide a population file in SQL: results (Parquet) and an errors file."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from solver.batch import run_batch
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    _input_file(args.input, "--input")
    _output_path(args.output, "--output")
    if args.errors:
        _output_path(args.errors, "--errors")
    rs = resolve(load_ruleset(args.rules), _options(args.option))
    outputs = [o.strip() for o in args.outputs.split(",") if o.strip()] if args.outputs else None
    console = Console(stderr=True)
    start = time.perf_counter()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=args.quiet,
    ) as bar:
        task = bar.add_task("loading", total=3)

        def step(text: str) -> None:
            bar.update(task, description=text, advance=0 if text.startswith("reading") else 1)

        report = run_batch(
            rs,
            Path(args.input),
            Path(args.output),
            errors_file=Path(args.errors) if args.errors else None,
            engine=args.engine,
            outputs=outputs,
            progress=step,
            rules=args.with_rules,
        )
        bar.update(task, completed=3)
    seconds = time.perf_counter() - start
    console.print(
        f"{report.rows_in:,} rows: {report.results:,} decided -> {report.output}, "
        f"{report.error_rows:,} with errors ({report.errors:,} bad fields) -> {report.errors_file}; "
        f"{seconds:.2f} s, {report.rows_in / max(seconds, 1e-9):,.0f} rows/s on {args.engine}"
    )
    return 1 if report.error_rows else 0


def cmd_sample(args: argparse.Namespace) -> int:
    """A synthetic population that meets the input constraints."""
    from rich.console import Console

    from solver.batch import sample_population
    from solver.language.loader import load_ruleset
    from solver.language.strict_yaml import load as load_yaml
    from solver.passes.options import resolve

    _output_path(args.output, "--output")
    rs = resolve(load_ruleset(args.rules), {})
    marginals = None
    if args.marginals:
        data = load_yaml(Path(args.marginals)).data
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise InputError("--marginals", "expected FIELD: {VALUE: WEIGHT, ...}", allowed="a YAML mapping")
        marginals = data
    console = Console(stderr=True)
    n = sample_population(
        rs,
        args.n,
        args.seed,
        Path(args.output),
        pool_size=args.pool,
        marginals=marginals,
        progress=(lambda t: None) if args.quiet else (lambda t: console.print(t)),
    )
    console.print(f"{n:,} persons -> {args.output}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from solver.web.app import serve

    serve(args.rules, args.port, args.host)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="elig", description="Eligibility rules as logic: decide cases, check the rules.")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("decide", help="decide persons: every output with the rules and clauses behind it")
    d.add_argument("rules", help="rule-set folder, e.g. rules/shanghai")
    d.add_argument("person", nargs="+", help="person/case files (YAML or JSON) or folders of them")
    d.add_argument("--as-of", type=dt.date.fromisoformat, help="set the as_of input (YYYY-MM-DD)")
    d.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading")
    d.add_argument("--format", choices=("text", "json"), default="text")
    d.add_argument("--backend", choices=("eval", "z3", "clingo"), default="eval")
    d.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the text output")
    d.add_argument("--all", action="store_true", help="list every output, one per line (the full listing)")
    d.add_argument(
        "--no-readings", action="store_true", help="do not decide again under the other readings of the options"
    )
    d.set_defaults(func=cmd_decide)

    e = sub.add_parser(
        "explain", help="derivation of each output; why not a value; the smallest change; what is still open"
    )
    e.add_argument("rules", help="rule-set folder")
    e.add_argument("person", help="a person or case file")
    e.add_argument("--case", action="append", default=[], help="only the cases with these ids (in a case file)")
    e.add_argument("--output", action="append", default=[], help="explain only these outputs")
    e.add_argument(
        "--no-readings", action="store_true", help="do not show the value under the other readings of the options"
    )
    e.add_argument("--why-not", metavar="OUTPUT=VALUE", help="why the output does not have this value")
    e.add_argument(
        "--counterfactual", metavar="OUTPUT=VALUE", help="the smallest change to the person that gives this value"
    )
    e.add_argument("--fix", action="append", default=[], metavar="FIELD", help="keep this field (--counterfactual)")
    e.add_argument(
        "--engine",
        choices=("search", "optimize"),
        default="search",
        help="counterfactual search: incremental solver calls, or z3 Optimize (same optimum)",
    )
    e.add_argument(
        "--consult", action="store_true", help="missing fields: which outputs are determined, what to ask next"
    )
    e.add_argument("--timeout", type=_ms, default=20000, metavar="MS", help="solver time limit per query (0: none)")
    e.add_argument("--lang", choices=("zh", "en"), default="zh")
    e.add_argument(
        "--format", choices=("text", "rich", "md", "json", "html"), default="text", help="text: rich on a terminal"
    )
    e.add_argument("--as-of", type=dt.date.fromisoformat, help="set the as_of input")
    e.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    e.set_defaults(func=cmd_explain)

    c = sub.add_parser("coverage", help="clause ids x rules x cases, and what is not covered")
    c.add_argument("rules", help="rule-set folder")
    c.add_argument("--cases", action="append", default=[], help="case files or folders (default: RULES/cases)")
    c.add_argument("--obligations", action="store_true", help="also rules, MC/DC halves and boundaries")
    c.add_argument("--list", type=_count, default=40, help="how many untested obligations to list")
    c.add_argument("--checklist", help="a clauses.yaml checklist whose ids must all be covered (e.g. ../shared/law)")
    c.set_defaults(func=cmd_coverage)

    k = sub.add_parser("check", help="check the rule set: conflicts, gaps, unreachable rules, dead exceptions, ...")
    k.add_argument("rules", help="rule-set folder")
    k.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading")
    k.add_argument("--format", choices=("text", "md", "json"), default="text")
    k.add_argument("--output", help="write the report to this file")
    k.add_argument(
        "--timeout",
        type=_ms,
        default=20_000,
        metavar="MS",
        help="per solver question; past it: undecided",
    )
    k.add_argument("--quiet", action="store_true", help="no progress display")
    k.add_argument(
        "--sweep-options", action="store_true", help="also check every other reading of every option: what each changes"
    )
    k.add_argument("--against", metavar="OLD", help="gate the diff OLD -> rules: each undeclared change is a finding")
    k.add_argument("--changes", metavar="FILE", help="with --against: changes.yaml (changes meant, reasons, clauses)")
    k.set_defaults(func=cmd_check)

    f = sub.add_parser("fixtures", help="edge-case fixtures: boundaries, MC/DC pairs, a minimum covering set")
    f.add_argument("rules", help="rule-set folder")
    f.add_argument("--out", default="fixtures", help="folder to write to (default: ./fixtures)")
    f.add_argument("--format", choices=("yaml", "pytest", "csv"), default="yaml")
    f.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading")
    f.add_argument("--set", choices=("cover", "all"), default="cover", help="the covering set or every person found")
    f.add_argument("--timeout", type=_ms, default=2000, metavar="MS", help="z3 time per query (default 2000)")
    f.add_argument("--cover-seconds", type=_seconds, default=20.0, help="clingo time for the minimum cover")
    f.add_argument("--list", type=_count, default=40, help="how many infeasible obligations to list")
    f.set_defaults(func=cmd_fixtures)

    df = sub.add_parser("diff", help="who is affected by a change of the rules: regions, witnesses, completeness")
    df.add_argument("rules", nargs="+", help="OLD NEW rule-set folders, or one folder with --vs-year / --vs-option")
    _diff_arguments(df)
    df.add_argument("--output", action="append", default=[], help="only these outputs")
    df.add_argument("--population", help="CSV or Parquet of persons: how many fall in each region")
    df.add_argument("--format", choices=("text", "md", "json"), default="text")
    df.add_argument("--out", help="write the report to this file")
    df.set_defaults(func=cmd_diff)

    s = sub.add_parser("schema", help="print the JSON Schema of rule files (or of case files)")
    s.add_argument("kind", nargs="?", choices=("rules", "case"), default="rules")
    s.set_defaults(func=cmd_schema)

    b = sub.add_parser("batch", help="decide a population file (CSV/Parquet) in SQL: results and an errors file")
    b.add_argument("rules", help="rule-set folder")
    b.add_argument("--input", required=True, help="persons.csv or persons.parquet (one column per input field)")
    b.add_argument("--output", required=True, help="results.parquet")
    b.add_argument("--errors", help="errors CSV (default: OUTPUT stem + .errors.csv)")
    b.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    b.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading")
    b.add_argument("--outputs", help="only these outputs, comma-separated (default: every output)")
    b.add_argument(
        "--rules", dest="with_rules", action="store_true", help="also write O__rules, the applying rules of each output"
    )
    b.add_argument("--quiet", action="store_true", help="no progress display")
    b.set_defaults(func=cmd_batch)

    m = sub.add_parser("sample", help="a synthetic population that meets the input constraints")
    m.add_argument("rules", help="rule-set folder")
    m.add_argument("-n", type=_count, required=True, help="how many persons")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--output", required=True, help="persons.parquet or persons.csv")
    m.add_argument("--pool", type=_count, default=200, help="valid persons drawn by z3 repair, then recombined")
    m.add_argument("--marginals", help="YAML: FIELD: {VALUE: WEIGHT} to draw those fields from")
    m.add_argument("--quiet", action="store_true")
    m.set_defaults(func=cmd_sample)

    w = sub.add_parser("serve", help="a local web app: the interview, check and diff pages, a JSON API")
    w.add_argument("rules", help="rule-set folder")
    w.add_argument("--port", type=int, default=8000)
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    w.set_defaults(func=cmd_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except EligError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `elig ... | head`: the reader stopped reading; no traceback for that
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
