"""Questions sliced to the inputs they read (solver/semantics/slices.py) give the answers of the whole
domain: every term a check asks about mentions only inputs inside the cone it is sliced by, and on
the mini set every sliced answer equals the full solver's, with a valid completed person."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import z3

from solver.checks.engine import Checker
from solver.checks.properties import _inputs_read, _violation, load_properties
from solver.language.loader import load_ruleset
from solver.passes.options import resolve

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT / "rules" / "shanghai"
MINI = ROOT / "tests" / "data" / "mini"


def _mentions(ch: Checker) -> Callable[[z3.ExprRef], frozenset[str]]:
    """term -> the inputs it mentions, memoised per node (the encoding shares its subterms); walked
    through z3's C API, as the Python wrappers are too slow for the whole encoding."""
    names = {v.get_id(): n for n, vs in ch.enc.input_vars.items() for v in vs}
    ctx = z3.main_ctx().ref()
    memo: dict[int, frozenset[str]] = {}
    alive: list[z3.ExprRef] = []  # an id is unique only while its term lives

    def mentions(term: z3.ExprRef) -> frozenset[str]:
        alive.append(term)
        stack = [term.as_ast()]
        while stack:
            a = stack[-1]
            key = z3.Z3_get_ast_id(ctx, a)
            if key in memo:
                stack.pop()
                continue
            kids = []
            if z3.Z3_get_ast_kind(ctx, a) == z3.Z3_APP_AST:
                app = z3.Z3_to_app(ctx, a)
                kids = [z3.Z3_get_app_arg(ctx, app, i) for i in range(z3.Z3_get_app_num_args(ctx, app))]
            todo = [k for k in kids if z3.Z3_get_ast_id(ctx, k) not in memo]
            if todo:
                stack += todo
                continue
            stack.pop()
            own = frozenset([names[key]]) if key in names else frozenset()
            memo[key] = own.union(*(memo[z3.Z3_get_ast_id(ctx, k)] for k in kids))
        return memo[term.get_id()]

    return mentions


def test_shanghai_terms_stay_inside_their_cones() -> None:
    rs = resolve(load_ruleset(SHANGHAI))
    ch = Checker(rs)
    mentions = _mentions(ch)
    time = {rs.time}  # parameter rows are chosen by it; every slice holds it
    for name, sym in ch.enc.outputs.items():
        term = z3.And(*sym.status.values(), *sym.applying.values(), *sym.members.values())
        assert mentions(term) <= ch.cones[name] | time, name
    for r in rs.rules:
        assert mentions(ch.enc.applying(r.id)) <= ch.rule_cones[r.id] | time, r.id
    for p in load_properties(rs, SHANGHAI):
        if p.kind == "person":
            assert mentions(_violation(ch, p)) <= _inputs_read(ch, p) | time, p.id


def test_mini_sliced_answers_equal_the_full_solver() -> None:
    rs = resolve(load_ruleset(MINI))
    ch = Checker(rs)
    assert rs.constraints, "the mini set needs input constraints for slicing to matter"
    whole = ch.solver(z3.BoolVal(True))
    asked = 0
    for r in rs.rules:
        goal, cone = ch.enc.applying(r.id), ch.rule_cones[r.id]
        assert ch._slicer.slice(whole, cone) is not None
        sliced, person = ch.ask(whole, goal, person=True, reads=cone)
        full, _ = ch.ask(whole, goal)
        assert type(sliced) is type(full), r.id
        if person is not None:
            assert ch.ref.satisfies_constraints(person)
            assert ch.ref.applies(person)[r.id] is True, r.id
        asked += 1
    assert asked == len(rs.rules)
