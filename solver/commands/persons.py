"""`elig decide` and `elig explain`: the decisions and explanations of person files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from solver.commands.args import coerce, options
from solver.errors import InputError


def cmd_decide(args: argparse.Namespace) -> int:
    from explain.decision import AskNext, decision_json, decision_text, full_text, open_answers, readings
    from solver.backends.base import Decision, Person
    from solver.cases import collect
    from solver.compiled import AnyOptions
    from solver.language.loader import load_ruleset
    from solver.person import parse_person

    rs = load_ruleset(args.rules)
    cli_options = options(args.option)
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
        return name, parse_value(name, rs.outputs[name].type, coerce(raw))

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
        opts = {**case.options, **options(args.option)}
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
