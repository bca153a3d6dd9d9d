"""Planted defects: copies of a rule set (as loaded, before options are resolved) with one
drafting mistake each. The mutation suite (tests/test_mutations.py) runs `elig check` on each and
counts it killed when the gate fails (a finding neither accepted nor known-open), and runs
`check --against` the unmutated set; a survivor is a mistake the checker cannot see.

Two families of classes:
- the checker's own operators (unreachable, clash, dead_exception, delete_category, break_sum,
  duplicate, boundary, drop, flip), each planting what one check looks for;
- the mistakes drafters make (issue 12): a comparison changed inside a definition, a date constant
  shifted by one day, a number in a formula changed, the conditions of two sibling rules swapped,
  `or` turned into `and`, an exception removed, a table cell mistyped, a validity interval
  shortened, an input enum value no rule names, a rule switched off by an option test, a citation
  of a document not in force in the rule's years. Placement is random (seeded) and spread over the
  three programmes (resident, employee, college) where the class has candidates there.

`semantic` says whether what the check must see is a change of decisions: those mutants, when
z3 proves them equivalent to the original (no decision differs), are left out. The others plant
a defect in the rules themselves that the check reports whatever the decisions (a rule that can
never apply, a dead exception, a duplicate, a rule switched off, a value no rule names, a
citation of a document not in force): an equivalent one is still a defect and still counts
for `check` (only `check --against`, which compares decisions, cannot see an equivalent one)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import cast

from solver import ir
from solver.checks.engine import conjuncts
from solver.passes.options import map_expr

PROGRAMMES = ("resident", "employee", "college")
OWN_OPERATORS = (
    "unreachable",
    "clash",
    "dead_exception",
    "delete_category",
    "break_sum",
    "duplicate",
    "boundary",
    "drop",
    "flip",
)
# Classes whose defect is in the rules, not in the decisions (see `semantic`).
STRUCTURAL = frozenset(
    {"unreachable", "dead_exception", "duplicate", "switched_off", "new_enum_value", "citation_out_of_force"}
)
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


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str  # the class: one of OWN_OPERATORS or DRAFTING
    rs: ir.RuleSet  # unresolved: options are still references, as in the files
    what: str = ""  # the change, before -> after
    programme: str = ""
    semantic: bool = True  # the defect is a change of decisions (an equivalent one is no defect)


# ---------------------------------------------------------------- helpers


def _and(parts: list[ir.Expr]) -> ir.Expr:
    out = parts[0]
    for p in parts[1:]:
        out = ir.Binary("and", out, p, ir.BOOL)
    return out


def _replace_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=tuple(rule if r.id == rule.id else r for r in rs.rules))


def _add_rule(rs: ir.RuleSet, rule: ir.Rule) -> ir.RuleSet:
    return dataclasses.replace(rs, rules=(*rs.rules, rule))


def _spread(items: list[ir.Rule], n: int) -> list[ir.Rule]:
    """n items spread over the list (deterministic)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def programme_of(loc: ir.Loc, name: str = "") -> str:
    """The programme a rule, definition or table belongs to: its folder (tables: their name)."""
    for p in PROGRAMMES:
        if f"/{p}/" in loc.file or name.startswith(f"{p}_") or name.startswith(f"{p}."):
            return p
    return "resident" if "/parameters/" in loc.file else "shared"


def _text(e: ir.Expr) -> str:
    from solver.printer import to_text

    return to_text(e)


def _nodes(e: ir.Expr, pred: Callable[[ir.Expr, ir.Expr | None], bool]) -> int:
    """How many nodes of e (with their parent) meet pred, in map_expr's pre-order."""
    count = 0

    def visit(n: ir.Expr, parent: ir.Expr | None) -> None:
        nonlocal count
        if pred(n, parent):
            count += 1
        for c in ir.children(n):
            visit(c, n)

    visit(e, None)
    return count


def _replace_nth(
    e: ir.Expr, pred: Callable[[ir.Expr, ir.Expr | None], bool], k: int, fn: Callable[[ir.Expr], ir.Expr]
) -> ir.Expr:
    """e with the k-th node meeting pred (pre-order, as _nodes counts) replaced by fn(node)."""
    seen = -1
    parents: dict[int, ir.Expr | None] = {}

    def note(n: ir.Expr, parent: ir.Expr | None) -> None:
        parents[id(n)] = parent
        for c in ir.children(n):
            note(c, n)

    note(e, None)

    def sub(n: ir.Expr) -> ir.Expr | None:
        nonlocal seen
        if pred(n, parents.get(id(n))):
            seen += 1
            if seen == k:
                return fn(n)
        return None

    return map_expr(e, sub)


@dataclass(frozen=True)
class _Site:
    """One place an expression lives: a rule's when / then value, or a definition."""

    label: str
    programme: str
    expr: ir.Expr
    put: Callable[[ir.Expr], ir.RuleSet]


def _sites(rs: ir.RuleSet, *, when: bool = True, then: bool = True, definitions: bool = True) -> list[_Site]:
    out: list[_Site] = []
    if definitions:
        for name, d in sorted(rs.definitions.items()):

            def put_def(e: ir.Expr, d: ir.Definition = d) -> ir.RuleSet:
                return dataclasses.replace(rs, definitions={**rs.definitions, d.name: dataclasses.replace(d, expr=e)})

            out.append(_Site(f"definition {name}", programme_of(d.loc, name), d.expr, put_def))
    for r in sorted(rs.rules, key=lambda r: r.id):
        if when:

            def put_when(e: ir.Expr, r: ir.Rule = r) -> ir.RuleSet:
                return _replace_rule(rs, dataclasses.replace(r, when=e))

            out.append(_Site(f"{r.id} when", programme_of(r.loc, r.id), r.when, put_when))
        if then:
            for i, (o, v) in enumerate(r.then):

                def put_then(e: ir.Expr, r: ir.Rule = r, i: int = i, o: str = o) -> ir.RuleSet:
                    then = list(r.then)
                    then[i] = (o, e)
                    return _replace_rule(rs, dataclasses.replace(r, then=tuple(then)))

                out.append(_Site(f"{r.id} then {o}", programme_of(r.loc, r.id), v, put_then))
    return out


def _node_mutants(
    rs: ir.RuleSet,
    operator: str,
    sites: list[_Site],
    pred: Callable[[ir.Expr, ir.Expr | None], bool],
    change: Callable[[ir.Expr], ir.Expr | None],
) -> list[Mutant]:
    """One candidate per matching node of every site: the node replaced by change(node)."""
    out: list[Mutant] = []
    for site in sites:
        for k in range(_nodes(site.expr, pred)):
            box: list[tuple[ir.Expr, ir.Expr]] = []

            def fn(n: ir.Expr, box: list[tuple[ir.Expr, ir.Expr]] = box) -> ir.Expr:
                new = change(n)
                if new is None:
                    return n
                box.append((n, new))
                return new

            mutated = _replace_nth(site.expr, pred, k, fn)
            if not box:
                continue
            before, after = box[0]
            what = f"{site.label}: {_text(before)} -> {_text(after)}"
            out.append(Mutant(f"{operator}:{site.label}#{k}", operator, site.put(mutated), what, site.programme))
    return out


def sample(candidates: list[Mutant], n: int, rng: random.Random) -> list[Mutant]:
    """n candidates at random, round-robin over the programmes that have candidates."""
    by: dict[str, list[Mutant]] = {}
    for m in candidates:
        by.setdefault(m.programme, []).append(m)
    pools = [rng.sample(ms, len(ms)) for _, ms in sorted(by.items())]
    out: list[Mutant] = []
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop())
    return out


# ---------------------------------------------------------------- the drafting mistakes

_FLIP = {">=": ">", ">": ">=", "<=": "<", "<": "<=", "==": "!=", "!=": "=="}


def _comparison(n: ir.Expr, parent: ir.Expr | None) -> bool:
    return isinstance(n, ir.Binary) and n.op in _FLIP


def definition_comparison(rs: ir.RuleSet) -> list[Mutant]:
    def change(n: ir.Expr) -> ir.Expr:
        b = cast(ir.Binary, n)
        return dataclasses.replace(b, op=cast(ir.BinaryOp, _FLIP[b.op]))

    return _node_mutants(rs, "definition_comparison", _sites(rs, when=False, then=False), _comparison, change)


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
    return _node_mutants(rs, "date_shift", _sites(rs), pred, change)


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

    return _node_mutants(rs, "formula_number", _sites(rs, when=False), _formula_number, change)


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
    return _node_mutants(rs, "or_to_and", _sites(rs), pred, change)


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
                    _replace_rule(rs, m),
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
                _replace_rule(rs, m),
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
        m = dataclasses.replace(r, when=_and([r.when, test]))
        what = f"{r.id}: when ... and {opt.name} == '{other}' (default {opt.default})"
        out.append(
            Mutant(
                f"switched_off:{r.id}",
                "switched_off",
                _replace_rule(rs, m),
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
                _replace_rule(rs, m),
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


# ---------------------------------------------------------------- the checker's own operators


def _enum_output_rules(rs: ir.RuleSet) -> list[ir.Rule]:
    """Rules giving a constant to a single-valued enum output."""
    out = []
    for r in rs.rules:
        if len(r.then) != 1:
            continue
        name, value = r.then[0]
        o = rs.outputs[name]
        if o.cardinality != "set" and isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const):
            out.append(r)
    return sorted(out, key=lambda r: r.id)


def own_mutants(rs: ir.RuleSet, *, per_operator: int = 4) -> Iterator[Mutant]:
    time = rs.inputs[rs.time].type if rs.time else None
    enum_rules = _enum_output_rules(rs)

    def m(op: str, key: str, mutated: ir.RuleSet, what: str, rule: ir.Rule | None = None) -> Mutant:
        prog = programme_of(rule.loc, rule.id) if rule else "resident"
        return Mutant(f"{op}:{key}", op, mutated, what, prog, semantic=op not in STRUCTURAL)

    # 1. a contradiction added to a rule: it can never apply
    if isinstance(time, ir.IntT):
        t = ir.Ref(rs.time or "", "input", time)
        never = ir.Binary("<", t, ir.Const(time.lo, ir.ANY_INT), ir.BOOL)
        for r in _spread(sorted(rs.rules, key=lambda r: r.id), per_operator):
            mr = dataclasses.replace(r, when=_and([r.when, never]))
            yield m("unreachable", r.id, _replace_rule(rs, mr), f"{r.id}: and {_text(never)}", r)

    # 2. a clashing rule: the same condition, another value, no exception between them
    for r in _spread(enum_rules, per_operator):
        name, value = r.then[0]
        o = rs.outputs[name]
        assert isinstance(o.type, ir.EnumT) and isinstance(value, ir.Const)
        other = next(v for v in o.type.values if v != value.value)
        clash = dataclasses.replace(r, id=f"mutant.clash.{r.id}", then=((name, ir.Const(other, o.type)),), unless=())
        yield m("clash", r.id, _add_rule(rs, clash), f"{clash.id} gives {name} = {other}", r)

    # 3. a dead exception: it applies only where its base rule cannot
    for r in _spread([r for r in enum_rules if not r.unless], per_operator):
        exc = dataclasses.replace(r, id=f"mutant.exception.{r.id}", when=ir.Unary("not", r.when, ir.BOOL), unless=())
        base = dataclasses.replace(r, unless=(exc.id,))
        yield m("dead_exception", r.id, _add_rule(_replace_rule(rs, base), exc), f"{exc.id} excepts {r.id}", r)

    # 4. the rules of a category deleted: that value can no longer be given
    category = rs.outputs.get("resident_category")
    if category is not None and isinstance(category.type, ir.EnumT):
        name, ctype = category.name, category.type
        for v in ctype.values:
            givers = [r for r in rs.rules_for(name) if dict(r.then)[name] == ir.Const(v, ctype)]
            if not givers:
                continue
            gone = {g.id for g in givers}
            kept = tuple(
                dataclasses.replace(r, unless=tuple(u for u in r.unless if u not in gone))
                for r in rs.rules
                if r.id not in gone
            )
            yield m(
                "delete_category", f"{name}={v}", dataclasses.replace(rs, rules=kept), f"rules giving {v} deleted"
            )

    # 5. a parameter sum broken: one total off by one yuan
    total = rs.params.get("resident_total_funding")
    if total is not None:
        for row in total.rows[:: max(1, len(total.rows) // per_operator)][:per_operator]:
            bad = dataclasses.replace(row, value=cast(int, row.value) + 1)
            table = dataclasses.replace(total, rows=tuple(bad if r is row else r for r in total.rows))
            mutated = dataclasses.replace(rs, params={**rs.params, total.name: table})
            yield m("break_sum", str(row.key), mutated, f"{total.name}{list(row.key)} + 1")

    # 6. a duplicate (its condition restated) with the same outcome: redundant
    for r in _spread([r for r in enum_rules if not r.unless and len(conjuncts(r.when)) >= 2], per_operator):
        dup = dataclasses.replace(r, id=f"mutant.duplicate.{r.id}", when=_and([*conjuncts(r.when)[:-1], r.when]))
        yield m("duplicate", r.id, _add_rule(rs, dup), f"{dup.id} restates {r.id}", r)

    # 7-9. a boundary moved by one, a condition dropped, a condition flipped (in the rules the
    # first drafter properties spoke of: the resident categories and their grounds)
    watched = sorted(
        (r for r in rs.rules if r.id.startswith(("resident.pupil.", "resident.category."))), key=lambda r: r.id
    )
    boundary = [r for r in watched if any(_shiftable(c) for c in conjuncts(r.when))]
    for r in _spread(boundary, per_operator):
        parts = conjuncts(r.when)
        i = next(i for i, c in enumerate(parts) if _shiftable(c))
        c = parts[i]
        assert isinstance(c, ir.Binary) and isinstance(c.right, ir.Const)
        moved = dataclasses.replace(c, right=dataclasses.replace(c.right, value=cast(int, c.right.value) - 1))
        mr = dataclasses.replace(r, when=_and([*parts[:i], moved, *parts[i + 1 :]]))
        yield m("boundary", r.id, _replace_rule(rs, mr), f"{r.id}: {_text(c)} -> {_text(moved)}", r)
    droppable = [r for r in watched if len(conjuncts(r.when)) >= 2]
    for r in _spread(droppable, per_operator):
        parts = conjuncts(r.when)
        mr = dataclasses.replace(r, when=_and(parts[:-1]))
        yield m("drop", r.id, _replace_rule(rs, mr), f"{r.id}: condition {_text(parts[-1])} dropped", r)
    for r in _spread(droppable[1:], per_operator):
        parts = conjuncts(r.when)
        mr = dataclasses.replace(r, when=_and([*parts[:-1], ir.Unary("not", parts[-1], ir.BOOL)]))
        yield m("flip", r.id, _replace_rule(rs, mr), f"{r.id}: condition {_text(parts[-1])} negated", r)


def _shiftable(c: ir.Expr) -> bool:
    return (
        isinstance(c, ir.Binary)
        and c.op in ("<", "<=", ">", ">=")
        and isinstance(c.right, ir.Const)
        and isinstance(c.right.value, int)
        and not isinstance(c.right.value, bool)
    )


def mutants(rs: ir.RuleSet, *, per_operator: int = 4, per_class: int | None = 10, seed: int = 12) -> Iterator[Mutant]:
    """Every planted defect: the checker's own operators, then the drafting mistakes."""
    yield from own_mutants(rs, per_operator=per_operator)
    yield from drafting_mutants(rs, per_class, seed)


def spread_sample(rs: ir.RuleSet, n: int, seed: int = 12) -> list[Mutant]:
    """N mutants of N different classes (every class in turn, from a seeded offset), the k-th from
    the k-th programme in turn where its class has a candidate there: a small sample that is the
    same on every run and not weighted to any class or programme."""
    rng = random.Random(seed)
    by_class: dict[str, list[Mutant]] = {}
    for m in mutants(rs, per_operator=len(rs.rules), per_class=None, seed=seed):
        by_class.setdefault(m.operator, []).append(m)
    classes = [c for c in (*OWN_OPERATORS, *DRAFTING) if by_class.get(c)]
    start, step = rng.randrange(len(classes)), 7  # 7 is prime to 20: n < 20 picks n classes
    out: list[Mutant] = []
    for k in range(min(n, len(classes))):
        pool = by_class[classes[(start + k * step) % len(classes)]]
        there = [m for m in pool if m.programme == PROGRAMMES[k % len(PROGRAMMES)]] or pool
        out.append(there[rng.randrange(len(there))])
    return out
