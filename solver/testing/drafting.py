"""The mistakes drafters make, planted: a comparison, a date or a number changed, two siblings swapped, ..."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import cast

from solver import ir
from solver.testing.planting import Mutant, and_all, node_mutants, programme_of, replace_rule, sample, sites

DRAFTING = (
    "definition_comparison",
    "date_shift",
    "formula_number",
    "sibling_swap",
    "or_to_and",
    "exception_removed",
    "table_cell",
    "validity_shortened",
    "new_enum_value",
    "switched_off",
    "citation_out_of_force",
)


_FLIP = {">=": ">", ">": ">=", "<=": "<", "<": "<=", "==": "!=", "!=": "=="}


def _comparison(n: ir.Expr, parent: ir.Expr | None) -> bool:
    return isinstance(n, ir.Binary) and n.op in _FLIP


def definition_comparison(rs: ir.RuleSet) -> list[Mutant]:
    def change(n: ir.Expr) -> ir.Expr:
        b = cast(ir.Binary, n)
        return dataclasses.replace(b, op=cast(ir.BinaryOp, _FLIP[b.op]))

    return node_mutants(rs, "definition_comparison", sites(rs, when=False, then=False), _comparison, change)


def _date_const(n: ir.Expr, parent: ir.Expr | None) -> bool:
    return isinstance(n, ir.Const) and isinstance(n.value, dt.date)


def _day_arg(n: ir.Expr, parent: ir.Expr | None) -> bool:
    """The constant day of date(y, m, d)."""
    return (
        isinstance(parent, ir.Call)
        and parent.fn == "date"
        and parent.args[2] is n
        and isinstance(n, ir.Const)
        and isinstance(n.value, int)
    )


def date_shift(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    def change(n: ir.Expr) -> ir.Expr | None:
        c = cast(ir.Const, n)
        delta = 1 if rng.random() < 0.5 else -1
        if isinstance(c.value, dt.date):
            return dataclasses.replace(c, value=c.value + dt.timedelta(days=delta))
        day = cast(int, c.value) + delta
        if day < 1 or day > 31 or (cast(int, c.value) == 31 and delta == 1):
            day = cast(int, c.value) - 1
        return dataclasses.replace(c, value=day)

    pred: Callable[[ir.Expr, ir.Expr | None], bool] = lambda n, p: _date_const(n, p) or _day_arg(n, p)  # noqa: E731
    return node_mutants(rs, "date_shift", sites(rs), pred, change)


_ARITH = ("+", "-", "*", "//", "%")


def _formula_number(n: ir.Expr, parent: ir.Expr | None) -> bool:
    if not (isinstance(n, ir.Const) and isinstance(n.value, int) and not isinstance(n.value, bool)):
        return False
    if isinstance(parent, ir.Binary) and parent.op in _ARITH:
        return True
    if isinstance(parent, ir.Call) and parent.fn in ("add_months", "min", "max"):
        return True
    return parent is None and isinstance(n.type, ir.IntT)  # a number a rule gives (then: {months: 3})


def formula_number(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    def change(n: ir.Expr) -> ir.Expr | None:
        c = cast(ir.Const, n)
        v = cast(int, c.value)
        new = v + rng.choice((-1, 1)) if v > 1 else v + 1
        if isinstance(c.type, ir.IntT) and not c.type.lo <= new <= c.type.hi:
            new = v - 1
        return dataclasses.replace(c, value=new)

    return node_mutants(rs, "formula_number", sites(rs, when=False), _formula_number, change)


def sibling_swap(rs: ir.RuleSet) -> list[Mutant]:
    """Two rules giving one single-valued output different values, in the same years: their
    conditions swapped."""
    out: list[Mutant] = []
    for name, o in sorted(rs.outputs.items()):
        if o.cardinality == "set":
            continue
        rules = sorted(rs.rules_for(name), key=lambda r: r.id)
        for i, a in enumerate(rules):
            for b in rules[i + 1 :]:
                if a.valid != b.valid or a.when == b.when or dict(a.then)[name] == dict(b.then)[name]:
                    continue
                if len(a.then) != 1 or len(b.then) != 1:
                    continue
                swapped = dataclasses.replace(
                    rs,
                    rules=tuple(
                        dataclasses.replace(r, when=b.when)
                        if r.id == a.id
                        else dataclasses.replace(r, when=a.when)
                        if r.id == b.id
                        else r
                        for r in rs.rules
                    ),
                )
                what = f"{a.id} <-> {b.id}: conditions swapped"
                out.append(
                    Mutant(f"sibling_swap:{a.id}|{b.id}", "sibling_swap", swapped, what, programme_of(a.loc, a.id))
                )
    return out


def or_to_and(rs: ir.RuleSet) -> list[Mutant]:
    def change(n: ir.Expr) -> ir.Expr:
        return dataclasses.replace(cast(ir.Binary, n), op="and")

    pred: Callable[[ir.Expr, ir.Expr | None], bool] = lambda n, p: isinstance(n, ir.Binary) and n.op == "or"  # noqa: E731
    return node_mutants(rs, "or_to_and", sites(rs), pred, change)


def exception_removed(rs: ir.RuleSet) -> list[Mutant]:
    out: list[Mutant] = []
    for r in sorted(rs.rules, key=lambda r: r.id):
        for u in r.unless:
            m = dataclasses.replace(r, unless=tuple(x for x in r.unless if x != u))
            other = set(rs.rule(u).outputs()) - set(r.outputs())
            what = f"{r.id}: exception {u} removed" + (f" (it gives {', '.join(sorted(other))})" if other else "")
            out.append(
                Mutant(
                    f"exception_removed:{r.id}-{u}",
                    "exception_removed",
                    replace_rule(rs, m),
                    what,
                    programme_of(r.loc, r.id),
                )
            )
    return out


def _typo(v: int, rng: random.Random) -> int:
    """One digit of v mistyped (changed by one), v stays positive."""
    digits = list(str(v))
    i = rng.randrange(len(digits))
    d = int(digits[i])
    digits[i] = str(d + 1 if d < 9 and (d == 0 or rng.random() < 0.5) else d - 1)
    new = int("".join(digits))
    return new if new != v and new > 0 else v + 1


def table_cell(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    out: list[Mutant] = []
    for name, p in sorted(rs.params.items()):
        if not isinstance(p.type, ir.IntT):
            continue
        for row in p.rows:
            v = cast(int, row.value)
            bad = dataclasses.replace(row, value=_typo(v, rng))
            table = dataclasses.replace(p, rows=tuple(bad if r is row else r for r in p.rows))
            what = f"{name}{list(row.key)}: {v} -> {bad.value}"
            out.append(
                Mutant(
                    f"table_cell:{name}{list(row.key)}",
                    "table_cell",
                    dataclasses.replace(rs, params={**rs.params, name: table}),
                    what,
                    programme_of(p.loc, name),
                )
            )
    return out


def _shift(v: int | dt.date, by: int) -> int | dt.date:
    return v + dt.timedelta(days=by) if isinstance(v, dt.date) else v + by


def validity_shortened(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    out: list[Mutant] = []
    for r in sorted(rs.rules, key=lambda r: r.id):
        v = r.valid
        if v is None:
            continue
        ends = [e for e in ("lo", "hi") if getattr(v, e) is not None]
        if not ends or (v.lo is not None and v.hi is not None and v.lo == v.hi):
            continue
        end = rng.choice(ends)
        old = cast(int | dt.date, getattr(v, end))
        new = _shift(old, 1 if end == "lo" else -1)
        valid = dataclasses.replace(v, lo=new) if end == "lo" else dataclasses.replace(v, hi=new)
        m = dataclasses.replace(r, valid=valid)
        what = f"{r.id}: valid {'from' if end == 'lo' else 'to'} {old} -> {new}"
        out.append(
            Mutant(
                f"validity_shortened:{r.id}",
                "validity_shortened",
                replace_rule(rs, m),
                what,
                programme_of(r.loc, r.id),
            )
        )
    return out


def new_enum_value(rs: ir.RuleSet) -> list[Mutant]:
    """A value added to an input enum type (the drafter extends the vocabulary, no rule names it)."""
    out: list[Mutant] = []
    used: dict[str, str] = {}
    for name, inp in rs.inputs.items():
        if isinstance(inp.type, ir.EnumT):
            used.setdefault(inp.type.name, programme_of(inp.loc, name))
    for tname, programme in sorted(used.items()):
        t = rs.types[tname]
        new_t = dataclasses.replace(t, values=(*t.values, "added_value"))

        def retype(x: ir.Type, t: ir.EnumT = t, new_t: ir.EnumT = new_t) -> ir.Type:
            return new_t if x == t else x

        inputs = {n: dataclasses.replace(i, type=retype(i.type)) for n, i in rs.inputs.items()}
        mutated = dataclasses.replace(rs, types={**rs.types, tname: new_t}, inputs=inputs)
        what = f"type {tname}: value 'added_value' added"
        out.append(Mutant(f"new_enum_value:{tname}", "new_enum_value", mutated, what, programme, semantic=False))
    return out


def switched_off(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    """A rule's condition gets `and OPTION == 'a reading other than the default'`."""
    out: list[Mutant] = []
    options = sorted(rs.options.values(), key=lambda o: o.name)
    for r in sorted(rs.rules, key=lambda r: r.id):
        opt = rng.choice(options)
        other = rng.choice([v for v in opt.type.values if v != opt.default])
        test = ir.Binary("==", ir.Ref(opt.name, "option", opt.type), ir.Const(other, opt.type), ir.BOOL)
        m = dataclasses.replace(r, when=and_all([r.when, test]))
        what = f"{r.id}: when ... and {opt.name} == '{other}' (default {opt.default})"
        out.append(
            Mutant(
                f"switched_off:{r.id}",
                "switched_off",
                replace_rule(rs, m),
                what,
                programme_of(r.loc, r.id),
                semantic=False,
            )
        )
    return out


def in_force_years(source: ir.Source) -> tuple[int, int] | None:
    """The insurance years a document governs (sources.yaml `in_force`; None: not stated)."""
    return source.in_force.years if source.in_force else None


def _rule_years(r: ir.Rule) -> tuple[int, int] | None:
    if r.valid is None:
        return None

    def year(v: int | dt.date | None, default: int) -> int:
        return default if v is None else v.year if isinstance(v, dt.date) else v

    return year(r.valid.lo, 0), year(r.valid.hi, 9999)


def citation_out_of_force(rs: ir.RuleSet, rng: random.Random) -> list[Mutant]:
    """A rule with a validity interval also cites a clause of a document in force in none of its
    years (a mistyped clause id)."""
    out: list[Mutant] = []
    for r in sorted(rs.rules, key=lambda r: r.id):
        years = _rule_years(r)
        if years is None:
            continue
        outside = []
        for cid, c in sorted(rs.clauses.items()):
            span = in_force_years(rs.sources[c.source]) if c.source in rs.sources else None
            if span is not None and (span[1] < years[0] or span[0] > years[1]):
                outside.append(cid)
        if not outside:
            continue
        cid = rng.choice(outside)
        m = dataclasses.replace(r, cites=(*r.cites, cid))
        span = in_force_years(rs.sources[rs.clauses[cid].source])
        what = f"{r.id} (valid {years[0]}..{years[1]}) also cites {cid} (in force {span})"
        out.append(
            Mutant(
                f"citation_out_of_force:{r.id}",
                "citation_out_of_force",
                replace_rule(rs, m),
                what,
                programme_of(r.loc, r.id),
                semantic=False,
            )
        )
    return out


def drafting_mutants(rs: ir.RuleSet, per_class: int | None, seed: int = 12) -> Iterator[Mutant]:
    """The drafting mistakes: per_class of each class (None: every candidate), placed at random
    with a fixed seed, round-robin over the programmes."""
    rng = random.Random(seed)
    makers: dict[str, Callable[[], list[Mutant]]] = {
        "definition_comparison": lambda: definition_comparison(rs),
        "date_shift": lambda: date_shift(rs, rng),
        "formula_number": lambda: formula_number(rs, rng),
        "sibling_swap": lambda: sibling_swap(rs),
        "or_to_and": lambda: or_to_and(rs),
        "exception_removed": lambda: exception_removed(rs),
        "table_cell": lambda: table_cell(rs, rng),
        "validity_shortened": lambda: validity_shortened(rs, rng),
        "new_enum_value": lambda: new_enum_value(rs),
        "switched_off": lambda: switched_off(rs, rng),
        "citation_out_of_force": lambda: citation_out_of_force(rs, rng),
    }
    for name in DRAFTING:
        candidates = makers[name]()
        yield from candidates if per_class is None else sample(candidates, per_class, rng)
