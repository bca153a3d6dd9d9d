"""`elig batch` and `elig sample`: decide a population file in SQL, draw a synthetic one."""

from __future__ import annotations

import argparse
from pathlib import Path

from solver.commands.args import input_file, options, output_path
from solver.errors import InputError


def cmd_batch(args: argparse.Namespace) -> int:
    """Check and decide a population file in SQL: results (Parquet) and an errors file."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from solver.batch import run_batch
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    input_file(args.input, "--input")
    output_path(args.output, "--output")
    if args.errors:
        output_path(args.errors, "--errors")
    rs = resolve(load_ruleset(args.rules), options(args.option))
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

    output_path(args.output, "--output")
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
