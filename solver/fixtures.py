"""Edge-case fixtures a tester can drop into a suite.

Every obligation of solver/obligations.py (a rule applies; an MC/DC half; a boundary) becomes a
question to z3 over the rule set's Encoding: find a valid person that meets it, preferring one in
which it matters (the condition decides the rule and the rule's exceptions and validity do not
block it; a date sits on a calendar edge). Each atomic condition gets a PAIR of persons from two
Encoding copies in one solver: unique cause (every other condition of the rule agrees), else
masking. An obligation that no valid person meets is *infeasible*, and the reason is the unsat
core (input domains, input constraints and the query's conditions, each an assumption literal,
narrowed to the definitions and outputs it needs) with the clause ids behind it. A timeout is
*unknown*, never infeasible.

Every person found is re-decided by eval, the reference: eval says which obligations it meets
(with the `met` that `elig coverage` uses, so the two agree) and what outputs to expect. A minimum
set cover of those persons (exact reductions, then clingo #minimize over clingo.Symbol facts) is
the fixture set; a greedy cover is computed alongside as a yardstick."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import pprint
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import z3

from solver import dates, ir
from solver.backends.base import STATUSES, OutputResult
from solver.backends.eval_backend import EvalBackend
from solver.obligations import Meter, Obligation, atoms, boundary_of, obligations, static_truth
from solver.passes.deps import deps
from solver.printer import to_text
from solver.semantics.symbolic import Encoding
from solver.semantics.terms import TRUE, DateSym, Sym, evaluate, k_and, k_or, month_length

Status = Literal["feasible", "infeasible", "unknown"]
PairMode = Literal["unique_cause", "masking", "none", "unknown"]
Format = Literal["yaml", "pytest", "csv"]

DEFAULT_TIMEOUT_MS = 2000

# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    """Why no person meets an obligation: the members of an unsat core and the clauses behind them."""

    parts: tuple[str, ...]
    clauses: tuple[str, ...]
    minimal: bool = True  # False when the core could not be minimised in time

    def __str__(self) -> str:
        text = "; ".join(self.parts)
        if self.clauses:
            text += f" [clauses {', '.join(self.clauses)}]"
        return text + ("" if self.minimal else " (core not minimised)")


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: Reason | None = None  # infeasible
    note: str = ""  # unknown: what the solver said (e.g. timeout)


@dataclass(frozen=True)
class Fixture:
    """One generated person with what eval expects for it and why it was generated."""

    id: str
    person: Mapping[str, ir.Value]
    origin: str  # what it was generated for
    meets: frozenset[str]  # ids of the obligations it meets (according to eval)
    cites: tuple[str, ...]
    expect: Mapping[str, Any]  # YAML-ready expected outputs, from eval
    partner: str = ""  # MC/DC pair: the id of the other person

    def worked(self, goals: int) -> str:
        extra = max(0, goals - 1)
        more = f"; meets {extra} more obligation{'s' if extra != 1 else ''}" if extra else ""
        pair = f"; MC/DC partner {self.partner}" if self.partner else ""
        return f"generated: {self.origin}{pair}{more}; expected outputs computed by the eval backend"


@dataclass(frozen=True)
class Pair:
    """The MC/DC pair of one atomic condition of a rule."""

    rule: str
    condition: str
    obligations: tuple[str, str]  # the true half and the false half
    mode: PairMode
    fixtures: tuple[str, str] | None = None  # ids of the true and false persons (fixture_id)
    reason: Reason | None = None  # mode none: why no masking pair exists
    note: str = ""


@dataclass(frozen=True)
class FixtureSet:
    ruleset: str
    rules_path: str
    options: Mapping[str, str]
    obligations: tuple[Obligation, ...]
    verdicts: Mapping[str, Verdict]  # every obligation
    pairs: tuple[Pair, ...]
    candidate_count: int  # persons found
    candidates: tuple[Fixture, ...]  # every person found (generate(keep_all=True)), else empty
    cover: tuple[Fixture, ...]  # the minimum covering set
    greedy_size: int
    optimal: bool  # clingo proved the cover minimum
    unconfirmed: tuple[str, ...]  # z3 found a witness but eval says it does not meet it (a bug)
    queries: int
    seconds: float

    def feasible(self, kind: str | None = None) -> list[Obligation]:
        return [o for o in self._of(kind) if self.verdicts[o.id].status == "feasible"]

    def infeasible(self, kind: str | None = None) -> list[Obligation]:
        return [o for o in self._of(kind) if self.verdicts[o.id].status == "infeasible"]

    def unknown(self, kind: str | None = None) -> list[Obligation]:
        return [o for o in self._of(kind) if self.verdicts[o.id].status == "unknown"]

    def _of(self, kind: str | None) -> list[Obligation]:
        return [o for o in self.obligations if kind is None or o.kind == kind]

    def covered(self) -> set[str]:
        return set().union(*(f.meets for f in self.cover)) if self.cover else set()

    def report(self, limit: int = 40) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in sorted(self.options.items())) or "none"
        lines = [f"fixtures for {self.ruleset} (options: {opts})"]
        kinds = ("rule", "mcdc", "boundary")
        covered = self.covered()
        counts = ", ".join(f"{k} {len(self._of(k))}" for k in kinds)
        lines.append(f"obligations: {len(self.obligations)} ({counts})")
        for k in kinds:
            feas, inf, unk = len(self.feasible(k)), len(self.infeasible(k)), len(self.unknown(k))
            done = len([o for o in self.feasible(k) if o.id in covered])
            lines.append(f"  {k:<9} feasible {feas:>4}  infeasible {inf:>4}  unknown {unk:>3}  covered {done}/{feas}")
        modes = {m: sum(1 for p in self.pairs if p.mode == m) for m in ("unique_cause", "masking", "none", "unknown")}
        lines.append(
            f"MC/DC pairs: {len(self.pairs)} conditions: {modes['unique_cause']} unique cause, "
            f"{modes['masking']} masking, {modes['none']} none, {modes['unknown']} unknown"
        )
        lines.append(
            f"covering set: {len(self.cover)} persons ({'minimum' if self.optimal else 'best found'}) "
            f"vs greedy {self.greedy_size}; {self.candidate_count} persons found"
        )
        lines.append(f"z3: {self.queries} queries; {self.seconds:.1f}s in all")
        for title, obs in (("infeasible", self.infeasible()), ("unknown", self.unknown())):
            if obs:
                lines.append(f"{title}:")
            for o in obs[:limit]:
                v = self.verdicts[o.id]
                why = str(v.reason) if v.reason else v.note
                lines.append(f"  {o.id}: {o.describe()}\n      because: {why}")
            if len(obs) > limit:
                lines.append(f"  ... and {len(obs) - limit} more")
        unpaired = [p for p in self.pairs if p.mode in ("none", "unknown")]
        for p in unpaired[:limit]:
            why = str(p.reason) if p.reason else p.note
            lines.append(f"no MC/DC pair for '{p.condition}' in {p.rule}: {why}")
        if len(unpaired) > limit:
            lines.append(f"... and {len(unpaired) - limit} more conditions without a pair")
        if self.unconfirmed:
            lines.append("NOT CONFIRMED by eval (z3 and eval disagree): " + ", ".join(self.unconfirmed))
        return "\n".join(lines)


# ---------------------------------------------------------------- z3 helpers


def _holds(s: Sym) -> z3.BoolRef:
    return z3.And(s.known, s.value)


def _is_false(s: Sym) -> z3.BoolRef:
    return z3.And(s.known, z3.Not(s.value))


def _num(t: Any) -> Any:
    return t.dn() if isinstance(t, DateSym) else t


@dataclass(frozen=True)
class _Part:
    """One conjunct of a query, labelled for unsat cores; `reads` names what it reads, so a
    core can be narrowed down to the definitions that make it unsatisfiable."""

    label: str
    clauses: tuple[str, ...]
    term: z3.BoolRef
    reads: frozenset[str] = frozenset()  # every name the term reads (a superset is fine)
    copies: str = "a"  # the copies (persons) the term speaks about: "a", "b" or "ab"
    rule: str = ""  # the rule the part is about


@dataclass(frozen=True)
class _Answer:
    status: Literal["sat", "unsat", "unknown"]
    model: z3.ModelRef | None = None
    note: str = ""
    core: tuple[_Part, ...] = ()  # unsat: the parts (background and query) that clash
    cone: frozenset[tuple[str, str]] = frozenset()  # sat: the (copy, input) pairs the model decides


def _leaf(t: z3.ExprRef) -> bool:
    return bool(z3.is_const(t))


def _components(s: Sym) -> list[z3.ExprRef]:
    v = s.value
    vals = [v.y, v.m, v.d] if isinstance(v, DateSym) else [v]
    return [*vals, s.known]


Key = tuple[str, str]  # (copy "a" or "b", input or constraint name)


class _Search:
    """One incremental z3 solver over two copies of the rule set (persons A and B).

    Each query is pushed and popped, and carries only the background it needs: the domains of
    the inputs its terms mention and the input constraints connected to them (closed under
    shared inputs). That keeps queries small (the whole background of a large rule set makes
    every query slow), and it is exact: inputs outside the cone take the values of one valid
    base person, which satisfies every constraint the query leaves out. Every part is an
    assumption literal, so an unsat answer comes with its core."""

    def __init__(self, rs: ir.RuleSet, timeout_ms: int) -> None:
        self.rs, self.timeout_ms = rs, timeout_ms
        self.a, self.b = Encoding(rs, prefix="a!"), Encoding(rs, prefix="b!")
        self.encodings = {"a": self.a, "b": self.b}
        self.domains: dict[Key, _Part] = {}
        self.constraints: dict[Key, _Part] = {}
        self.constraint_inputs: dict[Key, set[Key]] = {}
        for tag, enc in self.encodings.items():
            for name, inp in rs.inputs.items():
                if not isinstance(inp.type, ir.BoolT):
                    self.domains[(tag, name)] = _Part(f"input {name} is {inp.type}", (), enc.input_domains[name])
            for c in rs.constraints:
                term = enc.constraints[c.id]
                reads = frozenset(ir.refs(c.expr))
                self.constraints[(tag, c.id)] = _Part(f"input constraint {c.id}", (), term, reads, tag)
                self.constraint_inputs[(tag, c.id)] = {(tag, i) for i in self.input_cone(reads)}
        self.solver = z3.Solver()
        self.solver.set("timeout", timeout_ms)
        # The older arithmetic solver is about twice as fast on these queries (many small
        # linear problems with div/mod by constants from the calendar) and times out less.
        self.solver.set("arith.solver", 2)
        self.queries = 0
        self._fresh = itertools.count()
        self.base = self._base_person()

    def input_cone(self, names: Iterable[str]) -> set[str]:
        """The inputs that names can depend on (solver/passes/deps.py): a superset of the
        variables of their z3 terms, computed on the IR (walking z3 terms from Python is far
        slower than any query)."""
        return deps(self.rs).cone(names)

    def background(self, cone: set[Key]) -> tuple[set[Key], list[_Part]]:
        """The cone closed under the input constraints that touch it, and its background parts."""
        cone = set(cone)
        chosen: list[Key] = []
        grew = True
        while grew:
            grew = False
            for key, ins in self.constraint_inputs.items():
                if key not in chosen and ins & cone:
                    chosen.append(key)
                    cone |= ins
                    grew = True
        parts = [self.domains[k] for k in sorted(cone) if k in self.domains]
        return cone, parts + [self.constraints[k] for k in chosen]

    def _base_person(self) -> dict[str, ir.Value]:
        """One valid person: the values of every input a query does not mention."""
        everything = [*(p for (tag, _), p in self.domains.items() if tag == "a")]
        everything += [p for (tag, _), p in self.constraints.items() if tag == "a"]
        self.solver.set("timeout", max(self.timeout_ms, 30000))
        ans = self.solve(everything, background=False)
        self.solver.set("timeout", self.timeout_ms)
        if ans.status != "sat" or ans.model is None:
            from solver.errors import EligError

            raise EligError(f"no valid person exists or z3 cannot find one ({ans.status}): check the input constraints")
        return self.a.person_from_model(ans.model)

    def person(self, ans: _Answer, tag: str) -> dict[str, ir.Value]:
        """The person of copy `tag` in a model: the inputs in the query's cone from the model,
        the others from the base person."""
        enc = self.encodings[tag]
        assert ans.model is not None
        out = dict(self.base)
        for name, inp in self.rs.inputs.items():
            if (tag, name) in ans.cone:
                out[name] = enc.decode(evaluate(ans.model, enc.inputs[name].value), inp.type)
        return out

    def solve(self, parts: Sequence[_Part], *, background: bool = True) -> _Answer:
        """Check the parts with the background of their cone (unless they bring their own)."""
        self.queries += 1
        s = self.solver
        cone: set[Key] = set()
        if background:
            wanted = {(tag, i) for p in parts for i in self.input_cone(p.reads) for tag in p.copies}
            cone, bg = self.background(wanted)
            parts = [*bg, *parts]
        s.push()
        try:
            tracked = []
            for p in parts:
                lit = z3.Bool(f"q!{next(self._fresh)}")
                s.add(z3.Implies(lit, p.term))
                tracked.append((lit, p))
            r = s.check(*(lit for lit, _ in tracked))
            if r == z3.sat:
                return _Answer("sat", s.model(), cone=frozenset(cone))
            if r == z3.unsat:
                core = {c.get_id() for c in s.unsat_core()}
                return _Answer("unsat", core=tuple(p for lit, p in tracked if lit.get_id() in core))
            return _Answer("unknown", note=f"z3 gave up ({s.reason_unknown()}, timeout {self.timeout_ms} ms)")
        finally:
            s.pop()

    def first(self, required: Sequence[_Part], optional: Sequence[Sequence[_Part]]) -> tuple[_Answer, int]:
        """A model of the required parts with as many optional groups as possible (earlier groups
        matter more): all groups, then the required parts alone, then fewer groups. Returns the
        answer and how many groups hold in it."""
        groups = [g for g in optional if g]
        best = self.solve([*required, *itertools.chain(*groups)]) if groups else None
        if best is not None and best.status == "sat":
            return best, len(groups)
        plain = self.solve(required)
        if plain.status != "sat":
            return plain, 0
        for n in range(len(groups) - 1, 0, -1):
            ans = self.solve([*required, *itertools.chain(*groups[:n])])
            if ans.status == "sat":
                return ans, n
        return plain, 0

    # ------------------------------------------------------------ unsat cores
    def explain(self, ans: _Answer, limit: int = 24) -> Reason:
        """The core of an unsat answer, with the definitions and outputs it needs: each one the
        core's parts read (nearest first) is freed in turn, its terms replaced by unconstrained
        variables; if the core stays unsatisfiable it is not needed (and stays freed), otherwise
        it is part of the reason. Conditions the options fix are named as well."""
        core = list(ans.core)
        names: set[str] = set().union(*(p.reads for p in core)) if core else set()
        freed: list[tuple[z3.ExprRef, z3.ExprRef]] = []
        freed_ids: set[int] = set()
        needed: list[_Part] = []
        minimal = True
        for name in self._named_cone(names, limit):
            trial = list(freed)
            for t in self._terms_of(name):
                if not _leaf(t) and t.get_id() not in freed_ids:
                    freed_ids.add(t.get_id())
                    trial.append((t, z3.FreshConst(t.sort(), "free")))
            if len(trial) == len(freed):
                continue
            parts = [_Part(p.label, p.clauses, z3.substitute(p.term, *trial)) for p in core]
            r = self.solve(parts, background=False)
            if r.status == "unsat":
                freed = trial
            else:
                freed_ids -= {t.get_id() for t, _ in trial[len(freed) :]}
                minimal = minimal and r.status == "sat"
                needed.append(self._named_part(name))
        fixed = []
        for rid in dict.fromkeys(p.rule for p in core if p.rule):
            rule = self.rs.rule(rid)
            for a in atoms(rule.when):
                v = static_truth(a)
                if v is not None:
                    label = f"{rid}: '{to_text(a)}' is always {str(v).lower()} under the options in force"
                    fixed.append(_Part(label, rule.cites, TRUE))
        bg = [p for p in core if p.label.startswith("input ")]
        rest = [p for p in core if not p.label.startswith("input ")]
        return _reason([*bg, *fixed, *needed, *rest], minimal=minimal)

    def _named_cone(self, names: Iterable[str], limit: int) -> list[str]:
        """Definitions and outputs that names read, breadth first (nearest first), at most limit."""
        rs = self.rs
        order: list[str] = []
        seen: set[str] = set()
        queue = sorted(names)
        while queue and len(order) < limit:
            n = queue.pop(0)
            if n in seen:
                continue
            seen.add(n)
            if n in rs.definitions:
                order.append(n)
                queue += sorted(ir.refs(rs.definitions[n].expr))
            elif n in rs.outputs:
                order.append(n)
                for r in rs.rules_for(n):
                    queue += sorted(ir.refs(r.when))
        return order

    def _terms_of(self, name: str) -> list[z3.ExprRef]:
        out: list[z3.ExprRef] = []
        for enc in (self.a, self.b):
            if name in self.rs.definitions:
                out += _components(enc.env[name])
            else:
                o = enc.outputs[name]
                out += [*_components(o.value), *o.status.values(), *o.members.values()]
        return out

    def _named_part(self, name: str) -> _Part:
        if name in self.rs.definitions:
            d = self.rs.definitions[name]
            return _Part(f"definition {name} = {to_text(d.expr)}", d.cites, TRUE)
        rules = self.rs.rules_for(name)
        shown = ", ".join(r.id for r in rules[:4]) + (", ..." if len(rules) > 4 else "")
        clauses = tuple(dict.fromkeys(c for r in rules for c in r.cites))
        return _Part(f"output {name} as its rules give it ({shown})", clauses, TRUE)


def _boundary_origin(o: Obligation) -> str:
    """What a boundary fixture is, in the words of its edge ("boundary of 'age < 18' at 18")."""
    assert o.atom is not None
    text, where = to_text(o.atom), {-1: "just below", 0: "at", 1: "just above"}[o.offset]
    if o.measure == "const":
        found = boundary_of(o.atom)
        assert found is not None
        operand, c = found
        value = c + dt.timedelta(days=o.offset) if isinstance(c, dt.date) else c + o.offset
        return f"boundary of '{text}' in {o.where}: {to_text(operand)} = {value} ({where} the edge)"
    if o.measure in ("pair", "minmax"):
        assert isinstance(o.atom, ir.Binary | ir.Call)
        a, b = (o.atom.left, o.atom.right) if isinstance(o.atom, ir.Binary) else o.atom.args[:2]
        unit = " days" if isinstance(a.type, ir.DateT) else ""
        return f"boundary of '{text}' in {o.where}: {to_text(a)} - {to_text(b)} = {o.offset}{unit} ({where} the edge)"
    if o.measure == "age_at":
        day = {-1: "the day before the birthday", 0: "the birthday", 1: "the day after the birthday"}[o.offset]
        return f"boundary of '{text}' in {o.where}: {day}"
    return f"boundary of '{text}' in {o.where}: the day of the month {where} the last day of the target month"


def _reason(parts: Iterable[_Part], *, minimal: bool = True) -> Reason:
    labels = list(dict.fromkeys(p.label for p in parts))
    clauses = list(dict.fromkeys(c for p in parts for c in p.clauses))
    return Reason(tuple(labels), tuple(clauses), minimal)


# ---------------------------------------------------------------- obligations as z3 goals


class _Goals:
    """The z3 terms of obligations over one encoding (person A or B)."""

    def __init__(self, rs: ir.RuleSet, enc: Encoding, tag: str) -> None:
        self.rs, self.enc, self.tag = rs, enc, tag
        self._decisive: dict[tuple[str, int], z3.BoolRef] = {}
        self._rest: dict[str, z3.BoolRef] = {}

    def skeleton(self, e: ir.Expr, over: Mapping[int, Sym]) -> Sym:
        """e's and/or/not skeleton over its atoms' symbols, some replaced (Kleene, as `met`)."""
        if isinstance(e, ir.Binary) and e.op in ("and", "or"):
            a, b = self.skeleton(e.left, over), self.skeleton(e.right, over)
            return k_and(a, b) if e.op == "and" else k_or(a, b)
        if isinstance(e, ir.Unary) and e.op == "not":
            s = self.skeleton(e.arg, over)
            return Sym(z3.Not(s.value), s.known)
        return over.get(id(e)) or self.enc.expr(e)

    def decisive(self, r: ir.Rule, atom: ir.Expr) -> z3.BoolRef:
        """Flipping the atom alone flips the rule's condition."""
        key = (r.id, id(atom))
        if key not in self._decisive:
            self._decisive[key] = self._decisive_term(r, atom)
        return self._decisive[key]

    def _decisive_term(self, r: ir.Rule, atom: ir.Expr) -> z3.BoolRef:
        t = self.skeleton(r.when, {id(atom): Sym(z3.BoolVal(True), TRUE)})
        f = self.skeleton(r.when, {id(atom): Sym(z3.BoolVal(False), TRUE)})
        return z3.And(t.known, f.known, t.value != f.value)

    def rest(self, r: ir.Rule) -> z3.BoolRef:
        """The rule's validity holds and none of its exceptions applies (so `when` decides)."""
        if r.id not in self._rest:
            self._rest[r.id] = self._rest_term(r)
        return self._rest[r.id]

    def _rest_term(self, r: ir.Rule) -> z3.BoolRef:
        parts: list[z3.BoolRef] = []
        if r.valid:
            on = _num(self.enc.inputs[r.valid.on].value)
            t = self.rs.inputs[r.valid.on].type
            if r.valid.lo is not None:
                parts.append(on >= _num(self.enc.const_term(r.valid.lo, t)))
            if r.valid.hi is not None:
                parts.append(on <= _num(self.enc.const_term(r.valid.hi, t)))
        parts += [_is_false(self.enc.applies[u]) for u in r.unless]
        return z3.And(parts) if parts else TRUE

    def atom_is(self, atom: ir.Expr, value: bool) -> z3.BoolRef:
        s = self.enc.expr(atom)
        return _holds(s) if value else _is_false(s)

    def distance(self, ob: Obligation) -> tuple[Any, z3.BoolRef]:
        """(distance to the edge, the distance is known and the node is reached), as
        obligations.distance computes it from a trace."""
        node = ob.atom
        assert node is not None and ob.measure is not None
        reached = [self.atom_is(c, pol) for c, pol in ob.path]
        if ob.measure == "const":
            found = boundary_of(node)
            assert found is not None
            s = self.enc.expr(found[0])
            c = found[1]
            cn = dates.day_number(c.year, c.month, c.day) if isinstance(c, dt.date) else c
            return _num(s.value) - cn, z3.And(s.known, *reached)
        if ob.measure == "pair":
            assert isinstance(node, ir.Binary)
            x, y = self.enc.expr(node.left), self.enc.expr(node.right)
            return _num(x.value) - _num(y.value), z3.And(x.known, y.known, *reached)
        assert isinstance(node, ir.Call)
        x, y = self.enc.expr(node.args[0]), self.enc.expr(node.args[1])
        known = z3.And(x.known, y.known, *reached)
        if ob.measure == "minmax":
            return _num(x.value) - _num(y.value), known
        if ob.measure == "age_at":
            b, on = x.value, y.value
            return on.dn() - DateSym(on.y, b.m, b.d).dn(), known
        d, n = x.value, y.value
        total = 12 * d.y + d.m - 1 + n
        return d.d - month_length(total / 12, total % 12 + 1), known

    def at_edge(self, ob: Obligation) -> list[z3.BoolRef]:
        """A calendar preference for a boundary witness: the date on the edge of its period
        (31 Dec / 1 Jan for years, month ends and firsts for months, 30 Jun / 1 Jul when the
        month 7 is the edge), a 29 February birthday, a move onto 29 February."""
        node = ob.atom
        if ob.measure == "const":
            assert isinstance(node, ir.Binary)
            found = boundary_of(node)
            assert found is not None
            operand, c = found
            if not (isinstance(operand, ir.Call) and operand.fn in ("year", "month", "month_index")):
                return []
            x = self.enc.expr(operand.args[0]).value
            op = node.op if operand is node.left else _MIRROR[node.op]
            last = _lower_side(op, int(c), int(c) + ob.offset)
            if operand.fn == "year":
                return [x.m == 12, x.d == 31] if last else [x.m == 1, x.d == 1]
            return [x.d == month_length(x.y, x.m)] if last else [x.d == 1]
        if ob.measure == "age_at" and ob.offset == 0:
            assert isinstance(node, ir.Call)
            b = self.enc.expr(node.args[0]).value
            return [b.m == 2, b.d == 29]
        if ob.measure == "add_months" and ob.offset == 0:
            assert isinstance(node, ir.Call)
            d, n = self.enc.expr(node.args[0]).value, self.enc.expr(node.args[1]).value
            total = 12 * d.y + d.m - 1 + n
            return [total % 12 == 1, (total / 12) % 4 == 0]
        if ob.measure == "add_months" and ob.offset == 1:
            assert isinstance(node, ir.Call)
            d = self.enc.expr(node.args[0]).value
            return [d.d == month_length(d.y, d.m)]
        return []


_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_PY_OPS: dict[str, Callable[[int, int], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def _lower_side(op: str, c: int, v: int) -> bool:
    """Whether value v sits just below a point where `v op c` changes (prefer the period's last
    day), rather than just above one (prefer its first day)."""
    f = _PY_OPS[op]
    if f(v, c) != f(v + 1, c):
        return True
    if f(v, c) != f(v - 1, c):
        return False
    return v < c


# ---------------------------------------------------------------- generation


@dataclass
class _Candidate:
    person: dict[str, ir.Value]
    origin: str
    rules: tuple[str, ...]
    clauses: tuple[str, ...]
    meets: frozenset[str]
    partner: int | None = None


@dataclass
class _Generator:
    rs: ir.RuleSet
    timeout_ms: int
    prefer: bool = True  # look for persons in which the obligation matters (more queries)
    obs: list[Obligation] = field(default_factory=list)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.search = _Search(self.rs, self.timeout_ms)
        self.ga = _Goals(self.rs, self.search.a, "a")
        self.gb = _Goals(self.rs, self.search.b, "b")
        self.eval = EvalBackend(self.rs)
        self.obs = list(obligations(self.rs))
        self.by_id = {o.id: o for o in self.obs}
        self.meter = Meter(self.obs, self.rs)
        self.rules = {r.id: r for r in self.rs.rules}
        self.met: set[str] = set()
        self._index: dict[tuple[tuple[str, Any], ...], int] = {}

    # ------------------------------------------------------------ persons
    def add(self, ans: _Answer, tag: str, origin: str, rules: Sequence[str], target: Sequence[str]) -> int:
        """Record the person a model describes, as eval decides it; check it meets its targets."""
        person = self.search.person(ans, tag)
        key = tuple(sorted(person.items()))
        clauses = tuple(dict.fromkeys(c for rid in rules for c in self.rules[rid].cites))
        if key in self._index:
            i = self._index[key]
            meets = self.candidates[i].meets
        else:
            _, trace = self.eval.decide_traced(person)
            meets = frozenset(self.meter.met(trace.applies, trace.value))
            i = len(self.candidates)
            self._index[key] = i
            self.candidates.append(_Candidate(person, origin, tuple(rules), clauses, meets))
            self.met |= meets
        for t in target:
            if t not in meets and t not in self.unconfirmed:
                self.unconfirmed.append(t)
        return i

    def _rule_reads(self, r: ir.Rule) -> frozenset[str]:
        """Names the rule's applicability reads: its condition, validity and exceptions."""
        out = set(ir.refs(r.when)) | ({r.valid.on} if r.valid else set())
        for u in r.unless:
            out |= self._rule_reads(self.rules[u])
        return frozenset(out)

    def _atom_part(self, g: _Goals, r: ir.Rule, atom: ir.Expr, value: bool, who: str = "") -> _Part:
        label = f"{r.id}: '{to_text(atom)}' is {str(value).lower()}{who}"
        return _Part(label, r.cites, g.atom_is(atom, value), frozenset(ir.refs(atom)), g.tag, r.id)

    def _decides(self, g: _Goals, r: ir.Rule, atom: ir.Expr, who: str = "") -> _Part:
        label = f"{r.id}: '{to_text(atom)}' decides the condition{who}"
        return _Part(label, r.cites, g.decisive(r, atom), frozenset(ir.refs(r.when)), g.tag, r.id)

    def _rest(self, g: _Goals, r: ir.Rule, who: str = "") -> _Part:
        label = f"{r.id}: its validity and exceptions let it apply{who}"
        return _Part(label, r.cites, g.rest(r), self._rule_reads(r), g.tag, r.id)

    # ------------------------------------------------------------ MC/DC
    def mcdc(self, r: ir.Rule, atom: ir.Expr, halves: tuple[Obligation, Obligation]) -> None:
        """A unique-cause pair, else a masking pair, else each half on its own."""
        text = to_text(atom)
        ids = (halves[0].id, halves[1].id)
        others = [a for a in atoms(r.when) if a is not atom and to_text(a) != text]
        wa, wb = self.search.a.expr(r.when), self.search.b.expr(r.when)
        common = [
            self._atom_part(self.ga, r, atom, True, " in A"),
            self._atom_part(self.gb, r, atom, False, " in B"),
            self._rest(self.ga, r, " in A"),
            self._rest(self.gb, r, " in B"),
        ]
        differs = z3.And(wa.known, wb.known, wa.value != wb.value)
        label = f"{r.id}: its condition differs between A and B"
        unique = [*common, _Part(label, r.cites, differs, frozenset(ir.refs(r.when)), "ab", r.id)]
        for other in others:
            sa, sb = self.search.a.expr(other), self.search.b.expr(other)
            same = z3.And(sa.known == sb.known, z3.Implies(sa.known, sa.value == sb.value))
            label = f"{r.id}: '{to_text(other)}' is the same in A and B"
            unique.append(_Part(label, r.cites, same, frozenset(ir.refs(other)), "ab", r.id))
        masking = [*common, self._decides(self.ga, r, atom, " in A"), self._decides(self.gb, r, atom, " in B")]
        notes = []
        last = _Answer("unknown")
        for mode, parts in (("unique_cause", unique), ("masking", masking)):
            last = self.search.solve(parts)
            if last.status == "sat":
                what = f"MC/DC pair ({mode.replace('_', ' ')}) of '{text}' in {r.id}"
                ia = self.add(last, "a", f"{what}: true half", [r.id], [ids[0]])
                ib = self.add(last, "b", f"{what}: false half", [r.id], [ids[1]])
                self.candidates[ia].partner, self.candidates[ib].partner = ib, ia
                for o in halves:
                    self.verdicts[o.id] = Verdict("feasible")
                self.pairs.append(Pair(r.id, text, ids, cast(PairMode, mode), (fixture_id(ia), fixture_id(ib))))
                return
            if last.status == "unknown":
                notes.append(f"{mode}: {last.note}")
        reason = self.search.explain(last) if last.status == "unsat" else None
        mode_: PairMode = "none" if last.status == "unsat" else "unknown"
        self.pairs.append(Pair(r.id, text, ids, mode_, None, reason, "; ".join(notes)))
        for o in halves:
            self.half(o)

    def half(self, o: Obligation) -> None:
        """One MC/DC half as `elig coverage` counts it: the atom has the value and decides."""
        r = self.rules[o.rule]
        assert o.atom is not None and o.polarity is not None
        parts = [self._atom_part(self.ga, r, o.atom, o.polarity), self._decides(self.ga, r, o.atom)]
        self.single(o, parts, [], f"MC/DC half: {o.describe()}", [r.id])

    def single(
        self, o: Obligation, required: list[_Part], optional: list[list[_Part]], origin: str, rules: Sequence[str]
    ) -> None:
        ans, _ = self.search.first(required, optional if self.prefer else [])
        if ans.status == "sat":
            self.add(ans, "a", origin, rules, [o.id])
            self.verdicts[o.id] = Verdict("feasible")
        elif ans.status == "unsat":
            self.verdicts[o.id] = Verdict("infeasible", self.search.explain(ans))
        else:
            self.verdicts[o.id] = Verdict("unknown", note=ans.note)

    # ------------------------------------------------------------ the rest
    def rule(self, o: Obligation) -> None:
        r = self.rules[o.rule]
        if o.id in self.met:
            self.verdicts[o.id] = Verdict("feasible")
            return
        part = _Part(f"{r.id} applies", r.cites, _holds(self.search.a.applies[r.id]), self._rule_reads(r), "a", r.id)
        self.single(o, [part], [], f"{r.id} applies", [r.id])

    def boundary(self, o: Obligation) -> None:
        """A person on the edge, preferably one where the edge decides the rule (the condition
        holding it decides, validity and exceptions not in the way) and on a calendar edge."""
        assert o.atom is not None
        dist, known = self.ga.distance(o)
        where = {-1: "just below", 0: "at", 1: "just above"}[o.offset]
        rules = [o.rule] if o.rule else self._readers(o.definition)
        cites = self.rules[o.rule].cites if o.rule else self.rs.definitions[o.definition].cites
        reads = set(ir.refs(o.atom)).union(*(ir.refs(c) for c, _ in o.path))
        label = f"{o.where}: '{to_text(o.atom)}' {where} its edge"
        required = [_Part(label, cites, z3.And(known, dist == o.offset), frozenset(reads), "a", o.rule)]
        optional: list[list[_Part]] = []
        if o.rule:
            r = self.rules[o.rule]
            atom = next((a for a in atoms(r.when) if any(n is o.atom for n in ir.walk(a))), None)
            if atom is not None:
                optional.append([self._decides(self.ga, r, atom), self._rest(self.ga, r)])
        elif rules:  # an edge in a definition: preferably where a rule that reads it applies
            readers = [self.rules[rid] for rid in rules]
            some = z3.Or([_holds(self.search.a.applies[r.id]) for r in readers])
            label = f"one of {', '.join(rules)} applies"
            optional.append([_Part(label, (), some, frozenset().union(*(self._rule_reads(r) for r in readers)))])
        edge = self.ga.at_edge(o)
        if edge:
            optional.append([_Part("a calendar edge", (), z3.And(edge), frozenset(reads))])
        self.single(o, required, optional, _boundary_origin(o), rules)

    def _readers(self, definition: str) -> list[str]:
        """A few rules whose condition reads the definition (directly or through definitions)."""
        return [r.id for r in self.rs.rules if definition in deps(self.rs).definitions_read(ir.refs(r.when))][:3]

    def run(self) -> None:
        for r in self.rs.rules:
            halves: dict[int, list[Obligation]] = {}
            for o in self.obs:
                if o.rule == r.id and o.kind == "mcdc":
                    assert o.atom is not None
                    halves.setdefault(id(o.atom), []).append(o)
            for hs in halves.values():
                assert hs[0].atom is not None
                self.mcdc(r, hs[0].atom, (hs[0], hs[1]))
        for o in self.obs:
            if o.kind == "boundary":
                self.boundary(o)
        for o in self.obs:
            if o.kind == "rule":
                self.rule(o)
        self.confirm()

    def confirm(self, obs: Iterable[Obligation] | None = None) -> None:
        """A feasible verdict stands only with a person that eval confirms; otherwise it is
        unknown (and listed as unconfirmed: z3 and eval disagree, a bug to report)."""
        for o in self.obs if obs is None else obs:
            v = self.verdicts.get(o.id)
            if o.id in self.met:
                self.verdicts[o.id] = Verdict("feasible")
            elif v is None:
                self.verdicts[o.id] = Verdict("unknown", note="not searched")
            elif v.status == "feasible":
                self.verdicts[o.id] = Verdict("unknown", note="z3 found a person that eval does not confirm")
                if o.id not in self.unconfirmed:
                    self.unconfirmed.append(o.id)


# ---------------------------------------------------------------- covering sets


def greedy_cover(sets: Sequence[frozenset[str]], goals: set[str]) -> list[int]:
    """The classic greedy set cover (take the set covering most uncovered goals, ties to the
    first), with lazily updated gains."""
    import heapq

    left = set(goals)
    heap = [(-len(sets[i] & left), i) for i in range(len(sets)) if sets[i] & left]
    heapq.heapify(heap)
    out: list[int] = []
    while left and heap:
        neg, i = heapq.heappop(heap)
        gain = len(sets[i] & left)
        if gain == 0:
            continue
        if gain < -neg:  # stale: put back with its current gain
            heapq.heappush(heap, (-gain, i))
            continue
        out.append(i)
        left -= sets[i]
    return out


def reduce_cover(sets: Sequence[frozenset[str]], goals: set[str]) -> tuple[list[int], dict[int, frozenset[str]]]:
    """Exact reductions of a set cover problem, repeated until nothing changes: a goal only one
    set covers forces that set into every cover; a set contained in another is never needed.
    Returns the forced sets and what is left (set -> the goals it still covers)."""
    left = set(goals)
    useful = {i: sets[i] & left for i in range(len(sets)) if sets[i] & left}
    forced: list[int] = []
    while True:
        cover_of: dict[str, list[int]] = {}
        for i, s in useful.items():
            for g in s:
                cover_of.setdefault(g, []).append(i)
        essential = sorted({cs[0] for cs in cover_of.values() if len(cs) == 1})
        for i in essential:
            forced.append(i)
            left -= useful[i]
        kept: list[int] = []
        for i in sorted(useful, key=lambda i: (-len(useful[i] & left), i)):
            mine = useful[i] & left
            if i not in essential and mine and not any(mine <= useful[j] for j in kept):
                kept.append(i)
        reduced = {i: useful[i] & left for i in kept}
        if not essential and len(reduced) == len(useful):
            return forced, reduced
        useful = reduced


def minimum_cover(sets: Sequence[frozenset[str]], goals: set[str], seconds: float = 20.0) -> tuple[list[int], bool]:
    """A minimum set cover: exact reductions first, then clingo #minimize on what is left;
    (chosen sets, proven minimum). Facts go in as typed clingo.Symbol terms through the backend,
    never as program text."""
    import clingo

    forced, rest = reduce_cover(sets, goals)
    if not rest:
        return sorted(forced), True
    goal_ids = {g: n for n, g in enumerate(sorted(set().union(*rest.values())))}
    facts = [clingo.Function("goal", [clingo.Number(n)]) for n in goal_ids.values()]
    for i, covered in rest.items():
        facts.append(clingo.Function("cand", [clingo.Number(i)]))
        facts += [clingo.Function("covers", [clingo.Number(i), clingo.Number(goal_ids[g])]) for g in covered]
    ctl = clingo.Control(["--opt-mode=opt", "--opt-strategy=usc", "--warn=none"])
    ctl.add(
        "base",
        [],
        """
        { pick(C) : cand(C) }.
        covered(G) :- covers(C, G), pick(C).
        :- goal(G), not covered(G).
        #minimize { 1, C : pick(C) }.
        #show pick/1.
        """,
    )
    with ctl.backend() as backend:
        for f in facts:
            backend.add_rule([backend.add_atom(f)])
    ctl.ground([("base", [])])
    best: list[int] = []
    proven = False

    def on_model(model: clingo.Model) -> None:
        nonlocal best, proven
        best = sorted(sym.arguments[0].number for sym in model.symbols(shown=True) if sym.name == "pick")
        proven = bool(model.optimality_proven)

    with ctl.solve(on_model=on_model, async_=True) as handle:
        finished = handle.wait(seconds)
        if not finished:
            handle.cancel()
        result = handle.get()
    if result.unsatisfiable:
        raise ValueError("no cover exists: some goal is met by no candidate")
    return sorted(forced + best), proven or bool(finished and result.exhausted)


# ---------------------------------------------------------------- the entry point


def generate(
    rs: ir.RuleSet,
    *,
    rules_path: str = "",
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    cover_seconds: float = 20.0,
    keep_all: bool = False,
) -> FixtureSet:
    """Fixtures for a resolved rule set (solver.passes.options.resolve); `keep_all` also keeps
    every person found (`candidates`), not only the covering set."""
    start = time.perf_counter()
    gen = _Generator(rs, timeout_ms)
    gen.run()
    goals = {o.id for o in gen.obs if gen.verdicts[o.id].status == "feasible" and o.id in gen.met}
    sets = [c.meets for c in gen.candidates]
    greedy = greedy_cover(sets, goals)
    chosen, optimal = minimum_cover(sets, goals, cover_seconds) if goals else ([], True)
    if len(greedy) < len(chosen):  # clingo stopped early with a worse cover
        chosen, optimal = sorted(greedy), False
    candidates = _fixtures(gen, range(len(gen.candidates))) if keep_all else []
    in_cover = _fixtures(gen, chosen)
    return FixtureSet(
        rs.name,
        rules_path,
        dict(rs.resolved_options),
        tuple(gen.obs),
        dict(gen.verdicts),
        tuple(gen.pairs),
        len(gen.candidates),
        tuple(candidates),
        tuple(in_cover),
        len(greedy),
        optimal,
        tuple(gen.unconfirmed),
        gen.search.queries,
        time.perf_counter() - start,
    )


def fixture_id(i: int) -> str:
    """Every person found keeps its number, in the covering set and in the full set alike."""
    return f"fx{i:04d}"


def _fixtures(gen: _Generator, chosen: Iterable[int]) -> list[Fixture]:
    chosen = list(chosen)
    here = set(chosen)
    out = []
    for i in chosen:
        c = gen.candidates[i]
        decision = gen.eval.decide(c.person)
        applying = [r for r, a in gen.eval.applies(c.person).items() if a is True]
        cites = tuple(dict.fromkeys([*c.clauses, *(cl for r in applying for cl in gen.rules[r].cites)]))
        expect = {name: expectation(gen.rs.outputs[name], decision[name]) for name in gen.rs.outputs}
        partner = ""
        if c.partner is not None:
            partner = fixture_id(c.partner) + ("" if c.partner in here else " (elig fixtures --set all writes it)")
        out.append(Fixture(fixture_id(i), dict(c.person), c.origin, c.meets, cites, expect, partner))
    return out


def expectation(out: ir.Output, r: OutputResult) -> Any:
    """An eval result as a case's `expect` entry (solver.cases.expected_result reads it back)."""
    word_is_value = isinstance(out.type, ir.EnumT) and r.status in out.type.values
    if r.status == "ok":
        if out.cardinality == "set":
            return list(r.values)
        v = r.values[0]
        if isinstance(v, str) and v in STATUSES:
            return {"status": "ok", "values": [v]}
        return v
    if r.status == "conflict":
        return {"status": "conflict", "values": list(r.values)}
    return {"status": r.status} if word_is_value else r.status


# ---------------------------------------------------------------- writers


def _flow(v: Any) -> str:
    """One value as flow-style YAML on one line, never with anchors (the strict loader refuses
    aliases, and a repeated date object would get one)."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    text: str = yaml.dump(v, Dumper=Dumper, default_flow_style=True, allow_unicode=True, width=1 << 30, sort_keys=False)
    return text.strip().removesuffix("...").strip()


def to_yaml(fs: FixtureSet, fixtures: Sequence[Fixture]) -> str:
    """Cases in the format of rules/*/cases/ (solver/cases.py and the pytest plugin load them)."""
    opts = ", ".join(f"{k}={v}" for k, v in sorted(fs.options.items())) or "none"
    lines = [
        f"# Generated by `elig fixtures {fs.rules_path or fs.ruleset}` (options: {opts}).",
        "# Persons found by z3 (boundaries, MC/DC pairs, a minimum covering set); expected outputs from eval.",
    ]
    for f in fixtures:
        lines.append(f"- id: {f.id}")
        lines.append(f"  cites: {_flow(list(f.cites))}")
        lines.append(f"  worked: {json.dumps(f.worked(len(f.meets)), ensure_ascii=False)}")  # JSON strings are YAML
        lines.append(f"  person: {_flow(dict(f.person))}")
        if fs.options:
            lines.append(f"  options: {_flow(dict(fs.options))}")
        lines.append(f"  expect: {_flow(dict(f.expect))}")
    return "\n".join(lines) + "\n"


def to_pytest(fs: FixtureSet, fixtures: Sequence[Fixture]) -> str:
    """A self-contained pytest module that decides each person with the installed elig."""
    rules = str(Path(fs.rules_path).resolve()) if fs.rules_path else fs.ruleset
    cases = [
        {"id": f.id, "worked": f.worked(len(f.meets)), "person": dict(f.person), "expect": dict(f.expect)}
        for f in fixtures
    ]
    return f'''"""Fixtures generated by `elig fixtures` for the rule set {fs.ruleset}: persons found by z3
(boundaries, MC/DC pairs, a minimum covering set), expected outputs computed by the eval backend.
Each test decides one person with the installed elig and asserts those outputs.
ELIG_RULES points at another copy of the rule set; ELIG_BACKEND picks the backend (default eval)."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

import pytest

RULES = Path(os.environ.get("ELIG_RULES", {rules!r}))
OPTIONS: dict[str, str] = {dict(fs.options)!r}
CASES: list[dict[str, Any]] = {_py_list(cases)}

assert datetime  # dates in CASES are datetime.date values


@pytest.fixture(scope="module")
def decider() -> Any:
    from solver.backends import make
    from solver.language.loader import load_ruleset
    from solver.passes.options import resolve

    rs = load_ruleset(RULES)
    return rs, make(os.environ.get("ELIG_BACKEND", "eval"), resolve(rs, OPTIONS))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_fixture(case: dict[str, Any], decider: Any) -> None:
    from solver.cases import Case, mismatches
    from solver.person import parse_person

    rs, backend = decider
    expected = Case(case["id"], case["person"], OPTIONS, case["expect"])
    problems = mismatches(rs, expected, backend.decide(parse_person(rs, case["person"])).results)
    assert not problems, case["worked"] + "\\n" + "\\n".join(problems)
'''


def _py_list(items: Sequence[Any]) -> str:
    """A Python list literal of plain data (pprint repr), one item per block."""
    body = "".join(
        "    " + pprint.pformat(x, width=110, sort_dicts=False).replace("\n", "\n    ") + ",\n" for x in items
    )
    return "[\n" + body + "]"


def _cell(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, list):
        return ";".join(_cell(x) for x in v)
    if isinstance(v, dict):
        status = v.get("status", "ok")
        values = ";".join(_cell(x) for x in v.get("values", []))
        return values if status == "ok" else f"<{status}{': ' + values if values else ''}>"
    if isinstance(v, str) and v in STATUSES:
        return f"<{v}>"
    return str(v)


def to_csv(fs: FixtureSet, fixtures: Sequence[Fixture], inputs: Sequence[str], outputs: Sequence[str]) -> str:
    """One row per fixture: its id, the inputs, then the expected outputs (`expect.NAME`; sets are
    joined with ';', a status other than ok is written <gap>, <none>, <unknown>, <conflict: a;b>)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", *inputs, *(f"expect.{o}" for o in outputs)])
    for f in fixtures:
        w.writerow([f.id, *(_cell(f.person.get(n)) for n in inputs), *(_cell(f.expect[o]) for o in outputs)])
    return buf.getvalue()


FILE_NAMES: Mapping[str, str] = {"yaml": "fixtures.yaml", "pytest": "test_fixtures.py", "csv": "fixtures.csv"}


def write(fs: FixtureSet, rs: ir.RuleSet, out: Path, fmt: Format, which: Literal["cover", "all"] = "cover") -> Path:
    fixtures = fs.cover if which == "cover" else fs.candidates
    if which == "all" and not fs.candidates and fs.candidate_count:
        raise ValueError("the full set was not kept: generate(..., keep_all=True)")
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE_NAMES[fmt]
    if fmt == "yaml":
        text = to_yaml(fs, fixtures)
    elif fmt == "pytest":
        text = to_pytest(fs, fixtures)
    else:
        text = to_csv(fs, fixtures, list(rs.inputs), list(rs.outputs))
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- feasibility for coverage


def feasibility(rs: ir.RuleSet, obs: Sequence[Obligation], timeout_ms: int = DEFAULT_TIMEOUT_MS) -> dict[str, Verdict]:
    """Whether some valid person meets each obligation, decided as `generate` decides it (an
    MC/DC half on its own, a boundary on its if-branches, a rule applying; a witness counts only
    once eval confirms it). `elig coverage` uses it to list infeasible obligations instead of
    counting them as missing."""
    gen = _Generator(rs, timeout_ms, prefer=False)
    wanted = {o.id for o in obs}
    todo = [o for o in gen.obs if o.id in wanted]
    for o in todo:
        if o.id in gen.met:
            continue
        if o.kind == "rule":
            gen.rule(o)
        elif o.kind == "boundary":
            gen.boundary(o)
        else:
            gen.half(o)
    gen.confirm(todo)
    return {o.id: gen.verdicts[o.id] for o in todo}
