"""The `elig` command."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from solver.commands.args import count, ms, seconds
from solver.commands.diff import cmd_diff, run_diff
from solver.commands.persons import cmd_decide, cmd_explain
from solver.commands.population import cmd_batch, cmd_sample
from solver.commands.rules import cmd_check, cmd_coverage, cmd_fixtures, cmd_schema
from solver.errors import EligError

__all__ = ["build_parser", "main", "run_diff"]  # run_diff: what the web worker and the tests run


def _diff_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--year", type=int, help="the insurance year of the old side (one folder)")
    p.add_argument("--vs-year", type=int, help="the insurance year of the new side")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="a reading on both sides")
    p.add_argument("--vs-option", action="append", default=[], metavar="NAME=VALUE", help="the new side's reading")
    p.add_argument("--as-of", type=dt.date.fromisoformat, help="fix the as_of input on both sides")
    p.add_argument("--fix", action="append", default=[], metavar="FIELD=VALUE", help="fix an input on both sides")
    p.add_argument("--max-regions", type=count, default=40, help="regions per output before the answer is truncated")
    p.add_argument(
        "--timeout",
        type=ms,
        default=20_000,
        metavar="MS",
        help="per solver question; past it: unknown",
    )
    p.add_argument("--quiet", action="store_true", help="no progress display")


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
    e.add_argument("--timeout", type=ms, default=20000, metavar="MS", help="solver time limit per query (0: none)")
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
    c.add_argument("--list", type=count, default=40, help="how many untested obligations to list")
    c.add_argument("--checklist", help="a clauses.yaml checklist whose ids must all be covered (e.g. ../shared/law)")
    c.set_defaults(func=cmd_coverage)

    k = sub.add_parser("check", help="check the rule set: conflicts, gaps, unreachable rules, dead exceptions, ...")
    k.add_argument("rules", help="rule-set folder")
    k.add_argument("--option", action="append", default=[], metavar="NAME=VALUE", help="pick a reading")
    k.add_argument("--format", choices=("text", "md", "json"), default="text")
    k.add_argument("--output", help="write the report to this file")
    k.add_argument(
        "--timeout",
        type=ms,
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
    f.add_argument("--timeout", type=ms, default=2000, metavar="MS", help="z3 time per query (default 2000)")
    f.add_argument("--cover-seconds", type=seconds, default=20.0, help="clingo time for the minimum cover")
    f.add_argument("--list", type=count, default=40, help="how many infeasible obligations to list")
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
    m.add_argument("-n", type=count, required=True, help="how many persons")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--output", required=True, help="persons.parquet or persons.csv")
    m.add_argument("--pool", type=count, default=200, help="valid persons drawn by z3 repair, then recombined")
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
