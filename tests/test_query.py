"""solver/query.py: the one z3 runner answers sat with a model, unsat with the names of a core of
parts, and unknown (never yes or no) when z3 gives up."""

from __future__ import annotations

import z3

from solver.query import Query, Sat, Unknown, Unsat, minimize


def test_sat_gives_a_model_of_the_facts_and_the_goal() -> None:
    x = z3.Int("q!x")
    q = Query(x >= 3, x <= 5)
    got = q.ask(x != 3, x != 4)
    assert isinstance(got, Sat)
    assert got.number(x) == 5
    assert got.holds(x > 4)


def test_a_question_does_not_stay_asserted() -> None:
    x = z3.Int("q!y")
    q = Query(x >= 0, x <= 1)
    assert isinstance(q.ask(x == 0), Sat)
    assert isinstance(q.ask(x == 1), Sat)  # x == 0 was the last question's, not a fact
    assert isinstance(q.ask(x == 2), Unsat)


def test_unsat_names_the_parts_of_a_core_only() -> None:
    x = z3.Int("q!z")
    q = Query(x >= 0, minimize_core=True)
    got = q.core({"small": x < 2, "big": x > 5, "free": x != 7})
    assert isinstance(got, Unsat)
    assert set(got.core) == {"small", "big"}
    # Parts are assumption literals: any subset can be asked again.
    assert isinstance(q.check(z3.Bool("small"), z3.Bool("free")), Sat)


def test_a_resource_limit_is_unknown_with_the_reason() -> None:
    xs = [z3.Int(f"q!p{i}") for i in range(12)]
    hard = [z3.Distinct(xs), *(z3.And(x >= 0, x < 11) for x in xs)]  # pigeonhole: unsat, and costly
    got = Query(*hard, rlimit=1).check()
    assert isinstance(got, Unknown)
    assert got.reason


def test_scope_drops_what_was_added_inside() -> None:
    x = z3.Int("q!w")
    q = Query(x >= 0)
    with q.scope():
        q.add(x < 0)
        assert isinstance(q.check(), Unsat)
    assert isinstance(q.check(), Sat)


def test_a_part_named_in_a_scope_ends_with_it() -> None:
    x = z3.Int("q!v")
    q = Query(x >= 0)
    with q.scope():
        q.part("inside", x < 0)
        assert q.check(z3.Bool("inside")) == Unsat(("inside",))
    q.add(z3.Not(z3.Bool("inside")))  # now a plain literal, so no part of any core
    assert q.check(z3.Bool("inside")) == Unsat()


def test_minimize_is_lexicographic() -> None:
    x, y = z3.Int("q!a"), z3.Int("q!b")
    got = minimize([x + y >= 4, x >= 0, y >= 0, y <= 3], [x, -y])
    assert isinstance(got, Sat)
    assert (got.number(x), got.number(y)) == (1, 3)
    assert isinstance(minimize([x > 0, x < 0], [x]), Unsat)
