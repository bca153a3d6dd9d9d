"""The `elig` command."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from solver.errors import EligError, InputError


def _options(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep:
            raise InputError("--option", f"'{p}' is not NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def cmd_decide(args: argparse.Namespace) -> int:
    from explain.decision import decision_json, decision_text
    from solver.backends import make
    from solver.cases import collect
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve
    from solver.person import parse_person

    rs = load_ruleset(args.rules)
    cli_options = _options(args.option)
    backends: dict[tuple[tuple[str, str], ...], object] = {}
    results = []
    failed = 0
    for path, case in collect([Path(p) for p in args.person]):
        try:
            opts = {**case.options, **cli_options}
            key = tuple(sorted(opts.items()))
            if key not in backends:
                backends[key] = make(args.backend, resolve(rs, opts))
            backend = backends[key]
            person_data = dict(case.person)
            if args.as_of is not None:
                person_data["as_of"] = args.as_of
            person = parse_person(rs, person_data)
            decision = backend.decide(person)  # type: ignore[attr-defined]
        except InputError as e:
            failed += 1
            print(f"{path}: {case.id}: {e}", file=sys.stderr)
            results.append({"id": case.id, "error": str(e)})
            continue
        if args.format == "json":
            results.append(decision_json(rs, case.id, decision))
        else:
            print(decision_text(rs, f"{case.id} ({path})", decision))
    if args.format == "json":
        print(json.dumps(results, ensure_ascii=False, indent=2))
    return 2 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from solver.language.model import CaseM, RuleFile

    schema = (CaseM if args.kind == "case" else RuleFile).model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    print(json.dumps(schema, ensure_ascii=False, indent=2))
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
    d.set_defaults(func=cmd_decide)

    s = sub.add_parser("schema", help="print the JSON Schema of rule files (or of case files)")
    s.add_argument("kind", nargs="?", choices=("rules", "case"), default="rules")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except EligError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
